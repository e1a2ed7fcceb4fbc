"""Quality measures shared by style export and the benchmarks.

Style distance: how far the Gram statistics of frames are from the style
images' in a loss network (lower is closer to the painting); reported for the
output and for the input, so the ratio says how far a style moved the footage
towards its painting. Content distance: feature distance of the output to its
input (how much structure survives). Temporal error: the warping error of
Lai et al. with flow and occlusion computed on the input frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from stylecut.flow.estimators import FlowEstimator
from stylecut.flow.metrics import warping_error
from stylecut.flow.warp import occlusion_mask
from stylecut.models.loss_network import LossNetwork
from stylecut.training.losses import gram

STYLE_LAYERS = (0, 2, 4, 7, 10)
CONTENT_LAYER = 7


@torch.no_grad()
def style_grams(net: LossNetwork, images: Sequence[torch.Tensor]) -> dict[int, torch.Tensor]:
    """Mean Gram matrix per layer over a set of (3, H, W) images."""
    per_layer: dict[int, list[torch.Tensor]] = {k: [] for k in net.layers}
    for image in images:
        for k, f in net(image[None]).items():
            per_layer[k].append(gram(f))
    return {k: torch.cat(v).mean(0) for k, v in per_layer.items()}


@torch.no_grad()
def style_distance(net: LossNetwork, frames: torch.Tensor, target: dict[int, torch.Tensor], layers: Sequence[int] = STYLE_LAYERS) -> float:
    """Mean over frames and layers of the relative Gram error ||G - G_style||^2 / ||G_style||^2."""
    total = 0.0
    for frame in frames:
        features = net(frame[None])
        total += sum(float((gram(features[k])[0] - target[k]).square().sum() / target[k].square().sum()) for k in layers) / len(layers)
    return total / len(frames)


@torch.no_grad()
def content_distance(net: LossNetwork, outputs: torch.Tensor, inputs: torch.Tensor, layer: int = CONTENT_LAYER) -> float:
    """Relative feature error of outputs to their inputs at one layer (0: identical structure)."""
    total = 0.0
    for out, inp in zip(outputs, inputs):
        a, b = net(out[None])[layer], net(inp[None])[layer]
        total += float((a - b).square().sum() / b.square().sum())
    return total / len(outputs)


@torch.no_grad()
def temporal_error(sequence: torch.Tensor, inputs: torch.Tensor, flow: FlowEstimator, gap: int = 1) -> float:
    """E_warp of `sequence` (T, 3, H, W) with flow and masks from `inputs`, frames `gap` apart."""
    current, previous = inputs[gap:], inputs[:-gap]
    to_prev = flow(current, previous)
    from_prev = flow(previous, current)
    masks = occlusion_mask(to_prev, from_prev)
    # warping_error pairs frame i+1 with frame i; lay the gapped pairs out that way.
    pairs = torch.stack([sequence[:-gap], sequence[gap:]], dim=1).flatten(0, 1)
    errors = [warping_error(pairs[2 * i : 2 * i + 2], to_prev[i : i + 1], masks[i : i + 1]) for i in range(len(to_prev))]
    return sum(errors) / len(errors)
