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
    the blocks' mean, at a third of the time numpy's mean over the strided blocks took. Plane by plane,
    each edge-padded by OpenCV: laying the channels out last for OpenCV, and numpy's padding of the whole
    batch, were copies that took longer than the means."""
    if scale == 1:
        return x
    n, c, h, w = x.shape
    pad_h, pad_w = -h % scale, -w % scale
    size = ((w + pad_w) // scale, (h + pad_h) // scale)
    means = np.empty((n * c, size[1], size[0]), np.float32)
    for plane, mean in zip(x.reshape(n * c, h, w), means):
        if pad_h or pad_w:
            plane = cv2.copyMakeBorder(plane, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        mean[:] = cv2.resize(plane, size, interpolation=cv2.INTER_AREA)
    return means.reshape(n, c, *size[::-1])


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
    # Each plane is resized straight into its place: stacking the resized planes copied every pixel again.
    planes = np.empty((n * c, size[1], size[0]), x.dtype)
    for plane, out in zip(x.reshape(n * c, small_h, small_w), planes):
        cv2.resize(plane, size, dst=out, interpolation=cv2.INTER_LINEAR)
    return planes.reshape(n, c, *size[::-1])[..., :h, :w]
