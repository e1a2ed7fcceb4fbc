"""Detail restored at the clip's size for a stylisation made at a smaller working size (pipeline/detail.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stylecut.frames import shrink
from stylecut.pipeline.detail import enlarge, with_detail

LAPLACIAN = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3)


def mean_abs_laplacian(frames: torch.Tensor) -> float:
    return float(F.conv2d(frames.mean(1, keepdim=True), LAPLACIAN).abs().mean())


def textured_frame(size: int = 96) -> torch.Tensor:
    """Fine texture (noise) over a smooth gradient, in [0, 1]."""
    torch.manual_seed(0)
    ramp = torch.linspace(0.2, 0.8, size).view(1, 1, 1, size).expand(1, 3, size, size)
    return (ramp + 0.1 * torch.rand(1, 1, size, size)).clamp(0, 1)


def test_the_footage_detail_is_as_sharp_as_the_footage():
    frame = textured_frame()
    working = (40, 40)
    small = shrink(frame, working)
    stylised = small.flip(1)  # any stylisation at the working size: here, channels swapped
    enlarged = enlarge(stylised, frame.shape[-2:])
    restored = with_detail(stylised, frame, small)
    assert restored.shape == frame.shape
    assert mean_abs_laplacian(enlarged) < 0.3 * mean_abs_laplacian(frame)  # scaled up alone: soft
    assert mean_abs_laplacian(restored) > 0.8 * mean_abs_laplacian(frame)
    # The detail is lightness only, the same in R, G and B: the stylisation's colours stay.
    added = restored - enlarged
    assert torch.allclose(added[:, 0], added[:, 1], atol=1e-5) and torch.allclose(
        added[:, 0], added[:, 2], atol=1e-5
    )


def test_a_flat_frame_gets_nothing_printed_on_it():
    frame = torch.full((1, 3, 64, 64), 0.4)
    stylised = torch.rand(1, 3, 24, 24)
    restored = with_detail(stylised, frame, shrink(frame, (24, 24)))
    assert torch.allclose(restored, enlarge(stylised, (64, 64)).clamp(0, 1), atol=1e-5)
