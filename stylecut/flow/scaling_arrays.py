"""scaling.py's flow at reduced resolution, on numpy arrays for the light path (the same sizes and the
same resampling: frame_arrays.shrink down, bilinear with pixel centres up)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from stylecut.frame_arrays import shrink

# The longer side flow is computed at by default: enough for temporal fusion, and fast on a CPU.
WORKING_SIZE = 512


def max_side_size(h: int, w: int, max_side: int) -> tuple[int, int] | None:
    """The size ``h x w`` is shrunk to for a longer side of at most ``max_side``; None when it fits."""
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return None
    return max(1, round(h * scale)), max(1, round(w * scale))


def flow_at_max_side(
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray], a: np.ndarray, b: np.ndarray, max_side: int
) -> np.ndarray:
    """``compute(a, b)`` on ``(N, C, H, W)`` arrays, at most ``max_side`` a side, at ``a``'s size."""
    size = max_side_size(*a.shape[-2:], max_side)
    if size is None:
        return compute(a, b)
    return grow_flow(compute(shrink(a, size), shrink(b, size)), a.shape[-2:])


def grow_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(N, 2, h, w)`` flows upsampled to ``size``, their vectors in that size's pixels."""
    h, w = size
    factors = np.array([w / flow.shape[-1], h / flow.shape[-2]], np.float32)
    grown = [cv2.resize(np.moveaxis(f, 0, -1), (w, h), interpolation=cv2.INTER_LINEAR) for f in flow]
    return np.stack(grown).transpose(0, 3, 1, 2) * factors.reshape(1, 2, 1, 1)
