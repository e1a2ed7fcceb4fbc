"""Training losses for the style generator.

Style is matched through Gram matrices of loss-network features
(``stylecut.models.features.gram``) plus the per-channel
mean and standard deviation of the painting's colours, which Gram matrices
of deep layers alone reproduce poorly. Content is a feature distance to the
input. The temporal term asks the generator to commute with motion: the
stylisation of a warped frame must equal the warped stylisation, outside
occlusions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stylecut.models.features import gram


def style_loss(
    features: dict[int, torch.Tensor], target_grams: dict[int, torch.Tensor], weights: dict[int, float]
) -> torch.Tensor:
    return sum(
        weights[k] * F.mse_loss(gram(features[k]), target_grams[k].expand(features[k].shape[0], -1, -1))
        for k in weights
    )


def colour_stats(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = rgb.flatten(2)
    return flat.mean(2), flat.std(2)


def colour_loss(rgb: torch.Tensor, target_mean: torch.Tensor, target_std: torch.Tensor) -> torch.Tensor:
    mean, std = colour_stats(rgb)
    return F.mse_loss(mean, target_mean.expand_as(mean)) + F.mse_loss(std, target_std.expand_as(std))


def content_loss(
    features: dict[int, torch.Tensor], target: dict[int, torch.Tensor], layers: dict[int, float]
) -> torch.Tensor:
    return sum(w * F.mse_loss(features[k], target[k]) for k, w in layers.items())


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
