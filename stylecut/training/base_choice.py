"""Which generator a fine-tune starts from: the style already closest to the reference, or none.

Each candidate stylises a few small content images; the one whose outputs
are closest to the reference's statistics (the style distance of
``stylecut.quality``: relative Gram error in EfficientNet-Lite0 over blocks
0 to 10, which also carries the palette) is the starting point. The content
images themselves stand for a neutral start: when no candidate moves them
towards the reference by at least ``MARGIN``, a fresh generator is as close
and carries no other painting's strokes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from stylecut.models.features import style_grams
from stylecut.models.generator import Generator
from stylecut.models.loss_network import LossNetwork
from stylecut.quality import STYLE_DISTANCE_BLOCKS, style_distance
from stylecut.training.data import fit

SIDE = 256  # small, so the choice takes seconds; references and images alike, as Grams follow the pixel scale
MARGIN = 0.9  # a candidate must bring the images this much closer than they already are


@dataclass(frozen=True)
class BaseChoice:
    name: str | None  # None: a fresh generator
    distances: dict[str, float]  # per candidate, and "input" for the images as they are

    def describe(self) -> str:
        ranked = ", ".join(f"{k} {v:.2f}" for k, v in sorted(self.distances.items(), key=lambda kv: kv[1]))
        return f"style distance to the reference (lower is closer): {ranked}"


@torch.no_grad()
def choose_base(
    net: LossNetwork,
    references: Sequence[torch.Tensor],
    examples: Sequence[torch.Tensor],
    candidates: dict[str, Generator],
) -> BaseChoice:
    """The candidate whose stylisation of `examples` is closest to `references`, or None (a fresh start).

    `net` must compute :data:`STYLE_DISTANCE_BLOCKS`; images are ``(3, H, W)`` in [0, 1].
    """
    target = style_grams(net, [fit(r, SIDE) for r in references], STYLE_DISTANCE_BLOCKS)
    small = [fit(x, SIDE)[None] for x in examples]

    def distance(outputs: list[torch.Tensor]) -> float:
        return sum(style_distance(net, y, target) for y in outputs) / len(outputs)

    distances = {"input": distance(small)}
    for name, generator in candidates.items():
        distances[name] = distance([generator.eval()(x) for x in small])
    best = min(candidates, key=distances.__getitem__, default=None)
    if best is None or distances[best] > MARGIN * distances["input"]:
        return BaseChoice(None, distances)
    return BaseChoice(best, distances)
