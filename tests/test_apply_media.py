"""`stylecut apply` on media and options that broke it: non-square pixels, names starting with a dash,
a bad preset, audio the output container cannot hold, stylecut's own outputs; and which ffmpeg it runs.

Every run goes through the real command line (in-process), as a user would type it.
"""

from __future__ import annotations

import json
import shutil
from fractions import Fraction

import numpy as np
import pytest
import torch

from stylecut import __version__
from stylecut.pipeline.options import ApplyOptions
from stylecut.pipeline.stylise import ClipStyliser
from stylecut.video.ffmpeg_tools import ffmpeg_choice
from stylecut.video.probe import StylecutMark, probe

import media
from cli_support import assert_one_sentence, run_cli, sha256

FAST = ("--preset", "ultrafast")


def test_apply_says_which_ffmpeg_it_runs(make_clip, tiny_style, stylecut_home, tmp_path):
    target = tmp_path / "out.mp4"
    result = run_cli("apply", make_clip(frames=3), "--style", tiny_style, "-o", target, "--json", *FAST)

    assert result.exit_code == 0, result.stderr
    choice = ffmpeg_choice()
    assert json.loads(result.stdout)["ffmpeg"] == choice.to_json()
    assert [line for line in result.stderr.splitlines() if line.startswith("ffmpeg ")] == [choice.describe()]
    if shutil.which("ffmpeg") is None:
        assert choice.bundled and choice.reason == "no ffmpeg on PATH"


def test_non_square_pixels_keep_coded_size_and_aspect(make_clip, tiny_style, stylecut_home, tmp_path):
    """PAL widescreen: 704x576 pixels 16:11 wide, shown 16:9. Before, the output lost its SAR (shown 4:3)."""
    source = make_clip(size="704x576", sar="16/11", frames=3, audio=True)
    target = tmp_path / "out.mp4"

    result = run_cli("apply", source, "--style", tiny_style, "-o", target, "--max-side", 256, *FAST)

    assert result.exit_code == 0, result.stderr
    out = probe(target)
    assert (out.width, out.height, out.sar) == (704, 576, Fraction(16, 11))
    assert out.frame_count == 3 and out.has_audio


class _Recorder(torch.nn.Module):
    """An identity network that remembers the size of the frames it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: set[tuple[int, int]] = set()

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        self.sizes.add(tuple(frames.shape[-2:]))
        return frames


@pytest.mark.parametrize(
    ("rotation", "network_size", "out_size", "out_sar"),
    [(0, (576, 1024), (704, 576), Fraction(16, 11)), (90, (1024, 576), (576, 704), Fraction(11, 16))],
)
def test_network_sees_square_pixels(make_clip, tmp_path, rotation, network_size, out_size, out_sar):
    info = probe(make_clip(size="704x576", sar="16/11", frames=2, rotation=rotation))
    recorder = _Recorder()

    ClipStyliser(recorder, ApplyOptions(temporal=None)).run(info, tmp_path / "out.mp4")

    assert recorder.sizes == {network_size}  # (height, width) at the display aspect 16:9
    out = probe(tmp_path / "out.mp4")
    assert ((out.width, out.height), out.sar, out.rotation) == (out_size, out_sar, 0)
    # Stretched to square pixels and back, the picture is the input's (up to resampling).
    before = media.decode_reference(info.path).astype(np.float32)
    after = media.decode_reference(out.path).astype(np.float32)
    assert np.abs(before - after).mean() < 4


def test_names_starting_with_a_dash(make_clip, tiny_style, stylecut_home, tmp_path, monkeypatch):
    folder = tmp_path / "-shoot"
    folder.mkdir()
    shutil.copy(make_clip(frames=3, audio=True), folder / "-dash.mp4")
    monkeypatch.chdir(folder)

    whole = run_cli("apply", ".", "--style", tiny_style, *FAST)

    assert whole.exit_code == 0, whole.stderr
    assert probe(folder / "-dash.tiny.mp4").frame_count == 3

    monkeypatch.chdir(tmp_path)
    one = run_cli("apply", "./-shoot/-dash.mp4", "--style", tiny_style, "-o", "./-out/-x.mkv", *FAST)

    assert one.exit_code == 0, one.stderr
    assert probe(tmp_path / "-out" / "-x.mkv").has_audio


def test_bad_preset_is_a_usage_error_before_any_work(make_clip, tiny_style, stylecut_home, tmp_path):
    result = run_cli(
        "apply",
        make_clip(frames=3),
        "--style",
        tiny_style,
        "-o",
        tmp_path / "out.mp4",
        "--preset",
        "nonsense",
        "--json",
    )

    assert result.exit_code == 2, result.stderr
    assert "nonsense" in result.stderr and "ultrafast" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_audio_the_container_cannot_hold_fails_before_the_first_frame(
    make_clip, tiny_style, stylecut_home, tmp_path, monkeypatch
):
    source = make_clip(frames=3, audio=True, container="mkv")  # Opus: no .mov holds it by stream copy
    calls = []
    monkeypatch.setattr(ClipStyliser, "run", lambda self, *args, **kwargs: calls.append(args))

    result = run_cli("apply", source, "--style", tiny_style, "-o", tmp_path / "out.mov", "--json", *FAST)

    assert result.exit_code == 1, result.stderr
    assert calls == []  # known before any frame is stylised
    line = assert_one_sentence(result.stderr, "out.mov", "opus")
    assert ".mkv" in line
    assert json.loads(result.stdout)["jobs"][0]["status"] == "failed"
    # Nothing but STYLECUT_HOME, which holds the runtime cache.
    assert [path for path in tmp_path.iterdir() if path != stylecut_home] == []


def test_stylecut_outputs_are_recognised_and_not_stylised_again(
    make_clip, tiny_style, stylecut_home, tmp_path
):
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    shutil.copy(make_clip(frames=3, audio=True), shoot / "a.mp4")
    shutil.copy(make_clip(frames=3, container="mkv"), shoot / "b.mkv")
    first = run_cli("apply", shoot, "--style", tiny_style, *FAST)
    assert first.exit_code == 0, first.stderr
    for name in ("a.tiny.mp4", "b.tiny.mkv"):
        assert probe(shoot / name).made_by == StylecutMark(__version__, "tiny")
    assert probe(shoot / "a.mp4").made_by is None
    stamps = {p.name: sha256(p) for p in shoot.iterdir()}

    again = run_cli("apply", shoot, "--style", tiny_style, "-o", tmp_path / "renders", "--json", *FAST)

    assert again.exit_code == 0, again.stderr
    jobs = {job["input"]: job for job in json.loads(again.stdout)["jobs"]}
    assert {name: jobs[str(shoot / name)]["status"] for name in stamps} == {
        "a.mp4": "done",
        "b.mkv": "done",
        "a.tiny.mp4": "skipped",
        "b.tiny.mkv": "skipped",
    }
    assert "stylecut output" in jobs[str(shoot / "a.tiny.mp4")]["message"]
    assert sorted(p.name for p in (tmp_path / "renders").iterdir()) == ["a.tiny.mp4", "b.tiny.mkv"]
    assert {p.name: sha256(p) for p in shoot.iterdir()} == stamps


def test_cover_art_and_a_second_video_stream_left_out_are_noticed(
    make_clip, tiny_style, stylecut_home, tmp_path
):
    cover, source = tmp_path / "cover.png", tmp_path / "two-angles.mp4"
    media.run_ffmpeg("-f", "lavfi", "-i", "color=red:size=32x32", "-frames:v", "1", str(cover))
    media.run_ffmpeg(
        "-i", str(make_clip(frames=3, audio=True)), "-i", str(cover), "-map", "0", "-map", "0:v", "-map", "1",
        "-c", "copy", "-c:v:2", "png", "-disposition:v:2", "attached_pic", str(source),
    )  # fmt: skip
    target = tmp_path / "out.mp4"

    result = run_cli("apply", source, "--style", tiny_style, "-o", target, "--json", *FAST)

    assert result.exit_code == 0, result.stderr
    notice = "The output of two-angles.mp4 leaves out its cover art and its second video stream"
    assert json.loads(result.stdout)["jobs"][0]["notice"].startswith(notice)
    assert [line for line in result.stderr.splitlines() if notice in line] == [
        f"note: {notice}: it holds only the stylised video."
    ]
    assert probe(target).has_audio
