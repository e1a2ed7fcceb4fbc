"""The styliser's frame work on PyTorch tensors: the working-size frames, padding and the display.

:class:`ClipStyliser` (stylise.py) is handed such an object and never touches an array library itself;
array_frames.py is the same on numpy arrays for the light path. Frames are ``(N, 3, H, W)`` in [0, 1].
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import numpy as np
import torch
import torch.nn.functional as F

from stylecut.frames import shrink, to_pixels, to_tensor
from stylecut.pipeline.detail import enlarge, with_detail
from stylecut.runtime.runner import Runner


class TensorFrames:
    """Frames as tensors on ``device``; the display's detail through the style's ``revision`` network when
    it has one (detail.with_detail)."""

    def __init__(self, device: torch.device, revision: Runner | None = None) -> None:
        self.device = device
        self.revision = revision

    @staticmethod
    def inference() -> AbstractContextManager:
        return torch.inference_mode()

    def working(self, chunk: np.ndarray, height: int, width: int) -> torch.Tensor:
        """A decoded chunk as frames at the working size."""
        frames = to_tensor(chunk, self.device)
        return frames if frames.shape[-2:] == (height, width) else shrink(frames, (height, width))

    @staticmethod
    def concat(parts: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(parts)

    @staticmethod
    def pad(frames: torch.Tensor, pads: tuple[int, int, int, int], mode: str) -> torch.Tensor:
        """``pads`` = (left, right, top, bottom); ``mode`` "reflect" or "replicate"."""
        return F.pad(frames, pads, mode=mode)

    def display(self, stylised: torch.Tensor, chunk: np.ndarray, frames: torch.Tensor) -> np.ndarray:
        """The stylisation at the chunk's display size, as pixels of the chunk's dtype; from a smaller working
        size, with the footage's finer detail restored (detail.py) from the ``chunk`` and its ``frames`` at
        that size."""
        height, width = chunk.shape[1:3]
        if stylised.shape[-2] * stylised.shape[-1] >= height * width:
            return self._to_pixels(stylised, chunk)
        output = np.empty_like(chunk)
        # Frame by frame: a chunk of 4K frames as float tensors would take gigabytes.
        for i, frame in enumerate(chunk):
            full = to_tensor(frame[None], self.device)
            restored = with_detail(
                stylised[i : i + 1].float(), full, frames[i : i + 1].float(), self.revision
            )
            output[i] = self._to_pixels(restored, chunk)[0]
        return output

    @staticmethod
    def _to_pixels(frames: torch.Tensor, chunk: np.ndarray) -> np.ndarray:
        height, width = chunk.shape[1:3]
        if frames.shape[-2:] != (height, width):
            frames = enlarge(frames, (height, width))
        return to_pixels(frames, chunk.dtype)
