"""Frames in the two forms the code holds them, the conversions between them, and the one shrink.

Decoders hand out and encoders take RGB pixels, ``(N, H, W, 3)`` (or one ``(H, W, 3)``) numpy arrays:
uint8 for a clip of 8 bits per sample, uint16 (0-65535) for a deeper one, so that 10-bit footage keeps
its precision through the full-size path. The networks, the flow and the detail restoration work on float
``(N, 3, H, W)`` (or one ``(3, H, W)``) tensors in [0, 1]. Every conversion between the two goes through
here, so the scale and the rounding are the same everywhere.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import DTypeLike

_TORCH_DTYPES = {np.dtype(np.uint8): torch.uint8, np.dtype(np.uint16): torch.uint16}


def pixel_dtype(bits: int) -> np.dtype:
    """The dtype that holds the pixels of a clip with ``bits`` bits per sample."""
    return np.dtype(np.uint8 if bits <= 8 else np.uint16)


def _levels(dtype: DTypeLike) -> float:
    return float(np.iinfo(dtype).max)


def to_tensor(pixels: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """``(..., H, W, 3)`` uint8 or uint16 pixels -> ``(..., 3, H, W)`` float in [0, 1] on ``device``.

    The pixels move to the device as integers, a quarter or half of the bytes of the float tensor.
    A read-only array (from PIL or an mmap) must be copied first: torch warns on arrays it cannot write.
    """
    tensor = torch.from_numpy(pixels)
    if device is not None:
        tensor = tensor.to(device)
    return tensor.movedim(-1, -3).float().div_(_levels(pixels.dtype))


def to_pixels(frames: torch.Tensor, dtype: DTypeLike = np.uint8) -> np.ndarray:
    """``(..., 3, H, W)`` float -> ``(..., H, W, 3)`` pixels of ``dtype`` (uint8 or uint16) on the CPU,
    clamped to [0, 1] and rounded.

    ``frames`` is used up: it is clamped and scaled in place, so a chunk of full-size frames is never
    held twice as float. Pass a copy to keep it.
    """
    scaled = frames.clamp_(0, 1).mul_(_levels(dtype)).round_()
    return scaled.to(_TORCH_DTYPES[np.dtype(dtype)]).movedim(-3, -1).cpu().numpy()


def unit_pixels(pixels: np.ndarray) -> np.ndarray:
    """uint8 or uint16 pixels as float32 in [0, 1], for numpy and OpenCV work."""
    return pixels.astype(np.float32) / _levels(pixels.dtype)


def from_unit(values: np.ndarray, dtype: DTypeLike = np.uint8) -> np.ndarray:
    """Float values in [0, 1] (any shape) as pixels of ``dtype`` (uint8 or uint16), clamped and rounded."""
    levels = _levels(dtype)
    return np.clip(np.rint(values * levels), 0, levels).astype(dtype)


def shrink(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(N, C, H, W)`` scaled to ``size`` (height, width): bilinear with antialiasing.

    The antialiasing averages every source pixel a target pixel covers; plain bilinear decimation
    aliases fine texture into patterns the networks and the flow then treat as content. To a larger
    size it is plain bilinear.
    """
    return F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=True)
