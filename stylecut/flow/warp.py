"""Backward warping, occlusion masks and synthetic flow fields.

Conventions shared by the whole project: images are float tensors
``(N, C, H, W)``; a flow is ``(N, 2, H, W)`` in pixels, channel 0 = x,
channel 1 = y, and ``flow_ab`` sends pixel ``p`` of image ``a`` to
``p + flow_ab(p)`` in image ``b``. ``warp(img_b, flow_ab)`` therefore
resamples ``b`` onto ``a``'s grid. Pixel ``(x, y)`` sits at integer
coordinates ``0..W-1`` / ``0..H-1``, which is the ``align_corners=True``
convention of :func:`torch.nn.functional.grid_sample`, so a zero flow is an
exact identity. The occlusion test is the forward-backward consistency and
motion-boundary check of Sundaram et al. (ECCV 2010) as used by Ruder et al.
(GCPR 2016) for video style transfer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _pixel_grid(n: int, h: int, w: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    """Pixel coordinates ``(N, 2, H, W)``: channel 0 = x, channel 1 = y."""
    ys, xs = torch.meshgrid(
        torch.arange(h, device=device, dtype=dtype),
        torch.arange(w, device=device, dtype=dtype),
        indexing="ij",
    )
    return torch.stack((xs, ys)).unsqueeze(0).expand(n, 2, h, w)


def warp(image: Tensor, flow: Tensor, mode: str = "bilinear") -> Tensor:
    """Sample ``image`` at ``p + flow(p)`` for every pixel ``p`` of the flow's grid.

    ``mode`` is any ``grid_sample`` mode ("bilinear", "bicubic", "nearest").
    Samples falling outside the image take the nearest border value; callers
    that care mask them with :func:`in_frame_mask`.
    """
    n, _, h, w = flow.shape
    target = _pixel_grid(n, h, w, flow.device, flow.dtype) + flow
    # Normalise to [-1, 1] with the align_corners=True convention (pixel
    # centres at the extremes); max(.., 1) keeps 1-pixel-wide images finite.
    scale = torch.tensor(
        [2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], device=flow.device, dtype=flow.dtype
    ).view(1, 2, 1, 1)
    grid = (target * scale - 1.0).permute(0, 2, 3, 1)
    return F.grid_sample(image, grid, mode=mode, padding_mode="border", align_corners=True)


def in_frame_mask(flow: Tensor) -> Tensor:
    """``(N, 1, H, W)`` float mask: 1 where ``p + flow(p)`` lands inside the frame."""
    n, _, h, w = flow.shape
    target = _pixel_grid(n, h, w, flow.device, flow.dtype) + flow
    x, y = target[:, 0:1], target[:, 1:2]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return inside.to(flow.dtype)


def _squared_gradient_norm(flow: Tensor) -> Tensor:
    """``|grad u|^2 + |grad v|^2`` per pixel, with central differences."""
    padded = F.pad(flow, (1, 1, 1, 1), mode="replicate")
    dx = (padded[:, :, 1:-1, 2:] - padded[:, :, 1:-1, :-2]) * 0.5
    dy = (padded[:, :, 2:, 1:-1] - padded[:, :, :-2, 1:-1]) * 0.5
    return (dx.square() + dy.square()).sum(dim=1, keepdim=True)


def occlusion_mask(flow_ab: Tensor, flow_ba: Tensor | None, stride: int = 1) -> Tensor:
    """``(N, 1, H, W)`` mask on ``a``'s grid: 1 where ``flow_ab`` can be trusted.

    A pixel is 0 when the backward flow does not undo the forward flow
    (``|f + g~|^2 >= 0.01 (|f|^2 + |g~|^2) + 0.5`` with ``g~ = warp(flow_ba,
    flow_ab)``: it was disoccluded or the flow is wrong), when it lies on a
    motion boundary (``|grad u|^2 + |grad v|^2 >= 0.01 |f|^2 + 0.002``) or when
    ``p + f`` leaves the frame. With ``flow_ba=None`` the forward-backward
    test is skipped (for callers that only computed one direction).

    ``stride > 1`` is for flows sampled on a grid ``stride`` times coarser
    than the frame but with vectors still in frame pixels: the thresholds
    then keep their meaning in frame pixels (in coarse-pixel units the
    relative terms would shrink by ``stride**2`` and flag most of a noisy field).
    """
    grid_flow = flow_ab / stride if stride != 1 else flow_ab
    flow_sq = flow_ab.square().sum(dim=1, keepdim=True)
    gradient_sq = _squared_gradient_norm(flow_ab) / stride**2
    mask = (gradient_sq < 0.01 * flow_sq + 0.002).to(flow_ab.dtype) * in_frame_mask(grid_flow)
    if flow_ba is not None:
        back = warp(flow_ba, grid_flow)
        err = (flow_ab + back).square().sum(dim=1, keepdim=True)
        back_sq = back.square().sum(dim=1, keepdim=True)
        mask = mask * (err < 0.01 * (flow_sq + back_sq) + 0.5).to(flow_ab.dtype)
    return mask


def random_smooth_flow(
    n: int, h: int, w: int, max_disp: float, generator: torch.Generator | None = None
) -> Tensor:
    """A random smooth flow ``(N, 2, H, W)`` whose vectors never exceed ``max_disp`` px.

    The field is a global affine motion (translation, rotation, zoom, shear:
    what a camera does) plus a local deformation (bicubically upsampled
    4x4-ish noise: what objects do), rescaled so that its longest vector is
    between a quarter of and exactly ``max_disp``. Training uses it to make a
    second frame with known flow from a still image: with ``img`` as frame b,
    ``warp(img, flow)`` is a frame a whose flow to b is ``flow``. Made on the CPU.
    """

    def rand(*shape: int) -> Tensor:
        return torch.rand(*shape, generator=generator) * 2.0 - 1.0

    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    coords = torch.stack((xs, ys)).view(1, 2, h * w)
    affine = (rand(n, 2, 2) @ coords + rand(n, 2, 1)).view(n, 2, h, w)

    coarse = (max(2, round(4 * h / max(h, w))), max(2, round(4 * w / max(h, w))))
    local = F.interpolate(rand(n, 2, *coarse), size=(h, w), mode="bicubic", align_corners=True)

    field = affine + local
    longest = field.square().sum(dim=1).sqrt().amax(dim=(1, 2)).clamp_min(1e-6)
    target = max_disp * (0.25 + 0.75 * torch.rand(n, generator=generator))
    return field * (target / longest).view(n, 1, 1, 1)
