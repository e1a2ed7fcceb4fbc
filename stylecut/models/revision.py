"""The revision network: the full-size picture's fine detail, painted over the enlarged working-size draft.

The generator paints at the style's working side (the draft: colours, shapes, big strokes) and the draft
is enlarged to the clip's size. What that leaves out is everything finer than the working size. Without
a revision the footage's own fine band (its lightness above the working size) is added back linearly
(:mod:`stylecut.pipeline.detail`): crisp, but the footage's detail, not the painting's. The revision
takes the enlarged draft and that band and returns the full-size picture: it starts as exactly that sum
(its last layer starts at zero) and is trained, adversarially against the painting's patches at the size
they are shown, to turn it into strokes with the painting's edges and fine texture (Lin et al., CVPR
2021, "Drafting and Revision", in a form cheap enough for a CPU at 720p).

Cheap because it runs on every pixel of the output: three 3x3 convolutions at full size, the middle one
dilated, so each output pixel sees 9x9 px of the band and the draft, about 1.1 k multiply-adds a pixel
(1 G at 720p). No normalisation layer: statistics over a whole frame would make a crop and the frame
differ, and the revision trains on crops.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

INPUT_CHANNELS = (3, 1)  # the enlarged draft and the band, as forward takes them
BAND_GAIN = 4.0  # the band is a few hundredths; scaled so its input weighs like the draft's


@dataclass(frozen=True)
class RevisionConfig:
    """Hyper-parameters that fully define a revision network's shape."""

    width: int = 8
    dilation: int = 2

    def to_dict(self) -> dict:
        return {"width": self.width, "dilation": self.dilation}

    @classmethod
    def from_dict(cls, data: dict) -> RevisionConfig:
        return cls(width=int(data["width"]), dilation=int(data["dilation"]))


def _conv(in_ch: int, out_ch: int, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.ReflectionPad2d(dilation), nn.Conv2d(in_ch, out_ch, 3, dilation=dilation))


class Revision(nn.Module):
    """``(draft, band)`` -> the full-size picture: ``draft`` is the enlarged draft ``(N, 3, H, W)`` in [0, 1],
    ``band`` the footage's fine lightness ``(N, 1, H, W)``; the result is ``(N, 3, H, W)`` in [0, 1]."""

    def __init__(self, config: RevisionConfig = RevisionConfig()) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.body = nn.Sequential(
            _conv(4, w),
            nn.ReLU(inplace=True),
            _conv(w, w, config.dilation),
            nn.ReLU(inplace=True),
            _conv(w, 3),
        )
        last = self.body[-1][1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, draft: torch.Tensor, band: torch.Tensor) -> torch.Tensor:
        change = self.body(torch.cat([draft * 2.0 - 1.0, band * BAND_GAIN], 1))
        return (draft + band + change).clamp(0.0, 1.0)
