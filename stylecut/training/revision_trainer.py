"""Training of a style's revision network (models/revision.py) on top of its trained, frozen generator.

What it learns from. Footage at delivery size (short side 720 or 1080 px, never enlarged), each picture
drafted once as apply drafts it: shrunk to the style's working side, painted by the generator, enlarged
back; beside it the footage's fine lightness band. A step revises crops of those and is scored at the
size they are shown:

- style: Gram matrices of the loss network's early blocks (its finest textures) against the painting read
  at the size it is shown at that delivery size (the painting as the generator trained on it, enlarged by
  delivery side over working side, never past the painting's own pixels);
- adversarial: a hinge loss from two PatchGAN discriminators (the crop, and the crop at half size) that see
  crops of the painting at that same size as real, with random flips and 90-degree turns of both (one
  painting is little data);
- content: the loss network's features of the crop against the footage's (faces and edges stay readable);
- anchor: the revision's picture, blurred, stays the draft's (the revision adds detail; colours and shapes
  are the draft's, which the temporal stage steadies).

Footage smaller than a delivery side (`finetune`'s built-in content) is used when ``scaled_drafts`` is
set: drafted at the working side shrunk by as much, so its draft is enlarged by the factor apply enlarges
that delivery side's draft by, and the revision sees the band and draft it will see there.

No stability term: the network is convolutional at stride 1, so a shifted picture shifts its output alike,
and sensor noise on the footage moved the trained revision's output by 3% more than it moves the plain sum
(training/README.md); a term that held noise to its own size cost the edges that keep people readable.

Checkpoints every ``checkpoint_every`` steps and when the run ends or is stopped, and resumes from the
last one; with a deadline it trains as many steps as fit.
"""

from __future__ import annotations

import copy
import json
import random
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from stylecut.frames import shrink
from stylecut.models.discriminator import PatchDiscriminator
from stylecut.models.features import style_grams
from stylecut.models.generator import Generator
from stylecut.models.loss_network import lite0_loss_network
from stylecut.models.revision import Revision, RevisionConfig
from stylecut.pipeline.controls import working_size
from stylecut.pipeline.detail import enlarge, fine_band
from stylecut.styles.metadata import MIN_WORKING_SIDE
from stylecut.training import losses
from stylecut.training.data import fit
from stylecut.training.preview import side_by_side
from stylecut.training.trainer import (
    CHECKPOINT,
    LOG,
    ChangedSettings,
    DamagedCheckpoint,
    Pace,
    StepCallback,
    finite_total,
    load_states,
    write_checkpoint,
)

# Footage this much of a delivery side is read as that size (a little softer, never enlarged).
LARGE_ENOUGH = 0.8


@dataclass(frozen=True)
class RevisionTrainConfig:
    """A revision's training recipe (the ``[revision]`` table of a style's training config)."""

    revision: dict = field(default_factory=lambda: RevisionConfig().to_dict())
    content: list[str] = field(default_factory=list)  # folders or files of photos at delivery size
    delivery_sides: list[int] = field(default_factory=lambda: [720, 1080])  # short sides it learns at
    scaled_drafts: bool = False  # footage smaller than a delivery side drafted at a scaled working side
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
    """One picture at one delivery size: the footage, the enlarged draft and the fine lightness band."""

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


def delivery_view(
    image: torch.Tensor, side: int, working_side: int, scaled: bool
) -> tuple[torch.Tensor, int] | None:
    """``image`` as footage of short side ``side`` and the working side to draft it at, or None when it is
    too small for that side (see the module: ``scaled_drafts``)."""
    short = min(image.shape[-2:])
    if short >= LARGE_ENOUGH * side:
        return fit(image, side, short=True), working_side
    scaled_side = round(short * working_side / side)
    if scaled and scaled_side >= MIN_WORKING_SIDE:
        return image, scaled_side
    return None


def _crop_at(image: torch.Tensor, y: int, x: int, size: int) -> torch.Tensor:
    return image[..., y : y + size, x : x + size]


class RevisionTrainer:
    """The revision of a style learned from paintings (or a reference's frames) on footage."""

    def __init__(
        self,
        config: RevisionTrainConfig,
        generator: Generator,
        footage: Sequence[torch.Tensor],
        paintings: Sequence[torch.Tensor],
        style_max_side: int,
        working_side: int,
        run_dir: Path,
        start: Revision | None = None,
    ) -> None:
        """``footage`` and ``paintings`` are (3, H, W) pictures at their own size (the paintings at least at
        the size they are shown at the largest delivery side, or they are shown smaller)."""
        self.config = config
        self.run_dir = run_dir
        torch.manual_seed(config.seed)
        self.random = random.Random(config.seed)
        architecture = RevisionConfig.from_dict(config.revision)
        if start is not None and start.config != architecture:
            raise ValueError(f"the starting revision is {start.config}, the recipe's {architecture}")
        self.revision = (
            copy.deepcopy(start).train().requires_grad_(True) if start is not None else Revision(architecture)
        )
        self.discriminators = torch.nn.ModuleList([PatchDiscriminator(), PatchDiscriminator()])
        self.opt = torch.optim.Adam(self.revision.parameters(), lr=config.lr)
        self.opt_d = torch.optim.Adam(self.discriminators.parameters(), lr=config.d_lr, betas=(0.5, 0.999))
        self.step = 0
        self.seconds = 0.0  # spent training, over every session of the run
        self.log: list[dict] = []
        self.style_weights = {int(k): v for k, v in config.style_layers.items()}
        self.content_weights = {int(k): v for k, v in config.content_layers.items()}
        self.loss_net = lite0_loss_network([*self.style_weights, *self.content_weights])
        self.drafted: dict[int, list[_Drafted]] = {}
        self.paintings: dict[int, list[torch.Tensor]] = {}
        self.grams: dict[int, dict[int, torch.Tensor]] = {}
        for side in config.delivery_sides:
            self.drafted[side] = []
            for image in footage:
                view = delivery_view(image, side, working_side, config.scaled_drafts)
                if view is not None and min(view[0].shape[-2:]) >= config.crop:
                    self.drafted[side].append(draft(generator, *view))
            shown = [fit(p, round(style_max_side * side / working_side)) for p in paintings]
            self.grams[side] = style_grams(self.loss_net, shown, self.style_weights)
            self.paintings[side] = [p for p in shown if min(p.shape[-2:]) >= config.crop]
            if not self.paintings[side]:  # no crop of the painting to show the discriminators
                self.drafted[side] = []

    @property
    def trainable(self) -> bool:
        """Whether any footage is large enough for a delivery side (without, the revision stays as it started)."""
        return any(self.drafted.values())

    def _judge(self, images: torch.Tensor) -> list[torch.Tensor]:
        return [d(F.avg_pool2d(images, 2) if i else images) for i, d in enumerate(self.discriminators)]

    def _real_crop(self, picture: torch.Tensor) -> torch.Tensor:
        """A random crop of ``picture``, in one of its 8 flips and quarter turns."""
        c = self.config.crop
        y = self.random.randrange(picture.shape[1] - c + 1)
        x = self.random.randrange(picture.shape[2] - c + 1)
        return _turned(_crop_at(picture, y, x, c), self.random.randrange(8))

    def _crops(self) -> tuple[int, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        side = self.random.choice([s for s in self.config.delivery_sides if self.drafted[s]])
        c = self.config.crop
        frames, drafts, bands, real = [], [], [], []
        for _ in range(self.config.batch):
            item = self.random.choice(self.drafted[side])
            y = self.random.randrange(item.frame.shape[1] - c + 1)
            x = self.random.randrange(item.frame.shape[2] - c + 1)
            frames.append(_crop_at(item.frame, y, x, c))
            drafts.append(_crop_at(item.draft, y, x, c))
            bands.append(_crop_at(item.band, y, x, c))
            real.append(self._real_crop(self.random.choice(self.paintings[side])))
        return side, torch.stack(frames), torch.stack(drafts), torch.stack(bands), torch.stack(real)

    def loss_terms(self) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
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
        return terms, out, real

    def train_step(self) -> dict[str, float]:
        cfg = self.config
        terms, out, real = self.loss_terms()
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

    def run(
        self,
        on_step: StepCallback | None = None,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Train to ``config.steps``, or with a ``deadline`` (a ``clock()`` value) as many of them as fit
        (the count measured as Trainer.run measures it; it only shrinks, so the adversarial phase, which
        starts at a share of the steps, never stops once begun). The checkpoint is written every
        ``checkpoint_every`` steps and on the way out, Ctrl-C included."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        pace = Pace(self.step, clock)
        try:
            while self.step < self.config.steps and self.trainable:
                started = time.perf_counter()
                values = self.train_step()
                self.seconds += time.perf_counter() - started
                self.log.append({"step": self.step, **values})
                if self.step % self.config.checkpoint_every == 0:
                    self._checkpoint()
                affordable = None if deadline is None else pace.affordable(self.step, deadline)
                if affordable is not None:
                    steps = max(min(affordable, self.config.steps), self.step)
                    self.config = replace(self.config, steps=steps)
                if on_step is not None:
                    on_step(self.step, self.config.steps, values)
        finally:
            self._checkpoint()

    def _owners(self) -> dict[str, torch.nn.Module | torch.optim.Optimizer]:
        """The networks and optimisers a checkpoint holds, by their entry's name."""
        return {
            "revision": self.revision,
            "discriminators": self.discriminators,
            "opt": self.opt,
            "opt_d": self.opt_d,
        }

    def _checkpoint(self) -> None:
        state = {
            "step": self.step,
            "seconds": self.seconds,
            "config": asdict(self.config),
            **{key: owner.state_dict() for key, owner in self._owners().items()},
            "random": self.random.getstate(),
            "torch_random": torch.get_rng_state(),
        }
        write_checkpoint(state, self.run_dir)
        with (self.run_dir / LOG).open("a") as log:
            for values in self.log:
                log.write(json.dumps(values) + "\n")
        self.log = []

    def resume(self) -> None:
        """Continue from the run folder's checkpoint, when there is one; more steps may follow, any other
        change of the recipe raises ChangedSettings, a checkpoint that cannot be read DamagedCheckpoint."""
        path = self.run_dir / CHECKPOINT
        if not path.exists():
            return
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            saved = {**state["config"], "steps": self.config.steps}
        # As for the generator's checkpoint (trainer._read_checkpoint): any failure means the same.
        except Exception as exc:
            raise DamagedCheckpoint(path, "it is truncated or not a checkpoint") from exc
        if saved != asdict(self.config):
            raise ChangedSettings(
                f"{path} was made with other settings: remove {self.run_dir} to start over."
            )
        load_states(path, state, self._owners())
        self.random.setstate(state["random"])
        torch.set_rng_state(state["torch_random"])
        self.step = state["step"]
        self.seconds = state["seconds"]

    @torch.no_grad()
    def preview(self, path: Path, side: int = 256) -> None:
        """A PNG at 100%: the middle of the first footage as the plain sum of draft and band, then revised."""
        item = next(d for s in self.config.delivery_sides for d in self.drafted[s])
        c = min(side, *item.frame.shape[-2:])
        y, x = (item.frame.shape[1] - c) // 2, (item.frame.shape[2] - c) // 2
        drafts, bands = _crop_at(item.draft, y, x, c)[None], _crop_at(item.band, y, x, c)[None]
        side_by_side([(drafts + bands).clamp(0, 1)[0], self.revision(drafts, bands)[0]], path)

    def final_revision(self) -> Revision:
        return self.revision.eval()

    def recipe_metadata(self, recipe: str | list[str], **extra: object) -> dict:
        """The style file's ``revision_training``: the recipe, its adversarial weight, steps, seconds, settings."""
        return {
            "recipe": recipe,
            "adversarial_weight": self.config.adversarial_weight,
            "steps": self.step,
            "training_seconds": round(self.seconds, 1),
            "settings": {k: v for k, v in asdict(self.config).items() if k != "content"},
            **extra,
        }


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
