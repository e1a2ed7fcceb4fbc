"""The generator: any frame size in, the same size out, in [0, 1]; configs round-trip; anti-aliasing."""

import pytest
import torch

from stylecut.models.generator import Generator, GeneratorConfig


@pytest.mark.parametrize("size", [(47, 63), (64, 64), (17, 9), (360, 640)])
@pytest.mark.parametrize("antialias", [False, True])
def test_output_matches_input_size_and_range(size, antialias):
    config = GeneratorConfig(widths=(8, 16, 16), residual_blocks=1, antialias=antialias)
    generator = Generator(config).eval()
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


def _off_grid_change(generator: Generator, frame: torch.Tensor) -> float:
    """How much more the output changes under a 3 px shift than under an 8 px one (the bottleneck's stride)."""

    def change(shift: int) -> float:
        with torch.no_grad():
            moved = generator(frame[..., shift:, shift:])
            expected = generator(frame)[..., shift:, shift:]
        inner = (..., slice(8, -16), slice(8, -16))  # away from the reflection-padded borders
        return float((moved[inner] - expected[inner]).abs().mean())

    return change(3) / change(8)


@pytest.mark.parametrize("seed", [0, 1])
def test_antialiasing_ties_the_output_less_to_the_networks_grid(seed):
    frame = torch.nn.functional.interpolate(torch.rand(1, 3, 16, 16), size=(96, 96), mode="bicubic")
    frame = frame.clamp(0, 1)
    ratios = {}
    for antialias in (False, True):
        torch.manual_seed(seed)
        config = GeneratorConfig(widths=(8, 16, 16), residual_blocks=1, antialias=antialias)
        ratios[antialias] = _off_grid_change(Generator(config).eval(), frame)
    assert ratios[True] < 0.75 * ratios[False]


def test_files_made_before_antialiasing_build_the_earlier_network():
    earlier = {"widths": [16, 32, 64], "residual_blocks": 5, "stem_kernel": 5}
    assert GeneratorConfig.from_dict(earlier).antialias is False
    assert GeneratorConfig.from_dict(GeneratorConfig().to_dict()).antialias is True
