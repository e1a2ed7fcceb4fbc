"""Training windows for the recurrent temporal stage: consecutive frames, stylisations and flows, cached.

A window is ``T`` consecutive frames, either read from a clip (every
``frame_step``-th frame) or synthesised from a still photo by a smooth
camera motion (pan, zoom, rotation, and sensor noise; each frame is sampled
once from the photo, so the motion adds no blur of its own). Each window is
stylised frame by frame by one bundled generator and gets OpenCV DIS flow
(the pipeline's estimator, at the pipeline's flow resolution) between
consecutive frames in both directions and between its first frame and every
later one (the long-term pairs), all computed on the INPUT frames.

The cache is one safetensors file per window (no pickle), written
atomically, so an interrupted cache build resumes where it stopped. A
training step reads a random crop of a few windows straight from disk.
Frames and stylisations are stored as uint8, flows as float16 at the flow
resolution (upsampled when read, as the pipeline upsamples them).
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor

from stylecut.flow.dis import DISFlow
from stylecut.flow.scaling import WORKING_SIZE, grow_flow, shrink_to_max_side
from stylecut.frames import shrink, to_tensor
from stylecut.training.data import read_image
from stylecut.video.decode import FrameReader

FLOW_KEYS = ("to_prev", "from_prev", "to_first", "from_first")


@dataclass(frozen=True)
class WindowSpec:
    """Where a window comes from: a clip (``start``, ``step``) or a photo (``seed`` of its motion)."""

    source: str  # absolute path of the clip or photo
    kind: str  # "clip" or "photo"
    style: str
    start: int = 0
    step: int = 1
    seed: int = 0

    @property
    def file_name(self) -> str:
        where = f"{self.start}+{self.step}" if self.kind == "clip" else f"seed{self.seed}"
        return f"{Path(self.source).stem}-{where}-{self.style}.safetensors"


def clip_specs(
    path: Path,
    frame_count: int,
    length: int,
    steps: tuple[int, ...],
    count: int,
    skip: int,
    styles: list[str],
    rng: random.Random,
) -> list[WindowSpec]:
    """Up to ``count`` windows spread evenly over a clip's frames ``skip..``; styles drawn by ``rng``."""
    specs = []
    for step in steps:
        span = (length - 1) * step + 1
        last = frame_count - span
        if last < skip:
            continue
        per_step = max(1, count // len(steps))
        starts = np.linspace(skip, last, num=min(per_step, last - skip + 1))
        specs += [WindowSpec(str(path), "clip", rng.choice(styles), int(round(s)), step) for s in starts]
    return specs


def read_clip_window(spec: WindowSpec, length: int) -> Tensor:
    """``(T, 3, H, W)`` float frames of a clip window, upright, as every reader of stylecut decodes them."""
    indices = [spec.start + i * spec.step for i in range(length)]
    return to_tensor(FrameReader(Path(spec.source)).read(indices))


def synthesise_photo_window(
    spec: WindowSpec, length: int, size: tuple[int, int], pan_speed: float = 3.0, zoom_speed: float = 0.006
) -> Tensor:
    """``(T, 3, H, W)`` frames of a smooth camera motion over a photo: pan, zoom, roll, sensor noise.

    The pan is drawn up to ``pan_speed`` frame pixels a frame (two thirds of it vertically), the zoom up
    to ``zoom_speed`` of the frame a frame, both ways.
    """
    rng = random.Random(spec.seed)
    h, w = size
    pan = (rng.uniform(-pan_speed, pan_speed), rng.uniform(-2 * pan_speed / 3, 2 * pan_speed / 3))
    zoom, roll = rng.uniform(-zoom_speed, zoom_speed), math.radians(rng.uniform(-0.25, 0.25))
    photo = read_image(Path(spec.source), max_side=4 * max(h, w))[None]
    # Scale the photo so the whole path stays on it with a margin (no mirrored edge), and so every frame
    # is a mild downsample of it where the photo has the pixels.
    ph, pw = photo.shape[-2:]
    widest = 1.0 + max(zoom, 0.0) * (length - 1)
    span = (w * widest + 2 * abs(pan[0]) * (length - 1), h * widest + 2 * abs(pan[1]) * (length - 1))
    scale = max(1.25 * max(h / ph, w / pw), 1.05 * max(span[0] / pw, span[1] / ph))
    photo = F.interpolate(photo, scale_factor=scale, mode="area" if scale < 1 else "bicubic").clamp(0, 1)
    ph, pw = photo.shape[-2:]
    frames = []
    for t in range(length):
        # Affine map from the frame's normalised grid to the photo's: a (w/pw, h/ph) window, moved.
        s = 1.0 + zoom * t
        c, si = math.cos(roll * t), math.sin(roll * t)
        theta = torch.tensor(
            [
                [c * s * w / pw, -si * s * h / pw, 2 * pan[0] * t / pw],
                [si * s * w / ph, c * s * h / ph, 2 * pan[1] * t / ph],
            ]
        )
        grid = F.affine_grid(theta[None], [1, 3, h, w], align_corners=False)
        frame = F.grid_sample(photo, grid, mode="bicubic", padding_mode="reflection", align_corners=False)
        noise = 0.01 * torch.randn(frame.shape, generator=torch.Generator().manual_seed(spec.seed * 1000 + t))
        frames.append((frame + noise).clamp(0, 1))
    return torch.cat(frames)


def fit_short_side(frames: Tensor, short_side: int, max_long_side: int) -> Tensor:
    """Resize so the shorter side is ``short_side`` (the longer at most ``max_long_side``), sides even."""
    h, w = frames.shape[-2:]
    scale = min(short_side / min(h, w), max_long_side / max(h, w))
    size = (2 * round(h * scale / 2), 2 * round(w * scale / 2))
    if size == (h, w):
        return frames
    return shrink(frames, size).clamp(0, 1)


def _quantise(images: Tensor) -> Tensor:
    return images.mul(255).round().clamp(0, 255).to(torch.uint8)


@torch.no_grad()
def build_window(frames: Tensor, generator: torch.nn.Module, flow: DISFlow) -> dict[str, Tensor]:
    """The cached tensors of one window from its ``(T, 3, H, W)`` frames (quantised like a decoded clip).

    Flows are computed, and stored, at the pipeline's flow resolution (longer
    side :data:`WORKING_SIZE`); :func:`read_crop` upsamples them to the
    frames' size as the pipeline does. ``flow`` must not shrink frames itself.
    """
    frames = _quantise(frames).float().div(255)
    stylised = torch.cat([generator(frames[i : i + 2]) for i in range(0, len(frames), 2)])
    small = shrink_to_max_side(frames, WORKING_SIZE)
    first = small[:1].expand(len(small) - 1, -1, -1, -1)
    later, earlier = small[1:], small[:-1]
    both = flow(torch.cat([later, earlier, later, first]), torch.cat([earlier, later, first, later]))
    flows = dict(zip(FLOW_KEYS, both.split(len(later))))
    images = {"frames": _quantise(frames), "stylised": _quantise(stylised)}
    return {**images, **{k: v.half() for k, v in flows.items()}}


def save_window(path: Path, tensors: dict[str, Tensor]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))
    os.replace(tmp, path)


@dataclass
class Batch:
    """Time-major floats of B window crops: images ``(T, B, 3, c, c)``, flows ``(T-1, B, 2, c, c)``."""

    frames: Tensor
    stylised: Tensor
    to_prev: Tensor
    from_prev: Tensor
    to_first: Tensor
    from_first: Tensor


def read_crop(path: Path, crop: int | None, rng: random.Random) -> dict[str, Tensor]:
    """A window's tensors as floats, cropped to a random ``crop`` square (None: whole), randomly flipped."""
    with safe_open(str(path), framework="pt") as handle:
        h, w = handle.get_slice("frames").get_shape()[-2:]
        size_h, size_w = (h, w) if crop is None else (min(crop, h), min(crop, w))
        top, left = rng.randrange(h - size_h + 1), rng.randrange(w - size_w + 1)
        rows, cols = slice(top, top + size_h), slice(left, left + size_w)
        out = {k: handle.get_slice(k)[:, :, rows, cols].float() / 255 for k in ("frames", "stylised")}
        for k in FLOW_KEYS:
            out[k] = grow_flow(handle.get_tensor(k).float(), (h, w))[:, :, rows, cols]
    if crop is not None and rng.random() < 0.5:
        out = {k: v.flip(-1) for k, v in out.items()}
        for k in FLOW_KEYS:
            out[k][:, 0].neg_()
    return out


def collate(windows: list[dict[str, Tensor]]) -> Batch:
    return Batch(
        **{k: torch.stack([w[k] for w in windows], dim=1) for k in ("frames", "stylised", *FLOW_KEYS)}
    )
