"""GAN training of a style generator, with checkpoint and resume.

One recipe serves the bundled styles (``training/train_style.py``) and
``stylecut finetune``. Each step: stylise a batch of content crops; content,
style (Gram), colour, total-variation and temporal losses from the frozen
EfficientNet-Lite0; after a pre-training phase, a hinge adversarial term
from a PatchGAN that sees crops of the style images as real. The
discriminator then takes its own step (G step, then D step, as in
Real-ESRGAN). An exponential moving average of the generator is what ships:
it is smoother over steps, which shows as less flicker between frames.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from stylecut.flow.warp import in_frame_mask, random_smooth_flow, warp
from stylecut.models.discriminator import PatchDiscriminator
from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.models.loss_network import LossNetwork, lite0_loss_network
from stylecut.training import losses
from stylecut.training.data import CropSampler, load_media

CHECKPOINT = "checkpoint.pt"
LOG = "log.jsonl"


@dataclass
class TrainConfig:
    """Everything a run depends on; stored in checkpoints and in the exported style."""

    name: str
    style: list[str]
    content: list[str]
    description: str = ""
    generator: dict = field(default_factory=lambda: GeneratorConfig().to_dict())
    steps: int = 500
    batch: int = 4
    crop: int = 192
    lr: float = 2e-3
    content_max_side: int = 640
    content_scale: tuple[float, float] = (0.4, 1.0)
    style_max_side: int = 512
    frames_per_video: int = 12
    # Block 0 (half resolution) printed a regular cross-hatch over everything; strokes come from 2-10.
    style_layers: dict[str, float] = field(default_factory=lambda: {"2": 1.0, "4": 1.0, "7": 1.0, "10": 1.0})
    # Block 4 (an eighth of the resolution) keeps outlines and faces; block 7 alone let them dissolve.
    content_layers: dict[str, float] = field(default_factory=lambda: {"4": 0.5, "7": 1.0})
    style_weight: float = 150.0
    content_weight: float = 1.0
    colour_weight: float = 5.0
    tv_weight: float = 0.5
    temporal_weight: float = 20.0
    temporal_max_disp: float = 6.0
    adversarial_weight: float = 0.05
    adversarial_start: float = 0.3
    d_lr: float = 2e-4
    ema_decay: float = 0.98
    jitter: float = 0.15
    seed: int = 0
    checkpoint_every: int = 25

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        if "content_scale" in values:
            values["content_scale"] = tuple(values["content_scale"])
        return cls(**values)


StepCallback = Callable[[int, int, dict[str, float]], None]


class Trainer:
    """Holds the networks, optimisers and data of one run; `run` trains to `config.steps`."""

    def __init__(self, config: TrainConfig, run_dir: Path, device: torch.device = torch.device("cpu"), base: Generator | None = None) -> None:
        self.config = config
        self.run_dir = run_dir
        self.device = device
        torch.manual_seed(config.seed)
        self.generator = copy.deepcopy(base) if base is not None else Generator(GeneratorConfig.from_dict(config.generator))
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

        style_images = load_media([Path(p) for p in config.style], config.style_max_side, config.frames_per_video)
        self.style_targets(style_images)
        self.content = CropSampler(
            load_media([Path(p) for p in config.content], config.content_max_side, config.frames_per_video),
            config.crop, config.content_scale, config.jitter, config.seed,
        )
        # Style crops for the discriminator, at the scale the Gram targets were taken at.
        self.style_crops = CropSampler(style_images, min(config.crop, *(min(i.shape[-2:]) for i in style_images)), (0.8, 1.25), 0.0, config.seed + 1)

    @torch.no_grad()
    def style_targets(self, style_images: list[torch.Tensor]) -> None:
        grams: dict[int, list[torch.Tensor]] = {k: [] for k in self.style_weights}
        for image in style_images:
            features = self.loss_net(image[None].to(self.device))
            for k in grams:
                grams[k].append(losses.gram(features[k]))
        self.target_grams = {k: torch.cat(v).mean(0, keepdim=True) for k, v in grams.items()}
        pixels = torch.cat([i.flatten(1) for i in style_images], dim=1).to(self.device)
        self.target_mean, self.target_std = pixels.mean(1, keepdim=True).T, pixels.std(1, keepdim=True).T

    def _temporal_term(self, content: torch.Tensor, stylised: torch.Tensor) -> torch.Tensor:
        n, _, h, w = content.shape
        flow = random_smooth_flow(n, h, w, self.config.temporal_max_disp).to(self.device)
        moved = warp(content, flow)
        # Sensor noise differs from frame to frame; the output must not follow it.
        moved = (moved + 0.02 * torch.randn_like(moved)).clamp(0, 1)
        target = warp(stylised, flow)
        return losses.temporal_loss(self.generator(moved), target, in_frame_mask(flow))

    def train_step(self) -> dict[str, float]:
        cfg = self.config
        content = self.content.sample(cfg.batch).to(self.device)
        stylised = self.generator(content)
        # A random offset between the generator's pixel grid and the loss network's stride-16
        # grid, new every step: otherwise the generator learns periodic patterns that the
        # strided network mistakes for texture (seen as a regular diagonal hatching).
        dy, dx = (int(v) for v in torch.randint(0, 16, (2,)))
        features = self.loss_net(stylised[..., dy:, dx:])
        with torch.no_grad():
            content_features = self.loss_net(content[..., dy:, dx:])
        terms = {
            "content": cfg.content_weight * losses.content_loss(features, content_features, self.content_weights),
            "style": cfg.style_weight * losses.style_loss(features, self.target_grams, self.style_weights),
            "colour": cfg.colour_weight * losses.colour_loss(stylised, self.target_mean, self.target_std),
            "tv": cfg.tv_weight * losses.total_variation(stylised),
            "temporal": cfg.temporal_weight * self._temporal_term(content, stylised),
        }
        adversarial = self.step >= cfg.adversarial_start * cfg.steps and cfg.adversarial_weight > 0
        if adversarial:
            self.discriminator.requires_grad_(False)
            terms["adv_g"] = cfg.adversarial_weight * losses.hinge_g_loss(self.discriminator(stylised))
        total = sum(terms.values())
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

    def run(self, on_step: StepCallback | None = None) -> None:
        """Train until `config.steps`, checkpointing as it goes and on Ctrl-C."""
        log_path = self.run_dir / LOG
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            with open(log_path, "a") as log:
                while self.step < self.config.steps:
                    started = time.perf_counter()
                    values = self.train_step()
                    self.step += 1
                    self.elapsed += time.perf_counter() - started
                    if any(not math.isfinite(v) for v in values.values()):
                        raise FloatingPointError(f"training diverged at step {self.step}: {values}")
                    log.write(json.dumps({"step": self.step, "seconds": round(self.elapsed, 2), **{k: round(v, 6) for k, v in values.items()}}) + "\n")
                    log.flush()
                    if self.step % self.config.checkpoint_every == 0:
                        self.save_checkpoint()
                    if on_step is not None:
                        on_step(self.step, self.config.steps, values)
        finally:
            self.save_checkpoint()

    def save_checkpoint(self) -> None:
        state = {
            "generator": self.generator.state_dict(),
            "ema": self.ema.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "step": self.step,
            "elapsed": self.elapsed,
            "config": json.dumps(asdict(self.config)),
        }
        tmp = self.run_dir / f".{CHECKPOINT}.tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.run_dir / CHECKPOINT)

    def load_checkpoint(self) -> None:
        state = torch.load(self.run_dir / CHECKPOINT, map_location=self.device, weights_only=True)
        self.generator.load_state_dict(state["generator"])
        self.ema.load_state_dict(state["ema"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.step = int(state["step"])
        self.elapsed = float(state["elapsed"])
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


def checkpoint_config(run_dir: Path) -> TrainConfig | None:
    """The config a run directory was started with, or None when it has no checkpoint."""
    path = run_dir / CHECKPOINT
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    return TrainConfig.from_dict(json.loads(state["config"]))

