"""Long clips in segments, without Ray: where a clip is split, scene cuts, exact joins, cross-fades."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from stylecut.pipeline.ray.segments import (
    Segment,
    cross_fade,
    plan_segments,
    search_ranges,
    split_points,
)
from stylecut.video.concat import concat_videos
from stylecut.video.decode import iter_frames
from stylecut.video.encode import EncodeSettings, VideoWriter
from stylecut.video.ffmpeg_tools import ffmpeg_exe
from stylecut.video.probe import probe
from stylecut.video.scenes import scene_cuts

import media


def test_split_points_and_plan(make_clip):
    info = replace(probe(make_clip(frames=10)), frame_count=250)  # 10 s at 25 fps
    assert split_points(info, 250) == [] and split_points(info, 170) == []  # under 1.5 segments: whole
    points = split_points(info, 60)
    assert points == [62, 125, 187]  # 4 even segments

    # A cut within reach (a third of the spacing: 20 frames) moves the boundary; one beyond does not.
    assert search_ranges(info, points) == [(41, 83), (104, 146), (166, 208)]
    plan = plan_segments(info, points, cuts=[50, 100, 199], warmup=16, blend=8)
    assert plan == [
        Segment(0, 0, 50, warmup=0, head=0, tail=8),
        Segment(1, 50, 125, warmup=16, head=8, tail=8),
        Segment(2, 125, 199, warmup=16, head=8, tail=8),
        Segment(3, 199, 250, warmup=16, head=8, tail=0),
    ]
    assert sum(segment.frames for segment in plan) == 250
    # A seam blends over at most half of the segment after it.
    short = plan_segments(info, [240], cuts=[], warmup=16, blend=8)
    assert [(segment.head, segment.tail) for segment in short] == [(0, 5), (5, 0)]

    assert (
        split_points(replace(info, is_vfr=True), 60) == []
    )  # variable rate: timing belongs to the whole clip


def test_scene_cuts_finds_hard_cuts_in_a_window(tmp_path):
    info = probe(media.make_shots(tmp_path / "shots.mp4", (20, 30, 25)))
    assert scene_cuts(info, 0, info.frame_count) == [20, 50]
    assert scene_cuts(info, 12, 35) == [20]
    assert scene_cuts(info, 20, 50) == []  # the cut at 20 is against frame 19, outside the window


@pytest.mark.parametrize("name", ["-shots.mp4", "shot:2.mp4"])
def test_scene_cuts_in_a_file_named_like_an_option_or_a_protocol(tmp_path, monkeypatch, name):
    media.make_shots(tmp_path / name, (20, 30))
    monkeypatch.chdir(tmp_path)  # the name as given: relative
    assert scene_cuts(probe(Path(name)), 0, 50) == [20]


def test_segments_join_on_the_exact_ticks_of_a_single_encode(make_clip, tmp_path):
    """At 30000/1001 fps, MP4's millisecond durations would shift every frame after a join."""
    info = probe(make_clip(frames=45, fps="30000/1001"))
    frames = np.concatenate(list(iter_frames(info, 16)))
    settings = EncodeSettings(preset="ultrafast")
    single = tmp_path / "single.mp4"
    with VideoWriter(single, info.width, info.height, info.fps, settings, info) as writer:
        writer.write(frames)
    parts = []
    for i, (start, stop) in enumerate([(0, 13), (13, 31), (31, 45)]):
        part = tmp_path / f"part{i}.mp4"
        with VideoWriter(part, info.width, info.height, info.fps, settings, info) as writer:
            writer.write(frames[start:stop])
        parts.append((part, stop - start))

    joined = tmp_path / "joined.mp4"
    concat_videos(parts, info.fps, joined, "out.mp4")

    out = probe(joined)
    assert (out.frame_count, out.fps, out.duration, out.is_vfr) == (
        45,
        Fraction(30000, 1001),
        info.duration,
        False,
    )
    assert packet_times(joined) == packet_times(single)
    assert np.array_equal(
        media.decode_reference(joined), np.concatenate([media.decode_reference(p) for p, _ in parts])
    )


def packet_times(path: Path) -> list[str]:
    listing = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(line.split(",")[2].strip() for line in listing.splitlines() if not line.startswith("#"))


def test_cross_fade_goes_from_tail_to_head_and_keeps_equal_frames_equal():
    tail, head = np.zeros((3, 2, 2, 3), np.uint8), np.full((3, 2, 2, 3), 200, np.uint8)
    assert cross_fade(tail, head)[:, 0, 0, 0].tolist() == [50, 100, 150]
    frames = np.random.default_rng(0).integers(0, 256, (8, 4, 4, 3), dtype=np.uint8)
    assert np.array_equal(cross_fade(frames, frames), frames)  # a seam at a cut: both sides agree
