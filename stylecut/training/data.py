"""Training images: content photos and frames, style images and style-video frames.

Everything is decoded once into memory at a bounded size (a few dozen images
at most), then random crops with scale, flip and colour jitter are drawn
from it. Videos contribute frames sampled evenly across their length, so a
folder of clips and a folder of photos are used the same way.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from stylecut.errors import MediaError
from stylecut.frames import shrink, to_tensor
from stylecut.image_file import read_rgb
from stylecut.media_types import IMAGE_SUFFIXES, VIDEO_SUFFIXES
from stylecut.video.decode import FrameReader


def expand_media(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders expand to the images and videos directly inside them."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)
        elif path.exists():
            found.append(path)
        else:
            raise MediaError(f"{path} does not exist.")
    return found


def _to_tensor(rgb: np.ndarray, max_side: int) -> torch.Tensor:
    """(H, W, 3) pixels (uint8 or uint16), or floats already in [0, 1], as (3, H, W) floats at most
    ``max_side`` long."""
    pixels = np.array(rgb, copy=True)
    floats = pixels.dtype.kind == "f"
    t = (torch.from_numpy(pixels).movedim(-1, -3).float() if floats else to_tensor(pixels))[None]
    scale = max_side / max(t.shape[-2:])
    if scale < 1:
        t = F.interpolate(t, scale_factor=scale, mode="area")
    return t[0]


def fit(image: torch.Tensor, side: int, short: bool = False) -> torch.Tensor:
    """``(3, H, W)`` or ``(N, 3, H, W)`` scaled down (area average) so its longer side, or with `short` its
    shorter side, is at most `side`."""
    scale = side / (min if short else max)(image.shape[-2:])
    if scale >= 1:
        return image
    batch = image if image.dim() == 4 else image[None]
    scaled = F.interpolate(batch, scale_factor=scale, mode="area")
    return scaled if image.dim() == 4 else scaled[0]


def read_image(path: Path, max_side: int) -> torch.Tensor:
    """An image as (3, H, W) float in [0, 1], upright (EXIF) and RGB, whatever its mode (image_file.py)."""
    return _to_tensor(read_rgb(path), max_side)


def read_video_frames(path: Path, count: int, max_side: int, skip_edges: float = 0.05) -> list[torch.Tensor]:
    """`count` frames spread evenly over a video (its very first and last frames skipped)."""
    return [_to_tensor(frame, max_side) for frame in FrameReader(path).spread(count, skip_edges)]


def load_media(paths: Sequence[Path], max_side: int, frames_per_video: int) -> list[torch.Tensor]:
    images: list[torch.Tensor] = []
    for path in expand_media(paths):
        if path.suffix.lower() in VIDEO_SUFFIXES:
            images += read_video_frames(path, frames_per_video, max_side)
        else:
            images.append(read_image(path, max_side))
    return images


class CropSampler:
    """Random crops of a set of images, at random scales, with flips and colour jitter."""

    def __init__(
        self,
        images: Sequence[torch.Tensor],
        crop: int,
        scale_range: tuple[float, float],
        jitter: float,
        seed: int,
    ) -> None:
        if not images:
            raise MediaError("No usable images or video frames were found.")
        self.images = list(images)
        self.crop = crop
        self.scale_range = scale_range
        self.jitter = jitter
        self.rng = random.Random(seed)

    def _one(self) -> torch.Tensor:
        image = self.rng.choice(self.images)
        h, w = image.shape[-2:]
        # The scale is relative to the stored size; never go below what a crop needs.
        scale = max(self.rng.uniform(*self.scale_range), self.crop / min(h, w))
        size = (max(self.crop, round(h * scale)), max(self.crop, round(w * scale)))
        resized = shrink(image[None], size)[0]
        top = self.rng.randrange(size[0] - self.crop + 1)
        left = self.rng.randrange(size[1] - self.crop + 1)
        crop = resized[:, top : top + self.crop, left : left + self.crop]
        if self.rng.random() < 0.5:
            crop = crop.flip(-1)
        if self.jitter:
            gain = 1 + self.rng.uniform(-self.jitter, self.jitter)
            saturation = 1 + self.rng.uniform(-self.jitter, self.jitter)
            grey = crop.mean(0, keepdim=True)
            crop = (grey + (crop - grey) * saturation) * gain
        return crop.clamp(0, 1)

    def sample(self, batch: int) -> torch.Tensor:
        return torch.stack([self._one() for _ in range(batch)])
