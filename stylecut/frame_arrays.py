"""The light path's frames: numpy arrays, with the same conversions, shrink and enlarge as the torch path.

Frames are ``(N, 3, H, W)`` float32 arrays in [0, 1], as the torch path's tensors are (frames.py), so the
exported networks take them as they are. Each function here gives what its torch counterpart gives, within
float rounding: :func:`shrink` is PyTorch's antialiased bilinear resampling (the triangle filter widened by
the scale, weights normalised per output pixel, the filter Pillow also uses), computed separably with the
few taps each output pixel has; :func:`enlarge` is bicubic with A = -0.75 and clamped borders, which is
what OpenCV's INTER_CUBIC computes as well.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import DTypeLike

from stylecut.frames import LUMA, from_unit, pixel_levels


def to_unit(pixels: np.ndarray) -> np.ndarray:
    """``(..., H, W, 3)`` uint8 or uint16 pixels -> ``(..., 3, H, W)`` float32 in [0, 1]."""
    return np.moveaxis(pixels, -1, -3).astype(np.float32) / np.float32(pixel_levels(pixels.dtype))


def to_pixels(frames: np.ndarray, dtype: DTypeLike = np.uint8) -> np.ndarray:
    """``(..., 3, H, W)`` float -> ``(..., H, W, 3)`` pixels of ``dtype``, clamped to [0, 1] and rounded."""
    return from_unit(np.moveaxis(frames, -3, -1), dtype)


def luma(frames: np.ndarray, axis: int) -> np.ndarray:
    """Rec. 601 lightness of RGB ``frames`` along ``axis``, as float32. A weighted sum, not a BLAS product:
    numpy's BLAS runs on threads of its own, which ``--threads`` would not bound. The channels are views and
    the sum is made in place: copies of the channels took half the time of a frame's luma."""
    red, green, blue = np.moveaxis(frames, axis, 0)[:3]
    lightness = red * np.float32(LUMA[0])
    lightness += green * np.float32(LUMA[1])
    lightness += blue * np.float32(LUMA[2])
    return lightness


def _taps(source: int, target: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``target`` output positions, the source indices and weights of the antialiased
    triangle filter (aten's upsample with antialias=True: support and width grow with the scale)."""
    scale = source / target
    support = max(scale, 1.0)
    centres = scale * (np.arange(target) + 0.5)
    first = np.maximum((centres - support + 0.5).astype(np.int64), 0)
    count = np.minimum((centres + support + 0.5).astype(np.int64), source) - first
    offsets = np.arange(int(count.max()))
    weights = np.maximum(0.0, 1.0 - np.abs((first[:, None] + offsets - centres[:, None] + 0.5) / support))
    weights[offsets >= count[:, None]] = 0.0
    weights /= weights.sum(axis=1, keepdims=True)
    return np.minimum(first[:, None] + offsets, source - 1), weights.astype(np.float32)


def _resample(frames: np.ndarray, axis: int, target: int) -> np.ndarray:
    axis %= frames.ndim
    if frames.shape[axis] == target:
        return frames
    indices, weights = _taps(frames.shape[axis], target)
    shape = [1] * frames.ndim
    shape[axis] = target
    out = np.zeros(frames.shape[:axis] + (target,) + frames.shape[axis + 1 :], np.float32)
    for k in range(indices.shape[1]):
        out += np.take(frames, indices[:, k], axis=axis) * weights[:, k].reshape(shape)
    return out


def shrink(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(N, C, H, W)`` scaled to ``size`` (height, width): frames.shrink's antialiased bilinear."""
    return _resample(_resample(frames, -1, size[1]), -2, size[0])


def enlarge(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """One ``(C, h, w)`` image (or ``(h, w)`` plane) scaled to ``size`` (height, width): detail.enlarge's
    bicubic, as ``(size, C)`` channels-last for a ``(C, h, w)`` input."""
    planar = image if image.ndim == 2 else np.moveaxis(image, 0, -1)
    return cv2.resize(planar, (size[1], size[0]), interpolation=cv2.INTER_CUBIC)
