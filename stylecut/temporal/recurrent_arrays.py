"""The recurrent temporal stage on numpy arrays, for the light path: recurrent.py's step, rule for rule.

The network runs from its export in the weights file (runtime/exported.py); the flows, warps, masks,
sampling and the servo are recurrent.py's, on the numpy counterparts of its helpers (flow/warp_arrays.py,
temporal/scaling_arrays.py), so its frames match the PyTorch stage's (tests/test_light.py). See
recurrent.py for what each step does and why.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import cv2
import numpy as np

from stylecut.flow.warp_arrays import in_frame_mask, occlusion_mask, sample, warp
from stylecut.runtime.exported import TEMPORAL, ExportedNetwork, load_exported
from stylecut.temporal.recurrent_config import SERVO_MAX, SERVO_RATE, RecurrentConfig
from stylecut.temporal.recurrent_file import TEMPORAL_FILE, read_config
from stylecut.temporal.registration import AnchorRegistration
from stylecut.temporal.scaling_arrays import cells_box, downscale, sample_down, upscale
from stylecut.temporal.stepped import SteppedStage


def _erode(mask: np.ndarray) -> np.ndarray:
    """The 3x3 minimum, borders left out (as max-pooling the negated mask does)."""
    padded = np.pad(mask, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    h, w = mask.shape[-2:]
    return np.min([padded[..., y : y + h, x : x + w] for y in range(3) for x in range(3)], axis=0)


def _laplacian(x: np.ndarray) -> np.ndarray:
    """The 4-neighbour Laplacian of ``(N, C, H, W)``, borders replicated; OpenCV's, in a third of the time
    of numpy's shifted copies of the padded planes."""
    planes = x.reshape(-1, *x.shape[-2:])
    return np.stack(
        [cv2.Laplacian(plane, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REPLICATE) for plane in planes]
    ).reshape(x.shape)


def _row_sharpness(images: np.ndarray, every: int = 7, margin: int = 8) -> np.ndarray:
    if min(images.shape[-2:]) < 3:
        return np.square(_laplacian(images)).mean(axis=(1, 2, 3))
    if min(images.shape[-2:]) > 4 * margin:
        images = images[..., margin:-margin, margin:-margin]
    rows = np.arange(0, images.shape[-2] - 2, every)
    up, centre, down = (images[:, :, rows + k] for k in range(3))
    lap = up[..., 1:-1] + down[..., 1:-1] + centre[..., :-2] + centre[..., 2:] - 4.0 * centre[..., 1:-1]
    return np.square(lap).mean(axis=(1, 2, 3))


def _phase(displacement: np.ndarray) -> np.ndarray:
    frac = displacement - np.floor(displacement)
    return 4.0 * frac * (1.0 - frac)


def _select(choose: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if choose.all():  # one side whole, as on most frames: no copy of the other
        return a
    if not choose.any():
        return b
    return np.where(choose.reshape(-1, *([1] * (a.ndim - 1))), a, b)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class _State:
    """recurrent._State, as arrays."""

    anchor: np.ndarray
    anchor_small: np.ndarray
    anchor_frame: np.ndarray
    anchor_gray: np.ndarray
    displacement: np.ndarray
    valid: np.ndarray
    output_small: np.ndarray
    frame_small: np.ndarray
    hidden: np.ndarray
    servo: np.ndarray
    previous: np.ndarray

    def where(self, choose: np.ndarray, other: _State) -> _State:
        return _State(*(_select(choose, getattr(self, f.name), getattr(other, f.name)) for f in fields(self)))


class RecurrentArrays(SteppedStage):
    """recurrent.RecurrentTemporal on numpy arrays, its network on OpenVINO."""

    name = "recurrent"

    def __init__(self, config: RecurrentConfig, network: ExportedNetwork) -> None:
        self.config = config
        self.network = network
        self.registration = AnchorRegistration(config)
        self._state: _State | None
        self.reset()

    @staticmethod
    def concat(frames: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(frames)

    def step(
        self,
        frame: np.ndarray,
        stylised: np.ndarray,
        flow_to_prev: np.ndarray | None,
        flow_from_prev: np.ndarray | None,
        prev_frame: np.ndarray | None = None,
    ) -> np.ndarray:
        cfg = self.config
        small = downscale(np.concatenate([frame, stylised], axis=1), cfg.scale)
        frame_small, stylised_small = small[:, :3], small[:, 3:]
        gray = self.registration.grays(frame)
        state = self._state
        if state is None or flow_to_prev is None or state.anchor.shape != stylised.shape:
            self._state = self._fresh(stylised, stylised_small, gray, frame_small)
            self.last_trust = None
            return stylised

        flow_px = sample_down(flow_to_prev, cfg.scale)
        flow = flow_px / cfg.scale
        back_px = None if flow_from_prev is None else sample_down(flow_from_prev, cfg.scale)
        mask = occlusion_mask(flow_px, back_px, stride=cfg.scale)
        moved = warp(
            np.concatenate([state.frame_small, state.output_small, state.displacement, state.valid], axis=1),
            flow,
        )
        moved_frame, moved_output, moved_displacement, moved_valid = np.split(moved, [3, 6, 8], axis=1)
        error = np.square(moved_frame - frame_small).mean(axis=1, keepdims=True)
        trust = _erode(mask) * np.exp(-error / cfg.photometric_tolerance**2)
        self.last_trust = trust.mean(axis=(1, 2, 3))
        is_cut = self.last_trust < cfg.cut_threshold

        displacement = self.registration.register(
            gray, state.anchor_gray, flow_px + moved_displacement, frame.shape[-2:]
        )
        chain = displacement / cfg.scale
        kept = np.maximum(mask, 1.0 - in_frame_mask(flow))
        enlarged = self.registration.magnification_ok(displacement)
        valid = (moved_valid > 0.5).astype(np.float32) * kept * in_frame_mask(chain) * enlarged
        young = mask * (1.0 - valid) * in_frame_mask(chain) * enlarged
        anchors = warp(np.concatenate([state.anchor_frame, state.anchor_small], axis=1), chain)
        anchor_frame, anchor_small = anchors[:, :3], anchors[:, 3:]
        hidden = warp(state.hidden, downscale(flow, 2) / 2)
        phase = _phase(displacement)
        inputs = np.concatenate(
            [
                frame_small - 0.5,
                stylised_small - 0.5,
                anchor_small - stylised_small,
                moved_output - stylised_small,
                moved_frame - frame_small,
                anchor_frame - frame_small,
                valid,
                mask,
                phase,
            ],
            axis=1,
        )
        raw, hidden = self.network({"x": inputs, "hidden": hidden})
        young_cells = _erode(young)
        weight = (_erode(valid) + young_cells) * _sigmoid(raw[:, :1])
        correction = cfg.correction_limit * np.tanh(raw[:, 1:4])
        sampled_at = np.where(valid > 0.5, displacement, flow_px)
        sharpening = (
            cfg.sharpening * _phase(sampled_at).mean(axis=1, keepdims=True) * state.servo.reshape(-1, 1, 1, 1)
        )
        anchor_small = np.where(young > 0.5, moved_output, anchor_small)
        blended_small = stylised_small + weight * (anchor_small - stylised_small)
        output_small = blended_small + correction
        box = cells_box(young_cells > 0, cfg.scale, *frame.shape[-2:])
        blended, output = self._compose(
            state.anchor, state.previous, box, valid, stylised, sampled_at, weight, correction, sharpening
        )

        detail_ratio = _row_sharpness(output) / np.maximum(_row_sharpness(stylised), 1e-12)
        servo = np.clip(state.servo * np.maximum(detail_ratio, 1e-3) ** -SERVO_RATE, 0.0, SERVO_MAX)

        output = _select(is_cut, stylised, output)
        output_small = _select(is_cut, stylised_small, output_small)
        blended = _select(is_cut, stylised, blended)
        blended_small = _select(is_cut, stylised_small, blended_small)
        hidden = _select(is_cut, np.zeros_like(hidden), hidden)
        servo = _select(is_cut, np.ones_like(servo), servo)
        refresh = is_cut | (valid.mean(axis=(1, 2, 3)) < cfg.refresh_coverage * mask.mean(axis=(1, 2, 3)))
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
        self._state = self._fresh(
            blended, blended_small, gray, frame_small, hidden, servo, output_small
        ).where(refresh, carried)
        return output

    def _compose(
        self,
        anchor: np.ndarray,
        previous: np.ndarray,
        box: tuple[slice, slice] | None,
        valid: np.ndarray,
        stylised: np.ndarray,
        displacement: np.ndarray,
        weight: np.ndarray,
        correction: np.ndarray,
        sharpening: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        h, w = stylised.shape[-2:]
        moved = upscale(displacement, cfg.scale, h, w)
        xs, ys = np.arange(w, dtype=np.float32)[None, :], np.arange(h, dtype=np.float32)[:, None]
        at = [(xs + d[0], ys + d[1]) for d in moved]
        sampled = np.stack([sample(image, x, y, cfg.sample_mode) for image, (x, y) in zip(anchor, at)])
        if box is not None:
            # recurrent.py's lerp from the previous output's sample to the anchor's by the validity, in place.
            rows, cols = box
            young = np.stack(
                [
                    sample(image, x[rows, cols], y[rows, cols], cfg.sample_mode)
                    for image, (x, y) in zip(previous, at)
                ]
            )
            part = sampled[..., rows, cols]
            part -= young
            part *= upscale(valid, cfg.scale, h, w)[..., rows, cols]
            part += young
        controls = upscale(np.concatenate([weight, correction, sharpening], axis=1), cfg.scale, h, w)
        weight_full, correction_full, sharpening_full = controls[:, :1], controls[:, 1:4], controls[:, 4:]
        # recurrent.py's sampled - (0.25 * sharpening) * laplacian and stylised + weight * (detail - stylised),
        # operation for operation, in one full-size buffer instead of a new one per operation.
        blended = _laplacian(sampled)
        blended *= 0.25 * sharpening_full
        np.subtract(sampled, blended, out=blended)
        blended -= stylised
        blended *= weight_full
        np.add(stylised, blended, out=blended)
        output = blended + correction_full
        return np.clip(blended, 0.0, 1.0, out=blended), np.clip(output, 0.0, 1.0, out=output)

    def _fresh(
        self,
        anchor: np.ndarray,
        anchor_small: np.ndarray,
        gray: np.ndarray,
        frame_small: np.ndarray,
        hidden: np.ndarray | None = None,
        servo: np.ndarray | None = None,
        output_small: np.ndarray | None = None,
    ) -> _State:
        n, _, h, w = anchor_small.shape
        return _State(
            anchor=anchor,
            anchor_small=anchor_small,
            anchor_frame=frame_small,
            anchor_gray=gray,
            displacement=np.zeros((n, 2, h, w), np.float32),
            valid=np.ones((n, 1, h, w), np.float32),
            output_small=anchor_small if output_small is None else output_small,
            frame_small=frame_small,
            hidden=np.zeros((n, self.config.hidden, -(-h // 2), -(-w // 2)), np.float32)
            if hidden is None
            else hidden,
            servo=np.ones(n, np.float32) if servo is None else servo,
            previous=anchor,
        )


def load_recurrent_arrays(path: Path, expected_sha256: str | None, threads: int | None) -> RecurrentArrays:
    """The stage a temporal network file describes, on the light path, after every check."""
    config, _ = read_config(path, expected_sha256)
    return RecurrentArrays(config, load_exported(path, TEMPORAL_FILE, TEMPORAL, None, threads))
