"""Bad inputs, bad options and Ctrl-C: one sentence naming the file and the problem, the right exit code.

Exit codes: 1 when an input failed (the others are still processed), 2 when
the command cannot start (usage), 130 on Ctrl-C and 143 on SIGTERM. No traceback, no partial
file under the final name, no temp file left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from stylecut.device import available_cores
from stylecut.styles import registry
from stylecut.video.probe import probe

import media
from cli_support import assert_one_sentence, make_style, run_cli, run_stylecut, sha256, signal_when

FAST = ("--preset", "ultrafast")


def truncated(source: Path, path: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def bad_inputs(make_clip, folder: Path) -> dict[str, Path]:
    """Inputs that must each fail with one sentence, keyed by what is wrong with them."""
    folder.mkdir(exist_ok=True)
    (folder / "notes.mp4").write_text("not a video\n")
    audio_only = folder / "voice.m4v"
    media.run_ffmpeg("-f", "lavfi", "-i", "sine=duration=0.5", "-c:a", "aac", str(audio_only))
    (folder / "empty").mkdir()
    return {
        "does not exist": folder / "missing.mp4",
        "holds no video": folder / "empty",
        "ffmpeg cannot open it": folder / "notes.mp4",
        "corrupt or truncated": truncated(make_clip(frames=30, container="mkv"), folder / "cut.mkv"),
        "no video stream": audio_only,
    }


@pytest.mark.parametrize(
    "problem",
    ["does not exist", "holds no video", "ffmpeg cannot open it", "corrupt or truncated", "no video stream"],
)
def test_bad_input_is_one_sentence_and_exit_1(make_clip, tiny_style, stylecut_home, tmp_path, problem):
    path = bad_inputs(make_clip, tmp_path / "in")[problem]

    result = run_cli("apply", path, "--style", tiny_style, "-o", tmp_path / "out")

    assert result.exit_code == 1, result.stderr
    line = assert_one_sentence(result.stderr, path.name, problem)
    assert "inputs failed" not in result.stderr, "no summary for a single input"
    assert isinstance(result.exception, SystemExit), line


def test_batch_with_bad_files_processes_the_others_and_exits_1(make_clip, tiny_style, tmp_path):
    bad = bad_inputs(make_clip, tmp_path / "in")
    good = [
        shutil.copy(make_clip(frames=3, audio=True), tmp_path / "in" / name) for name in ("a.mp4", "b.mp4")
    ]
    out = tmp_path / "out"

    proc = run_stylecut(
        "apply",
        good[0],
        *bad.values(),
        good[1],
        "--style",
        tiny_style,
        "-o",
        out,
        "--json",
        *FAST,
        home=tmp_path / "home",
    )

    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    statuses = {Path(job["input"]).name: job["status"] for job in json.loads(proc.stdout)["jobs"]}
    assert statuses == {"a.mp4": "done", "b.mp4": "done", **{path.name: "failed" for path in bad.values()}}
    assert [probe(out / f"{name}.tiny.mp4").frame_count for name in "ab"] == [3, 3]
    failed_lines = [line for line in proc.stderr.splitlines() if line.startswith("failed:")]
    summary = proc.stderr[proc.stderr.index("5 of 7 inputs failed:") :]
    for problem, path in bad.items():
        assert sum(path.name in line and problem in line for line in failed_lines) == 1, proc.stderr
        assert path.name in summary


def test_unknown_style_lists_installed_ones(make_clip, stylecut_home):
    make_style(stylecut_home / "styles" / "ink.safetensors", "ink")

    result = run_cli("apply", make_clip(), "--style", "van-gogh")

    assert result.exit_code == 2
    line = assert_one_sentence(result.stderr, "van-gogh", "ink")
    assert "installed styles are" in line


def test_unknown_style_when_none_is_installed(make_clip, stylecut_home, monkeypatch):
    monkeypatch.setattr(registry, "bundled_styles", lambda: [])

    result = run_cli("apply", make_clip(), "--style", "van-gogh")

    assert result.exit_code == 2
    assert "no style is installed" in assert_one_sentence(result.stderr, "van-gogh")


def test_style_path_that_is_not_a_style(make_clip, stylecut_home):
    clip = make_clip()
    result = run_cli("apply", clip, "--style", clip)
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, clip.name, "not a stylecut style file")


def test_unwritable_output_folder(make_clip, tiny_style, stylecut_home, tmp_path):
    # A path below a regular file can be created by nobody, root included.
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    result = run_cli("apply", make_clip(), "--style", tiny_style, "-o", blocker / "renders")
    assert result.exit_code == 1
    assert_one_sentence(result.stderr, str(blocker / "renders"), "Cannot create the output folder")


def test_read_only_output_folder(make_clip, tiny_style, stylecut_home, read_only_folder):
    result = run_cli("apply", make_clip(), "--style", tiny_style, "-o", read_only_folder)
    assert result.exit_code == 1
    assert_one_sentence(result.stderr, str(read_only_folder), "Cannot write to the output folder")


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` but for about ``leave`` bytes; the filler's path."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    filler.write_bytes(bytes(free - leave))
    return filler


def test_a_full_disk_is_named_and_leaves_no_file(make_clip, tiny_style, stylecut_home, tiny_disk):
    # A few KB free: ffmpeg fails only when it writes the file's trailer, and then exits 0.
    filler = fill(tiny_disk, leave=4096)
    result = run_cli(
        "apply", make_clip(size="160x120", frames=30), "--style", tiny_style, "-o", tiny_disk, *FAST
    )

    assert result.exit_code == 1
    assert_one_sentence(result.stderr, "Disk full")
    assert list(tiny_disk.iterdir()) == [filler]


def test_a_full_disk_under_a_preview_sheet_is_named(make_clip, tiny_style, stylecut_home, tiny_disk):
    filler = fill(tiny_disk, leave=4096)
    sheet = tiny_disk / "sheet.png"
    result = run_cli("preview", make_clip(size="160x120", frames=30), "--styles", tiny_style, "-o", sheet)

    assert result.exit_code == 1
    assert_one_sentence(result.stderr, "Disk full", "sheet.png")
    assert list(tiny_disk.iterdir()) == [filler]


def test_more_threads_than_cores_is_refused(make_clip, tiny_style, stylecut_home, tmp_path):
    too_many = available_cores() + 1
    result = run_cli("apply", make_clip(), "--style", tiny_style, "-o", tmp_path, "--threads", too_many)

    assert result.exit_code == 2
    assert_one_sentence(result.stderr, f"--threads {too_many}", f"at most {too_many - 1}")
    assert list(tmp_path.iterdir()) == []


def test_output_equal_to_input_is_refused(make_clip, tiny_style, stylecut_home, tmp_path):
    source = shutil.copy(make_clip(), tmp_path / "clip.mp4")
    before = sha256(source)
    result = run_cli("apply", source, "--style", tiny_style, "-o", source, "--overwrite")
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, str(source), "is the input itself")
    assert sha256(source) == before


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("--device", "cuda"), "no CUDA GPU"),
        (("-o", "{tmp}/one.mp4", "{clip}"), "several inputs need an output folder"),
        (("--codec", "prores", "-o", "{tmp}/out.mp4"), "ProRes needs a .mov file"),
    ],
    ids=["cuda", "file-for-two-inputs", "prores-in-mp4"],
)
def test_usage_errors_exit_2(make_clip, tiny_style, stylecut_home, tmp_path, args, problem):
    clip = make_clip()
    args = [arg.format(tmp=tmp_path, clip=clip) for arg in args]
    result = run_cli("apply", clip, "--style", tiny_style, *args)
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, problem)
    assert not list(tmp_path.iterdir())


def test_two_inputs_for_one_output_do_not_overwrite_each_other(
    make_clip, tiny_style, stylecut_home, tmp_path
):
    for folder in ("cam_a", "cam_b"):
        (tmp_path / folder).mkdir()
        shutil.copy(make_clip(frames=3), tmp_path / folder / "take1.mp4")

    result = run_cli(
        "apply", tmp_path / "cam_a", tmp_path / "cam_b", "--style", tiny_style, "-o", tmp_path / "out", *FAST
    )

    assert result.exit_code == 1
    assert_one_sentence(result.stderr, "cam_b", "take1.tiny.mp4", "the output of")
    assert probe(tmp_path / "out" / "take1.tiny.mp4").frame_count == 3


def interrupt_apply(
    source: Path, target: Path, home: Path, *flags: str, sig: int = signal.SIGINT
) -> tuple[int, str, str]:
    """Run `stylecut apply` and send ``sig`` (Ctrl-C) once the encoder runs; its exit code, stdout and stderr."""
    args = ["apply", source, *flags, "-o", target, *FAST]
    return signal_when(args, "frames", sig, home)  # a progress line: the first chunk is written


# Ctrl-C, or SIGTERM from a render farm or a scheduler: the same clean-up, each with its own exit code.
STOPS = [(signal.SIGINT, 130, "Interrupted"), (signal.SIGTERM, 143, "Stopped by SIGTERM")]


@pytest.mark.parametrize(("sig", "code", "words"), STOPS)
def test_a_stop_leaves_nothing_under_the_final_name(make_clip, tiny_style, tmp_path, sig, code, words):
    source = make_clip(size="160x120", frames=150, audio=True)
    target = tmp_path / "out.mp4"

    exit_code, _, stderr = interrupt_apply(
        source, target, tmp_path / "home", "--style", str(tiny_style), sig=sig
    )

    assert exit_code == code, stderr
    assert_one_sentence(stderr, words, "no partial file")
    # Neither the output nor a temp file (the home holds the generator's runtime cache).
    assert [path for path in tmp_path.iterdir() if path.name != "home"] == []


@pytest.mark.parametrize(("sig", "code", "words"), STOPS)
def test_a_stop_with_json_prints_a_json_error(make_clip, tiny_style, tmp_path, sig, code, words):
    source = make_clip(size="160x120", frames=150, audio=True)

    target, home = tmp_path / "out.mp4", tmp_path / "home"
    exit_code, stdout, stderr = interrupt_apply(
        source, target, home, "--style", str(tiny_style), "--json", sig=sig
    )

    assert exit_code == code, stderr
    report = json.loads(stdout)
    assert report["exit_code"] == code and report["error"].startswith(words)


# Stands in for OpenVINO's native module: its initialisation is where the signal lands, and pybind11, which
# OpenVINO's bindings are built with, turns the KeyboardInterrupt raised there into this ImportError.
NATIVE_OPENVINO = """
import signal, sys
try:
    sys.stderr.write("importing openvino\\n")  # the test signals once it reads this line
    sys.stderr.flush()
    while True:
        signal.pause()
except KeyboardInterrupt as exc:
    raise ImportError("initialization failed") from exc
"""


@pytest.mark.parametrize(("sig", "code", "words"), STOPS)
def test_a_stop_while_a_native_library_loads_is_a_stop(make_clip, tiny_style, tmp_path, sig, code, words):
    source = make_clip(size="160x120", frames=3)
    native = tmp_path / "native"
    native.mkdir()
    (native / "openvino.py").write_text(NATIVE_OPENVINO)
    pythonpath = os.pathsep.join([str(native), os.environ.get("PYTHONPATH", "")])

    args = ["apply", source, "--style", tiny_style, "-o", tmp_path / "out.mp4", "--json"]
    exit_code, stdout, stderr = signal_when(
        args, "importing openvino", sig, tmp_path / "home", {"PYTHONPATH": pythonpath}
    )

    assert exit_code == code, stderr
    assert_one_sentence(stderr, words, "no partial file")
    report = json.loads(stdout)
    assert report["exit_code"] == code and report["error"].startswith(words)
    assert [path for path in tmp_path.iterdir() if path.name not in ("home", "native")] == []


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("--style", "van-gogh"), "van-gogh"),
        (("--crf", "99"), "--crf"),
        (("-o", "{tmp}/one.mp4", "{clip}"), "output folder"),
    ],
    ids=["unknown-style", "option-out-of-range", "file-for-two-inputs"],
)
def test_json_reports_usage_errors_on_stdout(make_clip, tiny_style, stylecut_home, tmp_path, args, problem):
    clip = make_clip()
    args = [arg.format(tmp=tmp_path, clip=clip) for arg in args]
    if "--style" not in args:
        args += ["--style", str(tiny_style)]

    result = run_cli("apply", clip, *args, "--json")

    assert result.exit_code == 2, result.stderr
    report = json.loads(result.stdout)
    assert report["exit_code"] == 2 and problem in report["error"]


def test_an_input_is_never_the_output_of_another(make_clip, tiny_style, stylecut_home, tmp_path):
    clip = shutil.copy(make_clip(frames=3), tmp_path / "a.mp4")
    earlier = shutil.copy(make_clip(frames=4, audio=True), tmp_path / "a.tiny.mp4")
    before = sha256(earlier)

    forced = run_cli("apply", clip, earlier, "--style", tiny_style, "--overwrite", "--json", *FAST)

    assert forced.exit_code == 1, forced.stderr
    assert sha256(earlier) == before
    jobs = {Path(job["input"]).name: job["status"] for job in json.loads(forced.stdout)["jobs"]}
    assert jobs == {"a.mp4": "failed", "a.tiny.mp4": "done"}
    assert_one_sentence(forced.stderr, "a.mp4", "a.tiny.mp4", "also an input")
    assert probe(tmp_path / "a.tiny.tiny.mp4").frame_count == 4

    again = run_cli("apply", clip, earlier, "--style", tiny_style, "--json", *FAST)

    assert again.exit_code == 0, again.stderr
    jobs = {Path(job["input"]).name: job["status"] for job in json.loads(again.stdout)["jobs"]}
    assert jobs == {"a.mp4": "skipped", "a.tiny.mp4": "skipped"}
    assert sha256(earlier) == before


@pytest.mark.parametrize("output", ["{long}.mp4", "{long}/"], ids=["file", "folder"])
def test_an_output_name_too_long_for_its_file_system_is_one_sentence(
    make_clip, tiny_style, stylecut_home, tmp_path, output
):
    output = str(tmp_path / output.format(long="x" * 300))

    result = run_cli("apply", make_clip(), "--style", tiny_style, "-o", output)

    assert result.exit_code == 2, result.stderr
    assert_one_sentence(result.stderr, "too long")
    assert not list(tmp_path.iterdir())


def test_an_input_whose_output_name_is_too_long_fails_alone(make_clip, tiny_style, stylecut_home, tmp_path):
    long = shutil.copy(make_clip(frames=3), tmp_path / f"{'n' * 247}.mp4")  # + ".tiny" is over 255 bytes
    short = shutil.copy(make_clip(frames=3), tmp_path / "b.mp4")

    result = run_cli("apply", long, short, "--style", tiny_style, "--json", *FAST)

    assert result.exit_code == 1, result.stderr
    assert [job["status"] for job in json.loads(result.stdout)["jobs"]] == ["failed", "done"]
    assert_one_sentence(result.stderr, "too long")
