"""Join video-only segment files into one by stream copy, with ffmpeg's concat demuxer.

The segments must come from the same encoder settings (their codec headers
are then identical, which stream copy needs). The demuxer places each file
after the previous one by that file's duration; left to itself it reads the
durations from the containers, which MP4/MOV round to milliseconds, so at an
NTSC rate the frames after each join would drift by a fraction of a frame.
The list file therefore gives every file's exact duration: the difference of
the exact start times of consecutive segments, each rounded to the
microsecond the demuxer counts in, so rounding never accumulates and every
frame lands on the tick a single encode would have put it on.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from stylecut.errors import OutputError
from stylecut.video.ffmpeg_tools import ffmpeg_command, media_arg, run_tool, write_failed


def concat_videos(parts: Sequence[tuple[Path, int]], fps: Fraction, target: Path, name: str) -> None:
    """Write ``target`` from ``parts`` ((file, frames) in order, each at ``fps``), video only, stream copy.

    ``name`` is the file a failure is reported for (the final output, when ``target`` is a temporary file).
    """
    with tempfile.TemporaryDirectory(prefix="stylecut-concat-") as folder:
        listing = Path(folder) / "segments.txt"
        # A name from another system (surrogates here) goes into the list as the bytes it is.
        listing.write_text(_listing(parts, fps), encoding="utf-8", errors="surrogateescape")
        args = ffmpeg_command(
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-map",
            "0:v:0",
            "-c",
            "copy",
            "-y",
            media_arg(target),
        )
        proc = run_tool(args)
    lines = proc.stderr.strip().splitlines()
    if write_failed(proc.returncode, lines):
        target.unlink(missing_ok=True)
        last = lines[-1:] or ["ffmpeg exited with an error"]
        raise OutputError(f"ffmpeg could not join the segments of {name}: {last[0].rstrip('.')}.")


def _listing(parts: Sequence[tuple[Path, int]], fps: Fraction) -> str:
    lines = ["ffconcat version 1.0"]
    start = 0
    for path, frames in parts:
        # The demuxer resolves relative names against the list file's folder, not the working directory.
        quoted = str(path.absolute()).replace("'", "'\\''")
        duration = _microseconds(start + frames, fps) - _microseconds(start, fps)
        lines += [f"file '{quoted}'", f"duration {duration}us"]
        start += frames
    return "\n".join(lines) + "\n"


def _microseconds(frame: int, fps: Fraction) -> int:
    return round(frame * 1_000_000 / fps)
