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

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from stylecut.flow.scaling import WORKING_SIZE, flow_at_max_side

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}

MIN_SIDE = 16  # DIS fails on frames under 12 px a side

# ITU-R BT.601 luma, what cv2.COLOR_RGB2GRAY uses.
_LUMA = (0.299, 0.587, 0.114)


def _luma(images: Tensor) -> Tensor:
    """``(N, 3, H, W)`` RGB -> ``(N, 1, H, W)`` luma.

    einsum is one pass whatever the memory layout; a 1x1 conv is as fast on
    contiguous frames but 8x slower on channels-last ones (permuted HWC
    decoder output).
    """
    weights = torch.tensor(_LUMA, dtype=images.dtype, device=images.device)
    return torch.einsum("nchw,c->nhw", images, weights).unsqueeze(1)


def _to_uint8(gray: Tensor) -> np.ndarray:
    """``(N, 1, H, W)`` in [0, 1] -> ``(N, H, W)`` uint8 on the CPU."""
    return (gray[:, 0] * 255.0 + 0.5).clamp(0, 255).to(torch.uint8).cpu().numpy()


class DISFlow:
    """DIS flow ``a -> b`` for batched RGB frames; see module docstring."""

    def __init__(self, preset: str = "medium", max_side: int = WORKING_SIZE) -> None:
        self.name = f"dis-{preset}"
        self.max_side = max_side
        self._dis = cv2.DISOpticalFlow_create(PRESETS[preset])

    def __call__(self, a: Tensor, b: Tensor) -> Tensor:
        with torch.inference_mode():
            return flow_at_max_side(self._gray_pairs, _luma(a), _luma(b), self.max_side)

    def _gray_pairs(self, a: Tensor, b: Tensor) -> Tensor:
        h, w = a.shape[-2:]
        pad = (0, max(0, MIN_SIDE - w), 0, max(0, MIN_SIDE - h))
        if any(pad):
            a, b = F.pad(a, pad, mode="replicate"), F.pad(b, pad, mode="replicate")
        flows = np.stack([self._dis.calc(ga, gb, None) for ga, gb in zip(_to_uint8(a), _to_uint8(b))])
        # contiguous: upsampling the permuted (channels-last) array is 6x slower.
        flow = torch.from_numpy(flows[:, :h, :w]).permute(0, 3, 1, 2).contiguous()
        return flow.to(device=a.device, dtype=a.dtype)
