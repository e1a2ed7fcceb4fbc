"""Moving images and fields between a frame's grid and a grid ``scale`` times coarser.

A coarse cell ``q`` covers the frame pixels ``scale*q .. scale*q + scale - 1``,
so its centre sits at frame coordinate ``scale*q + (scale - 1) / 2``: box
filtering down and pixel-centre (``align_corners=False``) bilinear
interpolation up share that convention, and a displacement of ``d`` frame
pixels is ``d / scale`` coarse cells. Sides that do not divide are padded by
replicating the last row or column, so the coarse grid is
``ceil(H / scale) x ceil(W / scale)``.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def _pad_to_multiple(x: Tensor, scale: int) -> Tensor:
    """``x`` with its last row and column repeated until both sides divide by ``scale``."""
    h, w = x.shape[-2:]
    pad_h, pad_w = -h % scale, -w % scale
    return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else x


def downscale(x: Tensor, scale: int) -> Tensor:
    """Box-filter ``(N, C, H, W)`` down by ``scale``."""
    if scale == 1:
        return x
    return F.avg_pool2d(_pad_to_multiple(x, scale), scale)


def sample_down(x: Tensor, scale: int) -> Tensor:
    """A smooth field (a flow) at the coarse cell centres: cheaper than :func:`downscale`, same grid."""
    if scale == 1:
        return x
    x = _pad_to_multiple(x, scale)
    # With align_corners=False, coarse cell q samples the frame at scale*q + (scale - 1)/2: its centre.
    return F.interpolate(x, scale_factor=1 / scale, mode="bilinear", align_corners=False)


def upscale(x: Tensor, scale: int, h: int, w: int) -> Tensor:
    """Bilinear upscale of a coarse ``(N, C, h', w')`` by ``scale``, cropped to ``h x w``."""
    if scale == 1:
        return x[..., :h, :w]
    n, c = x.shape[:2]
    # One channel per image: with several channels the CPU kernel round-trips
    # through channels-last copies and takes 2-3x longer.
    up = F.interpolate(
        x.reshape(n * c, 1, *x.shape[-2:]), scale_factor=scale, mode="bilinear", align_corners=False
    )
    return up.view(n, c, *up.shape[-2:])[..., :h, :w]
