"""Running a flow estimator at reduced resolution.

Flow for temporal consistency does not need full 1080p detail, and both
backends get slower (DIS) or run out of memory (RAFT's all-pairs correlation
volume grows with the square of the pixel count) on large frames. So the
frames are downscaled until their longer side is at most ``max_side``, the
flow is computed there, upsampled bilinearly and its vectors multiplied by
the scale factor of each axis. Both resamplings use the pixel-centre
(``align_corners=False``) convention, under which a displacement of ``d``
small pixels is exactly ``d * W / w`` full-size pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from stylecut.flow.scaling_arrays import WORKING_SIZE, max_side_size
from stylecut.frames import shrink

__all__ = ["WORKING_SIZE", "flow_at_max_side", "grow_flow", "shrink_to_max_side"]


def flow_at_max_side(
    compute: Callable[[Tensor, Tensor], Tensor], a: Tensor, b: Tensor, max_side: int
) -> Tensor:
    """``compute(a, b)`` evaluated with the longer side capped at ``max_side``.

    ``compute`` takes and returns batched tensors; the result has ``a``'s
    spatial size whatever size ``compute`` saw.
    """
    small_a = shrink_to_max_side(a, max_side)
    if small_a is a:
        return compute(a, b)
    return grow_flow(compute(small_a, shrink_to_max_side(b, max_side)), a.shape[-2:])


def shrink_to_max_side(images: Tensor, max_side: int) -> Tensor:
    """``(N, C, H, W)`` images with the longer side at most ``max_side`` (unchanged when already small)."""
    size = max_side_size(*images.shape[-2:], max_side)
    return images if size is None else shrink(images, size)


def grow_flow(flow: Tensor, size: tuple[int, int]) -> Tensor:
    """A flow computed on shrunk frames, upsampled to ``size`` with its vectors in that size's pixels."""
    h, w = size
    if flow.shape[-2:] == (h, w):
        return flow
    factors = torch.tensor([w / flow.shape[-1], h / flow.shape[-2]], device=flow.device, dtype=flow.dtype)
    return F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False) * factors.view(1, 2, 1, 1)
