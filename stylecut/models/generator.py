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

The architecture is fully described by :class:`GeneratorConfig` (generator_config.py), which is
stored with every set of weights so a style file rebuilds its own network.
The layer helpers are Johnson et al.'s layers, also used by the benchmarks'
baseline network.
"""

from __future__ import annotations

from copy import deepcopy

import torch
from torch import nn

from stylecut.models.generator_config import GeneratorConfig


def conv_layer(in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """A convolution with reflection padding (the output keeps the input's size at stride 1)."""
    return nn.Sequential(nn.ReflectionPad2d(kernel // 2), nn.Conv2d(in_ch, out_ch, kernel, stride))


def conv_norm_relu(in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """:func:`conv_layer`, then instance normalisation and a ReLU."""
    norm = nn.InstanceNorm2d(out_ch, affine=True)
    return nn.Sequential(conv_layer(in_ch, out_ch, kernel, stride), norm, nn.ReLU(inplace=True))


_BINOMIAL = torch.outer(torch.tensor([1.0, 2.0, 1.0]), torch.tensor([1.0, 2.0, 1.0])) / 16


class Blur(nn.Module):
    """A fixed 3x3 binomial low-pass per channel, size kept: what a stride of 2 would fold back is removed
    first (Zhang, "Making Convolutional Networks Shift-Invariant Again", 2019)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        # Copied from a kernel made at import: arithmetic inside torch.device("meta"), where style files are
        # checked, imports torch's compiler (3-7 s, once per command). Not persistent: the kernel is fixed,
        # so weight files hold only what was trained.
        self.register_buffer("kernel", _BINOMIAL.expand(channels, 1, 3, 3).clone(), persistent=False)
        self.pad = nn.ReflectionPad2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.conv2d(self.pad(x), self.kernel, groups=x.shape[1])


def strided_layer(in_ch: int, out_ch: int, kernel: int, antialias: bool) -> nn.Sequential:
    """:func:`conv_norm_relu` at stride 2, after a :class:`Blur` when ``antialias``."""
    layer = conv_norm_relu(in_ch, out_ch, kernel, stride=2)
    return nn.Sequential(Blur(in_ch), *layer) if antialias else layer


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
    """Upsampling to an exact size (bilinear, or nearest-neighbour in the earlier styles), then a convolution."""

    def __init__(self, in_ch: int, out_ch: int, bilinear: bool) -> None:
        super().__init__()
        self.conv = conv_norm_relu(in_ch, out_ch, 3)
        self.mode = "bilinear" if bilinear else "nearest"

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        bilinear = {"align_corners": False} if self.mode == "bilinear" else {}
        return self.conv(nn.functional.interpolate(x, size=size, mode=self.mode, **bilinear))


class Generator(nn.Module):
    """Maps RGB in [0, 1] (N, 3, H, W) to a stylised RGB in [0, 1], any H and W."""

    def __init__(self, config: GeneratorConfig = GeneratorConfig()) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        aa = config.antialias
        self.down = nn.ModuleList([strided_layer(3, w[0], config.stem_kernel, aa)])
        self.down.extend(strided_layer(a, b, 3, aa) for a, b in zip(w[:-1], w[1:]))
        self.residual = nn.Sequential(*(ResidualBlock(w[-1]) for _ in range(config.residual_blocks)))
        self.up = nn.ModuleList(Upsample(a, b, bilinear=aa) for a, b in zip(w[:0:-1], w[-2::-1]))
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
        norm = copy.bottleneck_norm()
        if norm is not None:
            with torch.no_grad():
                norm.weight.mul_(gain)
                norm.bias.mul_(gain)
        return copy

    def bottleneck_norm(self) -> nn.InstanceNorm2d | None:
        """The instance norm whose affine output carries the bottleneck path into the decoder (before its
        ReLU), which :meth:`with_bottleneck_gain` scales; None with a single width."""
        return self.up[0].conv[1] if self.up else None

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
