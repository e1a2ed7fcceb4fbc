"""The generator: any frame size in, the same size out, in [0, 1]; configs round-trip."""

import pytest
import torch

from stylecut.models.generator import Generator, GeneratorConfig


@pytest.mark.parametrize("size", [(47, 63), (64, 64), (17, 9), (360, 640)])
def test_output_matches_input_size_and_range(size):
    generator = Generator(GeneratorConfig(widths=(8, 16, 16), residual_blocks=1)).eval()
    with torch.no_grad():
        out = generator(torch.rand(2, 3, *size))
    assert out.shape == (2, 3, *size)
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0


def test_config_round_trips_through_dict():
    config = GeneratorConfig(widths=(12, 24, 48), residual_blocks=3, stem_kernel=3)
    assert GeneratorConfig.from_dict(config.to_dict()) == config


def test_default_generator_is_small_enough_for_a_cpu():
    params = sum(p.numel() for p in Generator().parameters())
    # The classic Johnson et al. network has 1.68M parameters; ours must stay far below.
    assert params < 600_000
