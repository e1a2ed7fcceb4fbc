"""PatchGAN discriminator: judges overlapping patches as painted or generated.

Used only in training. Spectral normalisation keeps it from overpowering the
generator on a small CPU budget; its receptive field (about 70 px) covers
brush strokes but not the painting's composition, so it pushes texture, not
the painting's content, into the footage.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    def __init__(self, width: int = 32, layers: int = 3) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        in_ch = 3
        for i in range(layers):
            out_ch = width * 2**i
            blocks += [
                spectral_norm(nn.Conv2d(in_ch, out_ch, 4, stride=2, padding=1)),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            in_ch = out_ch
        blocks += [spectral_norm(nn.Conv2d(in_ch, in_ch, 3, padding=1)), nn.LeakyReLU(0.2, inplace=True)]
        blocks.append(spectral_norm(nn.Conv2d(in_ch, 1, 3, padding=1)))
        self.net = nn.Sequential(*blocks)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        """Per-patch realness logits for RGB in [0, 1]."""
        return self.net(rgb * 2.0 - 1.0)
