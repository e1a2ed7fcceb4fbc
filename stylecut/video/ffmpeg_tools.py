"""Where the ffmpeg and ffprobe binaries come from, and what their error output means.

A system ``ffmpeg``/``ffprobe`` on PATH wins because it is what the user's
other tools use and it may carry codecs (or hardware support) that the wheel
lacks; otherwise the static ffmpeg shipped by imageio-ffmpeg is used. There is
no bundled ffprobe, so :func:`ffprobe_exe` may return ``None`` and callers fall
back to parsing ffmpeg's own output.
"""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

import imageio_ffmpeg

from stylecut.errors import MediaError, OutputError, StylecutError

MOV_FAMILY = frozenset({".mp4", ".m4v", ".mov"})  # suffixes of the ISO/QuickTime muxers
_LOG_PREFIX = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\] ")  # "[mp4 @ 0x55f7...] "


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: the system one if on PATH, else imageio-ffmpeg's."""
    return shutil.which("ffmpeg") or imageio_ffmpeg.get_ffmpeg_exe()


@functools.cache
def ffprobe_exe() -> str | None:
    """Path of a system ffprobe on PATH, or ``None`` when there is none."""
    return shutil.which("ffprobe")


def ffmpeg_error(path: Path, stderr: list[str], source: Path | None = None) -> StylecutError:
    """Turn ffmpeg's error output into one sentence naming the file and the problem."""
    lines = [_LOG_PREFIX.sub("", line).rstrip(".") for line in stderr]
    text = "\n".join(lines)
    if "No space left on device" in text:
        return OutputError(f"Disk full while writing {path.name}.")
    if "Permission denied" in text:
        return OutputError(f"Permission denied while writing {path.name}.")
    if tag := re.search(r"Could not find tag for codec (\S+)", text):
        return OutputError(f"{path.name} cannot hold a {tag[1]} stream; choose a .mov or .mkv output.")
    if "Could not write header" in text:
        return OutputError(
            f"{path.name} cannot hold one of the streams copied into it; choose a .mov or .mkv output."
        )
    last = lines[-1] if lines else "ffmpeg exited with an error"
    if source is not None and str(source) in last:
        return MediaError(f"{source.name} could not be read while writing {path.name}: {last}.")
    return OutputError(f"ffmpeg could not write {path.name}: {last}.")
