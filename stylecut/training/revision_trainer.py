"""Training of a style's revision network (models/revision.py) on top of its trained, frozen generator.

What it learns from. Photos at delivery size (short side 720 or 1080 px, never enlarged), each drafted once
as apply drafts it: shrunk to the style's working side, painted by the generator, enlarged back; beside it
the footage's fine lightness band. A step revises crops of those and is scored at the size they are shown:

- style: Gram matrices of the loss network's early blocks (its finest textures) against the painting read
  at the size it is shown at that delivery size (the painting as the generator trained on it, enlarged by
  delivery side over working side, never past the painting's own pixels);
- adversarial: a hinge loss from two PatchGAN discriminators (the crop, and the crop at half size) that see
  crops of the painting at that same size as real, with random flips and 90-degree turns of both (one
  painting is little data);
- content: the loss network's features of the crop against the footage's (faces and edges stay readable);
- anchor: the revision's picture, blurred, stays the draft's (the revision adds detail; colours and shapes
  are the draft's, which the temporal stage steadies).

No stability term: the network is convolutional at stride 1, so a shifted picture shifts its output alike,
and sensor noise on the footage moved the trained revision's output by 3% more than it moves the plain sum
(training/README.md); a term that held noise to its own size cost the edges that keep people readable.

Checkpoints every ``checkpoint_every`` steps and resumes from the last one.
"""

from __future__ import annotations

import json
import random
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from stylecut.errors import UsageError
from stylecut.frames import shrink
from stylecut.models.discriminator import PatchDiscriminator
from stylecut.models.features import style_grams
from stylecut.models.generator import Generator
from stylecut.models.loss_network import lite0_loss_network
from stylecut.models.revision import Revision, RevisionConfig
from stylecut.pipeline.controls import working_size
from stylecut.pipeline.detail import enlarge, fine_band
from stylecut.training import losses
from stylecut.training.data import expand_media, fit, read_image
from stylecut.training.trainer import CHECKPOINT, LOG, finite_total, write_checkpoint

DELIVERY_SIDES = (720, 1080)  # short sides the revision learns at: 720p and 1080p footage


@dataclass(frozen=True)
class RevisionTrainConfig:
    """A revision's training recipe (the ``[revision]`` table of a style's training config)."""

    revision: dict = field(default_factory=lambda: RevisionConfig().to_dict())
    content: list[str] = field(default_factory=list)  # folders or files of photos at delivery size
    steps: int = 400
    batch: int = 4
    crop: int = 160
    lr: float = 2e-3
    d_lr: float = 2e-4
    style_weight: float = 20.0
    style_layers: dict[str, float] = field(default_factory=lambda: {"0": 1.0, "2": 1.0})
    content_weight: float = 8.0
    # Block 0 (stride 2) too: the footage's edges at the size they are shown, so people stay readable.
    content_layers: dict[str, float] = field(default_factory=lambda: {"0": 1.0, "2": 1.0, "4": 1.0})
    anchor_weight: float = 20.0
    adversarial_weight: float = 1.0
    adversarial_start: float = 0.2
    checkpoint_every: int = 50
    seed: int = 0

    @classmethod
    def from_dict(cls, data: dict) -> RevisionTrainConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class _Drafted:
    """One photo at one delivery size: the footage, the enlarged draft and the fine lightness band."""

    frame: torch.Tensor  # (3, H, W)
    draft: torch.Tensor  # (3, H, W)
    band: torch.Tensor  # (1, H, W)


@torch.no_grad()
def draft(generator: Generator, frame: torch.Tensor, working_side: int) -> _Drafted:
    """``frame`` (3, H, W) drafted as apply drafts it."""
    height, width = frame.shape[-2:]
    small = shrink(frame[None], working_size(width, height, working_side=working_side))
    band = fine_band(frame[None], small)[0]
    return _Drafted(frame, enlarge(generator(small), (height, width))[0], band)


class RevisionTrainer:
    def __init__(
        self,
        config: RevisionTrainConfig,
        generator: Generator,
        style_paths: list[Path],
        style_max_side: int,
        working_side: int,
        run_dir: Path,
    ) -> None:
        self.config = config
        self.run_dir = run_dir
        torch.manual_seed(config.seed)
        self.random = random.Random(config.seed)
        self.revision = Revision(RevisionConfig.from_dict(config.revision))
        self.discriminators = torch.nn.ModuleList([PatchDiscriminator(), PatchDiscriminator()])
        self.opt = torch.optim.Adam(self.revision.parameters(), lr=config.lr)
        self.opt_d = torch.optim.Adam(self.discriminators.parameters(), lr=config.d_lr, betas=(0.5, 0.999))
        self.style_weights = {int(k): v for k, v in config.style_layers.items()}
        self.content_weights = {int(k): v for k, v in config.content_layers.items()}
        self.loss_net = lite0_loss_network([*self.style_weights, *self.content_weights])
        self.step = 0
        self.seconds = 0.0  # spent training, over every session of the run
        self.log: list[dict] = []
        self._load(generator, style_paths, style_max_side, working_side)

    def _load(
        self, generator: Generator, style_paths: list[Path], style_max_side: int, working_side: int
    ) -> None:
        photos = [read_image(p, 4096) for p in expand_media(Path(p) for p in self.config.content)]
        paintings = [read_image(p, 4096) for p in style_paths]
        self.drafted: dict[int, list[_Drafted]] = {}
        self.paintings: dict[int, list[torch.Tensor]] = {}
        self.grams: dict[int, dict[int, torch.Tensor]] = {}
        for side in DELIVERY_SIDES:
            shown = round(style_max_side * side / working_side)
            self.paintings[side] = [fit(p, shown) for p in paintings]
            self.grams[side] = style_grams(self.loss_net, self.paintings[side], self.style_weights)
            self.drafted[side] = [
                draft(generator, fit(p, side, short=True), working_side)
                for p in photos
                if min(p.shape[-2:])
                >= 0.8 * side  # a little softer than footage of that size, never enlarged
            ]

    # -- a step

    def _crops(self) -> tuple[int, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        side = self.random.choice([s for s in DELIVERY_SIDES if self.drafted[s]])
        c = self.config.crop
        frames, drafts, bands, real = [], [], [], []
        for _ in range(self.config.batch):
            item = self.random.choice(self.drafted[side])
            y = self.random.randrange(item.frame.shape[1] - c + 1)
            x = self.random.randrange(item.frame.shape[2] - c + 1)
            frames.append(item.frame[:, y : y + c, x : x + c])
            drafts.append(item.draft[:, y : y + c, x : x + c])
            bands.append(item.band[:, y : y + c, x : x + c])
            painting = self.random.choice(self.paintings[side])
            y = self.random.randrange(painting.shape[1] - c + 1)
            x = self.random.randrange(painting.shape[2] - c + 1)
            real.append(_turned(painting[:, y : y + c, x : x + c], self.random.randrange(8)))
        return side, torch.stack(frames), torch.stack(drafts), torch.stack(bands), torch.stack(real)

    def _judge(self, images: torch.Tensor) -> list[torch.Tensor]:
        return [d(F.avg_pool2d(images, 2) if i else images) for i, d in enumerate(self.discriminators)]

    def train_step(self) -> dict[str, float]:
        cfg = self.config
        side, frames, drafts, bands, real = self._crops()
        out = self.revision(drafts, bands)
        features = self.loss_net(out)
        with torch.no_grad():
            content_target = self.loss_net(frames)
        terms = {
            "style": cfg.style_weight * losses.style_loss(features, self.grams[side], self.style_weights),
            "content": cfg.content_weight
            * losses.content_loss(features, content_target, self.content_weights),
            "anchor": cfg.anchor_weight
            * F.l1_loss(F.avg_pool2d(out, 8), F.avg_pool2d((drafts + bands).clamp(0, 1), 8)),
        }
        adversarial = self.step >= cfg.adversarial_start * cfg.steps and cfg.adversarial_weight > 0
        if adversarial:
            self.discriminators.requires_grad_(False)
            terms["adv_g"] = cfg.adversarial_weight * sum(losses.hinge_g_loss(j) for j in self._judge(out))
        total = finite_total(terms, self.step)
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()
        values = {k: float(v.detach()) for k, v in terms.items()}
        if adversarial:
            self.discriminators.requires_grad_(True)
            fake = out.detach()
            d_loss = sum(
                losses.hinge_d_loss(r, f) for r, f in zip(self._judge(real), self._judge(fake), strict=True)
            )
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            values["d"] = float(d_loss.detach())
        self.step += 1
        return values

    # -- the run

    def run(self, log_every: int = 10) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._resume()
        started, first = time.perf_counter(), self.step
        while self.step < self.config.steps:
            step_started = time.perf_counter()
            values = self.train_step()
            self.seconds += time.perf_counter() - step_started
            values["step"] = self.step
            self.log.append(values)
            if self.step % log_every == 0:
                rate = (time.perf_counter() - started) / (self.step - first)
                shown = " ".join(f"{k} {v:.4g}" for k, v in values.items() if k != "step")
                print(f"step {self.step}/{self.config.steps}: {shown} ({rate:.2f} s/step)", flush=True)
            if self.step % self.config.checkpoint_every == 0 or self.step == self.config.steps:
                self._checkpoint()

    def _checkpoint(self) -> None:
        state = {
            "step": self.step,
            "seconds": self.seconds,
            "config": asdict(self.config),
            "revision": self.revision.state_dict(),
            "discriminators": self.discriminators.state_dict(),
            "opt": self.opt.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "random": self.random.getstate(),
            "torch_random": torch.get_rng_state(),
        }
        write_checkpoint(state, self.run_dir)
        with (self.run_dir / LOG).open("a") as log:
            for values in self.log:
                log.write(json.dumps(values) + "\n")
        self.log = []

    def _resume(self) -> None:
        path = self.run_dir / CHECKPOINT
        if not path.exists():
            return
        state = torch.load(path, map_location="cpu", weights_only=True)
        if {**state["config"], "steps": self.config.steps} != asdict(self.config):  # more steps may follow
            raise UsageError(f"{path} was made with other settings: remove {self.run_dir} to start over.")
        self.revision.load_state_dict(state["revision"])
        self.discriminators.load_state_dict(state["discriminators"])
        self.opt.load_state_dict(state["opt"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.random.setstate(state["random"])
        torch.set_rng_state(state["torch_random"])
        self.step = state["step"]
        self.seconds = state["seconds"]


def _turned(image: torch.Tensor, how: int) -> torch.Tensor:
    """One of the 8 flips and quarter turns of a square crop."""
    turned = torch.rot90(image, how % 4, (1, 2))
    return turned.flip(2) if how >= 4 else turned


def read_recipe(shared: Path, style_config: Path, media: Path) -> RevisionTrainConfig:
    """The revision recipe: the ``shared`` config's, with the style config's ``[revision]`` table on top;
    content paths relative to ``media``."""
    data = tomllib.loads(shared.read_text()) | tomllib.loads(style_config.read_text()).get("revision", {})
    data["content"] = [str(media / p) for p in data.get("content", [])]
    return RevisionTrainConfig.from_dict(data)
