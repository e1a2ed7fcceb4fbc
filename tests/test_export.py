"""A bundled style's metrics (stylecut.training.export): measured on media its training never saw, with the
generator timed as `apply` runs it, and each number saying what it was measured on."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

import pytest
import torch

from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.training.export import HELD_OUT_PAIRS, measure

CONFIGS = Path(__file__).resolve().parent.parent / "training" / "configs"
STYLE_CONFIGS = [
    path for path in sorted(CONFIGS.glob("*.toml")) if "style" in tomllib.loads(path.read_text())
]

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.mark.parametrize("config", STYLE_CONFIGS, ids=lambda path: path.stem)
def test_the_measured_media_are_in_no_bundled_style_s_training_content(config: Path) -> None:
    content = [PurePosixPath(entry) for entry in tomllib.loads(config.read_text())["content"]]
    measured = [PurePosixPath("flow", name) for pair in HELD_OUT_PAIRS for name in pair]
    assert not [(m, c) for m in measured for c in content if m == c or c in m.parents]


def test_the_metrics_say_what_they_measured_and_time_the_generator_as_apply_runs_it() -> None:
    torch.manual_seed(0)
    generator = Generator(GeneratorConfig(widths=(8, 16, 16), residual_blocks=1)).eval()
    style = [torch.rand(3, 64, 64)]
    pairs = [torch.rand(1, 3, 48, 64).expand(2, -1, -1, -1).clone() for _ in range(2)]
    metrics = measure(generator, style, [pair[0] for pair in pairs], pairs, working_side=144)

    assert all(name in metrics["measured_on"] for pair in HELD_OUT_PAIRS for name in pair)
    assert "seconds_per_frame_720p_cpu" not in metrics  # PyTorch on a whole 720p frame: not what apply does
    assert metrics["generator_seconds_per_frame_720p"] > 0
    # A 1280x720 frame at a working side of 144 runs at 256x144, on OpenVINO, on one thread.
    assert metrics["generator_timing"].startswith("OpenVINO ")
    assert "1 thread" in metrics["generator_timing"] and "256x144" in metrics["generator_timing"]
    assert metrics["temporal_error_of_input"] == pytest.approx(0, abs=1e-9)  # still frames do not flicker
