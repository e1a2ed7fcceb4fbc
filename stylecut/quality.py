"""Quality measures: the one definition of each, used by style export, the benchmarks and the tests.

- Gram distance (:func:`gram_distance`): the relative Gram error
  ``||G - G_style||^2 / ||G_style||^2`` of one image's loss-network features,
  averaged over a set of blocks; lower is closer to the painting.
- Style distance (:func:`style_distance`): the Gram distance in
  EfficientNet-Lite0 over :data:`STYLE_DISTANCE_BLOCKS` (0, 2, 4, 7, 10:
  strides 2 to 16), averaged over frames. It is the measure exported with
  every style (``style_distance`` in weights/manifest.json and in the style
  file's metadata), for the output and for the input, so their ratio says
  how far a style moved the footage towards its painting. The benchmarks
  report the Gram distance over the training blocks instead (no block 0), a
  different number under its own name.
- Content distance: the relative feature error of an output to its input at
  one block (0: identical structure).
- Temporal error: the warping error of Lai et al., with flow and occlusion
  computed on the input frames.
- Sharpness: the variance of the Laplacian of each frame; blur lowers it.

Frames are float RGB in [0, 1], ``(N, 3, H, W)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from stylecut.flow.estimators import FlowEstimator
from stylecut.flow.metrics import warping_error
from stylecut.flow.warp import occlusion_mask
from stylecut.models.features import gram
from stylecut.models.loss_network import LossNetwork

STYLE_DISTANCE_BLOCKS = (0, 2, 4, 7, 10)
CONTENT_BLOCK = 7
SHARPNESS_MARGIN = 8  # px left out at each border: the Laplacian of the padding is not the picture's


def relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    """``||value - reference||^2 / ||reference||^2``."""
    return float((value - reference).square().sum() / reference.square().sum())


def gram_distance(
    features: dict[int, torch.Tensor], target: dict[int, torch.Tensor], blocks: Sequence[int]
) -> float:
    """Relative Gram error of one image's ``features`` to the ``target`` Grams, averaged over ``blocks``."""
    return sum(relative_error(gram(features[k])[0], target[k]) for k in blocks) / len(blocks)


@torch.no_grad()
def style_distance(net: LossNetwork, frames: torch.Tensor, target: dict[int, torch.Tensor]) -> float:
    """The exported style measure: Gram distance over :data:`STYLE_DISTANCE_BLOCKS`, averaged over frames."""
    total = sum(gram_distance(net(frame[None]), target, STYLE_DISTANCE_BLOCKS) for frame in frames)
    return total / len(frames)


@torch.no_grad()
def content_distance(
    net: LossNetwork, outputs: torch.Tensor, inputs: torch.Tensor, block: int = CONTENT_BLOCK
) -> float:
    """Relative feature error of outputs to their inputs at one block, averaged over frames."""
    total = sum(relative_error(net(y[None])[block], net(x[None])[block]) for y, x in zip(outputs, inputs))
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
    errors = [
        warping_error(pairs[2 * i : 2 * i + 2], to_prev[i : i + 1], masks[i : i + 1])
        for i in range(len(to_prev))
    ]
    return sum(errors) / len(errors)


@torch.no_grad()
def sharpness(frames: torch.Tensor) -> list[float]:
    """Per frame, the variance of the 4-neighbour Laplacian over the RGB channels, away from the borders."""
    kernel = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3).repeat(3, 1, 1, 1)
    margin = SHARPNESS_MARGIN
    response = F.conv2d(frames, kernel.to(frames), groups=3)[..., margin:-margin, margin:-margin]
    return [float(r.var()) for r in response]
