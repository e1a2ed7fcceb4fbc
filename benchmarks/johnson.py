"""The classic Johnson et al. (ECCV 2016) transformer network, the frame-by-frame speed baseline.

This is the network of "Perceptual Losses for Real-Time Style Transfer" as
pytorch/examples' fast_neural_style implements it (1.68M parameters): a 9x9
convolution to 32 channels, two stride-2 3x3 convolutions to 64 and 128, five
residual blocks of 128 channels, two 2x nearest upsamplings each followed by
a 3x3 convolution (64, then 32 channels) and a 9x9 convolution back to RGB;
reflection padding and instance normalisation throughout. It is built from
stylecut's own generator layers, which are exactly these. Weights are
random: it exists to time the classic architecture through the same
`stylecut apply` harness as stylecut's generator, not to stylise.
"""

from __future__ import annotations

import torch
from torch import nn

# The generator's layer helpers are the Johnson layers; sharing them keeps the two networks comparable.
from stylecut.models.generator import ResidualBlock, Upsample, conv_layer, conv_norm_relu


class JohnsonNet(nn.Module):
    """RGB in [0, 1] ``(N, 3, H, W)`` -> RGB in [0, 1], any H and W, one frame at a time."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.stem = conv_norm_relu(3, 32, 9)
        self.down = nn.ModuleList([conv_norm_relu(32, 64, 3, stride=2), conv_norm_relu(64, 128, 3, stride=2)])
        self.residual = nn.Sequential(*(ResidualBlock(128) for _ in range(5)))
        self.up = nn.ModuleList([Upsample(128, 64, bilinear=False), Upsample(64, 32, bilinear=False)])
        self.head = conv_layer(32, 3, 9)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        # One frame at a time: an 8-frame chunk at 1080p would need ~10 GB of
        # full-resolution 32/64-channel activations, and batching buys nothing on a CPU.
        return torch.cat([self._one(frame[None]) for frame in frames])

    def _one(self, x: torch.Tensor) -> torch.Tensor:
        full = self.stem(x)
        half = self.down[0](full)
        h = self.residual(self.down[1](half))
        # Upsample to the encoder's exact sizes so that odd frame sizes round-trip.
        h = self.up[1](self.up[0](h, half.shape[-2:]), full.shape[-2:])
        return torch.sigmoid(self.head(h))
