"""`stylecut apply` and `stylecut styles` end to end on tiny synthetic clips with a tiny random style.

Every run goes through the real command line; the outputs are checked
against the editor's contract: same frame count, exact frame rate, duration
within a frame, display size, upright with no rotation tag, audio packets
bit-identical, input untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from stylecut.commands import apply as apply_command
from stylecut.errors import StyleError
from stylecut.pipeline.options import ApplyOptions
from stylecut.pipeline.stylise import CHUNK_PIXELS, ClipStyliser, frames_per_chunk
from stylecut.video.probe import list_streams, probe

import media
from cli_support import assert_same_timing, cli_command, make_style, run_cli, sha256

FAST = ("--preset", "ultrafast")


@pytest.mark.parametrize(
    ("params", "flags"),
    [
        (dict(size="63x47", audio=True), ()),
        (dict(rotation=90, audio=True, container="mov", colour=("tv", "bt709")), ()),
        (dict(fps="30000/1001", audio=True, container="mkv"), ()),
        (dict(fps="25", size="48x32"), ("--no-temporal",)),
    ],
    ids=["odd-size", "rotated-mov", "ntsc-mkv", "no-audio-no-temporal"],
)
def test_apply_keeps_the_editors_contract(make_clip, tiny_style, stylecut_home, tmp_path, params, flags):
    source = make_clip(frames=10, **params)
    before = sha256(source)
    target = tmp_path / f"out{source.suffix}"

    result = run_cli("apply", source, "--style", tiny_style, "-o", target, "--json", *FAST, *flags)

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["style"] == "tiny"
    assert [(job["status"], job["output"], job["frames"]) for job in report["jobs"]] == [
        ("done", str(target), 10)
    ]
    info = probe(source)
    out = assert_same_timing(info, target)
    assert (out.color_range, out.color_space) == (info.color_range, info.color_space)
    if info.has_audio:
        assert media.audio_md5(target) == media.audio_md5(source)
    assert sha256(source) == before
    assert not list(tmp_path.glob(".*"))  # no temp file left beside the output


def test_default_output_beside_the_input_and_rerun_resumes(make_clip, tiny_style, stylecut_home, tmp_path):
    folder = tmp_path / "shoot"
    folder.mkdir()
    for name in ("a", "b"):
        shutil.copy(make_clip(frames=4, audio=True), folder / f"{name}.mp4")

    first = run_cli("apply", folder, "--style", tiny_style, *FAST)
    assert first.exit_code == 0, first.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["a.mp4", "a.tiny.mp4", "b.mp4", "b.tiny.mp4"]
    stamps = {p: p.stat().st_mtime_ns for p in folder.iterdir()}

    # The second run must neither redo the clips nor stylise the first run's outputs.
    again = run_cli("apply", folder, "--style", tiny_style, "--json", *FAST)
    assert again.exit_code == 0, again.stderr
    assert [job["status"] for job in json.loads(again.stdout)["jobs"]] == ["skipped", "skipped"]
    assert "use --overwrite" in again.stderr
    assert {p: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps


def test_folder_to_output_folder_recursive_and_overwrite(make_clip, tiny_style, stylecut_home, tmp_path):
    shoot = tmp_path / "shoot"
    (shoot / "day2").mkdir(parents=True)
    shutil.copy(make_clip(frames=4), shoot / "wide.mp4")
    shutil.copy(make_clip(frames=4, container="mkv"), shoot / "day2" / "close.mkv")
    out = tmp_path / "renders"

    flat = run_cli("apply", shoot, "--style", tiny_style, "-o", out, "--json", *FAST)
    assert flat.exit_code == 0, flat.stderr
    assert [job["output"] for job in json.loads(flat.stdout)["jobs"]] == [str(out / "wide.tiny.mp4")]

    deep = run_cli("apply", shoot, "--style", tiny_style, "-o", out, "--recursive", "--json", *FAST)
    assert deep.exit_code == 0, deep.stderr
    jobs = {
        Path(job["output"]).relative_to(out).as_posix(): job["status"]
        for job in json.loads(deep.stdout)["jobs"]
    }
    assert jobs == {"day2/close.tiny.mkv": "done", "wide.tiny.mp4": "skipped"}

    stamp = (out / "wide.tiny.mp4").stat().st_mtime_ns
    forced = run_cli("apply", shoot / "wide.mp4", "--style", tiny_style, "-o", out, "--overwrite", *FAST)
    assert forced.exit_code == 0, forced.stderr
    assert (out / "wide.tiny.mp4").stat().st_mtime_ns != stamp
    assert probe(out / "wide.tiny.mp4").frame_count == 4


@pytest.mark.parametrize(
    ("codec", "suffix", "expected"), [("h265", ".mp4", "hevc"), ("prores", ".mov", "prores")]
)
def test_codec_option_picks_codec_and_container(
    make_clip, tiny_style, stylecut_home, tmp_path, codec, suffix, expected
):
    source = tmp_path / "clip.mp4"
    shutil.copy(make_clip(frames=4, audio=True), source)

    result = run_cli("apply", source, "--style", tiny_style, "--codec", codec, "--quiet", *FAST)

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    target = tmp_path / f"clip.tiny{suffix}"
    assert {(s.kind, s.codec) for s in list_streams(target)} == {("video", expected), ("audio", "aac")}
    assert_same_timing(probe(source), target)


def test_styles_json_lists_user_styles(tiny_style, stylecut_home):
    make_style(stylecut_home / "styles" / "ink.safetensors", "ink")

    result = run_cli("styles", "--json")

    assert result.exit_code == 0, result.stderr
    entries = json.loads(result.stdout)
    assert all({"name", "path", "style_image"} <= entry.keys() for entry in entries)
    ink = next(entry for entry in entries if entry["name"] == "ink")
    assert (ink["path"], ink["style_image"], ink["origin"]) == (
        str(stylecut_home / "styles" / "ink.safetensors"),
        "ink.png",
        "user",
    )


def test_installed_style_by_name(make_clip, tiny_style, stylecut_home, tmp_path):
    make_style(stylecut_home / "styles" / "ink.safetensors", "ink")
    source = tmp_path / "clip.mp4"
    shutil.copy(make_clip(frames=3), source)

    result = run_cli("apply", source, "--style", "ink", "-q", *FAST)

    assert result.exit_code == 0, result.stderr
    assert probe(tmp_path / "clip.ink.mp4").frame_count == 3


class _StillFlow:
    """A flow estimator that sees no motion."""

    name = "still"

    def __call__(self, a, b):
        return torch.zeros(len(a), 2, *a.shape[-2:])


def test_the_temporal_stage_is_injected(make_clip, tmp_path):
    """ClipStyliser runs the parts it is handed: here an identity network and a stage that blacks out
    every frame but the first, called chunk by chunk with one flow pair per frame with a predecessor."""
    calls = []

    class Blackout:
        def reset(self) -> None:
            calls.append("reset")

        def fuse_chunk(self, frames, stylised, to_prev, from_prev, previous):
            calls.append((len(frames), len(to_prev), len(previous)))
            out = stylised.clone()
            out[len(frames) - len(previous) :] = 0
            return out

    source = make_clip(frames=10)
    styliser = ClipStyliser(
        torch.nn.Identity(), ApplyOptions(chunk=4), flow=_StillFlow(), temporal=Blackout()
    )
    result = styliser.run(probe(source), tmp_path / "out.mp4")

    assert result.flow == "still"
    assert calls == ["reset", (4, 3, 3), (4, 4, 4), (2, 2, 2)]
    frames = media.decode_reference(tmp_path / "out.mp4")
    assert frames[0].mean() > 50 and frames[1:].max() <= 20  # black, give or take the codec


class _Passing:
    """A temporal stage that passes the stylisation through."""

    def reset(self) -> None:
        pass

    def fuse_chunk(self, frames, stylised, to_prev, from_prev, previous):
        return stylised


def test_the_generator_runs_on_a_chunk_while_its_flows_are_computed(make_clip, tmp_path):
    """The read-ahead thread hands a chunk over before its flows: here the flow waits for the generator to
    have run on the first chunk (it would wait in vain if the flows came first)."""
    generated = threading.Event()
    waited = []

    def generator(frames):
        generated.set()
        return frames

    class WaitingFlow:
        name = "waiting"

        def __call__(self, a, b):
            waited.append(generated.wait(timeout=30))
            return torch.zeros(len(a), 2, *a.shape[-2:])

    source = make_clip(frames=6)
    styliser = ClipStyliser(generator, ApplyOptions(chunk=4), flow=WaitingFlow(), temporal=_Passing())
    styliser.run(probe(source), tmp_path / "out.mp4")

    assert waited and all(waited)


def test_an_error_in_the_flow_is_raised_in_apply(make_clip, tmp_path):
    class BrokenFlow:
        name = "broken"

        def __call__(self, a, b):
            raise RuntimeError("flow broke")

    source = make_clip(frames=6)
    styliser = ClipStyliser(
        torch.nn.Identity(), ApplyOptions(chunk=4), flow=BrokenFlow(), temporal=_Passing()
    )
    with pytest.raises(RuntimeError, match="flow broke"):
        styliser.run(probe(source), tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []  # no half-written output


def test_the_generator_runs_on_the_next_chunk_while_the_temporal_stage_fuses_one(make_clip, tmp_path):
    """The generator has a thread of its own: here the temporal stage waits, on the first chunk, for the
    generator to have run on the second (it would wait in vain if they took turns in one thread)."""
    chunks = []
    second = threading.Event()
    waited = []

    def generator(frames):
        chunks.append(len(frames))
        if len(chunks) == 2:
            second.set()
        return frames

    class WaitingStage(_Passing):
        def fuse_chunk(self, frames, stylised, to_prev, from_prev, previous):
            if not waited:
                waited.append(second.wait(timeout=30))
            return stylised

    source = make_clip(frames=6)
    styliser = ClipStyliser(generator, ApplyOptions(chunk=4), flow=_StillFlow(), temporal=WaitingStage())
    result = styliser.run(probe(source), tmp_path / "out.mp4")

    assert waited == [True] and chunks == [4, 2]
    assert result.frames == 6


def test_an_error_in_the_generator_is_raised_in_apply(make_clip, tmp_path):
    def broken(frames):
        raise RuntimeError("generator broke")

    source = make_clip(frames=6)
    styliser = ClipStyliser(broken, ApplyOptions(chunk=4))
    with pytest.raises(RuntimeError, match="generator broke"):
        styliser.run(probe(source), tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []  # no half-written output


# --- frames the network and the flow cannot take as they are -------------------------------


@pytest.mark.parametrize(
    ("size", "flags"), [("2x2", ()), ("64x1000", ("--max-side", "128"))], ids=["2x2", "64x1000-max-side-128"]
)
def test_tiny_and_extreme_aspect_frames_are_stylised(
    make_clip, tiny_style, stylecut_home, tmp_path, size, flags
):
    source = make_clip(size=size, frames=4)
    target = tmp_path / "out.mp4"

    result = run_cli("apply", source, "--style", tiny_style, "-o", target, *FAST, *flags)

    assert result.exit_code == 0, result.stderr
    assert_same_timing(probe(source), target)
    inputs, outputs = media.decode_reference(source), media.decode_reference(target)
    assert np.abs(inputs.astype(np.int16) - outputs).mean() > 5  # stylised, not passed through


# --- file names and runs that share an output ---------------------------------------------


def test_a_240_character_input_name_is_stylised_beside_it(make_clip, tiny_style, stylecut_home, tmp_path):
    source = shutil.copy(make_clip(frames=3), tmp_path / f"{'n' * 236}.mp4")

    result = run_cli("apply", source, "--style", tiny_style, *FAST)

    assert result.exit_code == 0, result.stderr
    assert probe(tmp_path / f"{'n' * 236}.tiny.mp4").frame_count == 3
    assert not list(tmp_path.glob(".*"))


def test_two_runs_writing_the_same_output_at_once_both_succeed(make_clip, tiny_style, tmp_path):
    source = make_clip(size="128x96", frames=100, audio=True)
    target = tmp_path / "out.mp4"
    env = {**os.environ, "STYLECUT_HOME": str(tmp_path / "home")}
    command = cli_command("apply", source, "--style", tiny_style, "-o", target, "--overwrite", "-q", *FAST)
    pipes = dict(stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    runs = [subprocess.Popen(command, **pipes) for _ in range(2)]

    outcomes = [(run.wait(timeout=300), run.communicate()[1]) for run in runs]

    assert [code for code, _ in outcomes] == [0, 0], outcomes
    assert_same_timing(probe(source), target)
    assert media.audio_md5(target) == media.audio_md5(source)
    assert not list(tmp_path.glob(".*"))  # neither run left a temp file


# --- threads and the per-stage report ------------------------------------------------------


def test_threads_option_limits_torch_and_opencv_while_it_runs(
    make_clip, tiny_style, stylecut_home, tmp_path, monkeypatch
):
    seen = []
    run = ClipStyliser.run

    def recording_run(self, *args, **kwargs):
        seen.append((torch.get_num_threads(), cv2.getNumThreads()))
        return run(self, *args, **kwargs)

    monkeypatch.setattr(ClipStyliser, "run", recording_run)
    before = (torch.get_num_threads(), cv2.getNumThreads())

    clip = make_clip(frames=3)
    result = run_cli("apply", clip, "--style", tiny_style, "-o", tmp_path / "out.mp4", "--threads", 1, *FAST)

    assert result.exit_code == 0, result.stderr
    assert seen == [(1, 1)]
    assert (torch.get_num_threads(), cv2.getNumThreads()) == before  # the caller's setting is restored


def test_json_reports_seconds_per_stage(make_clip, tiny_style, stylecut_home, tmp_path):
    clip = make_clip(frames=10)
    result = run_cli("apply", clip, "--style", tiny_style, "-o", tmp_path / "out.mp4", "--json", *FAST)

    assert result.exit_code == 0, result.stderr
    job = json.loads(result.stdout)["jobs"][0]
    stages = job["stages"]
    assert set(stages) == {"probe", "decode", "flow", "generator", "temporal", "restore", "encode", "remux"}
    assert all(seconds >= 0 for seconds in stages.values())
    assert stages["generator"] > 0 and stages["flow"] > 0 and stages["temporal"] > 0
    # Flow runs in the read-ahead thread and the generator in its own, overlapping the main thread's stages.
    threads = ("probe", "flow", "generator")
    main_thread = [seconds for stage, seconds in stages.items() if stage not in threads]
    assert sum(main_thread) <= job["seconds"] + 0.01
    assert stages["flow"] <= job["seconds"] and stages["generator"] <= job["seconds"]


def test_larger_frames_come_fewer_to_a_chunk():
    # Memory follows a chunk's pixels: small frames keep the default chunk, larger ones come fewer at a time.
    assert frames_per_chunk(8, 1280 * 720) == 4
    assert frames_per_chunk(8, 640 * 360) == 8
    assert frames_per_chunk(8, 1920 * 1080) == 1
    assert frames_per_chunk(8, 3840 * 2160) == 1
    assert frames_per_chunk(2, 640 * 360) == 2
    assert all(
        frames_per_chunk(8, side * side) * side * side <= max(CHUNK_PIXELS, side * side)
        for side in (1, 99, 2000, 5000)
    )


def test_the_clips_are_probed_while_the_networks_load(make_clip, tmp_path, monkeypatch):
    clip = make_clip(size="48x32", frames=2)
    probing = threading.Event()
    probe_clip = apply_command.probe
    monkeypatch.setattr(apply_command, "probe", lambda path: probing.set() or probe_clip(path))

    def make_styliser(entry):
        if not probing.wait(timeout=60):
            raise AssertionError("the clip was not probed while the networks loaded")
        raise StyleError("The networks are not needed here.")

    monkeypatch.setattr(apply_command, "_styliser_maker", make_styliser)
    request = apply_command.ApplyRequest([clip], "starry-night", output=tmp_path / "out.mp4")
    with pytest.raises(StyleError, match="not needed here"):
        apply_command.run_apply(request)
    assert not (tmp_path / "out.mp4").exists()
