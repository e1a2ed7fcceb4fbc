"""Running a flow estimator at reduced resolution.

Flow for temporal consistency does not need full 1080p detail, and both
backends get slower (DIS) or run out of memory (RAFT's all-pairs correlation
volume grows with the square of the pixel count) on large frames. So the
frames are downscaled until their longer side is at most ``max_side``, the
flow is computed there, upsampled bilinearly and its vectors multiplied by
the scale factor of each axis. Both resamplings use the pixel-centre
(``align_corners=False``) convention, under which a displacement of ``d``
small pixels is exactly ``d * W / w`` full-size pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

# The longer side flow is computed at by default: enough for temporal fusion, and fast on a CPU.
WORKING_SIZE = 512


def flow_at_max_side(
    compute: Callable[[Tensor, Tensor], Tensor], a: Tensor, b: Tensor, max_side: int
) -> Tensor:
    """``compute(a, b)`` evaluated with the longer side capped at ``max_side``.

    ``compute`` takes and returns batched tensors; the result has ``a``'s
    spatial size whatever size ``compute`` saw.
    """
    h, w = a.shape[-2:]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return compute(a, b)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))

    def shrink(x: Tensor) -> Tensor:
        # antialias: plain bilinear decimation aliases fine texture into
        # patterns the flow then tracks.
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)

    flow = compute(shrink(a), shrink(b))
    flow = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
    factors = torch.tensor([w / size[1], h / size[0]], device=flow.device, dtype=flow.dtype)
    return flow * factors.view(1, 2, 1, 1)
