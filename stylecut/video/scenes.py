"""Scene cuts: the frames of a clip where a new shot starts, by ffmpeg's scene-change score.

ffmpeg's ``select`` filter scores each frame against the previous one (0:
the same picture, 1: nothing in common); a score above ``CUT_SCORE`` is a
cut. Measured on the shared clips joined end to end: the joins scored
0.36-0.88, the largest score inside a shot was 0.27 (a bird flapping its
wings), hence 0.3. Only a window of frames is decoded, starting with an
input seek; its frames are matched to indices by their presentation times
(from the packet list), which is the same frame order the decoder uses.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from fractions import Fraction

from stylecut.errors import MediaError
from stylecut.video.ffmpeg_tools import ffmpeg_command, media_arg, run_tool
from stylecut.video.probe import VideoInfo, frame_times

CUT_SCORE = 0.3

_FRAME_LINE = re.compile(r"pts_time:(-?[\d.]+)")
_SCORE_LINE = re.compile(r"lavfi\.scene_score=([\d.]+)")


def scene_cuts(info: VideoInfo, start: int, stop: int, threshold: float = CUT_SCORE) -> list[int]:
    """Indices ``i`` in ``(start, stop)`` whose frame starts a new shot (differs from frame ``i - 1``)."""
    times = frame_times(info)
    first = times[start]
    # Half a frame early, so that rounding the seek time can never drop the first frame.
    seek = max(Fraction(0), first - (times[start + 1] - first) / 2) if stop - start > 1 else first
    args = ffmpeg_command(
        "-ss",
        f"{float(seek):.6f}",
        "-i",
        media_arg(info.path),
        "-map",
        f"0:{info.stream_index}",
        "-frames:v",
        str(stop - start),
        "-vf",
        "select='gte(scene,0)',metadata=print:key=lavfi.scene_score:file=-",
        "-f",
        "null",
        "-",
    )
    proc = run_tool(args)
    if proc.returncode != 0:
        raise MediaError(f"{info.path.name} could not be decoded to find its scene cuts.")
    cuts = []
    time: float | None = None
    for line in proc.stdout.splitlines():
        if match := _FRAME_LINE.search(line):
            time = float(seek) + float(match[1])  # without -copyts, output times start at the seek point
        elif (match := _SCORE_LINE.search(line)) and time is not None and float(match[1]) > threshold:
            index = _nearest(times, time)
            if start < index < stop:
                cuts.append(index)
    return cuts


def _nearest(times: list[Fraction], time: float) -> int:
    i = bisect_left(times, Fraction(time))
    if i == len(times) or (i > 0 and time - times[i - 1] < times[i] - time):
        i -= 1
    return i
