"""`stylecut finetune`'s revision phase: every custom style carries a revision network trained on its new
generator, within the time budget, resumable.

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
from PIL import Image

from stylecut import cli
from stylecut.commands import finetune
from stylecut.models.generator import Generator
from stylecut.styles.style_file import load_networks, save_style
from stylecut.training.revision_trainer import RevisionTrainerBase
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
SETTINGS = json.dumps({**json.loads(TINY), "working_side": 128, "revision": TINY_REVISION})
RUN = ("--steps", STEPS, "--size", 64, "--device", "cpu", "--train-config", SETTINGS)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_pair(tmp_path_factory.mktemp("pair"), (256, 192))


def pair_args(pair: tuple[Path, Path], name: str, *extra: object) -> list[object]:
    return ["finetune", "--pair", *pair, "--name", name, *RUN, *extra]


def revision_log(run_dir: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run_dir / "revision" / "log.jsonl").open()]


def test_a_pair_style_carries_a_trained_revision_that_apply_runs_on_either_runtime(
    stylecut_home, pair, make_clip, tmp_path
):
    result = run_cli(*pair_args(pair, "revised-look"))
    assert result.exit_code == 0, result.stderr
    style = stylecut_home / "styles" / "revised-look.safetensors"
    generator, revision, metadata = load_networks(style)
    assert revision is not None
    last = revision.body[-1][1]  # zero in a fresh revision: the plain sum of draft and detail
    assert last.weight.abs().sum() > 0
    trained = metadata["revision_training"]
    assert trained["steps"] == REVISION_STEPS and trained["adversarial_weight"] == 1.0
    assert trained["start"] == "none" and trained["settings"]["delivery_sides"] == [192]
    run_dir = stylecut_home / "runs" / "revised-look"
    assert revision_log(run_dir) == [1, 2, 3]
    last_record = json.loads((run_dir / "revision" / "log.jsonl").read_text().splitlines()[-1])
    assert {"pixel", "anchor", "adv_g"} <= set(last_record)
    assert not (run_dir / "revision" / CHECKPOINT).exists()

    # The same generator without the revision, to see that apply paints with it.
    plain = tmp_path / "plain.safetensors"
    save_style(plain, generator, {**metadata, "name": "plain"})  # no revision given: none saved
    clip = make_clip(size="320x240", frames=3)
    outputs = {}
    for name, path, runtime in [
        ("plain", plain, "torch"),
        ("revised", style, "torch"),
        ("revised-light", style, "openvino"),
    ]:
        out = tmp_path / f"{name}.mp4"
        args = ["apply", clip, "--style", path, "-o", out, "--runtime", runtime, "--no-temporal"]
        applied = run_cli(*args, "--preset", "ultrafast", "--crf", "0")
        assert applied.exit_code == 0, applied.stderr
        outputs[name] = decode_reference(out).astype(np.int16)
    assert np.abs(outputs["revised"] - outputs["plain"]).mean() > 1  # levels
    assert np.abs(outputs["revised-light"] - outputs["revised"]).max() <= 3  # levels, through 4:2:0


def test_a_reference_style_starts_its_revision_from_the_base_styles(stylecut_home, pair):
    first = run_cli(*pair_args(pair, "base-look"))
    assert first.exit_code == 0, first.stderr
    _, revision, _ = load_networks(stylecut_home / "styles" / "base-look.safetensors")

    args = [
        "finetune",
        "--style-image",
        pair[1],
        "--content",
        pair[0],
        "--name",
        "from-base",
        "--base",
        "base-look",
    ]
    result = run_cli(*args, *RUN)
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
    real_step = ctrl_c_after_two_steps(monkeypatch, RevisionTrainerBase)
    args = pair_args(pair, "resumed-revision")
    stopped = run_cli(*args)
    assert stopped.exit_code == 130
    assert_one_sentence(stopped.stderr, "step 2 of the revision phase", "--resume")
    run_dir = stylecut_home / "runs" / "resumed-revision"
    assert torch.load(run_dir / "revision" / CHECKPOINT, weights_only=True)["step"] == 2
    assert not (stylecut_home / "styles" / "resumed-revision.safetensors").exists()

    monkeypatch.setattr(RevisionTrainerBase, "train_step", real_step)

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


def test_the_revision_phase_has_the_last_share_of_the_time_budget(stylecut_home, pair, monkeypatch):
    # The command's clock reads 1000 s when it starts; each phase records the deadline it was given.
    monkeypatch.setattr(cli, "time", SimpleNamespace(monotonic=lambda: 1000.0))
    deadlines = {}
    real_generator_run, real_revision_run = Trainer.run, RevisionTrainerBase.run

    def generator_run(self: Trainer, on_step=None, deadline=None, clock=time.monotonic) -> None:
        deadlines["generator"] = deadline
        self.config = replace(self.config, steps=1)
        real_generator_run(self, on_step)

    def revision_run(self: RevisionTrainerBase, on_step=None, deadline=None, clock=time.monotonic) -> None:
        deadlines["revision"] = deadline
        real_revision_run(self, on_step)

    monkeypatch.setattr(Trainer, "run", generator_run)
    monkeypatch.setattr(RevisionTrainerBase, "run", revision_run)
    args = pair_args(pair, "in-budget", "--minutes", 10)
    del args[args.index("--steps") : args.index("--steps") + 2]
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    end = 1000.0 + 600 - finetune.FINISH_SECONDS
    assert deadlines == {"generator": end - 0.2 * 600, "revision": end}


def test_the_revision_trainer_ends_by_its_deadline(pair, tmp_path):
    frame, painted = (torch.from_numpy(np.array(Image.open(p))).permute(2, 0, 1).float() / 255 for p in pair)
    config = finetune.revision_recipe(
        finetune.TrainConfig(name="x", style=[], content=[], revision={**TINY_REVISION, "steps": 400}), None
    )
    reviser = finetune.PairRevisionTrainer(
        config, Generator(TINY_GENERATOR), [(frame, painted)], 128, tmp_path
    )
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
