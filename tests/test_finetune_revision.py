"""`stylecut finetune`'s revision phase: a reference style carries a revision network trained on its new
generator, within the time budget, resumable; a keyframe-pair style carries none, and its generator has the
whole budget.

Tiny as in test_finetune.py, and smaller than the real recipe in one more way: the style runs at a working
side of 128 px and its revision learns at a "delivery" side of 192 px (the real one: 480, then 720 and
1080), so pictures of 256x192 px are footage at delivery size.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from stylecut import cli
from stylecut.commands import finetune
from stylecut.models.generator import Generator
from stylecut.styles.style_file import load_networks, save_style
from stylecut.training.data import read_image
from stylecut.training.revision_trainer import RevisionTrainer
from stylecut.training.trainer import CHECKPOINT, Trainer

from cli_support import assert_one_sentence, run_cli
from finetune_support import STEPS, TINY, TINY_GENERATOR, ctrl_c_after_two_steps, write_pair
from media import decode_reference

pytestmark = pytest.mark.usefixtures("single_thread")

REVISION_STEPS = 3
# A large learning rate, so that three steps move the revision visibly away from the plain sum.
TINY_REVISION = {
    "delivery_sides": [192],
    "crop": 48,
    "batch": 1,
    "steps": REVISION_STEPS,
    "checkpoint_every": 1,
    "lr": 0.05,
}
SMALL = {**json.loads(TINY), "working_side": 128}
RUN = ("--steps", STEPS, "--size", 64, "--device", "cpu")
REFERENCE_RUN = (*RUN, "--train-config", json.dumps({**SMALL, "revision": TINY_REVISION}))
PAIR_RUN = (*RUN, "--train-config", json.dumps(SMALL))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_pair(tmp_path_factory.mktemp("pair"), (256, 192))


def pair_args(pair: tuple[Path, Path], name: str, *extra: object) -> list[object]:
    return ["finetune", "--pair", *pair, "--name", name, *PAIR_RUN, *extra]


def reference_args(pair: tuple[Path, Path], name: str, base: str = "none") -> list[object]:
    """The pair's painted frame as the reference, its frame as the content."""
    args = ["finetune", "--style-image", pair[1], "--content", pair[0], "--name", name, "--base", base]
    return [*args, *REFERENCE_RUN]


def made_style(home: Path, args: list[object]) -> Path:
    """Run finetune with ``args``; the style file it wrote."""
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    return home / "styles" / f"{args[args.index('--name') + 1]}.safetensors"


def applied(clip: Path, style: Path, runtime: str, folder: Path) -> np.ndarray:
    """The clip's frames as apply paints them with ``style`` frame by frame on ``runtime``."""
    out = folder / f"{style.stem}-{runtime}.mp4"
    args = ["apply", clip, "--style", style, "-o", out, "--runtime", runtime, "--no-temporal"]
    result = run_cli(*args, "--preset", "ultrafast", "--crf", "0")
    assert result.exit_code == 0, result.stderr
    return decode_reference(out).astype(np.int16)


def assert_the_runtimes_agree(clip: Path, style: Path, folder: Path) -> np.ndarray:
    """apply paints alike on PyTorch and on the light runtime; returns PyTorch's frames."""
    frames = applied(clip, style, "torch", folder)
    assert np.abs(applied(clip, style, "openvino", folder) - frames).max() <= 3  # levels, through 4:2:0
    return frames


def revision_log(run_dir: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run_dir / "revision" / "log.jsonl").open()]


def test_a_reference_style_carries_a_trained_revision_that_apply_runs_on_either_runtime(
    stylecut_home, pair, make_clip, tmp_path
):
    style = made_style(stylecut_home, reference_args(pair, "revised-look"))
    generator, revision, metadata = load_networks(style)
    assert revision is not None
    last = revision.body[-1][1]  # zero in a fresh revision: the plain sum of draft and detail
    assert last.weight.abs().sum() > 0
    trained = metadata["revision_training"]
    assert trained["steps"] == REVISION_STEPS and trained["adversarial_weight"] == 1.0
    assert trained["start"] == "none" and trained["settings"]["delivery_sides"] == [192]
    assert "without_revision" not in metadata
    run_dir = stylecut_home / "runs" / "revised-look"
    assert revision_log(run_dir) == [1, 2, 3]
    last_record = json.loads((run_dir / "revision" / "log.jsonl").read_text().splitlines()[-1])
    assert {"style", "content", "anchor", "adv_g"} <= set(last_record)
    assert not (run_dir / "revision" / CHECKPOINT).exists()

    # The same generator without the revision, to see that apply paints with it.
    plain = tmp_path / "plain.safetensors"
    save_style(plain, generator, {**metadata, "name": "plain"})  # no revision given: none saved
    clip = make_clip(size="320x240", frames=3)
    revised = assert_the_runtimes_agree(clip, style, tmp_path)
    assert np.abs(revised - applied(clip, plain, "torch", tmp_path)).mean() > 1  # levels


def test_a_pair_style_carries_no_revision_and_applies_on_either_runtime(
    stylecut_home, pair, make_clip, tmp_path
):
    style = made_style(stylecut_home, pair_args(pair, "pair-look"))
    _, revision, metadata = load_networks(style)
    assert revision is None and metadata["working_side"] == 128
    assert "revision_training" not in metadata and "keyframe pairs" in metadata["without_revision"]
    assert not (stylecut_home / "runs" / "pair-look" / "revision").exists()
    assert_the_runtimes_agree(make_clip(size="320x240", frames=3), style, tmp_path)


def test_a_pair_style_takes_no_revision_settings(stylecut_home, pair):
    settings = json.dumps({**SMALL, "revision": TINY_REVISION})
    args = ["finetune", "--pair", *pair, "--name", "pair-look", *RUN, "--train-config", settings]
    result = run_cli(*args)
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, "--train-config cannot set revision")
    assert not (stylecut_home / "runs" / "pair-look").exists()


def test_a_reference_style_starts_its_revision_from_the_base_styles(stylecut_home, pair):
    _, revision, _ = load_networks(made_style(stylecut_home, reference_args(pair, "base-look")))

    result = run_cli(*reference_args(pair, "from-base", base="base-look"))
    assert result.exit_code == 0, result.stderr
    assert "starting from the revision of 'base-look'" in result.stderr
    _, derived, metadata = load_networks(stylecut_home / "styles" / "from-base.safetensors")
    assert metadata["working_side"] == 128 and metadata["revision_training"]["start"] == "base-look"
    assert metadata["revision_training"]["steps"] == REVISION_STEPS
    records = [
        json.loads(line) for line in (stylecut_home / "runs" / "from-base" / "revision" / "log.jsonl").open()
    ]
    assert {"style", "content", "anchor"} <= set(records[0])
    assert any(
        not torch.equal(a, b) for a, b in zip(derived.parameters(), revision.parameters(), strict=True)
    )


def test_an_interrupted_revision_phase_resumes_without_training_the_generator_again(
    stylecut_home, pair, monkeypatch
):
    real_step = ctrl_c_after_two_steps(monkeypatch, RevisionTrainer)
    args = reference_args(pair, "resumed-revision")
    stopped = run_cli(*args)
    assert stopped.exit_code == 130
    assert_one_sentence(stopped.stderr, "step 2 of the revision phase", "--resume")
    run_dir = stylecut_home / "runs" / "resumed-revision"
    assert torch.load(run_dir / "revision" / CHECKPOINT, weights_only=True)["step"] == 2
    assert not (stylecut_home / "styles" / "resumed-revision.safetensors").exists()

    monkeypatch.setattr(RevisionTrainer, "train_step", real_step)

    def no_generator_steps(self: Trainer, *args: object) -> None:
        raise AssertionError("the generator was trained again")

    monkeypatch.setattr(Trainer, "run", no_generator_steps)
    resumed = run_cli(*args, "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert "in its revision phase" in resumed.stderr
    assert revision_log(run_dir) == [1, 2, 3]  # continued at step 3
    _, revision, metadata = load_networks(stylecut_home / "styles" / "resumed-revision.safetensors")
    assert revision is not None and metadata["revision_training"]["steps"] == REVISION_STEPS
    assert metadata["training"]["steps"] == STEPS


@pytest.mark.parametrize("look", ["reference", "pair"])
def test_only_a_reference_style_leaves_the_last_share_of_the_budget_to_a_revision(
    stylecut_home, pair, monkeypatch, look
):
    # The command's clock reads 1000 s when it starts; each phase records the deadline it was given.
    monkeypatch.setattr(cli, "time", SimpleNamespace(monotonic=lambda: 1000.0))
    deadlines = {}
    real_generator_run, real_revision_run = Trainer.run, RevisionTrainer.run

    def generator_run(self: Trainer, on_step=None, deadline=None, clock=time.monotonic) -> None:
        deadlines["generator"] = deadline
        self.config = replace(self.config, steps=1)
        real_generator_run(self, on_step)

    def revision_run(self: RevisionTrainer, on_step=None, deadline=None, clock=time.monotonic) -> None:
        deadlines["revision"] = deadline
        real_revision_run(self, on_step)

    monkeypatch.setattr(Trainer, "run", generator_run)
    monkeypatch.setattr(RevisionTrainer, "run", revision_run)
    args = {"reference": reference_args, "pair": pair_args}[look](pair, "in-budget")
    del args[args.index("--steps") : args.index("--steps") + 2]
    result = run_cli(*args, "--minutes", 10)
    assert result.exit_code == 0, result.stderr
    end = 1000.0 + 600 - finetune.FINISH_SECONDS
    expected = {"generator": end - 0.2 * 600, "revision": end} if look == "reference" else {"generator": end}
    assert deadlines == expected


def test_the_revision_trainer_ends_by_its_deadline(pair, tmp_path):
    frame, painted = (read_image(p, 256) for p in pair)
    config = finetune.revision_recipe(
        finetune.TrainConfig(name="x", style=[], content=[], revision={**TINY_REVISION, "steps": 400}), None
    )
    reviser = RevisionTrainer(config, Generator(TINY_GENERATOR), [frame], [painted], 96, 128, tmp_path)
    clock = [0.0]
    real_step = reviser.train_step

    def one_second_step() -> dict[str, float]:
        clock[0] += 1.0
        return real_step()

    reviser.train_step = one_second_step
    totals = []
    reviser.run(lambda step, total, values: totals.append(total), deadline=10.0, clock=lambda: clock[0])
    assert reviser.step == clock[0] == 10 and reviser.config.steps == 10
    assert totals[:3] == [400] * 3 and totals[-1] == 10
