"""File names that are not valid UTF-8 (bytes from a share mounted from another system), read and written
by every command: the README's "any file name works"."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from stylecut.video.probe import probe

from cli_support import make_style, run_cli, run_stylecut
from finetune_support import STEPS, TINY

pytestmark = [
    pytest.mark.usefixtures("single_thread", "stylecut_home"),
    pytest.mark.skipif(sys.platform != "linux", reason="only Linux file systems take any bytes as a name"),
]

# Latin-1 bytes, as a Windows or an old Unix share gives them: Python names them with surrogates.
LATIN1 = os.fsdecode(b"caf\xe9")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / f"r{LATIN1}ushes"
    folder.mkdir()
    return folder


def test_apply_reads_and_writes_such_names(make_clip, folder):
    clip = shutil.copy(make_clip(frames=4, audio=True), folder / f"{LATIN1}.mp4")
    style = make_style(folder.parent / "look.safetensors", "tiny")

    result = run_cli("apply", clip, "--style", style, "--json", "--preset", "ultrafast")

    assert result.exit_code == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert (job["status"], job["output"]) == ("done", str(folder / f"{LATIN1}.tiny.mp4"))
    assert probe(folder / f"{LATIN1}.tiny.mp4").frame_count == 4
    assert sorted(path.name for path in folder.iterdir()) == sorted([f"{LATIN1}.mp4", f"{LATIN1}.tiny.mp4"])


def test_preview_reads_and_writes_such_names(make_clip, folder):
    clip = shutil.copy(make_clip(frames=4), folder / f"{LATIN1}.mp4")
    style = make_style(folder.parent / "look.safetensors", "tiny")

    result = run_cli("preview", clip, "--styles", style, "-q")

    assert result.exit_code == 0, result.stderr
    sheet = folder / f"{LATIN1}.preview.png"
    assert sheet.is_file() and result.stdout_bytes == os.fsencode(sheet) + b"\n"  # the name's own bytes


def test_finetune_learns_from_a_style_video_so_named(make_clip, folder, stylecut_home):
    clip = shutil.copy(make_clip(size="96x96", frames=12), folder / f"{LATIN1}.mp4")
    result = run_cli(
        "finetune",
        "--style-video",
        clip,
        "--name",
        "from-latin1",
        "--base",
        "none",
        "--steps",
        STEPS,
        "--size",
        64,
        "--train-config",
        TINY,
    )

    assert result.exit_code == 0, result.stderr
    assert (stylecut_home / "styles" / "from-latin1.safetensors").is_file()


def test_apply_on_ray_takes_such_a_name_on_its_command_line(make_clip, folder):
    # Ray hands the command line to C++ as UTF-8 when it starts the command's runtime: a subprocess, so
    # that the name is on the command line of the process that starts it.
    pytest.importorskip("ray")
    clip = shutil.copy(make_clip(frames=4), folder / f"{LATIN1}.mp4")
    style = make_style(folder.parent / "look.safetensors", "tiny")

    result = run_stylecut(
        "apply",
        clip,
        "--style",
        style,
        "--ray",
        "--threads",
        1,
        "--json",
        "--preset",
        "ultrafast",
        home=folder.parent / "home",
    )

    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert (job["status"], job["output"]) == ("done", str(folder / f"{LATIN1}.tiny.mp4"))
    assert probe(folder / f"{LATIN1}.tiny.mp4").frame_count == 4
