"""What the finetune tests share: a tiny training recipe, the command line that runs it, and ways to
read or interrupt a run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageOps

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


def ctrl_c_after_two_steps(
    monkeypatch: pytest.MonkeyPatch, trainer_class: type = Trainer
) -> Callable[[Any], dict[str, float]]:
    """Make training (of the generator, or ``trainer_class``'s) stop as Ctrl-C would before its third
    step; returns the real step to put back."""
    real_step = trainer_class.train_step

    def stopping_step(self: Any) -> dict[str, float]:
        if self.step == 2:
            raise KeyboardInterrupt
        return real_step(self)

    monkeypatch.setattr(trainer_class, "train_step", stopping_step)
    return real_step


def draw_scene(size: tuple[int, int], shift: int = 0) -> Image.Image:
    image = Image.new("RGB", size, (70, 110, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10 + shift, 50, 110 + shift, 85), fill=(90, 140, 60))
    draw.ellipse((40 + shift, 10, 80 + shift, 50), fill=(230, 200, 170), outline=(40, 30, 20), width=3)
    return image


def paint(image: Image.Image) -> Image.Image:
    """The 'artist's' treatment: colours inverted and posterised, the shapes kept."""
    return ImageOps.posterize(ImageOps.invert(image), 2)


def write_pair(folder: Path, size: tuple[int, int]) -> tuple[Path, Path]:
    """A drawn frame of ``size`` and its treatment, as ``frame.png`` and ``frame_painted.png``."""
    frame = draw_scene(size)
    frame.save(folder / "frame.png")
    paint(frame).save(folder / "frame_painted.png")
    return folder / "frame.png", folder / "frame_painted.png"
