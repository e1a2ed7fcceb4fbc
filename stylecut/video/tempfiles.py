"""Files written beside an output: unique hidden temp names, and the check that the output can be written.

Every file that becomes an output (an encoded video, a remuxed file, a style)
is first written under a hidden name beside it and renamed when complete, so
no half-written file ever carries the final name. :func:`temp_path` makes
that name unique per call (a random token), so two runs writing the same
output at once never touch each other's temp files and the last complete
rename wins; and it is never longer than the output's own name (its stem is
shortened, the part added is bounded), so any output name the file system
accepts also works for its temp files. :func:`check_writable` says in one
sentence, before any work, why an output cannot be written.

A run that is killed (SIGKILL, a power cut) leaves its temp files behind. Each
name carries the writing process's id and a hash of its host's name, so
:func:`check_writable` also removes the temp files of ``target`` whose writer
is known to be gone: written on this host by a process that no longer runs. A
temp file from another host, or from a process still running, is never touched.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
from pathlib import Path

from stylecut.errors import OutputError, StylecutError

# A temp name keeps at least this much of the output's stem, so it stays recognisable even for short names.
_KEPT_STEM_BYTES = 16
_DEFAULT_NAME_MAX = 255  # bytes: ext4, XFS, Btrfs, APFS, NTFS (in UTF-16 units)
# Which host wrote a temp file: a process id only says whether its writer runs on the host that wrote it.
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:4]
_TEMP_NAME = re.compile(
    r"\.(?P<stem>.+)\.stylecut-[a-z]+-(?P<host>[0-9a-f]{4})(?P<pid>[0-9a-f]{1,8})-[0-9a-f]{4}"
)


def temp_path(target: Path, role: str) -> Path:
    """A hidden, unique name beside ``target`` for a file on its way to becoming (or checking) ``target``.

    The name keeps ``target``'s suffix (the container family decides how
    timestamps are stored) and is at most as long as ``target``'s name, or
    about 50 bytes for shorter names. ``role`` (a short word) says what the file is.
    """
    tag = f".stylecut-{role}-{_HOST}{os.getpid():x}-{secrets.token_hex(2)}{target.suffix}"
    budget = len(os.fsencode(target.name)) - len(os.fsencode(tag)) - 1
    owner = _TEMP_NAME.fullmatch(target.name.removesuffix(target.suffix))
    if owner:  # a temp file's own temp file is named for the same output
        return target.with_name(f".{owner['stem']}{tag}")
    stem = _truncate(target.stem, max(budget, _KEPT_STEM_BYTES))
    return target.with_name(f".{stem}{tag}")


def _truncate(text: str, size: int) -> str:
    """``text`` shortened to at most ``size`` bytes in the file system's encoding, on a character boundary."""
    while len(os.fsencode(text)) > size:
        text = text[:-1]
    return text


def check_name_length(path: Path) -> None:
    """Raise OutputError when a part of ``path`` is longer than its file system allows."""
    limit = _name_max(path)
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > limit:
            shown = part if len(part) <= 48 else f"{part[:24]}...{part[-16:]}"
            raise OutputError(f"The name {shown} is too long: {size} bytes, its file system takes {limit}.")


def _name_max(path: Path) -> int:
    """The longest file name, in bytes, on the file system of ``path``'s nearest existing folder."""
    for folder in Path(os.path.abspath(path)).parents:
        try:
            return os.pathconf(folder, "PC_NAME_MAX")
        except OSError:  # missing, or itself a name too long: look further up
            continue
    return _DEFAULT_NAME_MAX


def check_writable(target: Path, *, replace: bool = True) -> None:
    """Fail now, in one sentence, rather than after minutes of work, when ``target`` cannot be written.

    Creates ``target``'s folder if needed, checks that the name fits the file
    system, and creates and removes a temp file beside it (permissions,
    read-only mounts). With ``replace=False`` an existing ``target`` is refused too.
    """
    check_name_length(target)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create the output folder {folder}: {exc.strerror}.") from exc
    if not replace and target.exists():
        raise OutputError(f"{target.name} already exists and will not be overwritten.")
    remove_stale_temps(target)
    probe_file = temp_path(target, "check")
    try:
        probe_file.touch(exist_ok=False)
        probe_file.unlink()
    except OSError as exc:
        raise OutputError(f"Cannot write to the output folder {folder}: {exc.strerror}.") from exc


def write_error(target: Path, exc: OSError) -> StylecutError:
    """The one sentence for a failed write of ``target`` (or of its temp file): a full disk is a failure
    of the run (exit 1), anything else an output that cannot be written (a usage error)."""
    if exc.errno == errno.ENOSPC:
        return StylecutError(f"Disk full while writing {target.name}.")
    return OutputError(f"Could not write {target.name}: {exc.strerror or exc}.")


def remove_stale_temps(target: Path) -> None:
    """Remove the temp files (and parts folders) that a killed run writing ``target`` left beside it."""
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        match = (
            _TEMP_NAME.fullmatch(name.removesuffix(target.suffix)) if name.endswith(target.suffix) else None
        )
        if (
            match
            and _names_target(match["stem"], target.stem)
            and _writer_is_gone(match["host"], match["pid"])
        ):
            stale = target.parent / name
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


def _names_target(stem: str, target_stem: str) -> bool:
    """Whether a temp name's ``stem`` is :func:`temp_path`'s shortening of ``target_stem``."""
    kept = min(len(os.fsencode(target_stem)), _KEPT_STEM_BYTES - 3)  # a cut multi-byte character
    return target_stem.startswith(stem) and len(os.fsencode(stem)) >= kept


def _writer_is_gone(host: str, pid: str) -> bool:
    if host != _HOST:
        return False
    try:
        os.kill(int(pid, 16), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists, as another user's process
        return False
    return False
