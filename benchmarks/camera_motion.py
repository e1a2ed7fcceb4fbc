"""Synthetic camera motion over a large photo, for the temporal benchmarks: pans and a push-in with known motion.

Each frame is rendered from the photo itself (bicubic, after a light
blur where the photo is shrunk), never from the previous frame, so the
motion adds no blur of its own. The moves are the ones the recurrent stage
found hardest (issue 21): a steady pan of 12 px a frame with a slight tilt,
a fast pan of 25 px a frame, and a push-in that enlarges the picture 1.5%
a frame while drifting right, like a drone flying forward.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from stylecut.image_file import read_rgb

PHOTO = "photos/photo_moviepy_vacation_2017.jpg"  # 2560x1440: room for every move below at 854x480
# Per move and frame t: photo pixels per frame pixel, and the photo point at the frame's centre. The
# push-in shrinks the photo 1.3-2.6 times, so it is rendered from a blurred copy against aliasing.
MOVES = {
    "pan12": lambda t: (1.2, 500 + 14.4 * t, 720 + 1.5 * t),
    "pan25": lambda t: (1.2, 450 + 30.0 * t, 700),
    "push-in": lambda t: (2.6 * 0.985**t, 1280 + 4 * t, 760),
}
BLURRED = {"push-in"}


def _photo_points(move: str, t: int, size: tuple[int, int]) -> tuple[float, float, float]:
    """Photo pixels per frame pixel, and the photo point of frame pixel (0, 0), at frame ``t``."""
    h, w = size
    scale, cx, cy = MOVES[move](t)
    scale *= 854 / w  # the moves are written for a 854 px wide frame; another width sees the same picture
    return scale, cx - w / 2 * scale, cy - h / 2 * scale


def motion(move: str, earlier: int, later: int, size: tuple[int, int] = (480, 854)) -> np.ndarray:
    """The exact flow ``(2, H, W)`` from frame ``later`` of ``move`` to frame ``earlier``, in frame pixels."""
    h, w = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    (s1, x1, y1), (s0, x0, y0) = _photo_points(move, later, size), _photo_points(move, earlier, size)
    return np.stack([(x1 + s1 * xs - x0) / s0 - xs, (y1 + s1 * ys - y0) / s0 - ys]).astype(np.float32)


def render(media: Path, move: str, frames: int, size: tuple[int, int] = (480, 854)) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB frames of ``move`` over the photo (sizes as at 854x480)."""
    photo = read_rgb(media / PHOTO)
    if move in BLURRED:
        photo = cv2.GaussianBlur(photo, (0, 0), 1.0)
    h, w = size
    out = []
    for t in range(frames):
        scale, left, top = _photo_points(move, t, size)
        affine = np.array([[scale, 0, left], [0, scale, top]])
        out.append(
            cv2.warpAffine(
                photo,
                affine,
                (w, h),
                flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REFLECT,
            )
        )
    return (np.clip(np.stack(out), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
