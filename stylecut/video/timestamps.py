"""Give a constant-rate encode the frame times of its variable-rate source, by stream copy.

The raw-video pipe into the encoder cannot carry per-frame timestamps, so a
variable-rate clip is encoded at a nominal constant rate (:attr:`FrameTimes.rate`),
one frame per source frame, and :meth:`FrameTimes.restore` then rewrites every
video packet's timestamps with PyAV (ffmpeg's command line cannot import a list
of them): the frame shown n-th gets the source's n-th presentation time, in the
source's time base, and the last one lasts as long as the source's last frame.
Start, frame times and duration thus match the source's up to the container's
rounding.

Decode timestamps follow from the presentation times T[0] < T[1] < ...: packet
k in decode order, which shows frame idx[k], gets dts T[k - delay], where
delay = max over k of (k - idx[k]) is the stream's reorder delay (B-frames).
That is strictly increasing, and never later than the packet's pts because
k - delay <= idx[k] and T increases. The first ``delay`` packets get dts
before T[0], one nominal frame apart.
"""

from __future__ import annotations

import errno
import os
from fractions import Fraction
from pathlib import Path

import av

from stylecut.errors import OutputError
from stylecut.video.probe import VideoInfo, frame_pts


class FrameTimes:
    """When each frame of a probed clip is shown, and how to give an encode of it those times."""

    def __init__(self, source: VideoInfo) -> None:
        self.time_base, self.pts = frame_pts(source)
        self.end = self.pts[0] + round(Fraction(source.duration) / self.time_base)  # the last frame's end

    @property
    def rate(self) -> Fraction:
        """The constant rate to encode at: one frame lasts as long as the source's last frame.

        Any rate works for :meth:`restore`; this one keeps the last frame's duration through
        ffmpeg 5.1, whose stream copy replaces the packet durations of an MP4 with B-frames by
        the codec's frame duration (and a stream's last duration is only stored in its packet).
        """
        return 1 / ((self.end - self.pts[-1]) * self.time_base)

    def restore(self, video: Path) -> None:
        """Rewrite ``video`` (one stream encoded at :attr:`rate`, one frame per source frame)
        in place so that its frames carry the source's presentation times."""
        times, step = self.pts, max(1, round(1 / (self.rate * self.time_base)))
        shown = _display_indices(video, self.rate, len(times))
        delay = max(k - index for k, index in enumerate(shown))
        timed = video.with_name(f"{video.stem}.timed{video.suffix}")
        try:
            with av.open(str(video)) as encoded, av.open(str(timed), "w") as out:
                stream = encoded.streams.video[0]
                out_stream = out.add_stream_from_template(stream)
                out_stream.time_base = self.time_base
                packets = (packet for packet in encoded.demux(stream) if packet.size)
                for k, (packet, index) in enumerate(zip(packets, shown, strict=True)):
                    packet.stream = out_stream
                    packet.time_base = self.time_base
                    packet.pts = times[index]
                    packet.dts = times[k - delay] if k >= delay else times[0] - (delay - k) * step
                    packet.duration = (times[index + 1] if index + 1 < len(times) else self.end) - times[index]
                    out.mux(packet)
            os.replace(timed, video)
        except av.error.FFmpegError as exc:
            if exc.errno == errno.ENOSPC:
                raise OutputError(f"Disk full while writing {timed.name}.") from None
            raise OutputError(f"Could not write the frame times into {timed.name}: {exc.strerror}.") from None
        finally:
            timed.unlink(missing_ok=True)


def _display_indices(video: Path, rate: Fraction, count: int) -> list[int]:
    """For each packet of ``video`` in decode order, the index of the frame it shows."""
    with av.open(str(video)) as encoded:
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
