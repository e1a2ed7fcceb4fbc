"""The style generator: a fully-convolutional encoder-decoder built for CPUs.

Johnson et al.'s transformer network (reflection padding, instance norm,
residual blocks, nearest upsampling followed by a convolution instead of a
transposed convolution, which avoids checkerboard artefacts), made cheap
enough for 720p on a laptop CPU: the first layer already works at half
resolution and the residual blocks run at an eighth, where most of the
stylisation happens; the decoder returns to half resolution and a bilinear
upsample feeds one full-resolution convolution. The encoder's
quarter-resolution features are added to the decoder at the same scale (an
additive skip, free at run time), which keeps faces and edges readable with
the bottleneck at an eighth; there is no skip at half resolution, which
would let the photo pass through unstyled. The measurements behind these
choices are in docs/measurements.md.

The architecture is fully described by :class:`GeneratorConfig`, which is
stored with every set of weights so a style file rebuilds its own network.
The layer helpers are Johnson et al.'s layers, also used by the benchmarks'
baseline network.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class GeneratorConfig:
    """Hyper-parameters that fully define a generator's shape."""

    widths: tuple[int, ...] = (16, 32, 64)
    residual_blocks: int = 5
    stem_kernel: int = 5

    @property
    def min_side(self) -> int:
        """The smallest height or width the network takes: its reflection padding needs 2 px at the bottom."""
        return max(2 ** len(self.widths) + 1, self.stem_kernel // 2 + 1)

    def to_dict(self) -> dict:
        return {
            "widths": list(self.widths),
            "residual_blocks": self.residual_blocks,
            "stem_kernel": self.stem_kernel,
        }

    @classmethod
    def from_dict(cls, data: dict) -> GeneratorConfig:
        return cls(
            widths=tuple(int(w) for w in data["widths"]),
            residual_blocks=int(data["residual_blocks"]),
            stem_kernel=int(data["stem_kernel"]),
        )


def conv_layer(in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """A convolution with reflection padding (the output keeps the input's size at stride 1)."""
    return nn.Sequential(nn.ReflectionPad2d(kernel // 2), nn.Conv2d(in_ch, out_ch, kernel, stride))


def conv_norm_relu(in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """:func:`conv_layer`, then instance normalisation and a ReLU."""
    norm = nn.InstanceNorm2d(out_ch, affine=True)
    return nn.Sequential(conv_layer(in_ch, out_ch, kernel, stride), norm, nn.ReLU(inplace=True))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_norm_relu(channels, channels, 3),
            conv_layer(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Upsample(nn.Module):
    """Nearest-neighbour upsampling to an exact size, then a convolution."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = conv_norm_relu(in_ch, out_ch, 3)

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return self.conv(nn.functional.interpolate(x, size=size, mode="nearest"))


class Generator(nn.Module):
    """Maps RGB in [0, 1] (N, 3, H, W) to a stylised RGB in [0, 1], any H and W."""

    def __init__(self, config: GeneratorConfig = GeneratorConfig()) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        self.down = nn.ModuleList([conv_norm_relu(3, w[0], config.stem_kernel, stride=2)])
        self.down.extend(conv_norm_relu(a, b, 3, stride=2) for a, b in zip(w[:-1], w[1:]))
        self.residual = nn.Sequential(*(ResidualBlock(w[-1]) for _ in range(config.residual_blocks)))
        self.up = nn.ModuleList(Upsample(a, b) for a, b in zip(w[:0:-1], w[-2::-1]))
        self.head = conv_layer(w[0], 3, 3)

    def with_bottleneck_gain(self, gain: float) -> Generator:
        """A copy whose bottleneck path enters the decoder scaled by ``gain`` (0..1), beside the encoder skip.

        The residual blocks at an eighth of the resolution make the style's strokes and simplified shapes;
        the quarter-resolution skip carries the photo's edges. Below 1 the copy paints fewer strokes and
        keeps more of the photo's shapes, in the same palette. The gain scales the affine of the first
        upsampling stage's instance norm (the ReLU after it commutes with a non-negative scale), so the
        copy is an ordinary generator with other weights. With a single width there is no skip to weigh
        the bottleneck against, and the copy is unchanged.
        """
        if not 0.0 <= gain <= 1.0:
            raise ValueError(f"gain must be in [0, 1], got {gain}")
        copy = deepcopy(self)
        if copy.up:
            norm = copy.up[0].conv[1]
            with torch.no_grad():
                norm.weight.mul_(gain)
                norm.bias.mul_(gain)
        return copy

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        encoded = []
        h = x
        for layer in self.down:
            h = layer(h)
            encoded.append(h)
        h = self.residual(h)
        for depth, layer in enumerate(self.up):
            same_scale = encoded[-2 - depth]
            h = layer(h, same_scale.shape[-2:])
            if depth == 0:
                h = h + same_scale
        h = nn.functional.interpolate(h, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return torch.sigmoid(self.head(h))
