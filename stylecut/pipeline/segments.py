"""Long clips in segments: where to split, how one segment is written, and how they are joined.

Splitting. A constant-rate clip of N frames becomes ``round(N / L)`` segments
for a segment length of L frames (so a clip shorter than 1.5 L stays whole).
Each boundary starts at its even position and moves to the nearest scene cut
within ``snap_window`` frames, if there is one. Variable-rate clips are never
split: their output timing is a function of the whole clip.

Warm-up. A segment that does not start the clip first runs ``warmup`` frames
before its start through the whole pipeline, writing none of them, so its
temporal state is built before its first kept frame. At a cut the temporal
module drops its history (when it sees the cut too, as it does for hard
cuts), so there the segment's frames are exactly those of a single run; at
any other boundary the state is only an approximation of a single run's, and
``benchmarks/cluster.py`` measures the seam this leaves.

Joining. Each segment is encoded to the final codec into its own file;
:func:`stitch` concatenates them by stream copy, checks the frame count,
then remuxes audio, subtitles, metadata and timecode once from the source
(``finalize``) and renames into place. Temporary files live beside the
target: the pipeline's are ``.<stem>.stylecut-*<suffix>``, this module's
``.<name>.stylecut-*`` (name = stem + suffix, so two targets that differ only
in their suffix never share one); :func:`temp_files` finds both kinds.
"""

from __future__ import annotations

import glob
from itertools import pairwise
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stylecut.errors import MediaError
from stylecut.pipeline.stylise import ClipResult, ClipStyliser
from stylecut.video.concat import concat_videos
from stylecut.video.encode import finalize
from stylecut.video.probe import VideoInfo, probe

# Measured by benchmarks/cluster.py: the seam's E_warp against the clip's mean as the warm-up grows.
WARMUP_FRAMES = 16
SNAP_SECONDS = 5.0  # the farthest a boundary moves to reach a scene cut


@dataclass(frozen=True)
class Segment:
    index: int
    start: int  # first frame written
    stop: int  # one past the last frame written
    warmup: int  # frames before start that are run but not written

    @property
    def frames(self) -> int:
        return self.stop - self.start


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


def plan_segments(info: VideoInfo, points: Sequence[int], cuts: Sequence[int], warmup: int) -> list[Segment]:
    """Segments with their boundaries moved to the nearest cut in reach, each with its warm-up."""
    window = snap_window(info, points)
    bounds = [0]
    for point in points:
        near = [cut for cut in cuts if abs(cut - point) <= window]
        bounds.append(min(near, key=lambda cut: (abs(cut - point), cut)) if near else point)
    bounds.append(info.frame_count)
    return [Segment(i, a, b, min(warmup, a)) for i, (a, b) in enumerate(pairwise(bounds))]


def part_path(target: Path, segment: Segment, codec: str) -> Path:
    """Where a segment's video goes: beside the target, in an MP4 (MOV for ProRes) whatever the target's
    container, because MP4/MOV keep exact timestamps until the final remux."""
    suffix = ".mov" if codec == "prores" else ".mp4"
    return target.with_name(f".{target.name}.stylecut-part{segment.index:04d}{suffix}")


def temp_files(target: Path) -> list[Path]:
    """Every temporary file a run for ``target`` may have left beside it."""
    folder = glob.escape(str(target.parent))
    patterns = (
        f".{glob.escape(target.stem)}.stylecut-*{glob.escape(target.suffix)}",
        f".{glob.escape(target.name)}.stylecut-*",
    )
    return sorted({Path(p) for pattern in patterns for p in glob.glob(f"{folder}/{pattern}")})


def write_segment(
    styliser: ClipStyliser,
    info: VideoInfo,
    target: Path,
    segment: Segment,
    on_frames: Callable[[int], None] | None = None,
) -> ClipResult:
    """Stylise one segment into its part file (replacing what an earlier, killed attempt left there)."""
    part = part_path(target, segment, styliser.options.encode.codec)
    part.unlink(missing_ok=True)
    return styliser.write_video(info, part, segment.start, segment.stop, segment.warmup, on_frames)


def stitch(info: VideoInfo, target: Path, segments: Sequence[Segment], codec: str) -> None:
    """Join the segments' parts into ``target`` (atomically) and remove the parts."""
    parts = [(part_path(target, segment, codec), segment.frames) for segment in segments]
    joined = target.with_name(f".{target.name}.stylecut-joined{parts[0][0].suffix}")
    try:
        concat_videos(parts, info.fps, joined, target.name)
        frames = probe(joined).frame_count
        if frames != info.frame_count:
            raise MediaError(
                f"The segments of {target.name} joined into {frames} frames instead of {info.frame_count}."
            )
        finalize(joined, info, target)
    finally:
        joined.unlink(missing_ok=True)
        for part, _ in parts:
            part.unlink(missing_ok=True)
