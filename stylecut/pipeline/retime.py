"""With ``apply --cfr``, variable-frame-rate input becomes constant-rate output in sync with its audio.

Some editing applications handle variable-rate footage badly (audio drifts,
frames fall between timeline ticks), which is why editors may convert it to a
constant rate before cutting; by default stylecut keeps every frame's time
instead (stylecut.video.timestamps). The output rate is the standard rate
nearest the clip's typical (median) frame interval, so most of the footage
maps one to one; each output frame shows the input frame on screen at its
time, so slower stretches repeat frames and faster ones drop some. No frame
moves by more than half an output frame, which keeps the picture in sync
with the sound.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction

from stylecut.video.probe import VideoInfo, frame_times

STANDARD_RATES = tuple(
    Fraction(rate)
    for rate in (
        "10",
        "12",
        "25/2",
        "15",
        "24000/1001",
        "24",
        "25",
        "30000/1001",
        "30",
        "48",
        "50",
        "60000/1001",
        "60",
        "120",
    )
)


@dataclass(frozen=True)
class Retiming:
    rate: Fraction
    repeats: list[int]  # output frames showing each input frame, in input order (0: dropped)


def standard_rate(times: list[Fraction]) -> Fraction:
    """The standard rate nearest (in ratio) to the rate of the median frame interval."""
    steps = sorted(b - a for a, b in zip(times, times[1:]))
    typical = 1 / steps[len(steps) // 2]
    return min(STANDARD_RATES, key=lambda rate: abs(math.log(rate / typical)))


def frame_repeats(times: list[Fraction], duration: float, rate: Fraction) -> list[int]:
    """How often each input frame (starting at ``times``) is shown in a constant-``rate`` output."""
    repeats = [0] * len(times)
    half_frame = 1 / (2 * rate)
    for k in range(max(1, round(duration * rate))):
        # The input frame nearest the output frame's time: the last one starting before it, rounded.
        repeats[bisect_right(times, times[0] + k / rate + half_frame) - 1] += 1
    return repeats


def plan_retiming(info: VideoInfo) -> Retiming | None:
    """None for a constant-rate clip (its frames map one to one), else the conversion to use."""
    if not info.is_vfr:
        return None
    times = frame_times(info)
    rate = standard_rate(times)
    return Retiming(rate, frame_repeats(times, info.duration, rate))


def describe(info: VideoInfo, retiming: Retiming, first: int = 0, stop: int | None = None) -> str:
    """The notice for a conversion of the clip, or of its frames ``[first, stop)`` (a time range)."""
    stop = info.frame_count if stop is None else stop
    written = sum(retiming.repeats[first:stop])
    return (
        f"{info.path.name} has a variable frame rate: the output is converted to a constant "
        f"{float(retiming.rate):.4g} fps ({written} frames from {stop - first}), in sync with its audio."
    )
