"""Frames in the two forms the code holds them, the conversions between them, and the one shrink.

Decoders hand out and encoders take RGB pixels, ``(N, H, W, 3)`` (or one ``(H, W, 3)``) numpy arrays:
uint8 for a clip of 8 bits per sample, uint16 (0-65535) for a deeper one, so that 10-bit footage keeps
its precision through the full-size path. The networks, the flow and the detail restoration work on float
``(N, 3, H, W)`` (or one ``(3, H, W)``) tensors in [0, 1]. Every conversion between the two goes through
here, so the scale and the rounding are the same everywhere; the light path's numpy equivalents are in
frame_arrays.py. torch is imported only by the functions that need it, so the pixel helpers stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import DTypeLike

if TYPE_CHECKING:
    import torch


# Rec. 601 luma weights (R, G, B): what OpenCV's RGB2GRAY uses, and the lightness detail.py restores.
LUMA = (0.299, 0.587, 0.114)


def pixel_dtype(bits: int) -> np.dtype:
    """The dtype that holds the pixels of a clip with ``bits`` bits per sample."""
    return np.dtype(np.uint8 if bits <= 8 else np.uint16)


def pixel_levels(dtype: DTypeLike) -> float:
    """The largest pixel value of ``dtype``: what 1.0 is in it."""
    return float(np.iinfo(dtype).max)


def to_tensor(pixels: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """``(..., H, W, 3)`` uint8 or uint16 pixels -> ``(..., 3, H, W)`` float in [0, 1] on ``device``.

    The pixels move to the device as integers, a quarter or half of the bytes of the float tensor.
    A read-only array (from PIL or an mmap) must be copied first: torch warns on arrays it cannot write.
    """
    import torch

    tensor = torch.from_numpy(pixels)
    if device is not None:
        tensor = tensor.to(device)
    return tensor.movedim(-1, -3).float().div_(pixel_levels(pixels.dtype))


def to_pixels(frames: torch.Tensor, dtype: DTypeLike = np.uint8) -> np.ndarray:
    """``(..., 3, H, W)`` float -> ``(..., H, W, 3)`` pixels of ``dtype`` (uint8 or uint16) on the CPU,
    clamped to [0, 1] and rounded.

    ``frames`` is used up: it is clamped and scaled in place, so a chunk of full-size frames is never
    held twice as float. Pass a copy to keep it.
    """
    import torch

    scaled = frames.clamp_(0, 1).mul_(pixel_levels(dtype)).round_()
    torch_dtype = torch.uint8 if np.dtype(dtype) == np.uint8 else torch.uint16
    return scaled.to(torch_dtype).movedim(-3, -1).cpu().numpy()


def unit_pixels(pixels: np.ndarray) -> np.ndarray:
    """uint8 or uint16 pixels as float32 in [0, 1], for numpy and OpenCV work."""
    return pixels.astype(np.float32) / pixel_levels(pixels.dtype)


def from_unit(values: np.ndarray, dtype: DTypeLike = np.uint8) -> np.ndarray:
    """Float values in [0, 1] (any shape) as pixels of ``dtype`` (uint8 or uint16), clamped and rounded."""
    levels = pixel_levels(dtype)
    return np.clip(np.rint(values * levels), 0, levels).astype(dtype)


def shrink(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(N, C, H, W)`` scaled to ``size`` (height, width): bilinear with antialiasing.

    The antialiasing averages every source pixel a target pixel covers; plain bilinear decimation
    aliases fine texture into patterns the networks and the flow then treat as content. To a larger
    size it is plain bilinear.
    """
    import torch.nn.functional as F

    return F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=True)
