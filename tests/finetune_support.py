"""What the finetune tests share: a tiny training recipe, the command line that runs it, and ways to
read or interrupt a run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from stylecut.models.generator import GeneratorConfig
from stylecut.training.trainer import LOG, Trainer

TINY_GENERATOR = GeneratorConfig(widths=(8, 16, 16), residual_blocks=1, stem_kernel=3)
TINY = json.dumps(
    {
        "batch": 2,
        "generator": TINY_GENERATOR.to_dict(),
        "checkpoint_every": 1,
        "style_max_side": 96,
        "content_max_side": 128,
    }
)
STEPS = 4
TINY_RUN = ("--steps", STEPS, "--size", 64, "--device", "cpu", "--train-config", TINY)


def finetune_args(style_clip: Path, content_image: Path, name: str, *extra: object) -> list[object]:
    return [
        "finetune",
        "--style-video",
        style_clip,
        "--name",
        name,
        "--base",
        "none",
        "--content",
        content_image,
        *TINY_RUN,
        *extra,
    ]


def log_steps(run_dir: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run_dir / LOG).read_text().splitlines()]


def ctrl_c_after_two_steps(monkeypatch: pytest.MonkeyPatch) -> Callable[[Trainer], dict[str, float]]:
    """Make training stop as Ctrl-C would before its third step; returns the real step to put back."""
    real_step = Trainer.train_step

    def stopping_step(self: Trainer) -> dict[str, float]:
        if self.step == 2:
            raise KeyboardInterrupt
        return real_step(self)

    monkeypatch.setattr(Trainer, "train_step", stopping_step)
    return real_step
