"""The styliser's frame work on numpy arrays, for the light path: what tensor_frames.py does on tensors.

The same steps in the same order (frame_arrays.py holds the resampling), so the frames match the PyTorch
path's within float rounding; the detail restoration is detail.py's (see there for why), done per frame
at the display size with OpenCV's bicubic.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import numpy as np

from stylecut.frame_arrays import enlarge, luma, shrink, to_pixels, to_unit
from stylecut.frames import from_unit, unit_pixels
from stylecut.pipeline.controls import REVISION_MAX_SIDE, working_size


def with_detail(
    stylised: np.ndarray, frame: np.ndarray, small: np.ndarray, revision: ArrayRevision | None = None
) -> np.ndarray:
    """One ``(3, h, w)`` stylisation at the size of its ``(H, W, 3)`` float ``frame``, with the frame's fine
    detail (detail.with_detail: through the style's ``revision`` network when it has one, at most at
    REVISION_MAX_SIDE), channels-last and clamped to [0, 1]; ``small`` is the frame as the network saw
    it, ``(3, h, w)``."""
    size = frame.shape[:2]
    if revision is None:
        return np.clip(enlarge(stylised, size) + _band(frame, small)[..., None], 0, 1)
    revised_size = working_size(size[1], size[0], working_side=REVISION_MAX_SIDE)
    if revised_size == size:
        return _revise(revision, enlarge(stylised, size), _band(frame, small))
    middle = np.moveaxis(shrink(np.moveaxis(frame, -1, 0), revised_size), 0, -1)
    revised = _revise(revision, enlarge(stylised, revised_size), _band(middle, small))
    above = luma(frame, axis=-1) - enlarge(luma(middle, axis=-1), size)
    return np.clip(enlarge(np.moveaxis(revised, -1, 0), size) + above[..., None], 0, 1)


def _band(frame: np.ndarray, small: np.ndarray) -> np.ndarray:
    """detail.fine_band of one channels-last ``frame`` and its ``(3, h, w)`` working-size copy."""
    return luma(frame, axis=-1) - enlarge(luma(small, axis=0), frame.shape[:2])


def _revise(revision: ArrayRevision, draft: np.ndarray, band: np.ndarray) -> np.ndarray:
    """The revision of a channels-last ``draft`` and its ``band`` plane, channels-last."""
    return np.moveaxis(revision(np.moveaxis(draft, -1, 0)[None], band[None, None])[0], 0, -1)


ArrayRevision = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (1, 3, H, W) draft, (1, 1, H, W) band


class ArrayFrames:
    """Frames as float32 numpy arrays on the CPU; the display's detail through the style's ``revision``
    network when it has one."""

    def __init__(self, revision: ArrayRevision | None = None) -> None:
        self.revision = revision

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

    def display(self, stylised: np.ndarray, chunk: np.ndarray, frames: np.ndarray) -> np.ndarray:
        height, width = chunk.shape[1:3]
        if stylised.shape[-2:] == (height, width):
            return to_pixels(stylised, chunk.dtype)
        output = np.empty_like(chunk)
        # Frame by frame, as tensor_frames does: a chunk of 4K frames as floats would take gigabytes.
        for i, frame in enumerate(chunk):
            if stylised.shape[-2] * stylised.shape[-1] >= height * width:
                restored = enlarge(stylised[i], (height, width))
            else:
                restored = with_detail(stylised[i], unit_pixels(frame), frames[i], self.revision)
            output[i] = from_unit(restored, chunk.dtype)
        return output
