"""Where the ffmpeg and ffprobe binaries come from.

A system ``ffmpeg``/``ffprobe`` on PATH wins because it is what the user's
other tools use and it may carry codecs (or hardware support) that the wheel
lacks; otherwise the static ffmpeg shipped by imageio-ffmpeg is used. There is
no bundled ffprobe, so :func:`ffprobe_exe` may return ``None`` and callers fall
back to parsing ffmpeg's own output.
"""

from __future__ import annotations

import functools
import shutil

import imageio_ffmpeg


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary: the system one if on PATH, else imageio-ffmpeg's."""
    return shutil.which("ffmpeg") or imageio_ffmpeg.get_ffmpeg_exe()


@functools.cache
def ffprobe_exe() -> str | None:
    """Path of a system ffprobe on PATH, or ``None`` when there is none."""
    return shutil.which("ffprobe")
