"""scaling.py's flow at reduced resolution, on numpy arrays for the light path (the same sizes and the
same resampling: frame_arrays.shrink down, bilinear with pixel centres up)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


def flows_at_max_side(
    compute: Callable[[np.ndarray], Sequence[np.ndarray]], frames: np.ndarray, max_side: int
) -> list[np.ndarray]:
    """The flows ``compute(frames)`` gives for ``(N, C, H, W)`` frames, computed on them shrunk to at most
    ``max_side`` a side (each frame once), at the frames' size."""
    size = max_side_size(*frames.shape[-2:], max_side)
    if size is None:
        return list(compute(frames))
    return [grow_flow(flow, frames.shape[-2:]) for flow in compute(shrink(frames, size))]


def grow_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(N, 2, h, w)`` flows upsampled to ``size``, their vectors in that size's pixels."""
    h, w = size
    factors = np.array([w / flow.shape[-1], h / flow.shape[-2]], np.float32).reshape(2, 1, 1)
    grown = np.empty((len(flow), 2, h, w), np.float32)
    for f, out in zip(flow, grown):
        # Both components in one resize: OpenCV resamples a single plane another way (up to 1e-3 apart).
        both = cv2.resize(np.moveaxis(f, 0, -1), (w, h), interpolation=cv2.INTER_LINEAR)
        np.multiply(both.transpose(2, 0, 1), factors, out=out)
    return grown
