"""Palette and tone curve: the reference's colour distribution, matched in CIELAB.

A look is as much its colours as its texture: a grade is a tone curve and a
palette, which Gram matrices of deep features reproduce poorly. The colour
term compares the whole distribution of the output's pixel colours with the
reference's, not just their mean and spread: along a direction of CIELAB
(lightness L, then the a and b opponent axes), matching the sorted values of
the output to the reference's quantiles is the 1-D optimal transport between
the two histograms (differentiable, no binning). Along L it is the tone curve;
a and b, and a few random directions each step (a sliced Wasserstein
distance, as in Pitie et al.'s colour transfer), carry the palette and which
colours go with which tones. Pixels are pooled over the batch: one crop of
sky need not hold the reference's whole range, a batch of crops should.

How much the texture term matters is read from the same statistics:
:func:`texture_share` is the part of the reference's Gram distance that a
plain colour transfer (each RGB channel's histogram matched) leaves.

CIELAB values are divided by 100, so L runs 0..1 and a and b about -1..1.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from stylecut.models.features import style_grams
from stylecut.models.loss_network import LossNetwork
from stylecut.quality import gram_distance
from stylecut.training.data import fit

# sRGB (D65) to CIE XYZ, and the D65 white point.
_RGB_TO_XYZ = torch.tensor(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)
_WHITE = torch.tensor([0.950456, 1.0, 1.088754])
_EPSILON = 216 / 24389  # where CIELAB's cube root gives way to a line (CIE standard)
_KAPPA = 24389 / 27
DIRECTIONS = 32  # the three axes and 29 fixed random directions, a few of which each step uses
PER_STEP = 7
QUANTILES = 1024
MAX_PIXELS = 1 << 18  # a random subset of the reference's pixels is plenty for 1024 quantiles
SHARE_SIDE = 320  # texture_share compares at this size: a few seconds, and Grams follow the pixel scale
PIXELS_PER_STEP = 1 << 15  # and of the batch's: sorting every pixel of the batch costs a fifth of a step


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` sRGB in [0, 1] -> CIELAB (D65) divided by 100."""
    rgb = rgb.clamp(0, 1)
    linear = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055).pow(2.4), rgb / 12.92)
    xyz = torch.einsum("ij,njhw->nihw", _RGB_TO_XYZ.to(rgb), linear) / _WHITE.to(rgb).view(1, 3, 1, 1)
    # The clamp keeps the cube root's gradient finite; below _EPSILON the linear branch is taken anyway.
    f = torch.where(xyz > _EPSILON, xyz.clamp_min(_EPSILON).pow(1 / 3), (_KAPPA * xyz + 16) / 116)
    fx, fy, fz = f.unbind(1)
    return torch.stack([1.16 * fy - 0.16, 5.0 * (fx - fy), 2.0 * (fy - fz)], dim=1)


def _subset(pixels: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    """At most `count` of the ``(P, 3)`` pixels, drawn at random (with replacement: a permutation costs more)."""
    if len(pixels) <= count:
        return pixels
    return pixels[torch.randint(len(pixels), (count,), generator=generator).to(pixels.device)]


class ReferenceColours:
    """The reference's colour quantiles along fixed CIELAB directions, computed once."""

    def __init__(self, images: list[torch.Tensor], seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        pixels = _subset(torch.cat([image.flatten(1).T for image in images]), MAX_PIXELS, generator)
        pixels = rgb_to_lab(pixels.T[None, :, :, None])[0, :, :, 0].T
        extra = torch.randn(DIRECTIONS - 3, 3, generator=generator)
        self.directions = torch.cat([torch.eye(3), extra / extra.norm(dim=1, keepdim=True)])
        levels = (torch.arange(QUANTILES, dtype=torch.float64) + 0.5) / QUANTILES
        projected = (pixels @ self.directions.T).double()
        # (DIRECTIONS, QUANTILES): row d holds the reference's quantiles along direction d.
        self.quantiles = torch.quantile(projected, levels, dim=0).T.float().contiguous()
        self.generator = generator

    def to(self, device: torch.device) -> ReferenceColours:
        self.directions, self.quantiles = self.directions.to(device), self.quantiles.to(device)
        return self

    def loss(self, rgb: torch.Tensor) -> torch.Tensor:
        """Sliced 1-D optimal transport between the batch's CIELAB pixels and the reference's colours.

        Along the three axes and a few random directions of the fixed set:
        the mean squared difference between the sorted projections of the
        output and the reference's quantiles at the same ranks.
        """
        picks = torch.cat(
            [torch.arange(3), 3 + torch.randperm(DIRECTIONS - 3, generator=self.generator)[: PER_STEP - 3]]
        )
        picks = picks.to(self.directions.device)
        pixels = _subset(rgb.permute(0, 2, 3, 1).reshape(-1, 3), PIXELS_PER_STEP, self.generator)
        pixels = rgb_to_lab(pixels.T[None, :, :, None])[0, :, :, 0].T
        ours = (pixels @ self.directions[picks].T).sort(dim=0).values
        ranks = ((torch.arange(len(ours), device=rgb.device) + 0.5) * QUANTILES / len(ours)).long()
        return (ours - self.quantiles[picks][:, ranks].T).square().mean()


def match_histograms(rgb: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """A plain colour transfer: each channel of ``(3, H, W)`` remapped, rank for rank, to ``reference``.

    ``reference`` is ``(3, P)``: each row the sorted values of one of the reference's channels.
    """
    flat = rgb.flatten(1)
    ranks = flat.argsort(dim=1).argsort(dim=1)
    at = ((ranks.float() + 0.5) * reference.shape[1] / flat.shape[1]).long()
    return reference.gather(1, at).view_as(rgb)


@torch.no_grad()
def texture_share(
    net: LossNetwork,
    references: Sequence[torch.Tensor],
    content: Sequence[torch.Tensor],
    blocks: Sequence[int],
) -> float:
    """How much of the reference's look a colour transfer leaves unexplained, in (0, 1].

    The Gram distance of content images to the reference after matching
    their colour histograms to it, over the distance before: near 1 for a
    painting's strokes, lower for a look that is mostly a grade.
    """
    references = [fit(r, SHARE_SIDE) for r in references]
    content = [fit(x, SHARE_SIDE) for x in content]
    target = style_grams(net, references, blocks)
    generator = torch.Generator().manual_seed(0)
    pixels = _subset(torch.cat([r.flatten(1).T for r in references]), MAX_PIXELS, generator)
    reference = pixels.T.sort(dim=1).values
    before = sum(gram_distance(net(x[None]), target, blocks) for x in content)
    after = sum(gram_distance(net(match_histograms(x, reference)[None]), target, blocks) for x in content)
    return min(1.0, after / before)
