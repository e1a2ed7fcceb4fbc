"""The styliser's frame work on numpy arrays, for the light path: what tensor_frames.py does on tensors.

The same steps in the same order (frame_arrays.py holds the resampling), so the frames match the PyTorch
path's within float rounding; the detail restoration is detail.py's (see there for why), done per frame
at the display size with OpenCV's bicubic.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import numpy as np

from stylecut.frame_arrays import enlarge, luma, shrink, to_pixels, to_unit
from stylecut.frames import from_unit, unit_pixels


def with_detail(stylised: np.ndarray, frame: np.ndarray, small: np.ndarray) -> np.ndarray:
    """One ``(3, h, w)`` stylisation at the size of its ``(H, W, 3)`` float ``frame``, with the frame's fine
    detail (detail.with_detail), channels-last and clamped to [0, 1]; ``small`` is the frame as the
    network saw it, ``(3, h, w)``."""
    size = frame.shape[:2]
    band = luma(frame, axis=-1) - enlarge(luma(small, axis=0), size)
    return np.clip(enlarge(stylised, size) + band[..., None], 0, 1)


class ArrayFrames:
    """Frames as float32 numpy arrays on the CPU."""

    @staticmethod
    def inference() -> AbstractContextManager:
        return nullcontext()

    @staticmethod
    def working(chunk: np.ndarray, height: int, width: int) -> np.ndarray:
        frames = to_unit(chunk)
        return frames if frames.shape[-2:] == (height, width) else shrink(frames, (height, width))

    @staticmethod
    def concat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts)

    @staticmethod
    def pad(frames: np.ndarray, pads: tuple[int, int, int, int], mode: str) -> np.ndarray:
        left, right, top, bottom = pads
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        return np.pad(frames, widths, mode="reflect" if mode == "reflect" else "edge")

    @staticmethod
    def display(stylised: np.ndarray, chunk: np.ndarray, frames: np.ndarray) -> np.ndarray:
        height, width = chunk.shape[1:3]
        if stylised.shape[-2:] == (height, width):
            return to_pixels(stylised, chunk.dtype)
        output = np.empty_like(chunk)
        # Frame by frame, as tensor_frames does: a chunk of 4K frames as floats would take gigabytes.
        for i, frame in enumerate(chunk):
            if stylised.shape[-2] * stylised.shape[-1] >= height * width:
                restored = enlarge(stylised[i], (height, width))
            else:
                restored = with_detail(stylised[i], unit_pixels(frame), frames[i])
            output[i] = from_unit(restored, chunk.dtype)
        return output
