"""Detail at the clip's size for a stylisation made at a smaller working size.

A style with a working size paints its strokes there, so they keep their size relative to the frame at
any resolution; scaled back up alone, the picture would be as soft as the working size at 100% (a 1080p
clip stylised at 480 lines and enlarged has a fifth of the footage's fine contrast). What the working size
cannot hold is exactly the footage's band above it: its lightness minus the same lightness taken down to
the working size and back up. That band is added to every channel of the enlarged stylisation, so edges,
hair and texture are as crisp as the footage's while colours, strokes and shapes stay the painting's. Flat
areas have no such band, so nothing is printed on a sky.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# The band is added equally to R, G and B, so it changes lightness, not hue.
from stylecut.frames import LUMA


def enlarge(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(N, C, h, w)`` scaled to ``size`` (height, width) the way stylisations are scaled back: bicubic."""
    return F.interpolate(frames, size=size, mode="bicubic", align_corners=False)


def _luma(frames: torch.Tensor) -> torch.Tensor:
    weights = torch.tensor(LUMA, dtype=frames.dtype, device=frames.device).view(1, 3, 1, 1)
    return (frames * weights).sum(1, keepdim=True)


def with_detail(stylised: torch.Tensor, frames: torch.Tensor, small: torch.Tensor) -> torch.Tensor:
    """The ``(N, 3, h, w)`` stylisation at the size of its ``(N, 3, H, W)`` frames, with their fine detail.

    ``small`` is the frames as the network saw them, :func:`~stylecut.frames.shrink` to the working size ``(h, w)``: the
    band is the frames' lightness minus that of ``small`` enlarged (lightness is linear, so taking it
    before or after shrinking is the same, and the pipeline has shrunk the frames already). Only for a
    working size below the frames' size; all in [0, 1], the result clamped to it.
    """
    size = frames.shape[-2:]
    band = _luma(frames) - enlarge(_luma(small), size)
    return (enlarge(stylised, size) + band).clamp_(0, 1)
