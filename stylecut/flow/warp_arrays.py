"""warp.py's warping and occlusion test on numpy arrays, for the light path: the same conventions (flows
in pixels, channel 0 = x, ``align_corners=True`` pixel grid) and the same sampling as PyTorch's
``grid_sample`` with border padding. OpenCV's remap computes it: OpenCV 5.1 samples float maps at the
exact point for images of 1, 3 or 4 channels (for 2, or 5 and more, it rounds the point to 1/32 of a
pixel, measured: up to 0.014 apart on random images), so images go through it in such groups; its
replicated border gives what clamping the point (bilinear) or each of the 16 taps (bicubic, A = -0.75)
gives in PyTorch.
"""

from __future__ import annotations

import cv2
import numpy as np

_INTERPOLATION = {"bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}
_EXACT_GROUPS = {0: (), 1: (1,), 2: (1, 1), 3: (3,)}


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(w, dtype=np.float32)[None, :], np.arange(h, dtype=np.float32)[:, None]


def sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, mode: str = "bilinear") -> np.ndarray:
    """One ``(C, H, W)`` image sampled at the pixel coordinates ``(xs, ys)`` ``(h, w)``: ``(C, h, w)``."""
    shape = np.broadcast_shapes(xs.shape, ys.shape)
    xs, ys = (np.ascontiguousarray(np.broadcast_to(v, shape), np.float32) for v in (xs, ys))
    planes = np.moveaxis(image, 0, -1)
    groups = (4,) * (len(image) // 4) + _EXACT_GROUPS[len(image) % 4]
    parts = [
        cv2.remap(
            np.ascontiguousarray(planes[..., first : first + size]),
            xs,
            ys,
            _INTERPOLATION[mode],
            borderMode=cv2.BORDER_REPLICATE,
        ).reshape(*shape, -1)  # remap drops a channel axis of 1
        for first, size in zip(np.cumsum((0, *groups[:-1])), groups)
    ]
    return np.moveaxis(np.concatenate(parts, axis=-1), -1, 0)


def warp(image: np.ndarray, flow: np.ndarray, mode: str = "bilinear") -> np.ndarray:
    """``(N, C, H', W')`` sampled at ``p + flow(p)`` for every pixel ``p`` of the ``(N, 2, H, W)`` flow."""
    xs, ys = _grid(*flow.shape[-2:])
    return np.stack([sample(i, xs + f[0], ys + f[1], mode) for i, f in zip(image, flow)])


def in_frame_mask(flow: np.ndarray) -> np.ndarray:
    """``(N, 1, H, W)``: 1 where ``p + flow(p)`` lands inside the frame."""
    h, w = flow.shape[-2:]
    xs, ys = _grid(h, w)
    x, y = xs + flow[:, 0:1], ys + flow[:, 1:2]
    return ((x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)).astype(np.float32)


def _squared_gradient_norm(flow: np.ndarray) -> np.ndarray:
    padded = np.pad(flow, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    dx = (padded[:, :, 1:-1, 2:] - padded[:, :, 1:-1, :-2]) * 0.5
    dy = (padded[:, :, 2:, 1:-1] - padded[:, :, :-2, 1:-1]) * 0.5
    return (dx * dx + dy * dy).sum(axis=1, keepdims=True)


def occlusion_mask(flow_ab: np.ndarray, flow_ba: np.ndarray | None, stride: int = 1) -> np.ndarray:
    """warp.occlusion_mask: ``(N, 1, H, W)``, 1 where ``flow_ab`` can be trusted (see there)."""
    grid_flow = flow_ab / stride if stride != 1 else flow_ab
    flow_sq = (flow_ab * flow_ab).sum(axis=1, keepdims=True)
    gradient_sq = _squared_gradient_norm(flow_ab) / stride**2
    mask = (gradient_sq < 0.01 * flow_sq + 0.002).astype(np.float32) * in_frame_mask(grid_flow)
    if flow_ba is not None:
        back = warp(flow_ba, grid_flow)
        err = ((flow_ab + back) ** 2).sum(axis=1, keepdims=True)
        back_sq = (back * back).sum(axis=1, keepdims=True)
        mask = mask * (err < 0.01 * (flow_sq + back_sq) + 0.5).astype(np.float32)
    return mask
