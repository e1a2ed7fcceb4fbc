"""warp.py's warping and occlusion test on numpy arrays, for the light path: the same conventions (flows
in pixels, channel 0 = x, ``align_corners=True`` pixel grid) and the same sampling as PyTorch's
``grid_sample`` with border padding: bilinear clamps the sample point into the frame, bicubic (A = -0.75)
clamps each of its 16 taps instead.
"""

from __future__ import annotations

import numpy as np

_A = -0.75  # PyTorch's (and OpenCV's) bicubic constant


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(w, dtype=np.float32)[None, :], np.arange(h, dtype=np.float32)[:, None]


def _gather(image: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """``image`` ``(C, H, W)`` at integer ``(ys, xs)`` of any one shape: ``(C, *shape)``."""
    return image.reshape(image.shape[0], -1)[:, ys * image.shape[2] + xs]


def _cubic(t: np.ndarray) -> list[np.ndarray]:
    """The four bicubic weights of the taps at -1, 0, 1, 2 for a fractional position ``t``."""

    def near(d: np.ndarray) -> np.ndarray:
        return ((_A + 2) * d - (_A + 3)) * d * d + 1

    def far(d: np.ndarray) -> np.ndarray:
        return ((_A * d - 5 * _A) * d + 8 * _A) * d - 4 * _A

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, mode: str = "bilinear") -> np.ndarray:
    """One ``(C, H, W)`` image sampled at the pixel coordinates ``(xs, ys)`` ``(h, w)``: ``(C, h, w)``."""
    _, height, width = image.shape
    if mode == "bilinear":
        xs, ys = np.clip(xs, 0, width - 1), np.clip(ys, 0, height - 1)
    x0, y0 = np.floor(xs), np.floor(ys)
    tx, ty = (xs - x0).astype(np.float32), (ys - y0).astype(np.float32)
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    if mode == "bilinear":
        x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
        top = _gather(image, y0, x0) * (1 - tx) + _gather(image, y0, x1) * tx
        bottom = _gather(image, y1, x0) * (1 - tx) + _gather(image, y1, x1) * tx
        return top * (1 - ty) + bottom * ty
    columns = [np.clip(x0 + k, 0, width - 1) for k in (-1, 0, 1, 2)]
    out = np.zeros((image.shape[0], *xs.shape), np.float32)
    for wy, k in zip(_cubic(ty), (-1, 0, 1, 2)):
        row = np.clip(y0 + k, 0, height - 1)
        out += wy * sum(wx * _gather(image, row, column) for wx, column in zip(_cubic(tx), columns))
    return out


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
