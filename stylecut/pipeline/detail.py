"""Detail at the clip's size for a stylisation made at a smaller working size.

A style with a working size paints its strokes there, so they keep their size relative to the frame at
any resolution; scaled back up alone, the picture would be as soft as the working size at 100% (a 1080p
clip stylised at 480 lines and enlarged has a fifth of the footage's fine contrast). What the working size
cannot hold is exactly the footage's band above it: its lightness minus the same lightness taken down to
the working size and back up. That band is added to every channel of the enlarged stylisation, so edges,
hair and texture are as crisp as the footage's while colours, strokes and shapes stay the painting's. Flat
areas have no such band, so nothing is printed on a sky. A style with a revision network
(models/revision.py) repaints that sum instead, with strokes and texture learned from the painting.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# The band is added equally to R, G and B, so it changes lightness, not hue.
from stylecut.frames import LUMA, shrink
from stylecut.pipeline.controls import REVISION_MAX_SIDE, working_size
from stylecut.runtime.runner import Runner


def enlarge(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(N, C, h, w)`` scaled to ``size`` (height, width) the way stylisations are scaled back: bicubic."""
    return F.interpolate(frames, size=size, mode="bicubic", align_corners=False)


def _luma(frames: torch.Tensor) -> torch.Tensor:
    weights = torch.tensor(LUMA, dtype=frames.dtype, device=frames.device).view(1, 3, 1, 1)
    return (frames * weights).sum(1, keepdim=True)


def fine_band(frames: torch.Tensor, small: torch.Tensor) -> torch.Tensor:
    """The ``(N, 1, H, W)`` lightness of the ``(N, 3, H, W)`` frames that their working-size copy ``small``
    cannot hold: the frames' lightness minus that of ``small`` enlarged (lightness is linear, so taking it
    before or after shrinking is the same, and the pipeline has shrunk the frames already)."""
    return _luma(frames) - enlarge(_luma(small), frames.shape[-2:])


def with_detail(
    stylised: torch.Tensor, frames: torch.Tensor, small: torch.Tensor, revision: Runner | None = None
) -> torch.Tensor:
    """The ``(N, 3, h, w)`` stylisation at the size of its ``(N, 3, H, W)`` frames, with their fine detail.

    ``small`` is the frames as the network saw them, :func:`~stylecut.frames.shrink` to the working size
    ``(h, w)``. The enlarged stylisation and the frames' :func:`fine_band` go through the style's
    ``revision`` network (models/revision.py) when it has one, else the band is added as it is. The
    revision runs at most at :data:`REVISION_MAX_SIDE` on the short side, the largest size it was trained
    at (above it, on a 4K frame, it printed a stipple on flat walls, and it costs four times as much):
    its picture is enlarged from there and the band above that size added as it is. Only for a working
    size below the frames' size; all in [0, 1], the result clamped to it.
    """
    size = frames.shape[-2:]
    if revision is None:
        return (enlarge(stylised, size) + fine_band(frames, small)).clamp_(0, 1)
    revised_size = working_size(size[1], size[0], working_side=REVISION_MAX_SIDE)
    if revised_size == tuple(size):
        return revision(enlarge(stylised, size), fine_band(frames, small))
    middle = shrink(frames, revised_size)
    revised = revision(enlarge(stylised, revised_size), fine_band(middle, small))
    return (enlarge(revised, size) + fine_band(frames, middle)).clamp_(0, 1)
