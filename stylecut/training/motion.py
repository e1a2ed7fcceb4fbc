"""Real motion for the temporal term: consecutive frames of the style videos, with their optical flow.

A style video moves, and its look holds steady while it does: pairs of its
consecutive frames, with the flow between them (OpenCV DIS) and the
occlusion mask from the forward-backward check, teach the generator to
commute with real motion (parallax, occlusions, motion blur, changing light
and grain) where random smooth flows on stills only show it warps.
Conventions are ``stylecut.flow.warp``'s: ``flow_ba`` sends a pixel of frame
b to frame a, so ``warp(out_a, flow_ba)`` lays frame a's output on b's grid.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from stylecut.flow.dis import DISFlow
from stylecut.flow.warp import in_frame_mask, occlusion_mask
from stylecut.frames import to_tensor
from stylecut.training.data import fit
from stylecut.video.decode import FrameReader

MIN_TRUSTED = 0.5  # a pair whose flow is trusted on less of the frame (a cut, a flash) teaches nothing
MIN_MOTION = 0.25  # px: a pair that does not move (a still shot, a repeated frame) teaches nothing


def _frames(pair: np.ndarray, side: int, short: bool) -> torch.Tensor:
    return fit(to_tensor(np.array(pair, copy=True)), side, short)


class MotionPairs:
    """Consecutive frame pairs of videos with flow and mask; random aligned crops of them."""

    def __init__(
        self,
        videos: Sequence[Path],
        pairs_per_video: int,
        side: int,
        crop: int,
        seed: int,
        short: bool = False,
    ) -> None:
        """Frames are scaled down so their longer side, or with `short` their shorter side, is at most `side`."""
        flow = DISFlow()
        self.pairs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]] = []
        for path in videos:
            reader = FrameReader(path)
            if len(reader) < 2:
                continue
            starts = np.linspace(len(reader) * 0.05, len(reader) * 0.95 - 2, num=pairs_per_video)
            for start in sorted({int(s) for s in starts}):
                a, b = _frames(reader.read([start, start + 1]), side, short).split(1)
                flow_ba, flow_ab = flow(b, a), flow(a, b)
                mask = occlusion_mask(flow_ba, flow_ab) * in_frame_mask(flow_ba)
                if mask.mean() >= MIN_TRUSTED and flow_ba.norm(dim=1).mean() >= MIN_MOTION:
                    self.pairs.append((a[0], b[0], flow_ba[0], mask[0]))
        self.crop = min([crop, *(min(p[0].shape[-2:]) for p in self.pairs)])
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.pairs)

    def sample(self, count: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``count`` aligned crops: frames a and b, the flow from b to a, and b's mask of trusted pixels."""
        crops = []
        for _ in range(count):
            pair = self.rng.choice(self.pairs)
            h, w = pair[0].shape[-2:]
            top, left = self.rng.randrange(h - self.crop + 1), self.rng.randrange(w - self.crop + 1)
            crops.append([t[:, top : top + self.crop, left : left + self.crop] for t in pair])
        a, b, flow_ba, mask = (torch.stack(parts) for parts in zip(*crops))
        # A crop's flow may point outside the crop: those pixels are not comparable.
        return a, b, flow_ba, mask * in_frame_mask(flow_ba)
