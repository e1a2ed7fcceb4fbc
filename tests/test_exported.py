"""Networks exported for the light runtime: written with their weights, equal to PyTorch, loaded safely."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from stylecut.errors import StyleError, UsageError
from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.runtime.export import export_network
from stylecut.runtime.exported import GENERATOR, TEMPORAL, compiled_cache, load_exported
from stylecut.styles.metadata import STYLE_FILE
from stylecut.styles.registry import bundled_styles
from stylecut.styles.style_file import load_generator, save_style
from stylecut.temporal.recurrent import RecurrentConfig, RecurrentTemporal
from stylecut.temporal.recurrent_file import TEMPORAL_FILE, bundled_recurrent, save_recurrent
from stylecut.weights_file import EXPORTED, read_document, save_weights

from cli_support import make_style

TOLERANCE = 1e-4  # fp32 on both sides; anything near 1/255 would be a wrong graph


def run_generator(path: Path, frames: torch.Tensor, gain: float, sha256: str | None = None) -> np.ndarray:
    network = load_exported(path, STYLE_FILE, GENERATOR, sha256, threads=1)
    return network({"frames": frames.numpy(), "gain": np.array([gain], np.float32)})[0]


@pytest.mark.parametrize("gain", [1.0, 0.5, 0.0])
def test_a_saved_style_carries_its_generator_exported_at_every_strength(tmp_path, gain):
    path = make_style(tmp_path / "tiny.safetensors", "tiny")
    generator, _ = load_generator(path)
    frames = torch.rand(1, 3, 45, 70, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        expected = generator.with_bottleneck_gain(gain)(frames).numpy()
    assert np.abs(run_generator(path, frames, gain) - expected).max() < TOLERANCE


def test_a_single_width_generator_exports_too(tmp_path):
    generator = Generator(GeneratorConfig(widths=(8,), residual_blocks=1)).eval()
    path = tmp_path / "flat.safetensors"
    save_style(path, generator, {"name": "flat", "style_image": "flat.png", "description": ""})
    frames = torch.rand(1, 3, 32, 40)
    with torch.inference_mode():
        expected = generator(frames).numpy()
    assert np.abs(run_generator(path, frames, 0.5) - expected).max() < TOLERANCE


def test_the_temporal_network_is_exported_with_its_weights(tmp_path):
    stage = RecurrentTemporal(RecurrentConfig(features=8, hidden=8)).eval()
    path = tmp_path / "temporal.safetensors"
    save_recurrent(path, stage, {})
    seeded = torch.Generator().manual_seed(2)
    x = torch.rand(1, 22, 23, 31, generator=seeded)
    hidden = torch.rand(stage.net.hidden_shape(1, 23, 31), generator=seeded)
    with torch.inference_mode():
        expected = stage.net(x, hidden)
    network = load_exported(path, TEMPORAL_FILE, TEMPORAL, None, threads=1)
    outputs = network({"x": x.numpy(), "hidden": hidden.numpy()})
    for got, want in zip(outputs, expected, strict=True):
        assert np.abs(got - want.numpy()).max() < TOLERANCE


def test_every_bundled_network_holds_its_export_under_its_checksum():
    frames = torch.rand(1, 3, 48, 64, generator=torch.Generator().manual_seed(3))
    for entry in bundled_styles():
        generator, _ = load_generator(entry.path, entry.sha256)
        with torch.inference_mode():
            expected = generator(frames).numpy()
        assert np.abs(run_generator(entry.path, frames, 1.0, entry.sha256) - expected).max() < TOLERANCE
    path, sha256 = bundled_recurrent()
    assert load_exported(path, TEMPORAL_FILE, TEMPORAL, sha256, threads=1).inputs == ("x", "hidden")


def test_a_compiled_network_is_kept_for_the_next_command(stylecut_home, tmp_path):
    path = make_style(tmp_path / "tiny.safetensors", "tiny")
    first = load_exported(path, STYLE_FILE, GENERATOR, None, threads=1)
    assert not first.compiled.get_property("LOADED_FROM_CACHE")
    assert list(compiled_cache().iterdir())
    again = load_exported(path, STYLE_FILE, GENERATOR, None, threads=1)
    assert again.compiled.get_property("LOADED_FROM_CACHE")


def test_a_cache_folder_that_cannot_be_made_is_done_without(monkeypatch, tmp_path):
    path = make_style(tmp_path / "tiny.safetensors", "tiny")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("STYLECUT_HOME", str(blocker / "home"))
    frames = torch.rand(1, 3, 32, 40)
    generator, _ = load_generator(path)
    with torch.inference_mode():
        expected = generator(frames).numpy()
    assert np.abs(run_generator(path, frames, 1.0) - expected).max() < TOLERANCE


def test_the_weights_loader_leaves_the_export_aside(tmp_path):
    path = make_style(tmp_path / "tiny.safetensors", "tiny")
    stored = load_file(str(path))
    assert {key for key in stored if key.startswith(EXPORTED)} == {
        f"{EXPORTED}generator.xml",
        f"{EXPORTED}generator.bin",
    }
    generator, _ = load_generator(path)
    assert set(generator.state_dict()) == {key for key in stored if not key.startswith(EXPORTED)}


class Exp(torch.nn.Module):
    def forward(self, frames: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
        return torch.exp(frames) * gain


def rewrite(path: Path, exported: dict[str, np.ndarray]) -> None:
    """``path`` with its weights and metadata, and ``exported`` in place of its export."""
    tensors = {key: value for key, value in load_file(str(path)).items() if not key.startswith(EXPORTED)}
    save_weights(path, STYLE_FILE, tensors, read_document(path, STYLE_FILE), exported)


def test_an_export_with_operations_stylecut_does_not_write_is_refused(tmp_path):
    path = make_style(tmp_path / "tiny.safetensors", "tiny")
    rewrite(path, export_network(GENERATOR, Exp(), (torch.rand(1, 3, 16, 16), torch.ones(1))))
    with pytest.raises(StyleError, match="holds operations stylecut does not write"):
        load_exported(path, STYLE_FILE, GENERATOR, None, threads=1)


class Renamed(torch.nn.Module):
    """Operations a generator has, and inputs it has not."""

    def forward(self, x: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x) * gain


def test_an_export_with_other_inputs_than_its_network_is_refused(tmp_path):
    path = make_style(tmp_path / "tiny.safetensors", "tiny")
    rewrite(path, export_network(GENERATOR, Renamed(), (torch.rand(1, 3, 16, 16), torch.ones(1))))
    with pytest.raises(StyleError, match="does not take and give what a generator does"):
        load_exported(path, STYLE_FILE, GENERATOR, None, threads=1)


@pytest.mark.parametrize(
    ("exported", "problem"),
    [
        ({}, "holds no generator exported for OpenVINO"),
        (
            {
                f"{EXPORTED}generator.xml": np.zeros(4, np.float32),
                f"{EXPORTED}generator.bin": np.zeros(4, np.uint8),
            },
            "is not two byte arrays",
        ),
        (
            {
                f"{EXPORTED}generator.xml": np.frombuffer(b"<net>", np.uint8),
                f"{EXPORTED}generator.bin": np.zeros(4, np.uint8),
            },
            "is not a readable OpenVINO model",
        ),
    ],
)
def test_a_missing_or_damaged_export_is_one_sentence(tmp_path, exported, problem):
    path = make_style(tmp_path / "tiny.safetensors", "tiny")
    rewrite(path, exported)
    with pytest.raises(UsageError, match=problem) as caught:
        load_exported(path, STYLE_FILE, GENERATOR, None, threads=1)
    assert str(caught.value).count(". ") == 0 and str(caught.value).endswith(".")
