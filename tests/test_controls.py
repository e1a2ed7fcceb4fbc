"""The editor's controls on `apply`: --strength, --keep-colours, --scale.

The pure functions are checked on synthetic frames; the end-to-end runs use a tiny lavfi clip and the tiny
random style, and compare decoded outputs with the decoded input (H.264 4:2:0 on both sides, so equality
holds only within the codec's tolerance).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from stylecut.errors import UsageError
from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.pipeline.controls import Controls, working_size
from stylecut.pipeline.pixel_controls import blend, finish, keep_colours
from stylecut.pipeline.stylise import ApplyOptions, ClipStyliser
from stylecut.styles.style_file import load_generator
from stylecut.video.decode import iter_frames
from stylecut.video.encode import VideoWriter
from stylecut.video.probe import probe

import media
from cli_support import assert_one_sentence, run_cli

FAST = ("--preset", "ultrafast", "--crf", "0")  # lossless x264: what is left is the RGB <-> 4:2:0 round trip


def _frames(seed: int, n: int = 2, size: tuple[int, int] = (24, 32)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, *size, 3), dtype=np.uint8)


def _chroma(frames: np.ndarray) -> np.ndarray:
    return np.stack([cv2.cvtColor(f.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)[..., 1:] for f in frames])


def _lightness(frames: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frames[0].astype(np.float32) / 255, cv2.COLOR_RGB2Lab)[..., 0]


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(_lightness(a).ravel(), _lightness(b).ravel())[0, 1])


def _luma(frames: np.ndarray) -> np.ndarray:
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])


def _mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


# -- pure functions ---------------------------------------------------------------------------------------


def test_no_controls_and_strength_zero_pass_frames_through_untouched():
    stylised, originals = _frames(0), _frames(1)
    assert finish(stylised, originals, Controls()) is stylised
    assert finish(stylised, originals, Controls(strength=0.0)) is originals
    assert finish(stylised, originals, Controls(strength=0.0, keep_colours=True)) is originals


def test_pixel_strength_lies_between_input_and_stylisation():
    stylised, originals = _frames(0), _frames(1)
    half = finish(stylised, originals, Controls(strength=0.5)).astype(int)
    low, high = np.minimum(stylised, originals).astype(int), np.maximum(stylised, originals).astype(int)
    assert ((low <= half) & (half <= high)).all()
    assert np.abs(half - (stylised.astype(int) + originals) / 2).max() <= 0.5


def test_keep_colours_keeps_the_inputs_chroma_and_exposure():
    rng = np.random.default_rng(2)
    # Moderate colours, so that the kept chroma fits in the RGB gamut at the new lightness.
    original = (rng.uniform(0.3, 0.7, (1, 24, 32, 3)) * 255).astype(np.uint8)
    stylised = (rng.uniform(0.0, 0.4, (1, 24, 32, 3)) * 255).astype(np.uint8)  # darker, other colours
    kept = finish(stylised, original, Controls(keep_colours=True))
    assert _mean_abs(_chroma(kept), _chroma(original)) < 1.5 < _mean_abs(_chroma(stylised), _chroma(original))
    assert abs(_lightness(kept).mean() - _lightness(original).mean()) < 1.0
    # The texture is the stylisation's: its lightness, not the original's, up to the matched mean and spread.
    assert _correlation(kept, stylised) > 0.95 > _correlation(kept, original)


def test_keep_colours_of_the_input_itself_is_the_input():
    frame = _frames(3, n=1)[0]
    assert np.abs(np.rint(keep_colours(frame, frame) * 255) - frame).max() <= 1


def test_blend_is_linear_in_strength():
    layer, original = np.full((2, 2, 3), 1.0, np.float32), np.zeros((2, 2, 3), np.uint8)
    assert np.allclose(blend(layer, original, 0.25), 0.25)


@pytest.mark.parametrize(
    ("size", "scale", "max_side", "expected"),
    [
        ((640, 360), 1.0, None, (360, 640)),
        ((640, 360), 0.5, None, (180, 320)),
        ((640, 360), 2.0, None, (720, 1280)),
        ((640, 360), 1.0, 320, (180, 320)),  # --max-side alone, as before
        ((640, 360), 0.5, 256, (144, 256)),  # the cap applies after the scale
        ((640, 360), 0.25, 256, (90, 160)),  # a cap above the scaled size changes nothing
        ((64, 48), 0.1, None, (16, 16)),  # never below what the generator needs
    ],
)
def test_working_size(size, scale, max_side, expected):
    assert working_size(*size, scale=scale, max_side=max_side) == expected


@pytest.mark.parametrize(
    "values",
    [
        {"strength": 1.5},
        {"strength": -0.1},
        {"strength": float("nan")},
        {"scale": 0.0},
        {"scale": 3.0},
        {"scale": float("inf")},
    ],
)
def test_out_of_range_controls_are_usage_errors(values):
    with pytest.raises(UsageError):
        Controls(**values)


# -- the feature-space strength ----------------------------------------------------------------------------


def test_bottleneck_gain_weighs_the_residual_path_against_the_skip():
    torch.manual_seed(0)
    generator = Generator(GeneratorConfig(widths=(8, 16, 16), residual_blocks=2)).eval()
    x = torch.rand(1, 3, 40, 56)
    with torch.no_grad():
        assert torch.equal(generator.with_bottleneck_gain(1.0)(x), generator(x))
        # At gain 0 the residual blocks no longer matter: the decoder sees only the encoder's skip.
        silent = generator.with_bottleneck_gain(0.0)
        before = silent(x)
        for p in silent.residual.parameters():
            p.add_(torch.randn_like(p))
        assert torch.allclose(silent(x), before, atol=1e-6)
        half = generator.with_bottleneck_gain(0.5)(x)
        assert not torch.allclose(half, generator(x), atol=1e-3)
    untouched = generator.with_bottleneck_gain(0.5)
    assert torch.equal(generator.up[0].conv[1].weight * 0.5, untouched.up[0].conv[1].weight)
    # A copy: the style's own generator is unchanged.
    assert generator.up[0].conv[1].weight is not untouched.up[0].conv[1].weight


# -- end to end on a tiny clip -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip(make_clip):
    return make_clip(frames=6)


@pytest.fixture(scope="module")
def outputs(clip, tiny_style, tmp_path_factory):
    """The tiny clip through `apply` with each control; decoded frames by name."""
    folder = tmp_path_factory.mktemp("controls")
    runs = {
        "full": (),
        "zero": ("--strength", "0"),
        "half": ("--strength", "0.5"),
        "colours": ("--keep-colours",),
    }
    decoded = {"input": media.decode_reference(clip)}
    for name, flags in runs.items():
        target = folder / f"{name}.mp4"
        result = run_cli("apply", clip, "--style", tiny_style, "-o", target, *FAST, *flags)
        assert result.exit_code == 0, result.stderr
        decoded[name] = media.decode_reference(target)
    return decoded


def test_strength_zero_writes_the_decoded_frames_bit_exact(clip, tiny_style, tmp_path, monkeypatch):
    written = []
    original_write = VideoWriter.write
    monkeypatch.setattr(
        VideoWriter,
        "write",
        lambda self, frames: (written.append(frames.copy()), original_write(self, frames)),
    )
    info = probe(clip)
    generator, _ = load_generator(tiny_style)
    options = ApplyOptions(controls=Controls(strength=0.0, scale=0.5))
    ClipStyliser(generator, options).run(info, tmp_path / "o.mp4")
    assert np.array_equal(np.concatenate(written), np.concatenate(list(iter_frames(info, 4))))


def test_strength_zero_gives_the_input_back_and_a_half_lies_between(outputs):
    source, full, zero, half = outputs["input"], outputs["full"], outputs["zero"], outputs["half"]
    assert zero.shape == source.shape
    # What is left is the codec's RGB -> 4:2:0 -> RGB round trip, large only on the test pattern's saturated
    # colour edges (chroma at half resolution): measured 2.3 on average, luma 0.9.
    assert _mean_abs(zero, source) < 3.0 and _mean_abs(_luma(zero), _luma(source)) < 1.5
    apart = _mean_abs(full, source)
    assert apart > 20  # the tiny style changes the clip a lot, so the comparisons below mean something
    assert _mean_abs(half, source) < 0.75 * apart and _mean_abs(half, full) < 0.75 * apart


def test_keep_colours_keeps_the_clips_chroma(outputs):
    source, full, kept = outputs["input"], outputs["full"], outputs["colours"]
    kept_error = np.abs(_chroma(kept) - _chroma(source))
    full_error = _mean_abs(_chroma(full), _chroma(source))
    # The codec alone moves the test pattern's Lab chroma by 0.6 (median). Its colours sit at the edge of the
    # RGB gamut, so where the lightness changes they are clipped: the mean error is 8, the style's own 40.
    assert np.median(kept_error) < 4.0
    assert kept_error.mean() < 0.25 * full_error


def test_scale_sets_the_working_size(clip, tiny_style, tmp_path):
    generator, _ = load_generator(tiny_style)
    seen = set()
    generator.register_forward_hook(lambda module, args, out: seen.add(tuple(args[0].shape[-2:])))
    info = probe(clip)  # 64x48
    for scale, max_side, expected in (
        (1.0, None, (48, 64)),
        (0.5, None, (24, 32)),
        (2.0, None, (96, 128)),
        (2.0, 64, (48, 64)),
    ):
        seen.clear()
        target = tmp_path / f"{scale}-{max_side}.mp4"
        options = ApplyOptions(max_side=max_side, controls=Controls(scale=scale))
        ClipStyliser(generator, options).run(info, target)
        assert seen == {expected}
        assert (probe(target).display_width, probe(target).frame_count) == (64, info.frame_count)


@pytest.mark.parametrize(
    "flags, problem",
    [
        (("--strength", "1.5"), "--strength"),
        (("--strength", "nan"), "--strength"),
        (("--scale", "0"), "--scale"),
    ],
)
def test_bad_control_values_are_usage_errors(clip, tiny_style, stylecut_home, tmp_path, flags, problem):
    result = run_cli("apply", clip, "--style", tiny_style, "-o", tmp_path / "out.mp4", *flags)
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, problem)
    assert not (tmp_path / "out.mp4").exists()
