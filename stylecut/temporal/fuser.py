"""The fixed temporal rule: a recursive, flow-guided blend that stops a stylised video flickering.

A per-frame stylisation flickers because tiny input changes move its strokes
and colours. The rule pulls each new stylisation ``S_t`` towards the previous
*output* carried along the optical flow, wherever that history can be trusted:

* Trust. The blend weight is ``strength * M * C``: ``M`` is the
  forward-backward/motion-boundary occlusion mask of the input flow, eroded by
  one cell so the upsampled correction cannot bleed into a disoccluded region;
  ``C = exp(-|warp(I_{t-1}) - I_t|^2 / tol^2)`` is a photometric confidence
  that drops when the flow is wrong or the lighting changes. When the mean
  trust over the frame falls below ``cut_threshold`` the frame is a scene cut
  and the history is dropped entirely.
* Carry, don't average, down to ``scale`` pixels. Where the history is
  trusted it is carried outright (averaging two uncorrelated textures erases
  them); detail finer than ``scale`` pixels always comes from the current
  stylisation, so it cannot smear. The state is resampled bicubically.
* Cost. A step is a bicubic warp and the occlusion tests on 1/scale^2 of the
  frame's pixels.

Why these defaults (the trust of cuts against consecutive frames, the
flicker and sharpness at each ``scale``) is measured in docs/measurements.md.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from stylecut.flow.warp import occlusion_mask, warp
from stylecut.temporal.scaling import downscale, upscale
from stylecut.temporal.stepped import SteppedStage


class TemporalFuser(SteppedStage):
    """Recursive flow-guided fusion of per-frame stylisations; see the module docstring.

    ``strength`` is the weight of the history where it is fully trusted (0
    turns fusion off); ``photometric_tolerance`` the RMS RGB difference
    between the warped previous input and the current one at which trust
    falls to 1/e; ``cut_threshold`` the mean trust below which a frame is a
    scene cut; ``scale`` the size ratio between the frame and the band that
    is fused. After each step ``last_trust`` holds the per-sample mean trust
    ``(N,)`` (None without history), for logging cuts and for tuning, and
    after :meth:`fuse_chunk` ``chunk_trust`` holds it for each frame of the chunk.
    """

    name = "fuser"

    def __init__(
        self,
        strength: float = 1.0,
        scale: int = 2,
        photometric_tolerance: float = 0.05,
        cut_threshold: float = 0.25,
    ) -> None:
        self.strength = strength
        self.scale = scale
        self.photometric_tolerance = photometric_tolerance
        self.cut_threshold = cut_threshold
        self._state: Tensor | None  # narrows SteppedStage's type; reset() sets it
        self.reset()

    def step(
        self,
        frame: Tensor,
        stylised: Tensor,
        flow_to_prev: Tensor | None,
        flow_from_prev: Tensor | None,
        prev_frame: Tensor | None,
    ) -> Tensor:
        """Fuse one frame and return ``O_t`` ``(N, 3, H, W)``.

        ``frame``/``stylised`` are the input frame and its per-frame
        stylisation; the flows are between the current and previous INPUT
        frames (``flow_to_prev``: t -> t-1). Without ``flow_to_prev`` (first
        frame) the stylisation is returned as is; without ``flow_from_prev``
        the forward-backward check is skipped, without ``prev_frame`` the
        photometric one.
        """
        h, w = stylised.shape[-2:]
        small_stylised = downscale(stylised, self.scale)
        state, self._state = self._state, small_stylised
        self.last_trust = None
        if state is None or flow_to_prev is None or state.shape != small_stylised.shape:
            return stylised

        # Flows on the small grid, vectors in frame pixels for the occlusion
        # thresholds and in small pixels for warping.
        flow_px = downscale(flow_to_prev, self.scale)
        back_px = None if flow_from_prev is None else downscale(flow_from_prev, self.scale)
        flow = flow_px / self.scale
        mask = occlusion_mask(flow_px, back_px, stride=self.scale)
        trust = -F.max_pool2d(-mask, 3, stride=1, padding=1)
        if prev_frame is not None:
            moved = warp(downscale(prev_frame, self.scale), flow)
            error = (moved - downscale(frame, self.scale)).square().mean(dim=1, keepdim=True)
            trust = trust * torch.exp(-error / self.photometric_tolerance**2)
        self.last_trust = trust.mean(dim=(1, 2, 3))
        is_cut = (self.last_trust < self.cut_threshold).view(-1, 1, 1, 1)
        trust = trust.masked_fill(is_cut, 0.0)

        correction = self.strength * trust * (warp(state, flow, mode="bicubic") - small_stylised)
        # The state is O_t's small image: the small stylisation plus the correction.
        self._state = small_stylised + correction
        # In place on the freshly upsampled tensor: a second full-size
        # allocation costs more than the addition itself.
        return upscale(correction, self.scale, h, w).add_(stylised).clamp_(0.0, 1.0)
