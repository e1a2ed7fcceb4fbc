"""OpenCV's DIS optical flow (Kroeger et al., ECCV 2016) behind the flow interface.

DIS is the fallback when RAFT weights are unavailable: it needs no weights,
runs on the CPU in tens of milliseconds at the working size and is accurate enough for
temporal fusion, whose occlusion mask discards the pixels where it fails.
It works on 8-bit grayscale, one pair at a time; the luma is taken before
the downscale to ``max_side`` so only one channel is resampled. DIS cannot
take frames under 12 px a side, so smaller ones (tiny clips, extreme aspect
ratios) are padded with their edge pixels and the flow is cropped back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from stylecut.flow.scaling_arrays import WORKING_SIZE, flows_at_max_side
from stylecut.frame_arrays import luma

if TYPE_CHECKING:
    from torch import Tensor

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}

MIN_SIDE = 16  # DIS fails on frames under 12 px a side


class DISFlow:
    """DIS flow ``a -> b`` for batched RGB frames; see module docstring.

    It runs on numpy arrays, and returns one for the light path's; tensors are taken to the CPU and
    back, so both paths compute the same flow.
    """

    def __init__(self, preset: str = "medium", max_side: int = WORKING_SIZE) -> None:
        self.name = f"dis-{preset}"
        self.max_side = max_side
        self._dis = cv2.DISOpticalFlow_create(PRESETS[preset])

    def __call__(self, a: Tensor | np.ndarray, b: Tensor | np.ndarray) -> Tensor | np.ndarray:
        if isinstance(a, np.ndarray):
            return self.arrays(a, b)
        import torch

        flow = self.arrays(a.detach().float().cpu().numpy(), b.detach().float().cpu().numpy())
        return torch.from_numpy(flow).to(device=a.device, dtype=a.dtype)

    def arrays(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The flow of ``(N, 3, H, W)`` float32 frames in [0, 1], ``(N, 2, H, W)``."""
        grays = np.concatenate([luma(frames, axis=1)[:, None] for frames in (a, b)])
        (flow,) = flows_at_max_side(
            lambda small: [self.gray_pairs(*np.split(small, 2))], grays, self.max_side
        )
        return flow

    def consecutive(self, frames: Tensor | np.ndarray) -> tuple[Tensor | np.ndarray, Tensor | np.ndarray]:
        """The flows between consecutive ``(N, 3, H, W)`` frames both ways, each ``(N - 1, 2, H, W)``: later
        to earlier, earlier to later. What ``self(frames[1:], frames[:-1])`` and ``self(frames[:-1],
        frames[1:])`` give, with each frame's gray made and shrunk to DIS's size once instead of four times."""
        if not isinstance(frames, np.ndarray):
            import torch

            flows = self.consecutive(frames.detach().float().cpu().numpy())
            return tuple(torch.from_numpy(f).to(device=frames.device, dtype=frames.dtype) for f in flows)
        gray = luma(frames, axis=1)[:, None]
        to_prev, from_prev = flows_at_max_side(self._both_ways, gray, self.max_side)
        return to_prev, from_prev

    def _both_ways(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.gray_pairs(gray[1:], gray[:-1]), self.gray_pairs(gray[:-1], gray[1:])

    def gray_pairs(self, a: np.ndarray, b: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        """The flow between ``(N, 1, h, w)`` grays in [0, 1] at the size DIS runs at, ``(N, 2, h, w)``.

        DIS takes a flow passed to it as its first estimate: ``start``, at
        this size, makes it correct a good guess instead of searching again.
        """
        h, w = a.shape[-2:]
        pad = ((0, 0), (0, 0), (0, max(0, MIN_SIDE - h)), (0, max(0, MIN_SIDE - w)))
        if any(any(side) for side in pad):
            a, b = np.pad(a, pad, mode="edge"), np.pad(b, pad, mode="edge")
            start = None if start is None else np.pad(start, pad, mode="edge")
        starts = [None] * len(a) if start is None else np.ascontiguousarray(start.transpose(0, 2, 3, 1))
        flows = np.stack([self._dis.calc(ga, gb, s) for ga, gb, s in zip(_to_uint8(a), _to_uint8(b), starts)])
        return np.ascontiguousarray(flows[:, :h, :w].transpose(0, 3, 1, 2))


def _to_uint8(gray: np.ndarray) -> np.ndarray:
    """``(N, 1, H, W)`` in [0, 1] -> ``(N, H, W)`` uint8."""
    return np.clip(gray[:, 0] * 255.0 + 0.5, 0, 255).astype(np.uint8)
