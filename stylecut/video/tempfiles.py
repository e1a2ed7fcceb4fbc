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
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from stylecut.errors import OutputError

# A temp name keeps at least this much of the output's stem, so it stays recognisable even for short names.
_KEPT_STEM_BYTES = 16
_DEFAULT_NAME_MAX = 255  # bytes: ext4, XFS, Btrfs, APFS, NTFS (in UTF-16 units)


def temp_path(target: Path, role: str) -> Path:
    """A hidden, unique name beside ``target`` for a file on its way to becoming (or checking) ``target``.

    The name keeps ``target``'s suffix (the container family decides how
    timestamps are stored) and is at most as long as ``target``'s name, or
    about 45 bytes for shorter names. ``role`` (a short word) says what the file is.
    """
    tag = f".stylecut-{role}-{secrets.token_hex(4)}{target.suffix}"
    budget = len(os.fsencode(target.name)) - len(os.fsencode(tag)) - 1
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
    probe_file = temp_path(target, "check")
    try:
        probe_file.touch(exist_ok=False)
        probe_file.unlink()
    except OSError as exc:
        raise OutputError(f"Cannot write to the output folder {folder}: {exc.strerror}.") from exc
