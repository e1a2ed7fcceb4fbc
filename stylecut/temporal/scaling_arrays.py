"""scaling.py's moves between a frame's grid and a coarser one, on numpy arrays for the light path: the
same cells, the same padding, the same sampling."""

from __future__ import annotations

import cv2
import numpy as np


def cells_box(cells: np.ndarray, scale: int, h: int, w: int) -> tuple[slice, slice] | None:
    """The rows and columns of an ``h x w`` frame that the cells set in a coarse ``(N, 1, h', w')`` mask (in
    any sample) reach once upsampled, with a cell to spare for a 3x3 filter after; None where none is set."""
    rows, cols = np.nonzero(cells.any(axis=(0, 1)))
    if not len(rows):
        return None
    return (
        slice(max((int(rows.min()) - 2) * scale, 0), min((int(rows.max()) + 3) * scale, h)),
        slice(max((int(cols.min()) - 2) * scale, 0), min((int(cols.max()) + 3) * scale, w)),
    )


def _pad_to_multiple(x: np.ndarray, scale: int) -> np.ndarray:
    h, w = x.shape[-2:]
    pad_h, pad_w = -h % scale, -w % scale
    return np.pad(x, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode="edge") if pad_h or pad_w else x


def downscale(x: np.ndarray, scale: int) -> np.ndarray:
    """Box-filter ``(N, C, H, W)`` down by ``scale``: OpenCV's area resampling, which for a whole factor is
    the blocks' mean, at a third of the time numpy's mean over the strided blocks took."""
    if scale == 1:
        return x
    x = _pad_to_multiple(x, scale)
    n, c, h, w = x.shape
    size = (w // scale, h // scale)
    means = [
        cv2.resize(np.ascontiguousarray(np.moveaxis(image, 0, -1)), size, interpolation=cv2.INTER_AREA)
        for image in x
    ]
    return np.stack(means).reshape(n, *size[::-1], c).transpose(0, 3, 1, 2).astype(np.float32, copy=False)


def sample_down(x: np.ndarray, scale: int) -> np.ndarray:
    """A smooth field at the coarse cell centres (bilinear at ``scale * q + (scale - 1) / 2``)."""
    if scale == 1:
        return x
    x = _pad_to_multiple(x, scale)
    first, frac = divmod((scale - 1) / 2, 1)
    first = int(first)
    rows = x[:, :, first::scale] * (1 - frac) + x[:, :, first + 1 :: scale] * frac
    return rows[..., first::scale] * (1 - frac) + rows[..., first + 1 :: scale] * frac


def upscale(x: np.ndarray, scale: int, h: int, w: int) -> np.ndarray:
    """Bilinear upscale of a coarse ``(N, C, h', w')`` by ``scale``, cropped to ``h x w``."""
    if scale == 1:
        return x[..., :h, :w]
    n, c, small_h, small_w = x.shape
    size = (small_w * scale, small_h * scale)
    planes = [
        cv2.resize(plane, size, interpolation=cv2.INTER_LINEAR)
        for plane in x.reshape(n * c, small_h, small_w)
    ]
    return np.stack(planes).reshape(n, c, *planes[0].shape)[..., :h, :w]
