"""Long clips in segments: where to split, how one segment is written, and how they are joined.

Splitting. A constant-rate clip of N frames becomes ``round(N / L)`` segments
for a segment length of L frames (so a clip shorter than 1.5 L stays whole).
Each boundary starts at its even position and moves to the nearest scene cut
within ``snap_window`` frames, if there is one. Variable-rate clips are never
split: their output timing is a function of the whole clip.

Seams. A segment that does not start the clip first runs ``warmup`` frames
before its start through the whole pipeline, writing none of them, so that
its temporal state is built before its first frame. That state is still not
a single run's: the temporal module carries a shot's look from where the
shot began, however long ago, and on camera motion the recurrent stage
takes a new anchor every few frames at moments that follow from where it
started, so the two runs freeze the entering picture at different frames
and refresh out of step. So the two sides of a seam overlap by
``blend`` frames: the earlier segment runs on past its end (its *tail*), the
later one keeps its first frames (its *head*), both raw, and the stitch
cross-fades tail into head over those frames, which spreads the difference
between the two states over the overlap instead of showing it at one frame.
At a scene cut the temporal module starts afresh (when it sees the cut too,
as it does for hard cuts): tail and head are then the same frames, and the
seam is exactly a single run's. benchmarks/cluster.py and, at a working size
on camera motion, benchmarks/seams.py measured the seams.

Joining. Each segment's frames, less its head, are encoded to the final
codec into a part file; :func:`stitch` encodes each cross-fade the same way,
concatenates everything by stream copy, checks the frame count, then remuxes
audio, subtitles, metadata and timecode once from the source (``finalize``)
and renames into place. A clip's part files live in a hidden folder of their
own beside the target (:func:`parts_folder`, a unique name per run, like
every temporary file of stylecut's), which goes as a whole when the clip is
done or has failed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from stylecut.errors import MediaError
from stylecut.pipeline.stylise import ClipResult, ClipStyliser
from stylecut.pipeline.timing import STAGES, StageTimer
from stylecut.video.concat import concat_videos
from stylecut.video.encode import VideoWriter
from stylecut.video.encode_settings import EncodeSettings
from stylecut.video.probe import VideoInfo, probe
from stylecut.video.remux import finalize
from stylecut.video.tempfiles import temp_path

# Measured by benchmarks/cluster.py, where the seams' E_warp is that of a single run with these, and at 480p on
# camera motion by benchmarks/seams.py (docs/measurements.md): the two sides refresh the recurrent stage's
# anchor out of step, so its flicker cycle (and a push-in's anchor drops) fall at other frames on each; over
# 16 frames the cross-fade averages the two instead of switching within 8, for 8 more frames a seam.
BLEND_FRAMES = 16
SNAP_SECONDS = 5.0  # the farthest a boundary moves to reach a scene cut


@dataclass(frozen=True)
class Segment:
    index: int
    start: int  # first frame of the segment
    stop: int  # one past its last frame
    warmup: int  # frames before start that are run but not kept
    head: int = 0  # its first frames, kept raw: the previous segment's tail is blended into them
    tail: int = 0  # frames after stop also run and kept raw, to blend into the next segment's head

    @property
    def frames(self) -> int:
        return self.stop - self.start


@dataclass
class Edges:
    """The raw frames a segment shares with its neighbours, ``(n, height, width, 3)`` pixels or None."""

    head: np.ndarray | None
    tail: np.ndarray | None


def split_points(info: VideoInfo, segment_frames: int) -> list[int]:
    """Even boundaries for segments of about ``segment_frames`` (none: the clip stays whole)."""
    if info.is_vfr:
        return []
    count = max(1, round(info.frame_count / segment_frames))
    return [i * info.frame_count // count for i in range(1, count)]


def snap_window(info: VideoInfo, points: Sequence[int]) -> int:
    """How far (frames) a boundary may move to a cut: at most SNAP_SECONDS, and a third of the spacing."""
    spacing = info.frame_count // (len(points) + 1)
    return min(round(SNAP_SECONDS * info.fps), spacing // 3)


def search_ranges(info: VideoInfo, points: Sequence[int]) -> list[tuple[int, int]]:
    """Frame ranges to search for cuts, one around each boundary; a cut at frame i needs frame i - 1 too."""
    window = snap_window(info, points)
    return [(max(0, point - window - 1), min(info.frame_count, point + window + 1)) for point in points]


def plan_segments(
    info: VideoInfo, points: Sequence[int], cuts: Sequence[int], warmup: int, blend: int
) -> list[Segment]:
    """Segments with their boundaries moved to the nearest cut in reach, each with its warm-up, and each
    seam blended over ``blend`` frames (fewer where a segment is short: at most half of it)."""
    window = snap_window(info, points)
    bounds = [0]
    for point in points:
        near = [cut for cut in cuts if abs(cut - point) <= window]
        bounds.append(min(near, key=lambda cut: (abs(cut - point), cut)) if near else point)
    bounds.append(info.frame_count)
    overlaps = [0, *(min(blend, (b - a) // 2) for a, b in pairwise(bounds[1:])), 0]
    return [
        Segment(i, a, b, min(warmup, a), head=overlaps[i], tail=overlaps[i + 1])
        for i, (a, b) in enumerate(pairwise(bounds))
    ]


def parts_folder(target: Path) -> Path:
    """A new, unique name for the hidden folder of a clip's part files, beside ``target``."""
    return temp_path(target, "parts")


def part_path(folder: Path, segment: Segment, codec: str, role: str = "part") -> Path:
    """Where in ``folder`` a segment's video (``role`` part), the cross-fade into it (blend) or, for the
    first, the joined video (joined) goes: an MP4 (MOV for ProRes) whatever the target's container,
    because MP4/MOV keep exact timestamps until the final remux."""
    suffix = ".mov" if codec == "prores" else ".mp4"
    return folder / f"{role}{segment.index:04d}{suffix}"


def remove_parts(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def write_segment(
    styliser: ClipStyliser,
    info: VideoInfo,
    folder: Path,
    segment: Segment,
    on_frames: Callable[[int], None] | None = None,
) -> tuple[ClipResult, Edges]:
    """Stylise one segment: its frames after the head into its part file in ``folder`` (replacing what
    an earlier, killed attempt left there), its head and tail raw. ``on_frames`` counts the segment's
    own frames."""
    part = part_path(folder, segment, styliser.options.encode.codec)
    folder.mkdir(exist_ok=True)
    part.unlink(missing_ok=True)
    timer = StageTimer(STAGES)
    started = time.perf_counter()
    head: list[np.ndarray] = []
    tail: list[np.ndarray] = []

    def body(chunks: Iterator[tuple[int, np.ndarray]]) -> Iterator[tuple[int, np.ndarray]]:
        """The chunks' frames of the part; head and tail frames go aside."""
        bounds = (segment.start, segment.start + segment.head, segment.stop, segment.stop + segment.tail)
        for index, frames in chunks:
            for (first, last), kept in zip(pairwise(bounds), (head, None, tail)):
                piece = frames[max(first - index, 0) : max(last - index, 0)]
                if len(piece) and kept is not None:
                    kept.append(piece)
                elif len(piece):
                    yield max(first, index), piece
            if on_frames is not None:
                on_frames(max(0, min(index + len(frames), segment.stop) - index))

    chunks = styliser.stylise_range(info, segment.start, segment.stop + segment.tail, segment.warmup, timer)
    with closing(chunks):
        styliser.write_video(info, part, info.fps, body(chunks), timer)
    edges = Edges(np.concatenate(head) if head else None, np.concatenate(tail) if tail else None)
    flow = None if styliser.flow is None else styliser.flow.name
    return ClipResult(segment.frames, time.perf_counter() - started, flow, timer.seconds), edges


def cross_fade(tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """From ``tail`` into ``head`` (the same frames made by two segments), linearly, excluding both ends."""
    weights = (np.arange(1, len(head) + 1) / (len(head) + 1)).reshape(-1, 1, 1, 1)
    return np.rint((1 - weights) * tail + weights * head).astype(head.dtype)


def stitch(
    info: VideoInfo,
    folder: Path,
    target: Path,
    segments: Sequence[Segment],
    settings: EncodeSettings,
    edges: Callable[[int], Edges],
    style: str | None = None,
) -> None:
    """Join the segments' parts in ``folder`` and their cross-fades into ``target`` (atomically, marked
    as made with ``style``), and remove ``folder``.

    ``edges(i)`` gives segment ``i``'s raw head and tail; each is asked for once, when needed.
    """
    parts: list[tuple[Path, int]] = []
    joined = part_path(folder, segments[0], settings.codec, "joined")
    try:
        tail = None  # the previous segment's
        for segment in segments:
            edge = edges(segment.index) if segment.head or segment.tail else Edges(None, None)
            if segment.head:
                fade = part_path(folder, segment, settings.codec, "blend")
                fade.unlink(missing_ok=True)
                with VideoWriter(
                    fade, info.display_width, info.display_height, info.fps, settings, info
                ) as writer:
                    writer.write(cross_fade(tail, edge.head))
                parts.append((fade, segment.head))
            parts.append((part_path(folder, segment, settings.codec), segment.frames - segment.head))
            tail = edge.tail
        concat_videos(parts, info.fps, joined, target.name)
        frames = probe(joined).frame_count
        if frames != info.frame_count:
            raise MediaError(
                f"The segments of {target.name} joined into {frames} frames instead of {info.frame_count}."
            )
        finalize(joined, info, target, style)
    finally:
        remove_parts(folder)
