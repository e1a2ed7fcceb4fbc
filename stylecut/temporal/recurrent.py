"""The learned temporal stage: a small recurrent network that steadies a stylised clip without softening it.

In the spirit of Lai et al., "Learning Blind Video Temporal Consistency"
(ECCV 2018): at every frame a ConvGRU network sees the input frame, the
previous input frame warped onto it, the per-frame stylisation ``S_t``, the
previous output warped along the flow, and the occlusion mask of the flow,
keeps a hidden state that is carried along the flow too, and predicts the
output as a correction of ``S_t``. One set of weights serves every style.

Three choices keep it sharp, cheap and safe:

* Sample once from an anchor. A stylisation's flicker is fine texture
  (strokes a few pixels wide), so only history carried at full resolution
  removes it; but resampling a carried image at sub-pixel offsets frame
  after frame blurs it away (the fixed fuser's trade-off). So the fine
  detail is not re-warped every frame: the stage keeps an *anchor* (a past
  full-resolution output) and the *composed* flow from the current frame to
  it, ``D_t = f_t + warp(D_{t-1}, f_t)``, and samples the anchor once through
  ``D_t``. The composed flow is smooth, so it is carried on the coarse grid,
  where re-warping it costs nothing in sharpness. A coarse cell loses the
  anchor for good once the chain meets an occlusion (the forward-backward
  and motion-boundary mask) or leaves the frame; whether the chain still
  lands on the same content is judged by the network from the anchor's
  input frame warped through ``D_t``. Composed flows drift, and a cell
  whose chain enlarges the anchor (the camera closing in) would blur it,
  so ``registration.py`` pulls ``D_t`` back onto the anchor's input frame
  each frame and drops the anchor where it is enlarged too much. When the anchor is seen from less
  than ``refresh_coverage`` of what the last flow covers, the current output
  becomes the new anchor. Until then a cell that lost the anchor to an
  occlusion (not to the frame's edge or to enlargement) takes its detail
  from the previous output, sampled along the last flow where that holds: a
  *young anchor*, resampled every frame but only until the refresh, instead
  of the stylisation, which would flicker. A pixel is otherwise resampled
  once per anchor, not once per frame, and the sampled anchor is sharpened
  in proportion to the sub-pixel phase of ``D_t`` (of the last flow in the
  young anchor's cells; no sharpening at whole pixels, where sampling is
  exact) to make up for that one resampling. Refreshes still
  compound whatever error that leaves, so a servo scales the sharpening to
  hold the output's Laplacian energy at the stylisation's, frame by frame.
  Sharpness is this rule's job, not the network's: a learned sharpening,
  trained on short windows, gave up detail on long clips.
* Decide coarsely, compose finely. The stage's inputs and validity live on
  a grid ``scale`` times coarser than the frame (4: 320x180 cells for
  720p); the network's recurrent core runs at half of that. Per cell it
  outputs how much of the anchor to take (never where neither anchor is
  valid), a smooth colour correction (which also steadies regions the
  anchor cannot see, from the warped previous output). Only their bilinear
  upsampling, the phase-scaled sharpening, one bicubic sample of the anchor
  (and one of the previous output on frames where a cell takes it), a
  Laplacian and a few elementwise operations touch full-resolution pixels.
  The input frames and the hidden state are carried at the coarse
  resolution only, the previous output at both (full resolution for the
  young anchor).
* Cuts. As in the fixed fuser, trust is the occlusion mask times a
  photometric confidence ``exp(-|warp(I_{t-1}) - I_t|^2 / tol^2)``; when its
  mean over the frame falls below ``cut_threshold`` the history (anchor,
  previous output, hidden state) is dropped and the frame starts afresh
  with its own stylisation.

Flows follow ``stylecut.flow``: ``flow_to_prev`` maps frame t to frame t-1
in pixels. All tensors are ``(N, C, H, W)``; samples of a batch are
independent clips (training runs several at once, the pipeline one).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylecut.flow.warp import in_frame_mask, occlusion_mask, warp
from stylecut.temporal.recurrent_config import (
    INPUT_CHANNELS,
    OUTPUT_CHANNELS,
    SERVO_MAX,
    SERVO_RATE,
    RecurrentConfig,
)
from stylecut.temporal.registration import AnchorRegistration
from stylecut.temporal.scaling import downscale, sample_down, upscale
from stylecut.temporal.scaling_arrays import cells_box
from stylecut.temporal.stepped import SteppedStage


def _conv(in_ch: int, out_ch: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1)


class ConvGRUCell(nn.Module):
    """A convolutional GRU (Ballas et al., 2016): ``h' = (1 - z) h + z tanh(W [x, r h])``."""

    def __init__(self, in_ch: int, hidden: int) -> None:
        super().__init__()
        self.gates = _conv(in_ch + hidden, 2 * hidden)
        self.candidate = _conv(in_ch + hidden, hidden)

    def forward(self, x: Tensor, h: Tensor) -> Tensor:
        update, reset = torch.sigmoid(self.gates(torch.cat([x, h], dim=1))).chunk(2, dim=1)
        candidate = torch.tanh(self.candidate(torch.cat([x, reset * h], dim=1)))
        return h + update * (candidate - h)


class TemporalNet(nn.Module):
    """One step on the coarse grid: inputs ``(N, 22, h, w)``, hidden state -> outputs ``(N, 5, h, w)``, state.

    A strided convolution takes the inputs to half the coarse resolution
    (``ceil(h/2) x ceil(w/2)``, :meth:`hidden_shape`), where the recurrent
    cell and a decoding convolution run; the outputs are upsampled back to
    the coarse grid. Validity and occlusions are applied on the coarse grid
    by the caller, so only the network's own decisions are at half its resolution.
    """

    def __init__(self, features: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.encode = _conv(INPUT_CHANNELS, features, stride=2)
        self.cell = ConvGRUCell(features, hidden)
        self.decode = _conv(hidden + features, features)
        self.head = nn.Conv2d(features, OUTPUT_CHANNELS, 1)
        with torch.no_grad():
            # Start as an anchor-carrying fuser: the anchor outright where valid (a blend of two stroke
            # patterns loses their fine detail), and no correction.
            self.head.weight.mul_(0.1)
            self.head.bias.copy_(torch.tensor([6.0, 0.0, 0.0, 0.0]))

    def hidden_shape(self, n: int, h: int, w: int) -> tuple[int, int, int, int]:
        return n, self.hidden, -(-h // 2), -(-w // 2)

    def forward(self, x: Tensor, hidden: Tensor) -> tuple[Tensor, Tensor]:
        encoded = F.relu(self.encode(x))
        hidden = self.cell(encoded, hidden)
        out = self.head(F.relu(self.decode(torch.cat([hidden, encoded], dim=1))))
        return F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False), hidden


def _array(x: Tensor) -> np.ndarray:
    """``x`` as a float32 numpy array on the CPU (the registration's DIS works there)."""
    return x.detach().float().cpu().numpy()


def _erode(mask: Tensor) -> Tensor:
    return -F.max_pool2d(-mask, 3, stride=1, padding=1)


def _laplacian(x: Tensor) -> Tensor:
    """4-neighbour Laplacian with replicated borders."""
    p = F.pad(x, (1, 1, 1, 1), mode="replicate")
    return p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:] - 4.0 * x


def _row_sharpness(images: Tensor, every: int = 7, margin: int = 8) -> Tensor:
    """Per image, the mean square of the 4-neighbour Laplacian on every ``every``-th row (cheap sharpness).

    ``margin`` pixels at the borders are left out, as the benchmarks do: the
    generators' padding makes their borders unlike the rest of the frame.
    ``every`` is odd: the generators' strides give their detail an 8-pixel
    period, which rows 8 apart would sample at one phase only.
    """
    if min(images.shape[-2:]) < 3:  # no 3x3 neighbourhood to sample: every pixel, borders replicated
        return _laplacian(images).square().mean(dim=(1, 2, 3))
    if min(images.shape[-2:]) > 4 * margin:
        images = images[..., margin:-margin, margin:-margin]
    bands = images.unfold(2, 3, every)  # (N, C, rows, W, 3): rows y-1, y, y+1 around every sampled y
    centre = bands[..., 1]
    vertical = bands[..., 1:-1, 0] + bands[..., 1:-1, 2]
    lap = vertical + centre[..., :-2] + centre[..., 2:] - 4.0 * centre[..., 1:-1]
    return lap.square().mean(dim=(1, 2, 3))


def _phase(displacement: Tensor) -> Tensor:
    """``4 d (1 - d)`` of the sub-pixel part ``d`` of each component: 0 at whole pixels, 1 half-way."""
    frac = displacement - displacement.floor()
    return 4.0 * frac * (1.0 - frac)


def _select(choose: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Per sample: ``a`` where ``choose`` (N,) is true, else ``b`` (no copy when all samples agree)."""
    if bool(choose.all()):
        return a
    if not bool(choose.any()):
        return b
    return torch.where(choose.view(-1, *([1] * (a.dim() - 1))), a, b)


@dataclass
class _State:
    anchor: Tensor  # full-resolution output the fine detail is sampled from
    anchor_small: Tensor  # its coarse version
    anchor_frame: Tensor  # coarse input frame of the anchor, to check the chain of flows against
    anchor_gray: Tensor  # the anchor's input frame as registration.grays gives it, to register the chain on
    displacement: Tensor  # coarse composed flow current frame -> anchor, in frame pixels
    valid: Tensor  # coarse: 1 where the chain of flows to the anchor never met an occlusion or the frame edge
    output_small: Tensor  # coarse version of the previous output
    frame_small: Tensor  # coarse previous input frame
    hidden: Tensor
    servo: Tensor  # (N,) factor on the sharpening that holds the output's detail at the stylisation's
    previous: Tensor  # the previous output before its correction, full-resolution: the young anchor

    def where(self, choose: Tensor, other: _State) -> _State:
        return _State(*(_select(choose, getattr(self, f.name), getattr(other, f.name)) for f in fields(self)))


class RecurrentTemporal(SteppedStage, nn.Module):
    """The recurrent temporal stage: ``reset()``, then ``step()`` (or ``fuse_chunk()``) frame after frame.

    After each step ``last_trust`` holds the per-sample mean trust ``(N,)``
    (None without history), as the fixed fuser's does. Differentiable: the
    trainer runs the same steps with gradients over a window of frames.
    ``autocast`` is the dtype the network runs in under autocast (fp16 on
    CUDA, as the generator does), None for fp32; whatever it is, only the
    network's own layers use it: flows, sampling and the state stay fp32,
    since fp16 cannot hold a pixel coordinate past 2048 to a sub-pixel.
    """

    name = "recurrent"

    def __init__(self, config: RecurrentConfig = RecurrentConfig()) -> None:
        super().__init__()
        self.config = config
        self.net = TemporalNet(config.features, config.hidden)
        self.registration = AnchorRegistration(config)
        self.autocast: torch.dtype | None = None
        self._state: _State | None  # narrows SteppedStage's type; reset() sets it
        self.reset()
        self._grid: Tensor | None = None  # pixel grid in grid_sample's units, for the last frame size
        # Training only: the chance per frame that the anchor is replaced anyway, so that short training
        # windows show the network outputs resampled from outputs, as long clips do after each refresh.
        self.forced_refresh = 0.0
        self._grid_key: tuple | None = None

    def step(
        self,
        frame: Tensor,
        stylised: Tensor,
        flow_to_prev: Tensor | None,
        flow_from_prev: Tensor | None,
        prev_frame: Tensor | None = None,
    ) -> Tensor:
        """The output ``O_t`` ``(N, 3, H, W)`` for the next frame.

        ``frame``/``stylised`` are the input frame and its per-frame
        stylisation in [0, 1]; the flows are between the current and previous
        INPUT frames. Without ``flow_to_prev`` (first frame) the stylisation
        is returned as is and the history starts from it; without
        ``flow_from_prev`` the forward-backward check is skipped.
        ``prev_frame`` is accepted for the stage interface only: the stage
        keeps its own coarse copy of the previous frame.
        """
        cfg = self.config
        frame_small, stylised_small = downscale(torch.cat([frame, stylised], dim=1), cfg.scale).split(
            3, dim=1
        )
        gray = self.registration.grays(_array(frame))
        state = self._state
        if state is None or flow_to_prev is None or state.anchor.shape != stylised.shape:
            self._state = self._fresh(stylised, stylised_small, torch.from_numpy(gray).to(frame), frame_small)
            self.last_trust = None
            return stylised

        flow_px = sample_down(flow_to_prev, cfg.scale)
        flow = flow_px / cfg.scale
        back_px = None if flow_from_prev is None else sample_down(flow_from_prev, cfg.scale)
        mask = occlusion_mask(flow_px, back_px, stride=cfg.scale)
        # What is carried along the last flow in one resampling, what is read through the chain in another.
        moved = warp(
            torch.cat([state.frame_small, state.output_small, state.displacement, state.valid], dim=1), flow
        )
        moved_frame, moved_output, moved_displacement, moved_valid = moved.split([3, 3, 2, 1], dim=1)
        error = (moved_frame - frame_small).square().mean(dim=1, keepdim=True)
        self.last_trust = (_erode(mask) * torch.exp(-error / cfg.photometric_tolerance**2)).mean(
            dim=(1, 2, 3)
        )
        is_cut = self.last_trust < cfg.cut_threshold

        corrected = self.registration.register(
            gray, _array(state.anchor_gray), _array(flow_px + moved_displacement), frame.shape[-2:]
        )
        displacement = torch.from_numpy(corrected).to(flow_px)
        chain = displacement / cfg.scale
        # A cell loses the anchor for good where the flow is occluded or the anchor is enlarged too much;
        # entering the frame is judged on the chain as a whole (a cell at the edge is mostly old content
        # when the motion is sub-pixel). Whether the chain still lands on the same content is the
        # network's call, from the anchor's input frame.
        kept = torch.maximum(mask, 1.0 - in_frame_mask(flow))
        enlarged = torch.from_numpy(self.registration.magnification_ok(_array(displacement))).to(mask)
        valid = (moved_valid > 0.5).to(mask.dtype) * kept * in_frame_mask(chain) * enlarged
        # A cell the anchor was lost in to an earlier frame's flow (the subject's own motion, a
        # forward-backward miss) takes its detail from the previous output instead, sampled along the last
        # flow where that holds: the stylisation there would flicker until the next refresh. Not where the
        # chain left the frame or enlarges the anchor: resampled every frame, the entering edge of a pan or
        # a push-in would blur.
        young = mask * (1.0 - valid) * in_frame_mask(chain) * enlarged
        anchor_frame, anchor_small = warp(
            torch.cat([state.anchor_frame, state.anchor_small], dim=1), chain
        ).split(3, dim=1)
        chain_error = anchor_frame - frame_small
        hidden = warp(state.hidden, downscale(flow, 2) / 2)
        phase = _phase(displacement)
        inputs = torch.cat(
            [
                frame_small - 0.5,
                stylised_small - 0.5,
                anchor_small - stylised_small,
                moved_output - stylised_small,
                moved_frame - frame_small,
                chain_error,
                valid,
                mask,
                phase,
            ],
            dim=1,
        )
        raw, hidden = self._network(inputs, hidden)
        # Eroded so that the upsampled weight cannot bleed the anchor into a cell that lost it.
        young_cells = _erode(young)
        weight = (_erode(valid) + young_cells) * torch.sigmoid(raw[:, :1])
        correction = cfg.correction_limit * torch.tanh(raw[:, 1:4])
        servo = state.servo.view(-1, 1, 1, 1)
        sampled_at = torch.where(valid > 0.5, displacement, flow_px)
        sharpening = cfg.sharpening * _phase(sampled_at).mean(dim=1, keepdim=True) * servo
        anchor_small = torch.where(young > 0.5, moved_output, anchor_small)
        # The correction is this frame's alone: a refresh keeps the output without it as the new anchor,
        # so that corrections do not compound from anchor to anchor into a drift of the colours.
        blended_small = stylised_small + weight * (anchor_small - stylised_small)
        output_small = blended_small + correction
        box = cells_box(_array(young_cells) > 0, cfg.scale, *frame.shape[-2:])  # where it is sampled
        blended, output = self._compose(
            state.anchor, state.previous, box, valid, stylised, sampled_at, weight, correction, sharpening
        )

        # Hold the output's fine detail at the stylisation's: each anchor refresh compounds what one
        # sampling and sharpening do to it, so a small error per refresh would add up over a long clip.
        detail_ratio = _row_sharpness(output.detach()) / _row_sharpness(stylised).clamp_min(1e-12)
        servo = (state.servo * detail_ratio.clamp_min(1e-3).pow(-SERVO_RATE)).clamp(0.0, SERVO_MAX)

        # A cut starts afresh from the stylisation; a fading anchor is replaced by this output.
        output = _select(is_cut, stylised, output)
        output_small = _select(is_cut, stylised_small, output_small)
        blended = _select(is_cut, stylised, blended)
        blended_small = _select(is_cut, stylised_small, blended_small)
        hidden = _select(is_cut, torch.zeros_like(hidden), hidden)
        servo = _select(is_cut, torch.ones_like(servo), servo)
        # Refresh when the anchor is seen from markedly less of the frame than the last flow covers.
        refresh = is_cut | (valid.mean(dim=(1, 2, 3)) < cfg.refresh_coverage * mask.mean(dim=(1, 2, 3)))
        if self.forced_refresh:
            refresh = refresh | (torch.rand(refresh.shape, device=refresh.device) < self.forced_refresh)
        carried = _State(
            state.anchor,
            state.anchor_small,
            state.anchor_frame,
            state.anchor_gray,
            displacement,
            valid,
            output_small,
            frame_small,
            hidden,
            servo,
            blended,
        )
        gray_kept = torch.from_numpy(gray).to(frame)
        self._state = self._fresh(
            blended, blended_small, gray_kept, frame_small, hidden, servo, output_small
        ).where(refresh, carried)
        return output

    def _network(self, inputs: Tensor, hidden: Tensor) -> tuple[Tensor, Tensor]:
        if self.autocast is None:
            return self.net(inputs, hidden)
        with torch.autocast(inputs.device.type, dtype=self.autocast):
            raw, hidden = self.net(inputs, hidden)
        return raw.float(), hidden.float()

    def _compose(
        self,
        anchor: Tensor,
        previous: Tensor,
        box: tuple[slice, slice] | None,
        valid: Tensor,
        stylised: Tensor,
        displacement: Tensor,
        weight: Tensor,
        correction: Tensor,
        sharpening: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """At full resolution, the anchor sampled once, sharpened and blended into ``S_t``; then corrected.

        ``previous`` is sampled too within ``box`` (rows, columns; None:
        nowhere) and taken there outside ``valid``. Both are returned: the
        blend is what a refresh keeps as the next anchor, the corrected one the output.
        """
        cfg = self.config
        h, w = stylised.shape[-2:]
        grid = self._sampling_grid(displacement, anchor)
        sampled = self._grid_sample(anchor, grid)
        if box is not None:
            rows, cols = box
            young = self._grid_sample(previous, grid[:, rows, cols])
            share = upscale(valid, cfg.scale, h, w)[..., rows, cols]
            sampled[..., rows, cols] = torch.lerp(young, sampled[..., rows, cols], share)
        controls = upscale(torch.cat([weight, correction, sharpening], dim=1), cfg.scale, h, w)
        weight_full, correction_full, sharpening_full = controls[:, :1], controls[:, 1:4], controls[:, 4:]
        detail = sampled - (0.25 * sharpening_full) * _laplacian(sampled)
        blended = torch.lerp(stylised, detail, weight_full)
        return blended.clamp(0.0, 1.0), (blended + correction_full).clamp(0.0, 1.0)

    def _grid_sample(self, image: Tensor, grid: Tensor) -> Tensor:
        return F.grid_sample(
            image, grid, mode=self.config.sample_mode, padding_mode="border", align_corners=True
        )

    def _sampling_grid(self, displacement: Tensor, image: Tensor) -> Tensor:
        """The ``(N, H, W, 2)`` grid that samples an image the size of ``image`` at ``p + D(p)``, ``D``
        upsampled from the coarse grid (``flow.warp``'s way).

        The grid is built in grid_sample's normalised units directly, from a
        cached pixel grid: at 720p its construction costs as much as the sampling.
        """
        cfg = self.config
        n, _, h, w = image.shape
        units = displacement.new_tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)]).view(1, 2, 1, 1)
        key = (h, w, image.device, image.dtype)
        if self._grid_key != key:
            ys, xs = torch.meshgrid(
                torch.arange(h, device=image.device, dtype=image.dtype),
                torch.arange(w, device=image.device, dtype=image.dtype),
                indexing="ij",
            )
            self._grid, self._grid_key = torch.stack((xs, ys)).unsqueeze(0) * units - 1.0, key
        return (self._grid + upscale(displacement * units, cfg.scale, h, w)).permute(0, 2, 3, 1)

    def _fresh(
        self,
        anchor: Tensor,
        anchor_small: Tensor,
        gray: Tensor,
        frame_small: Tensor,
        hidden: Tensor | None = None,
        servo: Tensor | None = None,
        output_small: Tensor | None = None,
    ) -> _State:
        """A history anchored on this frame: ``anchor`` (its output before the correction) and ``output_small``."""
        n, _, h, w = anchor_small.shape
        return _State(
            anchor=anchor,
            anchor_small=anchor_small,
            anchor_frame=frame_small,
            anchor_gray=gray,
            displacement=anchor_small.new_zeros(n, 2, h, w),
            valid=anchor_small.new_ones(n, 1, h, w),
            output_small=anchor_small if output_small is None else output_small,
            frame_small=frame_small,
            hidden=anchor_small.new_zeros(self.net.hidden_shape(n, h, w)) if hidden is None else hidden,
            servo=anchor_small.new_ones(n) if servo is None else servo,
            previous=anchor,
        )
