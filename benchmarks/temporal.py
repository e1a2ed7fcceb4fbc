"""Temporal consistency of stylised clips: E_warp short- and long-term, and sharpness so blur cannot pass.

E_warp is Lai et al.'s warping error as ``stylecut.flow.metrics`` defines it:
for frames ``t - gap`` and ``t``, the squared RGB difference (in [0, 1],
summed over channels) between ``O_t`` and ``O_{t-gap}`` warped onto frame t,
averaged over the pixels the non-occlusion mask keeps. Flow and mask come
from the INPUT frames only, so every variant (the input itself, the
frame-by-frame output and the temporal output) is scored against the same
motion and the same mask. The evaluation flow is OpenCV DIS "medium" at the
clip's full resolution, finer than the pipeline's (DIS "medium" on frames
shrunk to ``stylecut.flow.scaling.WORKING_SIZE``); the mask is stylecut's
forward-backward and motion-boundary test. Long-term pairs (10 frames apart) use direct flow
between the two frames; where it fails the mask drops the pixels, which the
reported mask coverage shows. Sharpness is ``stylecut.quality.sharpness``
(the variance of the Laplacian of each frame): the temporal output must keep
the frame-by-frame output's.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch
from torch import Tensor

from stylecut.flow.dis import DISFlow
from stylecut.flow.metrics import warping_error
from stylecut.flow.scaling import WORKING_SIZE
from stylecut.flow.warp import in_frame_mask, occlusion_mask
from stylecut.frames import to_tensor
from stylecut.quality import sharpness

EVALUATION_FLOW = (
    "OpenCV DIS, preset medium, at the clip's full resolution "
    f"(the pipeline: DIS medium at <= {WORKING_SIZE} px)"
)


def evaluation_flow() -> DISFlow:
    """DIS "medium" with no downscaling: the flow the benchmark trusts (see the module docstring)."""
    return DISFlow("medium", max_side=1 << 30)


@torch.inference_mode()
def warping_errors(
    variants: dict[str, np.ndarray],
    inputs: np.ndarray,
    flow: DISFlow,
    gap: int,
    stride: int = 1,
    known: Callable[[int, int], Tensor] | None = None,
) -> dict:
    """E_warp per pair ``(t - gap, t)`` for every ``stride``-th t, for each variant, and the mask coverage.

    ``variants`` maps a name to ``(T, H, W, 3)`` uint8 frames the size of ``inputs``. ``known(t - gap,
    t)``, where given, is the exact flow ``(1, 2, H, W)`` of a synthetic camera move, used instead of
    ``flow``: such a move occludes nothing, so the mask is where it stays in the frame.
    Returns ``{"frames": [t...], "coverage": [...], name: [...]}``.
    """
    result: dict[str, list] = {"frames": [], "coverage": [], **{name: [] for name in variants}}
    for t in range(gap, len(inputs), stride):
        if known is not None:
            to_earlier = known(t - gap, t)
            mask = in_frame_mask(to_earlier)
        else:
            earlier, current = to_tensor(inputs[[t - gap]]), to_tensor(inputs[[t]])
            # Both directions in one call, as the pipeline batches them.
            both = flow(torch.cat([current, earlier]), torch.cat([earlier, current]))
            to_earlier, from_earlier = both[:1], both[1:]
            mask = occlusion_mask(to_earlier, from_earlier)
        result["frames"].append(t)
        result["coverage"].append(mask.mean().item())
        for name, frames in variants.items():
            result[name].append(warping_error(to_tensor(frames[[t - gap, t]]), to_earlier, mask))
    return result


def frame_sharpness(frames: np.ndarray) -> list[float]:
    """Sharpness of each ``(H, W, 3)`` uint8 frame, converted to float one at a time to keep memory low."""
    return [sharpness(to_tensor(frame[None]))[0] for frame in frames]


def colour_drift(frames: np.ndarray, reference: np.ndarray, last: int = 10) -> float:
    """Over the last ``last`` frames, the CIE76 distance of the mean CIELAB colour of ``frames`` to ``reference``'s.

    A temporal stage that carries colours from frame to frame can move them
    away from the per-frame stylisation slowly, which E_warp rewards and the
    texture statistics hardly see.
    """

    def mean_lab(rgb: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB).reshape(-1, 3).mean(0)

    pairs = zip(frames[-last:], reference[-last:], strict=True)
    return float(np.mean([np.linalg.norm(mean_lab(a) - mean_lab(b)) for a, b in pairs]))


def clip_consistency(
    variants: dict[str, np.ndarray],
    flow: DISFlow,
    long_gap: int = 10,
    long_stride: int = 2,
    known: Callable[[int, int], Tensor] | None = None,
) -> dict:
    """Short-term (consecutive) and long-term E_warp of each variant, and the sharpness of the outputs.

    ``variants`` holds "input", "no-temporal" and any number of other
    outputs; sharpness ratios are relative to "no-temporal" (that of the
    input says how much more fine detail the style paints than the footage has). Long-term pairs
    are taken every ``long_stride`` frames: neighbouring long pairs share
    most of their frames, and the flow is the benchmark's main cost. With
    ``known`` (a synthetic move's exact flow, see :func:`warping_errors`) the
    long-term pairs are also scored along it, as ``"long_known"``.
    """
    inputs = variants["input"]
    sharp = {name: frame_sharpness(frames) for name, frames in variants.items()}
    ratios = {
        name: [a / b for a, b in zip(values, sharp["no-temporal"])]
        for name, values in sharp.items()
        if name != "no-temporal"
    }
    result = {
        "short": warping_errors(variants, inputs, flow, gap=1),
        "long": warping_errors(variants, inputs, flow, gap=long_gap, stride=long_stride),
        "long_gap": long_gap,
        "sharpness": sharp,
        "sharpness_ratio": ratios,
    }
    if known is not None:
        result["long_known"] = warping_errors(variants, inputs, flow, long_gap, long_stride, known)
    return result
