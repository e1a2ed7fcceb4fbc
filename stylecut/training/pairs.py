"""Keyframe pairs: a style learned from frames and the same frames treated by an artist.

A (frame, painted frame) pair is supervision, not a style reference (Texler
et al., SIGGRAPH 2020, few-shot patch-based training): the generator learns
the mapping itself from random patches of the pairs, with a pixel (L1) loss
to the painted patch and, when ``content_weight`` is set, a feature loss
(EfficientNet-Lite0; `finetune` leaves it off, see PAIR_SETTINGS there).
Patches are taken at the style's working size, the size `apply` runs the
generator at. So that
the mapping carries to the other frames of the shot, each patch is scaled,
rotated and flipped (both sides alike) and only the input side gets a
slightly different exposure and sensor noise: the painted side is the
answer for the frame as it was, and other frames differ from the keyframe in
exactly those ways. The trainer's shift-and-noise stability term keeps the
result steady from frame to frame.

A painted frame must be of its frame: the same size, and with outlines where
the frame has them (the correlation of their blurred edge maps); otherwise
the pair teaches nothing and is refused before anything is trained.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F

from stylecut.errors import MediaError
from stylecut.training import losses
from stylecut.training.data import CropSampler, fit, read_image
from stylecut.training.trainer import Trainer

FULL_SIZE = 1 << 16  # read_image's max side: pairs are read at their own size, then checked
CHECK_SIDE = 256  # the edge check runs on small copies: outlines, not pixels, must match
# Measured on the bear clip: its frame under benchmarks/keyframe.py's graphic treatment 0.58, painterly 0.69;
# the same treatment of a frame a second later 0.22, of another clip 0.1.
MIN_EDGE_CORRELATION = 0.35
SCALE_RANGE = (0.8, 1.25)
MAX_ROTATION = 10.0  # degrees
EXPOSURE = 0.1  # input side only: a gain within 1 +/- this, and a gamma within 1 +/- this
INPUT_NOISE = 0.02


def _edges(image: torch.Tensor) -> torch.Tensor:
    """The blurred gradient magnitude of a small grey copy: where the picture's outlines are."""
    grey = fit(image, CHECK_SIDE).mean(0, keepdim=True)[None]
    blur = _gaussian(grey, 1.5)
    dx = blur[..., :, 1:] - blur[..., :, :-1]
    dy = blur[..., 1:, :] - blur[..., :-1, :]
    magnitude = (dx[..., :-1, :] ** 2 + dy[..., :, :-1] ** 2).sqrt()
    return _gaussian(magnitude, 3.0).flatten()


def _gaussian(image: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = math.ceil(3 * sigma)
    x = torch.arange(-radius, radius + 1, dtype=image.dtype)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    padded = F.pad(image, (radius, radius, radius, radius), mode="replicate")
    rows = F.conv2d(padded, kernel.view(1, 1, 1, -1))
    return F.conv2d(rows, kernel.view(1, 1, -1, 1))


def edge_correlation(original: torch.Tensor, painted: torch.Tensor) -> float:
    """Pearson correlation of the two images' blurred edge maps: about 1 for the same outlines, 0 for unrelated."""
    a, b = _edges(original), _edges(painted)
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / ((a.square().sum() * b.square().sum()).sqrt() + 1e-12))


def read_pair(original: Path, painted: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The two images of a pair, at their size; one sentence when they cannot be a frame and its treatment."""
    frame, treated = read_image(original, FULL_SIZE), read_image(painted, FULL_SIZE)
    if frame.shape != treated.shape:
        (h, w), (ph, pw) = frame.shape[-2:], treated.shape[-2:]
        raise MediaError(
            f"The pair {original.name} ({w}x{h}) and {painted.name} ({pw}x{ph}) differ in size; "
            "a painted frame must be the same frame at the same size."
        )
    score = edge_correlation(frame, treated)
    if score < MIN_EDGE_CORRELATION:
        raise MediaError(
            f"{painted.name} does not look like a treatment of {original.name}: their outlines match at "
            f"{score:.2f} (a painted frame of that frame scores {MIN_EDGE_CORRELATION} or more)."
        )
    return frame, treated


class PairSampler:
    """Aligned random patches of (frame, painted frame) pairs, augmented as described in the module."""

    def __init__(
        self, pairs: Sequence[tuple[torch.Tensor, torch.Tensor]], crop: int, jitter: bool, seed: int
    ) -> None:
        self.pairs = [torch.cat(pair) for pair in pairs]  # (6, H, W): one warp moves both alike
        self.crop = crop
        self.jitter = jitter
        self.rng = random.Random(seed)

    @property
    def images(self) -> list[torch.Tensor]:
        """The frames (the input side), as :class:`CropSampler` holds its images."""
        return [pair[:3] for pair in self.pairs]

    def _one(self) -> torch.Tensor:
        both = self.rng.choice(self.pairs)
        h, w = both.shape[-2:]
        scale = self.rng.uniform(*SCALE_RANGE) if self.jitter else 1.0
        angle = math.radians(self.rng.uniform(-MAX_ROTATION, MAX_ROTATION)) if self.jitter else 0.0
        # The rotated patch's corners stay inside the frame where the frame allows; reflection beyond.
        reach = self.crop / scale * (abs(math.cos(angle)) + abs(math.sin(angle))) / 2
        cy = self.rng.uniform(min(reach, h / 2), max(h - reach, h / 2))
        cx = self.rng.uniform(min(reach, w / 2), max(w - reach, w / 2))
        kx, ky = self.crop / (w * scale), self.crop / (h * scale)
        cos, sin = math.cos(angle), math.sin(angle)
        theta = torch.tensor(
            [[kx * cos, -kx * sin, 2 * cx / w - 1], [ky * sin, ky * cos, 2 * cy / h - 1]], dtype=both.dtype
        )
        grid = F.affine_grid(theta[None], [1, 6, self.crop, self.crop], align_corners=False)
        patch = F.grid_sample(both[None], grid, padding_mode="reflection", align_corners=False)[0]
        if self.rng.random() < 0.5:
            patch = patch.flip(-1)
        frame, treated = patch[:3], patch[3:]
        if self.jitter:
            gain = 1 + self.rng.uniform(-EXPOSURE, EXPOSURE)
            gamma = 1 + self.rng.uniform(-EXPOSURE, EXPOSURE)
            frame = frame.clamp(0, 1) ** gamma * gain + INPUT_NOISE * torch.randn_like(frame)
        return torch.cat([frame, treated]).clamp(0, 1)

    def sample(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(frames, painted frames), each ``(batch, 3, crop, crop)``."""
        both = torch.stack([self._one() for _ in range(batch)])
        return both[:, :3], both[:, 3:]


class PairTrainer(Trainer):
    """The trainer on pairs: ``config.content[i]`` is the frame that ``config.style[i]`` treats.

    Checkpoints, resume, the schedule, the EMA, the adversarial step and the
    stability term are the :class:`Trainer`'s; only the data and the loss
    terms differ.
    """

    def _load_data(self) -> None:
        cfg = self.config
        pairs = [read_pair(Path(a), Path(b)) for a, b in zip(cfg.content, cfg.style, strict=True)]
        if cfg.working_side is not None:
            pairs = [
                (fit(a, cfg.working_side, short=True), fit(b, cfg.working_side, short=True)) for a, b in pairs
            ]
        self.content = PairSampler(pairs, cfg.crop, cfg.jitter > 0, cfg.seed)
        self.motion = None  # the stability term runs on shifted, noisy patches
        self.texture_share = 1.0  # no texture statistics: the painted frame itself is the target
        painted = [b for _, b in pairs]
        style_crop = min(cfg.crop, *(min(i.shape[-2:]) for i in painted))
        self.style_crops = CropSampler(painted, style_crop, SCALE_RANGE, 0.0, cfg.seed + 1)

    def loss_terms(self) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        cfg = self.config
        frames, painted = (t.to(self.device) for t in self.content.sample(cfg.batch))
        stylised = self.generator(frames)
        terms = {
            "pixel": cfg.pixel_weight * (stylised - painted).abs().mean(),
            "temporal": cfg.temporal_weight * self._temporal_term(frames, stylised),
        }
        if cfg.content_weight:  # the loss network is most of a step's time
            features, targets = self._features(stylised, painted)
            terms["feature"] = cfg.content_weight * losses.content_loss(
                features, targets, self.content_weights
            )
        return terms, stylised
