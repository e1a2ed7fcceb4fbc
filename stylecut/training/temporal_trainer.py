"""Training the recurrent temporal stage, with a window cache, validation, checkpoint and resume.

Each step runs the stage (``stylecut.temporal.recurrent``) over a batch of
cached windows (random crops, hidden state and anchor carried across the
window's frames, gradients through all of them) and minimises, as in Lai et
al. (ECCV 2018):

* short-term temporal loss: ``O_t`` against ``O_{t-1}`` warped by the DIS
  flow, and long-term: ``O_t`` against the window's first output ``O_0``
  warped by the direct flow between them; both masked by the occlusion mask
  of the INPUT frames' flow, squared RGB error like E_warp, and divided by
  the same error of the per-frame stylisation, so 1.0 is "as flickery as
  frame by frame". The warp here is bicubic: a bilinear one would blur
  ``O_{t-1}`` and reward a blurred ``O_t``.
* fidelity to the per-frame stylisation ``S_t`` in the loss network
  (EfficientNet-Lite0): Gram matrices of fine blocks (style and texture,
  independent of where each stroke sits, so strokes may stick to the scene)
  and features of a deep block (content and structure);
* detail: ``|log|`` of the sharpness ratio of ``O_t`` to ``S_t`` (mean square
  of the Laplacian, the benchmarks' measure), so that neither blur nor
  over-sharpening pays.

Windows come from ``temporal_data``; the validation windows are held-out
frames of whole clips, scored with E_warp and sharpness ratios against the
per-frame stylisation at every ``eval_every`` steps.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from stylecut.flow.dis import DISFlow
from stylecut.flow.warp import occlusion_mask, warp
from stylecut.models.loss_network import LossNetwork, lite0_loss_network
from stylecut.temporal.recurrent import RecurrentConfig, RecurrentTemporal
from stylecut.temporal.recurrent_file import load_recurrent
from stylecut.training.losses import gram
from stylecut.training.temporal_data import (
    Batch,
    WindowSpec,
    build_window,
    clip_specs,
    collate,
    fit_short_side,
    read_clip_window,
    read_crop,
    save_window,
    synthesise_photo_window,
)
from stylecut.training.trainer import CHECKPOINT, finite_total, write_checkpoint
from stylecut.video.decode import FrameReader

BEST = "best.pt"  # the network at its best validation score so far: what is exported
LOG = "log.jsonl"
# Added to both sides of a sharpness ratio: a crop the stylisation leaves flat (a black border, a clipped
# highlight) has a Laplacian of 0, and its ratio was infinite (training diverged at step 90). Natural
# 480p frames are near 4e-3, a clear sky near 1e-5.
FLAT_SHARPNESS = 1e-5
TRAIN_PREFIX = "train-"
VALIDATION_PREFIX = "val-"


@dataclass
class TemporalTrainConfig:
    """Everything a run depends on; stored in checkpoints and in the exported weights."""

    name: str = "temporal-recurrent"
    clips: list[str] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    # Clip-name fragment -> frames held out from the clip's start (the benchmark scores the first 40).
    holdout: dict[str, int] = field(default_factory=dict)
    validation: list[str] = field(default_factory=list)  # clip-name fragments of held-out validation clips
    validation_styles: int = 2  # the first N styles score each validation clip
    validation_length: int = 40
    validation_photos: list[str] = field(default_factory=list)  # camera moves over them validate, never train
    # A temporal stage's weights file whose network training starts from (default: the stage's initialisation).
    init: str = ""
    pan_speed: float = 3.0  # a photo window's camera pans up to this many frame pixels a frame
    zoom_speed: float = 0.006  # and zooms up to this fraction of the frame a frame, in or out
    window: int = 8
    frame_steps: list[int] = field(default_factory=lambda: [1, 2])
    windows_per_clip: int = 12
    windows_per_photo: int = 1
    short_side: int = 288
    max_long_side: int = 512
    crop: int = 256
    batch: int = 4
    steps: int = 2000
    lr: float = 2e-3
    final_lr: float = 0.1  # fraction of lr reached at the end (cosine)
    short_weight: float = 1.0
    long_weight: float = 0.5
    gram_layers: dict[str, float] = field(default_factory=lambda: {"0": 1.0, "2": 1.0, "4": 1.0})
    gram_weight: float = 1.0
    content_layer: int = 7
    content_weight: float = 0.2  # S_t's own structure flickers: a strong pull to it is a pull to flicker
    detail_weight: float = 2.0
    fidelity_frames: int = 3  # later frames of each window the fidelity and detail terms score
    # Chance per frame of a forced anchor refresh in training (none in validation): an 8-frame window
    # then holds outputs resampled from resampled outputs, which long clips meet after each refresh.
    forced_refresh: float = 0.3
    stage: dict = field(default_factory=lambda: RecurrentConfig().to_dict())
    checkpoint_every: int = 25
    eval_every: int = 100
    seed: int = 0

    @classmethod
    def from_dict(cls, data: dict) -> TemporalTrainConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def _holdout(config: TemporalTrainConfig, clip: str) -> int:
    return max((frames for key, frames in config.holdout.items() if key in Path(clip).name), default=0)


def plan_windows(config: TemporalTrainConfig) -> list[tuple[str, WindowSpec, int]]:
    """Every window of the run as ``(file prefix, spec, length)``; deterministic for a config."""
    rng = random.Random(config.seed)
    planned = []
    for clip in config.clips:
        frames = len(FrameReader(Path(clip)))
        specs = clip_specs(
            Path(clip),
            frames,
            config.window,
            tuple(config.frame_steps),
            config.windows_per_clip,
            _holdout(config, clip),
            config.styles,
            rng,
        )
        planned += [(TRAIN_PREFIX, spec, config.window) for spec in specs]
        if any(key in Path(clip).name for key in config.validation):
            length = min(config.validation_length, _holdout(config, clip), frames)
            planned += [
                (VALIDATION_PREFIX, WindowSpec(clip, "clip", style), length)
                for style in config.styles[: config.validation_styles]
            ]
    for photo in config.photos:
        for _ in range(config.windows_per_photo):
            spec = WindowSpec(photo, "photo", rng.choice(config.styles), seed=rng.randrange(1 << 30))
            planned.append((TRAIN_PREFIX, spec, config.window))
    for photo in config.validation_photos:
        seed = rng.randrange(1 << 30)
        planned += [
            (VALIDATION_PREFIX, WindowSpec(photo, "photo", style, seed=seed), config.validation_length)
            for style in config.styles[: config.validation_styles]
        ]
    return planned


def build_cache(
    config: TemporalTrainConfig, cache_dir: Path, report: Callable[[int, int, str], None] | None = None
) -> None:
    """Stylise and flow every planned window not yet in ``cache_dir`` (finished windows are kept)."""
    from stylecut.styles.registry import load_style, resolve_style

    cache_dir.mkdir(parents=True, exist_ok=True)
    planned = plan_windows(config)
    generators: dict[str, torch.nn.Module] = {}
    flow = DISFlow(max_side=1 << 30)  # the pipeline's DIS "medium"; build_window shrinks the frames itself
    for done, (prefix, spec, length) in enumerate(planned, 1):
        path = cache_dir / f"{prefix}{spec.file_name}"
        if not path.exists():
            if spec.style not in generators:
                generators[spec.style] = load_style(resolve_style(spec.style))[0]
            if spec.kind == "clip":
                frames = fit_short_side(
                    read_clip_window(spec, length), config.short_side, config.max_long_side
                )
            else:
                size = (config.short_side, config.max_long_side)
                frames = synthesise_photo_window(spec, length, size, config.pan_speed, config.zoom_speed)
            save_window(path, build_window(frames, generators[spec.style], flow))
        if report is not None:
            report(done, len(planned), path.name)


def _masked_error(a: Tensor, b: Tensor, mask: Tensor) -> Tensor:
    """Per sample: squared RGB error summed over channels, mean over the mask (as E_warp)."""
    return ((a - b).square().sum(dim=1, keepdim=True) * mask).sum(dim=(1, 2, 3)) / mask.sum(
        dim=(1, 2, 3)
    ).clamp_min(1.0)


def _sharpness(images: Tensor) -> Tensor:
    """Per image, the mean square of the 4-neighbour Laplacian: the benchmarks' sharpness (its variance)."""
    channels = images.shape[1]
    kernel = images.new_tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).expand(channels, 1, 3, 3)
    return F.conv2d(images, kernel, groups=channels).square().mean(dim=(1, 2, 3))


def run_window(stage: RecurrentTemporal, batch: Batch) -> list[Tensor]:
    """The stage's outputs for every frame of the batch's windows, history carried from the first."""
    stage.reset()
    outputs = [stage.step(batch.frames[0], batch.stylised[0], None, None, None)]
    for t in range(1, len(batch.frames)):
        flows = (batch.to_prev[t - 1], batch.from_prev[t - 1], batch.frames[t - 1])
        outputs.append(stage.step(batch.frames[t], batch.stylised[t], *flows))
    return outputs


@torch.no_grad()
def _masks(batch: Batch) -> tuple[Tensor, Tensor]:
    """Occlusion masks ``(T-1, B, 1, H, W)`` of the consecutive and of the long-term pairs, on the crop."""
    short = torch.stack([occlusion_mask(a, b) for a, b in zip(batch.to_prev, batch.from_prev)])
    long = torch.stack([occlusion_mask(a, b) for a, b in zip(batch.to_first, batch.from_first)])
    return short, long


def temporal_errors(
    outputs: list[Tensor], batch: Batch, masks: tuple[Tensor, Tensor], mode: str = "bicubic"
) -> tuple[Tensor, Tensor]:
    """Mean short-term and long-term masked warping errors of ``outputs`` (frame 0 -> 2.. for long-term)."""
    short_masks, long_masks = masks
    short = torch.stack(
        [
            _masked_error(
                outputs[t], warp(outputs[t - 1], batch.to_prev[t - 1], mode=mode), short_masks[t - 1]
            )
            for t in range(1, len(outputs))
        ]
    )
    long = torch.stack(
        [
            _masked_error(outputs[t], warp(outputs[0], batch.to_first[t - 1], mode=mode), long_masks[t - 1])
            for t in range(2, len(outputs))
        ]
    )
    return short.mean(), long.mean()


class TemporalTrainer:
    """Holds the stage, optimiser, loss network and cache of one run; ``run`` trains to ``config.steps``."""

    def __init__(self, config: TemporalTrainConfig, run_dir: Path, cache_dir: Path) -> None:
        self.config = config
        self.run_dir = run_dir
        torch.manual_seed(config.seed)
        self.stage = RecurrentTemporal(RecurrentConfig.from_dict(config.stage)).train()
        if config.init:
            self.stage.net.load_state_dict(load_recurrent(Path(config.init))[0].net.state_dict())
        self.stage.forced_refresh = config.forced_refresh
        self.optimiser = torch.optim.Adam(self.stage.parameters(), lr=config.lr)
        self.step = 0
        self.elapsed = 0.0
        self.gram_weights = {int(k): v for k, v in config.gram_layers.items()}
        self.loss_net: LossNetwork = lite0_loss_network([*self.gram_weights, config.content_layer])
        self.windows = sorted(cache_dir.glob(f"{TRAIN_PREFIX}*.safetensors"))
        self.validation_windows = sorted(cache_dir.glob(f"{VALIDATION_PREFIX}*.safetensors"))
        if not self.windows:
            raise FileNotFoundError(f"no training windows in {cache_dir}")
        self.rng = random.Random(config.seed)
        self.best_score: float | None = None

    def learning_rate(self) -> float:
        cfg = self.config
        progress = min(1.0, self.step / max(1, cfg.steps))
        return cfg.lr * (cfg.final_lr + (1 - cfg.final_lr) * 0.5 * (1 + math.cos(math.pi * progress)))

    def sample(self) -> Batch:
        paths = [self.rng.choice(self.windows) for _ in range(self.config.batch)]
        return collate([read_crop(p, self.config.crop, self.rng) for p in paths])

    def losses(self, batch: Batch) -> tuple[dict[str, Tensor], dict[str, float]]:
        """The weighted loss terms of one batch, and unweighted diagnostics."""
        cfg = self.config
        outputs = run_window(self.stage, batch)
        masks = _masks(batch)
        short, long = temporal_errors(outputs, batch, masks)
        with torch.no_grad():
            base_short, base_long = temporal_errors(list(batch.stylised), batch, masks)
        # The loss network is most of a step's cost: it sees a random subset of the later frames.
        chosen = sorted(self.rng.sample(range(1, len(outputs)), min(cfg.fidelity_frames, len(outputs) - 1)))
        later = torch.cat([outputs[t] for t in chosen])
        reference = batch.stylised[chosen].flatten(0, 1)
        features = self.loss_net(later)
        with torch.no_grad():
            targets = self.loss_net(reference)
        gram_term = sum(
            w * F.mse_loss(gram(features[k]), gram(targets[k])) / gram(targets[k]).square().mean()
            for k, w in self.gram_weights.items()
        )
        k = cfg.content_layer
        content_term = F.mse_loss(features[k], targets[k]) / targets[k].square().mean()
        sharpness = (_sharpness(later) + FLAT_SHARPNESS) / (_sharpness(reference) + FLAT_SHARPNESS)
        detail_term = sharpness.log().abs().mean()
        terms = {
            "short": cfg.short_weight * short / base_short.clamp_min(1e-8),
            "long": cfg.long_weight * long / base_long.clamp_min(1e-8),
            "gram": cfg.gram_weight * gram_term,
            "content": cfg.content_weight * content_term,
            "detail": cfg.detail_weight * detail_term,
        }
        ratios = {
            "short_ratio": float(short.detach() / base_short),
            "long_ratio": float(long.detach() / base_long),
        }
        return terms, {**ratios, "sharpness": float(sharpness.detach().mean())}

    def train_step(self) -> dict[str, float]:
        for group in self.optimiser.param_groups:
            group["lr"] = self.learning_rate()
        terms, diagnostics = self.losses(self.sample())
        total = finite_total(terms, self.step)
        self.optimiser.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(self.stage.parameters(), 1.0)
        self.optimiser.step()
        return {
            **{k: float(v.detach()) for k, v in terms.items()},
            "total": float(total.detach()),
            **diagnostics,
        }

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean over validation windows (whole frames) of E_warp and sharpness ratios to per-frame."""
        if not self.validation_windows:
            return {}
        self.stage.eval()
        self.stage.forced_refresh = 0.0
        scores: dict[str, list[float]] = {
            "short_ratio": [],
            "long_ratio": [],
            "sharpness": [],
            "sharpness_last": [],
        }
        for path in self.validation_windows:
            batch = collate([read_crop(path, None, self.rng)])
            outputs = run_window(self.stage, batch)
            masks = _masks(batch)
            short, long = temporal_errors(outputs, batch, masks, mode="bilinear")
            base_short, base_long = temporal_errors(list(batch.stylised), batch, masks, mode="bilinear")
            ratios = (_sharpness(torch.cat(outputs)) / _sharpness(batch.stylised[:, 0])).tolist()
            scores["short_ratio"].append(float(short / base_short))
            scores["long_ratio"].append(float(long / base_long))
            scores["sharpness"].append(sum(ratios) / len(ratios))
            scores["sharpness_last"].append(sum(ratios[-10:]) / len(ratios[-10:]))
        self.stage.train()
        self.stage.forced_refresh = self.config.forced_refresh
        return {k: round(sum(v) / len(v), 4) for k, v in scores.items()}

    def run(self, on_step: Callable[[int, dict[str, float]], None] | None = None) -> None:
        """Train until ``config.steps``, validating, logging and checkpointing as it goes and on Ctrl-C."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            with open(self.run_dir / LOG, "a") as log:
                if self.step == 0:
                    self._log(log, {"step": 0, "validation": self._validate_and_keep()})
                while self.step < self.config.steps:
                    started = time.perf_counter()
                    values = self.train_step()
                    self.step += 1
                    self.elapsed += time.perf_counter() - started
                    record = {
                        "step": self.step,
                        "seconds": round(self.elapsed, 1),
                        **{k: round(v, 5) for k, v in values.items()},
                    }
                    if self.step % self.config.eval_every == 0 or self.step == self.config.steps:
                        record["validation"] = self._validate_and_keep()
                    self._log(log, record)
                    if self.step % self.config.checkpoint_every == 0:
                        self.save_checkpoint()
                    if on_step is not None:
                        on_step(self.step, record)
        finally:
            self.save_checkpoint()

    def validation_score(self, validation: dict[str, float]) -> float:
        """Lower is better: the training loss's balance on the held-out clips, with the sharpness of
        their last frames, where a long clip's loss of detail shows."""
        cfg = self.config
        return (
            cfg.short_weight * validation["short_ratio"]
            + cfg.long_weight * validation["long_ratio"]
            + cfg.detail_weight * abs(math.log(validation["sharpness_last"]))
        )

    def _validate_and_keep(self) -> dict[str, float]:
        """Validate, and keep the network in ``best.pt`` when it scores better than any before."""
        validation = self.validate()
        if not validation:
            return validation
        score = self.validation_score(validation)
        if self.best_score is None or score < self.best_score:
            self.best_score = score
            state = {"net": self.stage.net.state_dict(), "step": self.step, "score": score}
            tmp = self.run_dir / f".{BEST}.tmp"
            torch.save(state, tmp)
            os.replace(tmp, self.run_dir / BEST)
        return validation

    def load_best(self) -> int:
        """Put the best validated network (the last one without validation) into the stage; its step."""
        path = self.run_dir / BEST
        if not path.exists():
            return self.step
        state = torch.load(path, map_location="cpu", weights_only=True)
        self.stage.net.load_state_dict(state["net"])
        return int(state["step"])

    @staticmethod
    def _log(log, record: dict) -> None:
        log.write(json.dumps(record) + "\n")
        log.flush()

    def save_checkpoint(self) -> None:
        state = {
            "net": self.stage.net.state_dict(),
            "optimiser": self.optimiser.state_dict(),
            "step": self.step,
            "elapsed": self.elapsed,
            "config": json.dumps(asdict(self.config)),
        }
        write_checkpoint(state, self.run_dir)

    def load_checkpoint(self) -> None:
        state = torch.load(self.run_dir / CHECKPOINT, map_location="cpu", weights_only=True)
        self.stage.net.load_state_dict(state["net"])
        self.optimiser.load_state_dict(state["optimiser"])
        self.step = int(state["step"])
        self.elapsed = float(state["elapsed"])
        if (self.run_dir / BEST).exists():
            self.best_score = float(torch.load(self.run_dir / BEST, weights_only=True)["score"])
        path = self.run_dir / LOG
        if path.exists():  # steps past the checkpoint are about to be trained again
            lines = [line for line in path.read_text().splitlines() if json.loads(line)["step"] <= self.step]
            path.write_text("".join(f"{line}\n" for line in lines))
        # New crops after a resume, rather than replaying the ones already seen.
        torch.manual_seed(self.config.seed + self.step)
        self.rng.seed(self.config.seed + self.step)


def checkpoint_config(run_dir: Path) -> TemporalTrainConfig | None:
    """The config a run directory was started with, or None when it has no checkpoint."""
    path = run_dir / CHECKPOINT
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    return TemporalTrainConfig.from_dict(json.loads(state["config"]))
