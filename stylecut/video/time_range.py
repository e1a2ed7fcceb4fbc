"""`apply --from T --to T`: which frames of a clip a time range holds, and the sub-clip's start timecode.

A position is counted from the clip's first frame (not from the source's
timecode, so one range means the same for every clip of a batch) and is
written in seconds (``12.5``), as ``HH:MM:SS`` or ``HH:MM:SS.mmm``, or as a
timecode ``HH:MM:SS:FF``: frame FF of that second, counted as an editing
timeline does at the clip's timecode rate (its rate rounded: 30 for
29.97 fps), so timecode frame n is the clip's frame n, shown at n / fps. With
``;`` before the frames (``00:01:00;02``) the timecode is drop-frame, as
editors write 29.97 and 59.94 fps timecode: the labels ``;00`` and ``;01``
(``;00`` to ``;03`` at 59.94) of each minute but every tenth are skipped, so
the labels follow the clock. At other rates there is nothing to drop and
``;`` reads as ``:``.

A range holds exactly the frames whose presentation time t falls in
``[from, to)`` (all of a variable-rate clip's own frame times); ``--to``
past the clip's end ends the range with the clip. The sub-clip's start
timecode is the source's (its video stream's ``timecode`` tag or its tmcd
track) plus the frames before the range, in the source's notation (drop-frame
stays drop-frame); a source without one counts from 00:00:00:00,
non-drop-frame, as editing applications assume for such files.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from stylecut.errors import UsageError
from stylecut.video.probe import VideoInfo, frame_times

_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")
_CLOCK = re.compile(r"^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$")
_TIMECODE = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)([:;])(\d+)$")
_DROP_RATES = {Fraction(30000, 1001): 2, Fraction(60000, 1001): 4}  # labels dropped each minute


class RangeError(UsageError):
    """A range that one clip cannot give (it starts past the clip's end, or holds no frame of it)."""


@dataclass(frozen=True)
class Timecode:
    hours: int
    minutes: int
    seconds: int
    frames: int
    drop_frame: bool

    @classmethod
    def parse(cls, text: str) -> Timecode | None:
        match = _TIMECODE.match(text.strip())
        if not match:
            return None
        return cls(int(match[1]), int(match[2]), int(match[3]), int(match[5]), match[4] == ";")

    def __str__(self) -> str:
        separator = ";" if self.drop_frame else ":"
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}{separator}{self.frames:02d}"

    def frame_number(self, fps: Fraction) -> int:
        """The frame this timecode labels, counted from 00:00:00:00 at the timecode rate of ``fps``."""
        rate, drop = timecode_rate(fps, self.drop_frame)
        minutes = 60 * self.hours + self.minutes
        if drop and self.seconds == 0 and self.frames < drop and minutes % 10:
            raise RangeError(
                f"Drop-frame timecode {self} does not exist: each minute but every tenth skips it."
            )
        counted = (3600 * self.hours + 60 * self.minutes + self.seconds) * rate + self.frames
        return counted - drop * (minutes - minutes // 10)

    @classmethod
    def at_frame(cls, number: int, fps: Fraction, drop_frame: bool) -> Timecode:
        """The timecode that labels frame ``number`` (the inverse of :meth:`frame_number`)."""
        rate, drop = timecode_rate(fps, drop_frame)
        if drop:  # add back the labels skipped before it
            per_ten, per_minute = rate * 600 - 9 * drop, rate * 60 - drop
            tens, rest = divmod(number, per_ten)
            number += 9 * drop * tens + (drop * ((rest - drop) // per_minute) if rest > drop else 0)
        seconds, frames = divmod(number, rate)
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return cls(hours % 24, minutes, seconds, frames, bool(drop))


def timecode_rate(fps: Fraction, drop_frame: bool) -> tuple[int, int]:
    """(frames per timecode second, labels dropped per minute): drop-frame only where it exists."""
    rate = max(1, round(fps))
    return rate, _DROP_RATES.get(fps, 0) if drop_frame else 0


@dataclass(frozen=True)
class TimePoint:
    """One of ``--from`` and ``--to`` as given: seconds, or a timecode whose time depends on the clip's rate."""

    option: str  # "--from" or "--to"
    text: str
    seconds: Fraction | None = None
    timecode: Timecode | None = None

    @classmethod
    def parse(cls, option: str, text: str) -> TimePoint:
        value = text.strip()
        if value.startswith("-"):
            raise UsageError(f"{option} {text} is negative; positions count from the clip's first frame.")
        if _SECONDS.match(value):
            return cls(option, value, seconds=Fraction(value))
        if match := _CLOCK.match(value):
            return cls(option, value, seconds=3600 * int(match[1]) + 60 * int(match[2]) + Fraction(match[3]))
        if timecode := Timecode.parse(value):
            return cls(option, value, timecode=timecode)
        raise UsageError(
            f"{option} {text} is not a time: give seconds (12.5), HH:MM:SS.mmm or a timecode HH:MM:SS:FF."
        )

    def at(self, info: VideoInfo) -> Fraction:
        """Seconds from the clip's first frame; a timecode at the clip's rate (its average when variable)."""
        if self.seconds is not None:
            return self.seconds
        rate, _ = timecode_rate(info.fps, self.timecode.drop_frame)
        if self.timecode.frames >= rate:
            raise RangeError(
                f"{self.option} {self.text} names frame {self.timecode.frames} of a second, "
                f"but {info.path.name} has {rate} frames a second."
            )
        return self.timecode.frame_number(info.fps) / info.fps

    def order(self) -> tuple:
        """A key that orders points of one kind without a clip: seconds by value, timecodes as labels."""
        if self.seconds is not None:
            return (0, self.seconds)
        tc = self.timecode
        return (1, tc.hours, tc.minutes, tc.seconds, tc.frames)

    def tag(self) -> str:
        """The point in a file name: ``12.5s``, ``00h01m02.5s``, ``00h01m02s03f`` (``df``: drop-frame)."""
        if self.seconds is not None and ":" not in self.text:
            return f"{float(self.seconds):.6f}".rstrip("0").rstrip(".") + "s"
        hours, minutes, rest = re.split(r"[:;]", self.text, maxsplit=2)
        if self.timecode is None:
            return f"{hours}h{minutes}m{rest}s"
        tc = self.timecode
        unit = "df" if tc.drop_frame else "f"
        return f"{tc.hours:02d}h{tc.minutes:02d}m{tc.seconds:02d}s{tc.frames:02d}{unit}"


@dataclass(frozen=True)
class ClipRange:
    """The frames ``[first, stop)`` of one clip that a range holds, and what the sub-clip needs to know."""

    first: int
    stop: int
    start: Fraction  # seconds from the clip's first frame to the range's first frame
    end: Fraction  # ... to the end of its last frame
    timecode: str  # the sub-clip's start timecode
    warmup: int = 0  # frames before ``first`` run through the temporal stage but not kept

    @property
    def frames(self) -> int:
        return self.stop - self.first

    @property
    def duration(self) -> Fraction:
        return self.end - self.start

    def to_json(self) -> dict:
        return {
            "from": round(float(self.start), 6),
            "to": round(float(self.end), 6),
            "first_frame": self.first,
            "frames": self.frames,
            "timecode": self.timecode,
        }


@dataclass(frozen=True)
class TimeRange:
    """``--from`` and ``--to`` as given (either may be missing: the clip's start, the clip's end)."""

    start: TimePoint | None = None
    end: TimePoint | None = None

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> TimeRange | None:
        """None when neither is given; raise UsageError for a value that is no time, or ``from >= to``."""
        if start is None and end is None:
            return None
        time_range = cls(
            None if start is None else TimePoint.parse("--from", start),
            None if end is None else TimePoint.parse("--to", end),
        )
        if time_range.start and time_range.end:
            first, last = time_range.start.order(), time_range.end.order()
            if (
                first[0] == last[0] and first >= last
            ):  # a mix of seconds and timecode waits for the clip's rate
                raise UsageError(time_range._empty())
        return time_range

    def tag(self) -> str:
        """What the default output name carries, so that a run with another range writes another file."""
        if self.start and self.end:
            return f".{self.start.tag()}-{self.end.tag()}"
        return f".from{self.start.tag()}" if self.start else f".to{self.end.tag()}"

    def to_json(self) -> dict:
        return {"from": self.start.text if self.start else None, "to": self.end.text if self.end else None}

    def resolve(self, info: VideoInfo, warmup: int = 0) -> ClipRange:
        """The frames of the probed clip in the range, with up to ``warmup`` frames before them.

        Raises RangeError when the range starts at or past the clip's end or holds none of its frames.
        """
        begin = self.start.at(info) if self.start else Fraction(0)
        finish = self.end.at(info) if self.end else None
        if finish is not None and begin >= finish:
            raise RangeError(self._empty())
        times, duration = _frame_times(info)
        first = bisect_left(times, begin)
        stop = len(times) if finish is None else bisect_left(times, finish)
        if first >= len(times):
            raise RangeError(
                f"{info.path.name} is {float(duration):.3f} s long, so {self.start.option} "
                f"{self.start.text} is past its end."
            )
        if first == stop:
            raise RangeError(f"No frame of {info.path.name} falls in the range {self._describe()}.")
        end = times[stop] if stop < len(times) else duration
        offset = round(times[first] * info.fps)  # frames before the range, as the timecode counts them
        return ClipRange(first, stop, times[first], end, _start_timecode(info, offset), min(first, warmup))

    def _describe(self) -> str:
        given = [f"{point.option} {point.text}" for point in (self.start, self.end) if point]
        return " ".join(given)

    def _empty(self) -> str:
        return f"The range {self._describe()} is empty: --from must come before --to."


class _ConstantRate(Sequence[Fraction]):
    """Frame i of a constant-rate clip is shown at i / fps: the times, without a list of them."""

    def __init__(self, info: VideoInfo) -> None:
        self.fps, self.count = info.fps, info.frame_count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> Fraction:
        if not 0 <= index < self.count:
            raise IndexError(index)
        return index / self.fps


def _frame_times(info: VideoInfo) -> tuple[Sequence[Fraction], Fraction]:
    """Each frame's presentation time and the clip's end, in seconds from its first frame."""
    if not info.is_vfr:
        return _ConstantRate(info), info.frame_count / info.fps
    times = frame_times(info)
    # The probe's duration is the span from the first frame to the end of the last, rounded to a float.
    return [t - times[0] for t in times], Fraction(info.duration).limit_denominator(10**9)


def _start_timecode(info: VideoInfo, offset: int) -> str:
    source = Timecode.parse(info.timecode or "") or Timecode(0, 0, 0, 0, False)
    number = source.frame_number(info.fps) + offset
    return str(Timecode.at_frame(number, info.fps, source.drop_frame))
