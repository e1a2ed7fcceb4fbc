"""Training of a style generator, adversarial when the config says so, with checkpoint, resume and export.

One recipe serves the bundled styles (``training/train_style.py``) and
``stylecut finetune``; both only build a :class:`TrainConfig` and export the
result. Each step: stylise a batch of content crops; content and style
(Gram) losses from the frozen EfficientNet-Lite0, both relative errors, the
style's weighted by the reference's texture share; the colour distribution
(``colour.py``), total variation, and a temporal term (on real motion of
the style videos every other step, ``motion.py``); once the config's adversarial phase begins, a hinge
adversarial term from a PatchGAN that sees crops of the style images as
real (the bundled styles' configs have none: their adversarial weight is 0). The discriminator then takes its own step (G step, then D step, as in
Real-ESRGAN). The generator's learning rate follows the config's schedule
(constant, then annealed in the fine-tune phase). An exponential moving
average of the generator is what ships: it is smoother over steps, which
shows as less flicker between frames.

A run lives in its folder: ``checkpoint.pt`` (every ``checkpoint_every``
steps, on Ctrl-C and at the end; written atomically, read with
``torch.load(weights_only=True)``) and ``log.jsonl`` (one line of losses per
step). A run resumes only under the config it was started with, except for
the step count; a checkpoint that cannot be read is reported as damaged.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import torch

from stylecut.errors import StylecutError, UsageError
from stylecut.flow.warp import in_frame_mask, random_smooth_flow, warp
from stylecut.media_types import VIDEO_SUFFIXES
from stylecut.models.discriminator import PatchDiscriminator
from stylecut.models.features import style_grams
from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.models.loss_network import LossNetwork, lite0_loss_network
from stylecut.models.revision import Revision
from stylecut.styles.style_file import save_style
from stylecut.training import losses
from stylecut.training.colour import ReferenceColours, texture_share
from stylecut.training.config import TrainConfig
from stylecut.training.data import CropSampler, expand_media, fit, load_media
from stylecut.training.motion import MotionPairs

CHECKPOINT = "checkpoint.pt"
LOG = "log.jsonl"
# What a checkpoint holds, and the type of each entry.
ENTRIES = {
    "generator": dict,
    "ema": dict,
    "discriminator": dict,
    "opt_g": dict,
    "opt_d": dict,
    "step": int,
    "elapsed": float,
    "config": str,
}

GRID_SHIFT = 7  # px: the largest whole-pixel shift in the still-image temporal term
SHARE_IMAGES = 8  # content images the texture share is measured on
MIN_TEXTURE_SHARE = 0.25  # even a pure grade keeps some of the texture term: grain, softness
StepCallback = Callable[[int, int, dict[str, float]], None]


class DamagedCheckpoint(StylecutError):
    """A run's checkpoint cannot be read: truncated, or not a checkpoint at all."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"The checkpoint {path} is damaged: {reason}.")
        self.path = path
        self.reason = reason


class ChangedSettings(UsageError):
    """A run was asked to resume under settings other than those it was started with."""


def finite_total(terms: dict[str, torch.Tensor], step: int) -> torch.Tensor:
    """The sum of the loss terms; raises FloatingPointError, before any weight moves, when it is not finite.

    Checked before the optimiser's step: a step taken on an infinite loss turns the weights into NaN, and the
    checkpoint written on the way out would keep them (a resume then diverged at once).
    """
    total = sum(terms.values())
    if not torch.isfinite(total):
        values = {k: float(v.detach()) for k, v in terms.items()}
        raise FloatingPointError(f"training diverged at step {step + 1}: {values}")
    return total


def load_states(path: Path, state: dict, owners: dict[str, torch.nn.Module | torch.optim.Optimizer]) -> None:
    """Load each named entry of the checkpoint ``state`` (read from ``path``) into its network or optimiser;
    DamagedCheckpoint when one does not fit."""
    try:
        for key, owner in owners.items():
            owner.load_state_dict(state[key])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise DamagedCheckpoint(path, "its weights do not fit the run's networks") from exc


def write_checkpoint(state: dict, run_dir: Path) -> None:
    """Save ``state`` as the run's checkpoint, atomically: an interrupted save leaves the previous one."""
    tmp = run_dir / f".{CHECKPOINT}.tmp"
    torch.save(state, tmp)
    os.replace(tmp, run_dir / CHECKPOINT)


class Trainer:
    """Holds the networks, optimisers and data of one run; `run` trains to `config.steps`."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path,
        device: torch.device = torch.device("cpu"),
        base: Generator | None = None,
    ) -> None:
        self.config = config
        self.run_dir = run_dir
        self.device = device
        torch.manual_seed(config.seed)
        self.generator = (
            copy.deepcopy(base)
            if base is not None
            else Generator(GeneratorConfig.from_dict(config.generator))
        )
        self.generator.to(device).train().requires_grad_(True)
        self.ema = copy.deepcopy(self.generator).eval().requires_grad_(False)
        self.discriminator = PatchDiscriminator().to(device)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=config.lr)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=config.d_lr, betas=(0.5, 0.999))
        self.step = 0
        self.elapsed = 0.0

        layers = [int(k) for k in (*config.style_layers, *config.content_layers)]
        self.loss_net: LossNetwork = lite0_loss_network(layers).to(device)
        self.style_weights = {int(k): v for k, v in config.style_layers.items()}
        self.content_weights = {int(k): v for k, v in config.content_layers.items()}
        self._load_data()

    def _load_data(self) -> None:
        """The style targets, the content crops and the motion pairs the steps draw from."""
        config = self.config
        style_images = load_media(
            [Path(p) for p in config.style], config.style_max_side, config.frames_per_video
        )
        self.target_grams = style_grams(self.loss_net, style_images, self.style_weights)
        content_images = load_media(
            [Path(p) for p in config.content], config.content_max_side, config.frames_per_video
        )
        if config.working_side is not None:
            content_images = [fit(x, config.working_side, short=True) for x in content_images]
        # The texture term's weight follows the share of the look that its colours do not explain.
        self.texture_share = 1.0
        if config.auto_texture_weight:
            shown = content_images[:: max(1, len(content_images) // SHARE_IMAGES)]
            self.texture_share = max(
                MIN_TEXTURE_SHARE, texture_share(self.loss_net, style_images, shown, self.style_weights)
            )
        self.target_colours = ReferenceColours(style_images, config.seed).to(self.device)
        self.content = CropSampler(
            content_images,
            config.crop,
            config.content_scale,
            config.jitter,
            config.seed,
        )
        motion = self._motion_pairs()
        self.motion = motion if len(motion) else None
        # Style crops for the discriminator, at the scale the Gram targets were taken at.
        style_crop = min(config.crop, *(min(i.shape[-2:]) for i in style_images))
        self.style_crops = CropSampler(style_images, style_crop, (0.8, 1.25), 0.0, config.seed + 1)

    def _motion_pairs(self) -> MotionPairs:
        """Real motion: the style videos' at the style's size; without any, the content videos' at the content's."""
        cfg = self.config
        style_videos = _videos(cfg.style)
        if style_videos:
            return MotionPairs(style_videos, cfg.motion_pairs, cfg.style_max_side, cfg.crop, cfg.seed)
        short = cfg.working_side is not None
        side = cfg.working_side if short else cfg.content_max_side
        return MotionPairs(_videos(cfg.content), cfg.motion_pairs, side, cfg.crop, cfg.seed, short=short)

    def _temporal_term(self, content: torch.Tensor, stylised: torch.Tensor) -> torch.Tensor:
        """Every other step on real motion of the style videos, when there is any; else on warped crops."""
        if self.motion is not None and self.step % 2 == 1:
            a, b, flow_ba, mask = (
                t.to(self.device) for t in self.motion.sample(max(1, self.config.batch // 2))
            )
            out_a, out_b = self.generator(torch.cat([a, b])).chunk(2)
            return losses.temporal_loss(out_b, warp(out_a, flow_ba), mask)
        n, _, h, w = content.shape
        flow = random_smooth_flow(n, h, w, self.config.temporal_max_disp)
        # Plus a whole-pixel shift, mostly off the generator's stride-8 grid: strokes that belong to the
        # picture follow it, a pattern printed on that grid does not (measured: shifted 3 px, a pilot's
        # output moved 9x more off the picture than shifted 8 px, and printed a diagonal weave).
        shift = torch.randint(-GRID_SHIFT, GRID_SHIFT + 1, (n, 2, 1, 1)).float()
        flow = (flow + shift).to(self.device)
        moved = warp(content, flow)
        # Sensor noise differs from frame to frame; the output must not follow it.
        moved = (moved + self.config.stability_noise * torch.randn_like(moved)).clamp(0, 1)
        target = warp(stylised, flow)
        return losses.temporal_loss(self.generator(moved), target, in_frame_mask(flow))

    def _features(
        self, stylised: torch.Tensor, target: torch.Tensor
    ) -> tuple[dict[int, torch.Tensor], dict[int, torch.Tensor]]:
        """The loss network's features of ``stylised`` and (without gradients) of ``target``."""
        # A random offset between the generator's pixel grid and the loss network's stride-16
        # grid, new every step: otherwise the generator learns periodic patterns that the
        # strided network mistakes for texture (seen as a regular diagonal hatching).
        dy, dx = (int(v) for v in torch.randint(0, 16, (2,)))
        features = self.loss_net(stylised[..., dy:, dx:])
        with torch.no_grad():
            targets = self.loss_net(target[..., dy:, dx:])
        return features, targets

    def loss_terms(self) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The generator's loss terms for one batch, and its stylised batch (what the discriminator judges)."""
        cfg = self.config
        content = self.content.sample(cfg.batch).to(self.device)
        stylised = self.generator(content)
        features, content_features = self._features(stylised, content)
        terms = {
            "content": cfg.content_weight
            * losses.content_loss(features, content_features, self.content_weights),
            "style": cfg.style_weight
            * self.texture_share
            * losses.style_loss(features, self.target_grams, self.style_weights),
            "colour": cfg.colour_weight * self.target_colours.loss(stylised),
            "tv": cfg.tv_weight * losses.total_variation(stylised),
            "temporal": cfg.temporal_weight * self._temporal_term(content, stylised),
        }
        return terms, stylised

    def train_step(self) -> dict[str, float]:
        cfg = self.config
        terms, stylised = self.loss_terms()
        adversarial = cfg.adversarial(self.step)
        if adversarial:
            self.discriminator.requires_grad_(False)
            terms["adv_g"] = cfg.adversarial_weight * losses.hinge_g_loss(self.discriminator(stylised))
        total = finite_total(terms, self.step)
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g.step()

        logged = {k: float(v.detach()) for k, v in terms.items()}
        if adversarial:
            self.discriminator.requires_grad_(True)
            real = self.style_crops.sample(cfg.batch).to(self.device)
            d_loss = losses.hinge_d_loss(self.discriminator(real), self.discriminator(stylised.detach()))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            logged["d"] = float(d_loss.detach())
        self._update_ema()
        logged["total"] = float(total.detach())
        return logged

    @torch.no_grad()
    def _update_ema(self) -> None:
        # Warm-up: early on the EMA follows closely, so short runs are not dominated by the initial weights.
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        for ema_p, p in zip(self.ema.parameters(), self.generator.parameters()):
            ema_p.lerp_(p, 1 - decay)
        for ema_b, b in zip(self.ema.buffers(), self.generator.buffers()):
            ema_b.copy_(b)

    def _follow_schedule(self) -> None:
        """Set the generator's learning rate for the coming step."""
        for group in self.opt_g.param_groups:
            group["lr"] = self.config.generator_lr(self.step)

    def run(
        self,
        on_step: StepCallback | None = None,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Train until `config.steps`, checkpointing as it goes and on Ctrl-C.

        With a `deadline` (a `clock()` value) the run ends by then:
        after a few warm-up steps the step count becomes what the measured pace
        fits before the deadline (at most `config.steps` as given). It grows
        back only during pre-training, where a longer schedule moves no step
        into another phase, so the phases keep their order; a machine whose
        load drops mid-run then still uses its budget. At least one step is
        always trained.
        """
        log_path = self.run_dir / LOG
        self.run_dir.mkdir(parents=True, exist_ok=True)
        pace = Pace(self.step, clock)
        limit = self.config.steps
        try:
            with open(log_path, "a") as log:
                while self.step < self.config.steps:
                    started = time.perf_counter()
                    self._follow_schedule()
                    values = self.train_step()
                    self.step += 1
                    self.elapsed += time.perf_counter() - started
                    record = {"step": self.step, "seconds": round(self.elapsed, 2)}
                    record |= {k: round(v, 6) for k, v in values.items()}
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                    if self.step % self.config.checkpoint_every == 0:
                        self.save_checkpoint()
                    if deadline is not None:
                        self._fit_steps(pace.affordable(self.step, deadline), limit)
                    if on_step is not None:
                        on_step(self.step, self.config.steps, values)
        finally:
            self.save_checkpoint()

    def _fit_steps(self, affordable: int | None, limit: int) -> None:
        """Plan `affordable` steps (at most `limit`, never below the current step): fewer at any time, more
        only in pre-training."""
        if affordable is None:
            return
        steps = max(min(affordable, limit), self.step)
        if steps < self.config.steps or self.config.phase(self.step) == "pre-train":
            self.config = replace(self.config, steps=steps)

    def _owners(self) -> dict[str, torch.nn.Module | torch.optim.Optimizer]:
        """The networks and optimisers a checkpoint holds, by their entry's name."""
        return {
            "generator": self.generator,
            "ema": self.ema,
            "discriminator": self.discriminator,
            "opt_g": self.opt_g,
            "opt_d": self.opt_d,
        }

    def save_checkpoint(self) -> None:
        state = {
            **{key: owner.state_dict() for key, owner in self._owners().items()},
            "step": self.step,
            "elapsed": self.elapsed,
            "config": json.dumps(asdict(self.config)),
        }
        write_checkpoint(state, self.run_dir)

    def resume(self) -> None:
        """Continue from the run folder's checkpoint.

        Raises DamagedCheckpoint when it cannot be read, ChangedSettings when it
        was made under another config (only the step count may change).
        """
        path = self.run_dir / CHECKPOINT
        state = _read_checkpoint(path, self.device)
        if not self.config.resumes(_saved_config(state, path)):
            raise ChangedSettings(
                f"The run in {self.run_dir} was started with other settings; only its step count may change."
            )
        load_states(path, state, self._owners())
        self.step = state["step"]
        self.elapsed = state["elapsed"]
        self._truncate_log()
        # New random crops after a resume, rather than replaying the ones already seen.
        torch.manual_seed(self.config.seed + self.step)
        self.content.rng.seed(self.config.seed + self.step)

    def _truncate_log(self) -> None:
        """Drop log lines past the checkpoint: those steps are about to be trained again."""
        path = self.run_dir / LOG
        if path.exists():
            lines = [line for line in path.read_text().splitlines() if json.loads(line)["step"] <= self.step]
            path.write_text("".join(f"{line}\n" for line in lines))

    def final_generator(self) -> Generator:
        """What ships: the EMA generator, on the CPU, in eval mode."""
        return self.ema.cpu().eval()

    def style_metadata(self, recipe: str, metrics: dict) -> dict:
        """The style file's metadata: name, description, recipe, the portable config, metrics."""
        cfg = self.config
        portable = asdict(cfg)
        # Absolute paths say nothing on another machine: keep file names only.
        portable["style"] = [Path(p).name for p in cfg.style]
        portable["content"] = [Path(p).name for p in cfg.content]
        return {
            "name": cfg.name,
            "description": cfg.description,
            "style_image": Path(cfg.style[0]).name,
            "working_side": cfg.working_side,
            "recipe": recipe,
            "training": {"steps": self.step, "seconds": round(self.elapsed, 1), "config": portable},
            "metrics": metrics,
        }

    def save_style(
        self, path: Path, recipe: str, metrics: dict, revision: Revision | None = None, **extra: object
    ) -> str:
        """Write the final generator (and the style's ``revision`` network) as the style file `path`
        (metadata plus `extra`); returns its sha256."""
        metadata = {**self.style_metadata(recipe, metrics), **extra}
        return save_style(path, self.final_generator(), metadata, revision)


class Pace:
    """How many steps fit before a deadline, from the pace measured since warm-up."""

    WARM_UP = 3  # the first steps also allocate buffers and fill caches: slower than the rest

    def __init__(self, first_step: int, clock: Callable[[], float]) -> None:
        self.first_step = first_step
        self.clock = clock
        self.warm: tuple[int, float] | None = None

    def affordable(self, step: int, deadline: float) -> int | None:
        now = self.clock()
        if now >= deadline:
            return step
        if self.warm is None:
            if step - self.first_step >= self.WARM_UP:
                self.warm = (step, now)
            return None
        done, since = step - self.warm[0], now - self.warm[1]
        if done == 0:
            return None
        return step + int((deadline - now) * done / since)


def _videos(paths: list[str]) -> list[Path]:
    return [p for p in expand_media([Path(p) for p in paths]) if p.suffix.lower() in VIDEO_SUFFIXES]


def checkpoint_config(run_dir: Path) -> TrainConfig | None:
    """The config a run folder's checkpoint was made under, or None without one; raises DamagedCheckpoint."""
    path = run_dir / CHECKPOINT
    if not path.exists():
        return None
    return _saved_config(_read_checkpoint(path, torch.device("cpu")), path)


def _read_checkpoint(path: Path, device: torch.device) -> dict:
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    # torch.load's failures on a damaged file are many (RuntimeError, EOFError, UnpicklingError,
    # KeyError, OSError, ...) and not documented as a set; any of them means the same thing here.
    except Exception as exc:
        raise DamagedCheckpoint(path, "it is truncated or not a checkpoint") from exc
    if not isinstance(state, dict) or any(not isinstance(state.get(k), t) for k, t in ENTRIES.items()):
        raise DamagedCheckpoint(path, "some of its entries are missing")
    return state


def _saved_config(state: dict, path: Path) -> TrainConfig:
    try:
        return TrainConfig.from_dict(json.loads(state["config"]))
    except (ValueError, TypeError, AttributeError) as exc:
        raise DamagedCheckpoint(path, "its settings cannot be read") from exc
