"""Variable-frame-rate input: every frame keeps its time by default, `apply --cfr` converts to a constant rate.

Two synthetic clips, made with lavfi: a phone-like one (25 frames about 10.5 fps
apart with jittered intervals, time base 1/90000) and one that changes rate
(1 s at 10 fps, then 1 s at 30 fps). Each frame is a ramp shifted from the
last, so every frame is far from all others. Runs that keep the frame times
use the default x264 preset: its B-frames make decode order differ from
display order, which the timestamp rewrite must respect.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from stylecut.pipeline.retime import frame_repeats, standard_rate
from stylecut.pipeline.stylise import ApplyOptions, ClipStyliser
from stylecut.video.probe import frame_times, probe
from stylecut.video.timestamps import packet_times

import media
from cli_support import run_cli

FAST = ("--preset", "ultrafast")
RAMP = "geq=lum='mod({slope}+N*{shift},256)':cb=128:cr=128"


def make_phone_clip(path: Path) -> Path:
    """25 frames at about 10.5 fps, each interval jittered by up to 17 ms and a 0.5 s stutter before the last,
    with sound (AAC)."""
    frames = f"nullsrc=size=64x48:rate=10.5,{RAMP.format(slope='2*X+Y', shift=40)}"
    times = "N*8571+mod(N*N*37,1500)+gte(N,24)*45000"
    return media.make_vfr_clip(path, frames, 25, times, audio_seconds=2.9)


def make_two_rate_clip(path: Path) -> Path:
    """One second at 10 fps, then one at 30 fps, with sound (the two seconds' ramps slope differently)."""
    segment = "nullsrc=size=64x48:rate={rate}:duration=1," + RAMP + ",settb=1/30"
    first = segment.format(rate=10, slope="2*X+Y", shift=40)
    second = segment.format(rate=30, slope="X+3*Y+128", shift=7)
    media.run_ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"{first}[a];{second}[b];[a][b]concat=n=2:v=1:a=0",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=2",
        "-fps_mode",
        "passthrough",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        str(path),
    )
    return path


def seconds(path: Path) -> list[Fraction]:
    return frame_times(probe(path))


def reordered(path: Path) -> bool:
    """Whether some packet is decoded before it is shown (B-frames)."""
    with av.open(str(path)) as container:
        return any(p.dts != p.pts for p in container.demux(container.streams.video[0]) if p.size)


def nearest_input_frames(source: Path, target: Path) -> list[int]:
    """For each output frame (in display order), the index of the input frame it looks most like."""
    inputs = media.decode_reference(source).astype(np.float32)
    outputs = media.decode_reference(target).astype(np.float32)
    return [int(np.argmin(((inputs - frame) ** 2).mean(axis=(1, 2, 3)))) for frame in outputs]


# --- by default every frame keeps its time -------------------------------------------------


@pytest.mark.parametrize(
    ("container", "suffix", "flags", "tick"),
    [
        ("mp4", ".mp4", (), Fraction(1, 90000)),
        (
            "mkv",
            ".mkv",
            (),
            Fraction(1, 1000),
        ),  # Matroska rounds to milliseconds; its video starts after the audio
        ("mp4", ".mov", ("--codec", "prores"), Fraction(1, 90000)),
        ("mp4", ".mp4", ("--codec", "h265"), Fraction(1, 90000)),
    ],
    ids=["mp4-bframes", "mkv-milliseconds", "prores-mov", "h265"],
)
def test_variable_frame_rate_keeps_every_frame_at_its_time(
    tiny_style, stylecut_home, tmp_path, container, suffix, flags, tick
):
    source = make_phone_clip(tmp_path / f"phone.{container}")
    info = probe(source)
    assert info.is_vfr and info.frame_count == 25
    target = tmp_path / f"out{suffix}"

    result = run_cli("apply", source, "--style", tiny_style, "-o", target, "--json", *flags)

    assert result.exit_code == 0, result.stderr
    job = json.loads(result.stdout)["jobs"][0]
    assert (job["status"], job["frames"], job["notice"]) == ("done", 25, None)
    out = probe(target)
    assert (out.frame_count, out.is_vfr) == (25, True)
    # Each frame at its input frame's time (so the same start), up to the output container's rounding.
    assert all(abs(a - b) <= tick / 2 for a, b in zip(seconds(source), seconds(target), strict=True))
    # Within a millisecond: ffmpeg 5.1 reads the HEVC frame duration 0.8 ms long.
    assert out.duration == pytest.approx(info.duration, abs=1e-3)
    assert media.audio_md5(target) == media.audio_md5(source)
    assert not list(tmp_path.glob(".*"))


def test_packet_times_keep_decode_order_valid_and_end_the_clip_on_time():
    """A stutter (30 -> 100) in the middle, and the last frame decoded before the three B-frames shown before it."""
    times = [0, 10, 20, 30, 100, 110, 120, 130]
    end = 135
    shown = [0, 1, 2, 3, 7, 4, 5, 6]

    packets = packet_times(times, end, shown)

    assert [pts for pts, _, _ in packets] == [times[index] for index in shown]
    dts = [dts for _, dts, _ in packets]
    assert all(a < b for a, b in zip(dts, dts[1:])) and all(d <= p for p, d, _ in packets)
    # Muxers end the clip at the latest pts + duration; MP4 durations are gaps between decode times.
    assert max(pts + duration for pts, _, duration in packets) == end
    assert [duration for _, _, duration in packets[:-1]] == [b - a for a, b in zip(dts, dts[1:])]


def test_kept_frame_times_follow_display_order_through_b_frames(tmp_path):
    """With an identity network and B-frames in the encode, output frame k is input frame k."""
    source = make_two_rate_clip(tmp_path / "phone.mp4")
    target = tmp_path / "out.mp4"

    result = ClipStyliser(torch.nn.Identity(), ApplyOptions(temporal=None)).run(probe(source), target)

    assert result.frames == 40 and reordered(target)
    assert seconds(target) == seconds(source)
    assert nearest_input_frames(source, target) == list(range(40))


# --- --cfr converts to a constant rate ----------------------------------------------------


def test_retiming_plan_maps_each_output_frame_to_the_input_frame_on_screen():
    times = [Fraction(i, 10) for i in range(10)] + [1 + Fraction(i, 30) for i in range(30)]
    assert standard_rate(times) == 30
    assert frame_repeats(times, 2.0, Fraction(30)) == [3] * 10 + [1] * 30
    # Jittered timestamps of a nominal 30000/1001 phone clip: one to one, nothing dropped.
    jittered = [Fraction(1001 * i + (7 if i % 3 else 0), 30000) for i in range(30)]
    assert standard_rate(jittered) == Fraction(30000, 1001)
    assert frame_repeats(jittered, 30 * 1001 / 30000, Fraction(30000, 1001)) == [1] * 30


@pytest.mark.parametrize(
    ("make", "frames", "rate"),
    [(make_two_rate_clip, 60, 30), (make_phone_clip, 29, 10)],
    ids=["two-rate", "phone"],
)
def test_cfr_converts_in_sync_says_so_and_reports_the_written_frames(
    tiny_style, stylecut_home, tmp_path, make, frames, rate
):
    source = make(tmp_path / "phone.mp4")
    info = probe(source)
    target = tmp_path / "out.mp4"

    result = run_cli("apply", source, "--style", tiny_style, "-o", target, "--cfr", "--json", *FAST)

    assert result.exit_code == 0, result.stderr
    job = json.loads(result.stdout)["jobs"][0]
    assert job["frames"] == frames != info.frame_count
    assert (
        "variable frame rate" in job["notice"]
        and f"{rate} fps" in job["notice"]
        and job["notice"] in result.stderr
    )
    out = probe(target)
    assert (out.frame_count, out.fps, out.is_vfr) == (frames, rate, False)
    assert out.duration == pytest.approx(info.duration, abs=1 / rate)
    assert media.audio_md5(target) == media.audio_md5(source)


def test_cfr_output_shows_each_input_frame_at_its_time(tmp_path):
    """With an identity network, output frame k must be the input frame on screen at k/30 s."""
    source = make_two_rate_clip(tmp_path / "phone.mp4")
    target = tmp_path / "out.mp4"
    ClipStyliser(torch.nn.Identity(), ApplyOptions(temporal=None, cfr=True)).run(probe(source), target)

    assert nearest_input_frames(source, target) == [k // 3 for k in range(30)] + list(range(10, 40))


# --- where the video starts ---------------------------------------------------------------


@pytest.mark.parametrize("variable", [False, True], ids=["constant-rate", "variable-rate"])
def test_video_that_starts_after_its_audio_stays_there(
    make_clip, tiny_style, stylecut_home, tmp_path, variable
):
    """Phones often start the video a little after the sound; ffmpeg moves each input to zero when remuxing."""
    clip = make_phone_clip(tmp_path / "phone.mp4") if variable else make_clip(frames=10, audio=True)
    source = tmp_path / "late.mp4"
    media.run_ffmpeg(
        "-i",
        str(clip),
        "-itsoffset",
        "0.1",
        "-i",
        str(clip),
        "-map",
        "1:v",
        "-map",
        "0:a",
        "-c",
        "copy",
        str(source),
    )
    info = probe(source)
    assert info.start == pytest.approx(0.1, abs=1e-4) and info.is_vfr == variable
    target = tmp_path / "out.mp4"

    result = run_cli("apply", source, "--style", tiny_style, "-o", target, "-q", *FAST)

    assert result.exit_code == 0, result.stderr
    assert probe(target).start == pytest.approx(info.start, abs=1e-4)
    assert seconds(target) == pytest.approx(seconds(source), abs=1e-4)
    assert media.audio_md5(target) == media.audio_md5(source)
