"""`apply --from/--to`: exactly the frames shown in the range, audio cut to the sample, the timecode there.

At ``--strength 0`` without the temporal stage the output shows the input, so
each output frame can be matched to the input frame it came from.
"""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from test_vfr import RAMP, make_phone_clip, nearest_input_frames

from stylecut.pipeline.options import ApplyOptions
from stylecut.pipeline.retime import plan_retiming
from stylecut.pipeline.stylise import ClipStyliser
from stylecut.video.probe import frame_times, probe
from stylecut.video.time_range import Timecode, TimeRange

import media
from cli_support import assert_one_sentence, run_cli

AS_INPUT = ("--strength", "0", "--no-temporal", "--preset", "ultrafast", "--threads", "1")
RATE = 48000


def samples(path: Path) -> np.ndarray:
    """The first audio stream decoded to 16-bit mono samples."""
    raw = subprocess.run(
        [media.FFMPEG, "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.int16)


def make_ramp_clip(path: Path) -> Path:
    """50 frames at 25 fps, each far from all others, with 16-bit PCM sound and timecode 01:00:00:00."""
    video = ("-f", "lavfi", "-i", f"nullsrc=size=64x48:rate=25,{RAMP.format(slope='2*X+Y', shift=40)}")
    audio = ("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={RATE}:duration=2")
    codecs = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le")
    media.run_ffmpeg(*video, *audio, "-frames:v", "50", *codecs, "-timecode", "01:00:00:00", str(path))
    return path


def run_range(source: Path, target: Path, style: Path, *flags: str) -> dict:
    result = run_cli("apply", source, "--style", style, "-o", target, "--json", *AS_INPUT, *flags)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["jobs"][0]


def test_range_keeps_exactly_its_frames_the_audio_to_the_sample_and_the_timecode(
    tiny_style, stylecut_home, tmp_path
):
    """25 fps: 0.5 s falls between frames 12 and 13; timecode 00:00:01:10 is frame 35, left out."""
    source = make_ramp_clip(tmp_path / "ramp.mov")
    target = tmp_path / "out.mov"

    job = run_range(source, target, tiny_style, "--from", "0.5", "--to", "00:00:01:10")

    assert job["range"] == {
        "from": 0.52,
        "to": 1.4,
        "first_frame": 13,
        "frames": 22,
        "timecode": "01:00:00:13",
    }
    assert job["frames"] == 22
    out = probe(target)
    assert (out.frame_count, out.fps, out.timecode, out.start) == (22, 25, "01:00:00:13", 0)
    assert frame_times(out) == [Fraction(i, 25) for i in range(22)]
    assert nearest_input_frames(source, target) == list(range(13, 35))
    # PCM in and out: the audio is the source's own samples, from the first frame's time to the last one's end.
    cut = samples(target)
    assert len(cut) == 22 * RATE // 25
    assert np.array_equal(cut, samples(source)[13 * RATE // 25 : 35 * RATE // 25])


def test_pcm_sound_becomes_aac_in_an_mp4_range(tiny_style, stylecut_home, tmp_path):
    """Whole, a PCM clip cannot go to an MP4 (its sound is copied untouched); a range's sound is encoded again."""
    source = make_ramp_clip(tmp_path / "ramp.mov")
    target = tmp_path / "out.mp4"

    run_range(source, target, tiny_style, "--from", "1")

    assert [s.codec for s in probe(target).other_streams if s.kind == "audio"] == ["aac"]
    assert abs(len(samples(target)) - RATE) <= 1


def test_variable_rate_range_keeps_each_frame_at_its_time(tiny_style, stylecut_home, tmp_path):
    source = make_phone_clip(tmp_path / "phone.mp4")
    times = frame_times(probe(source))
    first, stop = (next(i for i, t in enumerate(times) if t >= s) for s in (1, 2))
    target = tmp_path / "out.mp4"

    job = run_range(source, target, tiny_style, "--from", "1", "--to", "2")

    assert (job["range"]["first_frame"], job["frames"]) == (first, stop - first)
    out = probe(target)
    assert out.is_vfr and out.start == 0
    tick = Fraction(1, 90000)
    assert all(
        abs(a - (b - times[first])) <= tick / 2
        for a, b in zip(frame_times(out), times[first:stop], strict=True)
    )
    assert nearest_input_frames(source, target) == list(range(first, stop))
    span = times[stop] - times[first]
    assert out.duration == pytest.approx(float(span), abs=1e-3)
    # Re-encoded as AAC, the encoder's delay and padding hidden by the edit list: cut to the sample.
    assert abs(len(samples(target)) - float(span) * RATE) <= 1


def test_cfr_converts_just_the_range_and_counts_its_frames(tiny_style, stylecut_home, tmp_path):
    source = make_phone_clip(tmp_path / "phone.mp4")
    target = tmp_path / "out.mp4"

    job = run_range(source, target, tiny_style, "--from", "1", "--to", "2", "--cfr")

    first, read = job["range"]["first_frame"], job["range"]["frames"]
    written = sum(plan_retiming(probe(source)).repeats[first : first + read])
    assert job["frames"] == written and f"({written} frames from {read})" in job["notice"]
    out = probe(target)
    assert (out.frame_count, out.fps) == (written, 10)
    assert out.duration == pytest.approx(job["range"]["to"] - job["range"]["from"], abs=1 / 10)


def test_batch_skips_clips_short_of_the_range_and_resumes_per_range(
    make_clip, tiny_style, stylecut_home, tmp_path
):
    folder = tmp_path / "rushes"
    folder.mkdir()
    long = make_clip(name="long", frames=50, audio=True)
    short = make_clip(name="short", frames=10, audio=True)
    for clip in (long, short):
        clip.rename(folder / clip.name)

    def run(*flags: str) -> dict:
        result = run_cli("apply", folder, "--style", tiny_style, "--json", *AS_INPUT, *flags)
        assert result.exit_code == 0, result.stderr
        return {Path(job["input"]).stem: job for job in json.loads(result.stdout)["jobs"]}

    jobs = run("--from", "1")
    assert jobs["long"]["status"] == "done" and jobs["long"]["frames"] == 25
    assert Path(jobs["long"]["output"]).name == "long.tiny.from1s.mp4"
    assert jobs["short"]["status"] == "skipped"
    assert jobs["short"]["message"] == "short.mp4 is 0.400 s long, so --from 1 is past its end."
    assert probe(folder / "long.tiny.from1s.mp4").timecode == "00:00:01:00"

    assert run("--from", "1")["long"]["status"] == "skipped"  # resumed: done already
    again = run("--from", "1", "--to", "1.5")["long"]
    assert again["status"] == "done" and again["frames"] == 13
    assert Path(again["output"]).name == "long.tiny.1s-1.5s.mp4"
    assert sorted(p.name for p in folder.iterdir()) == [
        "long.mp4",
        "long.tiny.1s-1.5s.mp4",
        "long.tiny.from1s.mp4",
        "short.mp4",
    ]


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--from", "2", "--to", "1"), ("--from 2 --to 1", "empty")),
        (("--from", "-1"), ("--from -1", "negative")),
        (("--to", "1:2"), ("--to 1:2", "not a time")),
        (("--from", "00:00:01:30"), ("--from 00:00:01:30", "clip.mp4 has 25 frames a second")),
        (("--from", "5"), ("clip.mp4", "past its end")),
        (("--from", "0.01", "--to", "0.02"), ("No frame of clip.mp4",)),
        (("--from", "1", "--ray"), ("--ray",)),
    ],
    ids=["from-after-to", "negative", "unparsable", "frame-past-rate", "past-end", "no-frame", "ray"],
)
def test_bad_ranges_end_with_one_sentence_and_exit_2(
    make_clip, tiny_style, stylecut_home, tmp_path, flags, words
):
    source = make_clip(frames=10, audio=True)

    result = run_cli("apply", source, "--style", tiny_style, *AS_INPUT, *flags)

    assert result.exit_code == 2
    assert_one_sentence(result.stderr, *words)
    assert not list(source.parent.glob("*tiny*")) and not list(source.parent.glob(".*"))


def test_a_range_past_the_only_clip_is_a_json_error(make_clip, tiny_style, stylecut_home):
    source = make_clip(frames=10, audio=True)

    result = run_cli("apply", source, "--style", tiny_style, "--json", *AS_INPUT, "--from", "00:00:00.4")

    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "error": "clip.mp4 is 0.400 s long, so --from 00:00:00.4 is past its end.",
        "exit_code": 2,
    }


def test_drop_frame_timecode_follows_the_clock():
    ntsc = Fraction(30000, 1001)
    # One minute of 29.97 fps is 1798.2 frames: its labels skip ;00 and ;01, except every tenth minute.
    assert Timecode.parse("00:01:00;02").frame_number(ntsc) == 1800
    assert Timecode.parse("00:10:00;00").frame_number(ntsc) == 17982
    assert Timecode.parse("01:00:00;00").frame_number(ntsc) == 107892
    for number in (0, 1799, 1800, 17981, 17982, 17983, 107892):
        assert Timecode.at_frame(number, ntsc, drop_frame=True).frame_number(ntsc) == number
    assert str(Timecode.at_frame(1800, ntsc, drop_frame=True)) == "00:01:00;02"
    # At 25 fps nothing is dropped: ";" reads as ":".
    assert Timecode.parse("00:01:00;02").frame_number(Fraction(25)) == 1502


def test_range_tags_name_each_range_apart():
    assert TimeRange.parse("12.50", None).tag() == ".from12.5s"
    assert TimeRange.parse(None, "00:01:02.5").tag() == ".to00h01m02.5s"
    assert TimeRange.parse("00:00:01:00", "00:00:02;00").tag() == ".00h00m01s00f-00h00m02s00df"
    assert TimeRange.parse(None, None) is None


def test_drop_frame_source_timecode_counts_on_and_subtitles_are_left_out_with_a_notice(
    make_clip, tiny_style, stylecut_home, tmp_path
):
    """29.97 fps from 00:00:59;28: 1 s in is frame 30, two labels after ;29 the minute skips ;00 and ;01."""
    clip = make_clip(fps="30000/1001", frames=40, audio=True, container="mov", timecode="00:00:59;28")
    srt = tmp_path / "subs.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,200\nhello\n")
    source = tmp_path / "source.mov"
    # The timecode again: a stream copy of the tmcd track loses its drop-frame flag.
    streams = ("-map", "0:v", "-map", "0:a", "-map", "1", "-c", "copy", "-c:s", "mov_text")
    media.run_ffmpeg("-i", clip, "-i", srt, *streams, "-timecode", "00:00:59;28", source)
    target = tmp_path / "out.mov"

    job = run_range(source, target, tiny_style, "--from", "1")

    assert (job["range"]["first_frame"], job["range"]["timecode"]) == (30, "00:01:01;00")
    out = probe(target)
    assert (out.frame_count, out.fps, out.timecode) == (10, Fraction(30000, 1001), "00:01:01;00")
    assert out.has_audio and not any(s.kind == "subtitle" for s in out.other_streams)
    assert (
        job["notice"]
        == "The subtitles of source.mov are left out of the range: ffmpeg cannot cut them to it."
    )


def test_the_temporal_stage_warms_up_on_the_frames_before_the_range(tmp_path):
    """Frames 13-19 of a clip with 8 of warm-up: the stage is reset once and sees frames 5-19, 7 are written."""
    fused = []

    class Counting:
        def reset(self) -> None:
            fused.append("reset")

        def fuse_chunk(self, frames, stylised, to_prev, from_prev, previous):
            fused.append(len(frames))
            return stylised

    class StillFlow:
        name = "still"

        def __call__(self, a, b):
            return torch.zeros(len(a), 2, *a.shape[-2:])

    info = probe(make_ramp_clip(tmp_path / "ramp.mov"))
    clip_range = TimeRange.parse("0.5", "0.8").resolve(info, warmup=8)
    assert (clip_range.first, clip_range.stop, clip_range.warmup) == (13, 20, 8)
    styliser = ClipStyliser(torch.nn.Identity(), ApplyOptions(chunk=4), flow=StillFlow(), temporal=Counting())

    result = styliser.run(info, tmp_path / "out.mov", clip_range=clip_range)

    assert fused == ["reset", 4, 4, 4, 3] and result.frames == 7
    assert nearest_input_frames(info.path, tmp_path / "out.mov") == list(range(13, 20))
