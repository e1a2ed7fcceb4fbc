"""`stylecut finetune --pair`: a style learned from a frame and the same frame painted.

As in test_finetune.py: a tiny generator, 64 px patches, a few steps, torch
on one thread; the pairs are drawn by the test (a scene, and the same scene
in another palette with dark outlines).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from stylecut.styles.style_file import load_generator
from stylecut.training.pairs import PairSampler, edge_correlation
from stylecut.training.trainer import CHECKPOINT, Trainer

from cli_support import assert_one_sentence, run_cli
from finetune_support import TINY_RUN, ctrl_c_after_two_steps, draw_scene, log_steps, paint, write_pair

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_pair(tmp_path_factory.mktemp("pair"), (120, 90))


def pair_args(original: Path, painted: Path, name: str, *extra: object) -> list[object]:
    return [
        "finetune",
        "--pair",
        original,
        painted,
        "--name",
        name,
        *TINY_RUN,
        *extra,
    ]


def user_styles() -> list[str]:
    listed = run_cli("styles", "--json")
    return [s["name"] for s in json.loads(listed.stdout or "[]") if s["origin"] == "user"]


def test_a_pair_trains_a_style_that_applies_to_a_clip(stylecut_home, pair, make_clip, tmp_path):
    result = run_cli(*pair_args(*pair, "painted-look"))
    assert result.exit_code == 0, result.stderr
    assert "1 keyframe pair(s)" in result.stderr
    generator, metadata = load_generator(stylecut_home / "styles" / "painted-look.safetensors")
    assert all(torch.isfinite(v).all() for v in generator.state_dict().values())
    assert metadata["recipe"].startswith(
        "stylecut finetune --name painted-look --base none --pair frame.png frame_painted.png"
    )
    config = metadata["training"]["config"]
    assert (
        config["paired"] and config["style"] == ["frame_painted.png"] and config["content"] == ["frame.png"]
    )
    # The generator learns at the size `apply` runs it at: the bundled styles' working side.
    assert metadata["working_side"] == 480 and metadata["description"].endswith("frame_painted.png")
    records = [json.loads(line) for line in (stylecut_home / "runs" / "painted-look" / "log.jsonl").open()]
    assert {"pixel", "temporal"} <= set(records[-1])
    assert user_styles() == ["painted-look"]

    target = tmp_path / "out.mp4"
    applied = run_cli(
        "apply", make_clip(frames=4), "--style", "painted-look", "-o", target, "--preset", "ultrafast"
    )
    assert applied.exit_code == 0, applied.stderr
    assert target.exists()


def test_pairs_of_different_sizes_are_refused(stylecut_home, pair, tmp_path):
    smaller = tmp_path / "small_painted.png"
    paint(draw_scene((120, 90))).resize((60, 45)).save(smaller)
    result = run_cli(*pair_args(pair[0], smaller, "sizes"))
    assert result.exit_code == 1
    assert_one_sentence(result.stderr, "frame.png (120x90)", "small_painted.png (60x45)", "same size")
    assert user_styles() == [] and not (stylecut_home / "runs" / "sizes").exists()


def test_a_painted_frame_of_another_picture_is_refused(stylecut_home, pair, tmp_path):
    other = Image.new("RGB", (120, 90), (200, 200, 200))
    ImageDraw.Draw(other).polygon([(0, 90), (60, 0), (120, 90)], fill=(20, 20, 120))
    other.save(tmp_path / "other.png")
    result = run_cli(*pair_args(pair[0], tmp_path / "other.png", "unrelated"))
    assert result.exit_code == 1
    assert_one_sentence(result.stderr, "other.png does not look like a treatment of frame.png")
    assert user_styles() == []


def test_a_damaged_image_is_named(stylecut_home, pair, tmp_path):
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(pair[1].read_bytes()[:40])
    result = run_cli(*pair_args(pair[0], damaged, "damaged"))
    assert result.exit_code == 1
    assert_one_sentence(result.stderr, "damaged.png", "not a readable image")
    assert user_styles() == []


@pytest.mark.parametrize("option", ["--style-image", "--content"])
def test_pairs_do_not_mix_with_a_reference(stylecut_home, pair, option):
    result = run_cli(*pair_args(*pair, "mixed", option, pair[1]))
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, "--pair", "cannot be combined")
    assert user_styles() == []


def test_a_pair_needs_two_images(stylecut_home, pair):
    result = run_cli("finetune", "--pair", pair[0], "--name", "half", "--steps", 1)
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, "--pair takes two images")


def test_an_interrupted_pair_run_resumes(stylecut_home, pair, monkeypatch):
    real_step = ctrl_c_after_two_steps(monkeypatch)
    args = pair_args(*pair, "resumed-pair")
    assert run_cli(*args).exit_code == 130
    run_dir = stylecut_home / "runs" / "resumed-pair"
    assert torch.load(run_dir / CHECKPOINT, weights_only=True)["step"] == 2
    assert user_styles() == []
    monkeypatch.setattr(Trainer, "train_step", real_step)
    resumed = run_cli(*args, "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert log_steps(run_dir) == [1, 2, 3, 4]
    assert user_styles() == ["resumed-pair"]


def test_edge_correlation_tells_a_treatment_from_another_frame():
    def tensor(image: Image.Image) -> torch.Tensor:
        return torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255

    frame = draw_scene((120, 90))
    assert edge_correlation(tensor(frame), tensor(paint(frame))) > 0.8
    assert edge_correlation(tensor(draw_scene((120, 90), shift=30)), tensor(paint(frame))) < 0.35


def test_patches_of_both_sides_stay_aligned():
    frame = torch.rand(3, 80, 100)
    steady = PairSampler([(frame, frame.clone())], crop=32, jitter=False, seed=0)
    inputs, targets = steady.sample(4)
    assert inputs.shape == (4, 3, 32, 32) and torch.equal(inputs, targets)
    # With augmentation only the input side's exposure and noise differ: the two stay highly correlated.
    inputs, targets = PairSampler([(frame, frame.clone())], crop=32, jitter=True, seed=0).sample(4)
    assert not torch.equal(inputs, targets)
    centred = [t - t.mean() for t in (inputs.flatten(), targets.flatten())]
    assert float(torch.nn.functional.cosine_similarity(*centred, dim=0)) > 0.8
