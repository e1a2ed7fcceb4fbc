"""Synthetic frames with exactly known motion, shared by the flow and temporal tests.

A periodic random texture with a natural-image (1/f) spectrum can be
translated by any subpixel amount exactly with a phase shift, so a moving
sequence has ground-truth flow and no interpolation blur of its own.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def texture(h: int, w: int, seed: int = 0) -> Tensor:
    """``(1, 3, H, W)`` periodic 1/f-noise texture, mean 0.5, std 0.15 (not clamped: stays band-limited)."""
    g = torch.Generator().manual_seed(seed)
    fy, fx = torch.fft.fftfreq(h).view(-1, 1), torch.fft.fftfreq(w).view(1, -1)
    radius = (fx.square() + fy.square()).sqrt()
    radius[0, 0] = 1.0
    spectrum = torch.randn(3, h, w, generator=g, dtype=torch.complex64) / radius
    spectrum[:, 0, 0] = 0
    img = torch.fft.ifft2(spectrum).real
    return ((img - img.mean()) / img.std() * 0.15 + 0.5).unsqueeze(0)


def shift(img: Tensor, dx: float, dy: float) -> Tensor:
    """``img`` moved by ``(dx, dy)`` px with wrap-around: ``out(p) = img(p - d)``."""
    h, w = img.shape[-2:]
    fy, fx = torch.fft.fftfreq(h).view(-1, 1), torch.fft.fftfreq(w).view(1, -1)
    phase = torch.exp(-2j * math.pi * (fx * dx + fy * dy))
    return torch.fft.ifft2(torch.fft.fft2(img) * phase).real


def constant_flow(n: int, h: int, w: int, dx: float, dy: float) -> Tensor:
    """``(N, 2, H, W)`` flow of a global translation."""
    return torch.tensor([dx, dy], dtype=torch.float32).view(1, 2, 1, 1).expand(n, 2, h, w).clone()
