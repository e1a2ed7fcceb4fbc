"""Texture statistics of loss-network features: Gram matrices.

The one definition used by the training losses, the quality measures and the
benchmarks. A Gram matrix is normalised by ``c * h * w``, so that layers of
different sizes weigh alike and an image's statistics do not depend on its
size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

from stylecut.models.loss_network import LossNetwork


def gram(features: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` features -> ``(N, C, C)`` Gram matrices, normalised by ``C * H * W``."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


@torch.no_grad()
def style_grams(
    net: LossNetwork, images: Sequence[torch.Tensor], layers: Iterable[int] | None = None
) -> dict[int, torch.Tensor]:
    """The style targets: per layer (default: all of ``net``'s), the mean ``(C, C)`` Gram matrix of images.

    The images are ``(3, H, W)`` and may differ in size; each runs through the
    network alone, on the network's device.
    """
    device = next(net.parameters()).device
    per_layer: dict[int, list[torch.Tensor]] = {k: [] for k in (net.layers if layers is None else layers)}
    for image in images:
        features = net(image[None].to(device))
        for k, grams in per_layer.items():
            grams.append(gram(features[k]))
    return {k: torch.cat(v).mean(0) for k, v in per_layer.items()}
