"""`stylecut preview`: a labelled contact sheet, one row per style below the original, written atomically."""

from __future__ import annotations

import json
import os
import signal
import threading

import numpy as np
import pytest
from PIL import Image

from stylecut.commands import preview
from stylecut.commands.preview import GAP, HEADER_HEIGHT, compose_sheet, sample_indices

from cli_support import assert_one_sentence, make_style, run_cli


def _rows(sheet: Image.Image, tile_height: int) -> int:
    rows, rest = divmod(sheet.height - HEADER_HEIGHT, tile_height + GAP)
    assert rest == 0
    return rows


@pytest.fixture
def two_styles(stylecut_home):
    """Two user styles installed in an empty STYLECUT_HOME (the bundled ones are listed as well)."""
    styles = stylecut_home / "styles"
    make_style(styles / "ink.safetensors", "ink")
    make_style(styles / "wash.safetensors", "wash")
    return ["ink", "wash"]


def test_listed_styles_give_one_labelled_row_each_below_the_original(make_clip, two_styles, tmp_path):
    clip = make_clip(size="64x48", frames=10)
    sheet_path = tmp_path / "sheet.png"

    result = run_cli("preview", clip, "--styles", "wash, ink,wash", "-o", sheet_path)

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(sheet_path)
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == [
        "wash",
        "ink",
    ]  # once each, in order
    sheet = Image.open(sheet_path)
    assert _rows(sheet, 48) == 3  # original, wash, ink
    assert sheet.width > 3 * 64  # three frames side by side after the labels
    pixels = np.asarray(sheet.convert("RGB"))
    label_column = pixels[HEADER_HEIGHT:, :10]
    assert (label_column < 128).any()  # the labels are written
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_every_usable_style_by_default_beside_the_clip(make_clip, two_styles, stylecut_home, tmp_path):
    clip = tmp_path / "shot.mp4"
    clip.write_bytes(make_clip(size="96x54", frames=5).read_bytes())
    (stylecut_home / "styles" / "broken.safetensors").write_bytes(b"not a style")

    usable = [
        entry["name"] for entry in json.loads(run_cli("styles", "--json").stdout) if not entry["problem"]
    ]
    result = run_cli("preview", clip, "--height", "64", "--strength", "0.5", "--keep-colours")

    assert result.exit_code == 0, result.stderr
    assert "skipped broken" in result.stderr
    sheet = Image.open(tmp_path / "shot.preview.png")
    assert _rows(sheet, 54) == 1 + len(usable)  # a clip smaller than --height is not enlarged
    assert {"ink", "wash"} <= set(usable)

    again = run_cli("preview", clip, "--styles", "ink")
    assert again.exit_code == 2
    assert_one_sentence(again.stderr, "shot.preview.png", "--overwrite")


@pytest.mark.parametrize(
    "flags, problem",
    [
        (("--styles", "ink,no-such-style"), "no-such-style"),
        (("--styles", " , "), "--styles"),
        (("--strength", "1.5"), "--strength"),
        (("-o", "sheet.mp4"), "sheet.mp4"),
    ],
)
def test_bad_values_are_usage_errors(make_clip, two_styles, tmp_path, monkeypatch, flags, problem):
    monkeypatch.chdir(tmp_path)
    result = run_cli("preview", make_clip(frames=4), *flags)
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, problem)
    assert not list(tmp_path.glob("*.*")) and not list(tmp_path.glob(".*"))


def test_a_clip_that_is_not_a_video_fails_with_exit_1(two_styles, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("not a video")
    result = run_cli("preview", fake, "--styles", "ink")
    assert result.exit_code == 1
    assert_one_sentence(result.stderr, "notes.mp4")


def test_frames_are_the_middles_of_equal_parts():
    assert sample_indices(96, 3) == [16, 48, 80]
    assert sample_indices(2, 3) == [0, 1]  # a clip shorter than the count gives what it has


def test_sheet_layout():
    tiles = np.zeros((2, 20, 30, 3), np.uint8)
    sheet = compose_sheet("header", [("original", tiles), ("a-long-style-name", tiles)])
    assert _rows(sheet, 20) == 2
    label_width = sheet.width - 2 * (30 + GAP)
    assert label_width > 100  # sized to the longest label


def test_sigterm_writes_no_sheet(make_clip, two_styles, tmp_path, monkeypatch):
    compose = preview.compose_sheet

    def compose_then_sigterm(*args: object) -> Image.Image:
        os.kill(os.getpid(), signal.SIGTERM)  # as a scheduler stopping the job would, just before the write
        return compose(*args)

    monkeypatch.setattr(preview, "compose_sheet", compose_then_sigterm)
    # Only stylecut's own handler may act on it; outside the command this one keeps pytest alive.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        result = run_cli("preview", make_clip(frames=4), "--styles", "ink", "-o", tmp_path / "sheet.png")
    finally:
        signal.signal(signal.SIGTERM, previous)

    assert result.exit_code == 143
    assert_one_sentence(result.stderr, "Stopped by SIGTERM", "no sheet")
    assert list(tmp_path.iterdir()) == [tmp_path / "stylecut-home"]


def test_a_command_run_outside_the_main_thread_still_runs(two_styles, tmp_path):
    # Only the main thread may handle signals: a command run from another one (a notebook, a test) goes
    # without the SIGTERM handler instead of failing.
    clip = tmp_path / "notes.mp4"
    clip.write_text("not a video\n")
    results = []
    run = threading.Thread(target=lambda: results.append(run_cli("preview", clip, "--styles", "ink")))
    run.start()
    run.join()
    assert results[0].exit_code == 1
    assert_one_sentence(results[0].stderr, "notes.mp4")
