"""The editor's controls on a stylisation: strength, keep colours, and the working scale (stroke size).

Each control is a small pure function; :class:`Controls` holds the values an editor chose and checks them.
This module imports nothing heavy, so option parsing can use it; the pixel functions, which need numpy and
OpenCV, are in pixel_controls.py.

Strength ``s`` (0..1) acts twice. In feature space, the generator's bottleneck path (where the strokes and
simplified shapes are made) is weighed by ``s`` against its skip from the encoder
(:meth:`Generator.with_bottleneck_gain`); then the frame is ``s * stylised + (1 - s) * input`` in pixels.
The pixel blend alone is a cross-fade: the painting's outlines and the photo's, each at half contrast, show
as a double image. With the feature step, the stylisation being blended already follows the photo's shapes
more closely, so a lower strength reads as a lighter painting. ``s = 0`` returns the input frames exactly.

Keep colours (Gatys et al. 2016, "Preserving colour in neural artistic style transfer"): the output's
lightness with the input's chroma, in CIE Lab (OpenCV's, for sRGB with D65 white). Lab rather than YCbCr
because its lightness is perceptual: the input's a/b at a new lightness keep the hue and colourfulness an
eye sees, whereas YCbCr's Cb/Cr on a much darker or lighter Y over-saturate and leave the RGB gamut. As
in the paper's luminance matching, the output's lightness is first given the input's mean and spread per
frame, so the footage's exposure and contrast (its grade) stay too. A saturated colour that does not exist
at its new lightness is clipped to the RGB gamut.

Scale: the network runs at a working size, and the result is scaled back. A style trained for a working
side (its metadata's ``working_side``, the short side in pixels) runs at that side whatever the clip's
size, so its strokes keep their size relative to the frame at 720p, 1080p or 4K, and the footage's detail
finer than the working size is restored at the clip's size (detail.py); a clip smaller than that runs at
its own size. A style without one runs at the clip's size. ``scale`` multiplies that working size: strokes
keep their size in pixels at the working size, so a lower scale gives bigger strokes relative to the frame
(and a faster run). ``--max-side`` stays what it was, a cap in pixels on the working size's
longer side, applied after the scale: ``--scale`` chooses the look, ``--max-side`` bounds the cost.

Where the controls run: the generator step of strength before the temporal fusion (it is the generator);
everything else after the fusion and after the stylisation is scaled back to the display size, on the
chunk's decoded frames. After fusion, because the fuser then carries only the stylisation along the flow:
the input's share and its chroma are the current frame's own, never a warped copy of an earlier frame (which
would smear), and the colours sit on the fused, steady lightness. At the display size, because the input's
share and its colours then keep the footage's full resolution whatever the working size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stylecut.errors import UsageError

if TYPE_CHECKING:
    from stylecut.models.generator import Generator

MIN_SCALE, MAX_SCALE = 0.1, 2.0
MIN_WORKING_SIDE = 16  # the generator's three stride-2 stages and reflection padding need this much


@dataclass(frozen=True)
class Controls:
    strength: float = 1.0
    keep_colours: bool = False
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.strength) and 0.0 <= self.strength <= 1.0):
            raise UsageError(f"--strength must be a number from 0 to 1, not {self.strength}.")
        if not (math.isfinite(self.scale) and MIN_SCALE <= self.scale <= MAX_SCALE):
            raise UsageError(f"--scale must be a number from {MIN_SCALE} to {MAX_SCALE:g}, not {self.scale}.")


# px on the short side: a style's revision network runs at most at this size, the largest it is trained at
# (detail.with_detail says why).
REVISION_MAX_SIDE = 1080


def working_size(
    width: int, height: int, scale: float = 1.0, max_side: int | None = None, working_side: int | None = None
) -> tuple[int, int]:
    """(height, width) the network runs at: the style's ``working_side`` as the short side (never above the
    clip's; None: the clip's size), times ``scale``, its longer side then capped at ``max_side``; never below
    what the generator needs."""
    factor = 1.0 if working_side is None else min(1.0, working_side / min(width, height))
    factor *= scale
    if max_side is not None:
        factor = min(factor, max_side / max(width, height))
    if factor == 1.0:
        return height, width
    return max(MIN_WORKING_SIDE, round(height * factor)), max(MIN_WORKING_SIDE, round(width * factor))


def generator_at_strength(generator: Generator, strength: float) -> Generator:
    """The generator to stylise with: the feature-space half of the strength (the same one at 1)."""
    return generator if strength == 1.0 else generator.with_bottleneck_gain(strength)
