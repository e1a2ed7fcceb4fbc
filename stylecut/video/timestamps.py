"""Give a constant-rate encode the frame times of its variable-rate source, by stream copy.

The raw-video pipe into the encoder cannot carry per-frame timestamps, so a
variable-rate clip is encoded at a nominal constant rate (:attr:`FrameTimes.rate`),
one frame per source frame, and :meth:`FrameTimes.restore` then rewrites every
video packet's timestamps with PyAV (ffmpeg's command line cannot import a list
of them): the frame shown n-th gets the source's n-th presentation time, in the
source's time base, and the clip ends where the source's does. Start, frame
times and duration thus match the source's up to the container's rounding.

Decode timestamps (:func:`packet_times`) follow from the presentation times
T[0] < T[1] < ...: packet k in decode order, which shows frame idx[k], gets
dts T[k - delay], where delay = max over k of (k - idx[k]) is the stream's
reorder delay (B-frames). That is strictly increasing, and never later than
the packet's pts because k - delay <= idx[k] and T increases. The first
``delay`` packets get dts before T[0], one frame apart.

Durations: MP4 stores no per-packet duration, only the gap to the next dts
(and the last packet's own), and muxers end the clip at the latest pts +
duration. So each packet lasts until the next dts, the last one until the
clip's end, and, from the end backwards, each dts is raised until that gap
ends by the clip's end: dts[k] = max(dts[k], dts[k + 1] - (end - pts[k])).
That keeps dts strictly increasing (end > pts[k]) and never after pts
(dts[k + 1] <= end); without it the gap after the last-shown frame of a
B-frame stream can outlast the clip or fall short of its end. ffmpeg 5.1's
stream copy ignores these durations and gives every packet of an MP4 with
B-frames the codec's frame duration instead, hence :attr:`FrameTimes.rate`.
"""

from __future__ import annotations

import errno
import os
from fractions import Fraction
from pathlib import Path

from stylecut.errors import OutputError
from stylecut.video.probe import VideoInfo, frame_pts
from stylecut.video.tempfiles import temp_path


class FrameTimes:
    """When each frame of a probed clip, or of its frames ``[first, stop)``, is shown, and how to give an
    encode of them those times; a range's first frame takes the clip's first frame's time."""

    def __init__(self, source: VideoInfo, first: int = 0, stop: int | None = None) -> None:
        self.time_base, pts = frame_pts(source)
        stop = len(pts) if stop is None else stop
        end = pts[stop] if stop < len(pts) else pts[0] + round(Fraction(source.duration) / self.time_base)
        shift = pts[first] - pts[0]
        self.pts = [t - shift for t in pts[first:stop]]
        self.end = end - shift  # the last frame's end

    @property
    def rate(self) -> Fraction:
        """The constant rate to encode at: one frame lasts as long as the source's last frame.

        Any rate works for :meth:`restore`; this one keeps the clip's end through ffmpeg 5.1,
        whose stream copy gives every packet of an MP4 with B-frames the codec's frame duration,
        so that the clip then ends one such duration after its last frame.
        """
        return 1 / ((self.end - self.pts[-1]) * self.time_base)

    def restore(self, video: Path) -> None:
        """Rewrite ``video`` (one stream encoded at :attr:`rate`, one frame per source frame)
        in place so that its frames carry the source's presentation times."""
        import av  # 0.1-0.2 s to load FFmpeg's libraries, which constant-rate clips never need

        timing = packet_times(self.pts, self.end, _display_indices(video, self.rate, len(self.pts)))
        timed = temp_path(video, "timed")
        try:
            with av.open(_name(video)) as encoded, av.open(_name(timed), "w") as out:
                stream = encoded.streams.video[0]
                out_stream = out.add_stream_from_template(stream)
                out_stream.time_base = self.time_base
                packets = (packet for packet in encoded.demux(stream) if packet.size)
                for packet, (pts, dts, duration) in zip(packets, timing, strict=True):
                    packet.stream = out_stream
                    packet.time_base = self.time_base
                    packet.pts, packet.dts, packet.duration = pts, dts, duration
                    out.mux(packet)
            os.replace(timed, video)
        except av.error.FFmpegError as exc:
            if exc.errno == errno.ENOSPC:
                raise OutputError(f"Disk full while writing {timed.name}.") from None
            raise OutputError(f"Could not write the frame times into {timed.name}: {exc.strerror}.") from None
        finally:
            timed.unlink(missing_ok=True)


def packet_times(times: list[int], end: int, shown: list[int]) -> list[tuple[int, int, int]]:
    """(pts, dts, duration) of the packets showing frames ``shown`` (in decode order), as the module
    docstring derives them, for frames shown at ``times`` until ``end``."""
    delay = max(k - index for k, index in enumerate(shown))
    step = end - times[-1]  # before the first frame, dts are one (last) frame apart
    pts = [times[index] for index in shown]
    dts = [times[k - delay] if k >= delay else times[0] - (delay - k) * step for k in range(len(shown))]
    for k in range(len(shown) - 2, -1, -1):
        dts[k] = max(dts[k], dts[k + 1] - (end - pts[k]))
    durations = [after - before for before, after in zip(dts, dts[1:])] + [end - pts[-1]]
    return list(zip(pts, dts, durations))


def _name(path: Path) -> str:
    """An absolute path, which libavformat never reads as a protocol ("a:b.mp4") or an option."""
    return str(path.absolute())


def _display_indices(video: Path, rate: Fraction, count: int) -> list[int]:
    """For each packet of ``video`` in decode order, the index of the frame it shows."""
    import av

    with av.open(_name(video)) as encoded:
        stream = encoded.streams.video[0]
        pts = [packet.pts for packet in encoded.demux(stream) if packet.size]
    if None in pts:
        raise OutputError(f"{video.name} has frames without a presentation time.")
    frame = 1 / (rate * stream.time_base)  # ticks per frame; Matroska rounds each pts to a tick
    start = min(pts)
    shown = [round((t - start) / frame) for t in pts]
    if sorted(shown) != list(range(count)):
        raise OutputError(f"The encoder wrote {len(shown)} frames for {count} into {video.name}.")
    return shown
