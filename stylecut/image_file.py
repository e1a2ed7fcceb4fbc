"""Reading a still image, whatever its mode, as the RGB a viewer would show.

Pillow's own ``convert("RGB")`` clips 16-bit and 32-bit greyscale to 8-bit
white and drops alpha, so a 16-bit greyscale PNG would read as almost pure
white and a logo on a transparent background as whatever colour its
invisible pixels happen to hold. Here each mode is brought to floats in
[0, 1] at its own scale: 16-bit and 32-bit integer greyscale on 0-65535 (the
range PNG and TIFF store), floating-point greyscale on 0-1 (or Pillow's
0-255 when its values exceed 1), everything with transparency (alpha
channels, or a palette or greyscale image's transparent colour) composited
over white like a page, and every other mode (palette, CMYK, YCbCr, 1-bit)
through Pillow's conversion. Every image stylecut reads goes through
:func:`read_rgb`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from stylecut.errors import MediaError

WIDE_GREY_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})
FLOAT_MODE = "F"
WIDE_GREY_WHITE = 65535.0
BACKGROUND = 1.0  # white: a transparent area reads as the page it would be shown on


def _grey_values(image: Image.Image) -> np.ndarray:
    """A 16/32-bit integer or floating-point greyscale image as (H, W) floats in [0, 1]."""
    values = np.asarray(image).astype(np.float32)
    if image.mode in WIDE_GREY_MODES:
        values = values / WIDE_GREY_WHITE
    elif values.size and float(np.nanmax(values)) > 1:
        values = values / 255.0
    return np.nan_to_num(values, nan=0.0).clip(0, 1)


def _has_transparency(image: Image.Image) -> bool:
    return "A" in image.getbands() or "transparency" in image.info


def to_rgb(image: Image.Image) -> np.ndarray:
    """An image of any mode as (H, W, 3) float32 RGB in [0, 1]."""
    if image.mode in WIDE_GREY_MODES or image.mode == FLOAT_MODE:
        return np.repeat(_grey_values(image)[..., None], 3, axis=2)
    if _has_transparency(image):
        rgba = np.asarray(image.convert("RGBA")).astype(np.float32) / 255.0
        alpha = rgba[..., 3:]
        return rgba[..., :3] * alpha + BACKGROUND * (1 - alpha)
    return np.asarray(image.convert("RGB")).astype(np.float32) / 255.0


def read_rgb(path: Path) -> np.ndarray:
    """The image file at ``path``, upright (EXIF), as (H, W, 3) float32 RGB in [0, 1]; else one sentence."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns from MAX_IMAGE_PIXELS to twice that; such an image is refused like a larger one.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return to_rgb(ImageOps.exif_transpose(image))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(
            f"{path} is too large an image to read safely (more than {Image.MAX_IMAGE_PIXELS:,} pixels); "
            "use a smaller copy."
        ) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # what Pillow raises for damaged files
        raise MediaError(f"{path} is not a readable image.") from exc
