"""Keeping the recurrent stage's anchor in register on camera motion, on numpy arrays for both stages.

The stage samples its anchor through a displacement composed frame after
frame from consecutive flows. Each flow's small error is tied to the
content it was measured on, so the errors add up instead of averaging out:
on a 12 px a frame pan the chain was 0.5 px off after ten frames, enough to
turn fine strokes into other strokes, and the output changed from one
second to the next almost as much as a frame-by-frame stylisation. So each
frame, DIS measures the displacement to the anchor's own input frame
directly, starting from the composed one; a share of the difference is
taken where it is under ``registration_gate`` pixels, which pulls the chain
back without passing DIS's frame-to-frame noise on as jitter, and leaves
the chain alone where DIS lost its way (an occlusion, a large zoom).

Forward motion is the other way an anchor goes wrong: a region the camera
closes in on is magnified, and sampling the anchor there enlarges its
strokes until they are a blur. A cell whose chain magnifies the anchor
beyond ``max_magnification`` loses it, as an occluded cell does, and takes
this frame's stylisation; the stage's refresh then starts a new anchor.
"""

from __future__ import annotations

import cv2
import numpy as np

from stylecut.flow.dis import DISFlow
from stylecut.flow.scaling_arrays import max_side_size
from stylecut.frame_arrays import luma, shrink
from stylecut.temporal.recurrent_config import RecurrentConfig

SMOOTHING = 2.0  # the correction's Gaussian, in coarse cells
# The enlargement is judged on the displacement's derivatives smoothed over 8 cells (32 px at the working
# size): those of a raw flow are noisy enough to drop the anchor in scattered cells on a plain pan.
MAGNIFICATION_SMOOTHING = 8.0


def _smooth(fields: np.ndarray, sigma: float = SMOOTHING) -> np.ndarray:
    """Each plane of ``(N, C, h, w)`` blurred by a Gaussian of ``sigma`` cells."""
    return np.stack(
        [
            [cv2.GaussianBlur(plane, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE) for plane in f]
            for f in fields
        ]
    )


def _grid(count: int, step: float, offset: float) -> np.ndarray:
    """Frame coordinates of a grid's ``count`` samples: sample ``i`` sits at ``i * step + offset``."""
    return np.arange(count, dtype=np.float32) * step + offset


def _remap(fields: np.ndarray, xs: np.ndarray, ys: np.ndarray, factors: tuple[float, float]) -> np.ndarray:
    """Vector fields ``(N, 2, h, w)`` sampled bilinearly at ``xs`` x ``ys`` and rescaled by ``factors``."""
    map_x, map_y = np.meshgrid(xs, ys)
    return np.stack(
        [
            [
                cv2.remap(plane, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) * k
                for plane, k in zip(field, factors)
            ]
            for field in fields
        ]
    )


class AnchorRegistration:
    """``register()`` corrects a coarse displacement to the anchor; ``magnification_ok()`` masks enlargement."""

    def __init__(self, config: RecurrentConfig) -> None:
        self.config = config
        self._dis = DISFlow("medium")

    def grays(self, frames: np.ndarray) -> np.ndarray:
        """The luma of ``(N, 3, H, W)`` frames in [0, 1] at the size DIS runs at, ``(N, 1, h, w)``: what
        :meth:`register` takes, made once per frame (a frame's is kept as the anchor's when it becomes one)."""
        gray = luma(frames, axis=1)[:, None]
        size = max_side_size(*frames.shape[-2:], self._dis.max_side)
        return gray if size is None else shrink(gray, size)

    def register(
        self, gray: np.ndarray, anchor_gray: np.ndarray, displacement: np.ndarray, frame_size: tuple[int, int]
    ) -> np.ndarray:
        """``displacement`` ``(N, 2, h, w)`` on the coarse grid, corrected against the anchor's frame.

        ``gray`` and ``anchor_gray`` are the current and the anchor's input
        frames as :meth:`grays` gives them, for frames of ``frame_size``;
        displacements are in frame pixels.
        """
        cfg = self.config
        if cfg.registration_blend == 0.0:
            return displacement
        h, w = frame_size
        # From the coarse grid (cell q centred on frame pixel scale * q + (scale - 1) / 2) to DIS's (pixel
        # k centred on (k + 0.5) * side / size - 0.5) and back directly: no full-size field is made.
        fh, fw = gray.shape[-2:]
        coarse = (cfg.scale, (cfg.scale - 1) / 2)
        flow_x, flow_y = (w / fw, 0.5 * w / fw - 0.5), (h / fh, 0.5 * h / fh - 0.5)
        ch, cw = displacement.shape[-2:]
        start = _remap(
            displacement,
            (_grid(fw, *flow_x) - coarse[1]) / coarse[0],
            (_grid(fh, *flow_y) - coarse[1]) / coarse[0],
            (fw / w, fh / h),
        )
        measured = _remap(
            self._dis.gray_pairs(gray, anchor_gray, start),
            (_grid(cw, *coarse) - flow_x[1]) / flow_x[0],
            (_grid(ch, *coarse) - flow_y[1]) / flow_y[0],
            (w / fw, h / fh),
        )
        difference = measured - displacement
        close = (np.linalg.norm(difference, axis=1, keepdims=True) < cfg.registration_gate).astype(np.float32)
        # Smoothed over a few cells, weighted by where DIS is believed: the drift is smooth, and DIS's own
        # patch decisions (which a rounding can flip) stay local instead of printing into the strokes.
        correction = _smooth(close * difference) / np.maximum(_smooth(close), 1e-3)
        return displacement + cfg.registration_blend * correction

    def magnification_ok(self, displacement: np.ndarray) -> np.ndarray:
        """``(N, 1, h, w)``: 1 where sampling the anchor through ``displacement`` enlarges it at most
        ``max_magnification`` times (in length), from the Jacobian of ``p -> p + D(p)``."""
        cfg = self.config
        if min(displacement.shape[-2:]) < 2:  # one row or column of cells: no derivative to take
            return np.ones_like(displacement[:, :1])
        d_dy, d_dx = (
            _smooth(d, MAGNIFICATION_SMOOTHING) for d in np.gradient(displacement, cfg.scale, axis=(-2, -1))
        )
        area = (1.0 + d_dx[:, :1]) * (1.0 + d_dy[:, 1:]) - d_dx[:, 1:] * d_dy[:, :1]
        return (area > cfg.max_magnification**-2).astype(np.float32)
