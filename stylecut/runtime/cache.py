"""The on-disk cache of exported models: one folder per entry, written atomically, checked on every read.

Entries live in ``$STYLECUT_HOME/cache/runtime`` (default: the platform's
user cache folder) as ``<style sha256>/<variant>/``, where the variant names
the runtime, its version and a fingerprint of the network's code, so a new
runtime or a changed architecture gets a new entry instead of a stale one.
An entry is built in a temporary folder beside its final place and renamed
into place whole; ``checksums.json`` lists the sha256 of every file in it.
An entry that is incomplete, fails its checksums or holds a file larger than
:data:`MAX_FILE_BYTES` reads as missing, so the caller rebuilds it; a cache that cannot be written is skipped, never fatal.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from stylecut.user_folders import cache_folder
from stylecut.weights_file import sha256_of

CHECKSUMS = "checksums.json"


def cache_root() -> Path:
    return cache_folder() / "runtime"


# An exported generator is a few MB: a file far larger is not one stylecut wrote, and is not read whole.
MAX_FILE_BYTES = 1 << 30


def _sha256(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path} is larger than any file of a cache entry")
    return sha256_of(path)


def read_entry(entry: Path) -> Path | None:
    """``entry`` when every file it lists is present and intact; otherwise it is removed and None returned."""
    try:
        expected = json.loads((entry / CHECKSUMS).read_text())
        if (
            isinstance(expected, dict)
            and expected
            and all(_sha256(entry / name) == digest for name, digest in expected.items())
        ):
            return entry
    except (OSError, ValueError):
        pass
    remove_entry(entry)
    return None


def remove_entry(entry: Path) -> None:
    shutil.rmtree(entry, ignore_errors=True)


def write_entry(entry: Path, write: Callable[[Path], None]) -> bool:
    """Fill a temporary folder with ``write(folder)``, checksum it, rename it to ``entry``.

    False when the entry could not be stored (the caller then goes on without the cache).
    """
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    except OSError:
        return False
    try:
        write(scratch)
        checksums = {path.name: _sha256(path) for path in sorted(scratch.iterdir())}
        (scratch / CHECKSUMS).write_text(json.dumps(checksums, indent=1))
        os.replace(scratch, entry)
        return True
    except Exception:  # noqa: BLE001 - a cache is an optimisation: failing to store an entry must never be fatal
        return entry.is_dir()  # another process may have stored the same entry first: that one is as good
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
