"""Training losses for the style generator.

Style is matched through Gram matrices of loss-network features
(``stylecut.models.features.gram``), as a relative error per block, plus
the reference's colour distribution (``stylecut.training.colour``), which
Gram matrices of deep layers alone reproduce poorly. Content is a relative
feature distance to the input. The temporal term asks the generator to commute with motion: the
stylisation of a warped frame must equal the warped stylisation, outside
occlusions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stylecut.models.features import gram


def relative_error(value: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Per batch item, ``||value - reference||^2 / ||reference||^2`` (``reference`` broadcasts)."""
    dims = tuple(range(1, value.dim()))
    return (value - reference).square().sum(dims) / reference.square().expand_as(value).sum(dims)


def style_loss(
    features: dict[int, torch.Tensor], target_grams: dict[int, torch.Tensor], weights: dict[int, float]
) -> torch.Tensor:
    """The weighted mean over blocks of the relative Gram error, averaged over the batch.

    Relative per block, as the style distance of ``stylecut.quality`` measures
    it: Gram magnitudes differ between blocks by orders, and a plain squared
    error summed over blocks is all one block's.
    """
    total = sum(
        w * relative_error(gram(features[k]), target_grams[k][None]).mean() for k, w in weights.items()
    )
    return total / sum(weights.values())


def content_loss(
    features: dict[int, torch.Tensor], target: dict[int, torch.Tensor], weights: dict[int, float]
) -> torch.Tensor:
    """The weighted mean over blocks of the relative feature error to the input, averaged over the batch."""
    total = sum(w * relative_error(features[k], target[k]).mean() for k, w in weights.items())
    return total / sum(weights.values())


def total_variation(rgb: torch.Tensor) -> torch.Tensor:
    return (rgb[..., 1:, :] - rgb[..., :-1, :]).abs().mean() + (
        rgb[..., :, 1:] - rgb[..., :, :-1]
    ).abs().mean()


def temporal_loss(
    stylised_second: torch.Tensor, warped_first: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    return ((stylised_second - warped_first) ** 2 * mask).sum() / (mask.sum() * 3 + 1e-6)


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def hinge_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return -fake_logits.mean()
