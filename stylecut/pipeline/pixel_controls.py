"""The pixel half of the controls (see controls.py for what each does and why it runs where it does).

Frames are ``(h, w, 3)`` or ``(n, h, w, 3)`` RGB pixels at the clip's display size (uint8, or uint16 for
a clip of more than 8 bits: see stylecut.frames); intermediate results are float32 RGB in [0, 1]. Colours are converted with OpenCV (CIE Lab for sRGB with a D65 white).
"""

from __future__ import annotations

import cv2
import numpy as np

from stylecut.frames import from_unit, unit_pixels
from stylecut.pipeline.controls import Controls

_MIN_LIGHTNESS_SPREAD = 1.0  # Lab L units: a flat stylisation is not stretched into noise


def keep_colours(stylised: np.ndarray, original: np.ndarray) -> np.ndarray:
    """One ``(h, w, 3)`` frame: the stylisation's lightness (matched to the original's mean and spread)
    with the original's Lab chroma, as float32 RGB in [0, 1]."""
    lab_out = cv2.cvtColor(unit_pixels(stylised), cv2.COLOR_RGB2Lab)
    lab_in = cv2.cvtColor(unit_pixels(original), cv2.COLOR_RGB2Lab)
    lightness, reference = lab_out[..., 0], lab_in[..., 0]
    gain = reference.std() / max(float(lightness.std()), _MIN_LIGHTNESS_SPREAD)
    lab_in[..., 0] = np.clip((lightness - lightness.mean()) * gain + reference.mean(), 0, 100)
    return cv2.cvtColor(lab_in, cv2.COLOR_Lab2RGB)


def blend(layer: np.ndarray, original: np.ndarray, strength: float) -> np.ndarray:
    """The pixel half of the strength: ``strength`` of ``layer`` (float32 RGB in [0, 1]) over the
    ``original`` pixels, as float32 RGB in [0, 1]."""
    base = unit_pixels(original)
    return base + strength * (layer - base)


def finish(stylised: np.ndarray, originals: np.ndarray, controls: Controls) -> np.ndarray:
    """The pixel controls on ``(n, h, w, 3)`` stylised frames and their decoded originals (same shape).

    Returns frames of the same dtype: ``stylised`` itself without controls, ``originals`` itself at strength 0.
    """
    if controls.strength == 0.0:
        return originals
    if controls.strength == 1.0 and not controls.keep_colours:
        return stylised
    out = np.empty_like(stylised)
    # Frame by frame, so the float copies stay one frame in size.
    for i, (frame, original) in enumerate(zip(stylised, originals)):
        layer = keep_colours(frame, original) if controls.keep_colours else unit_pixels(frame)
        mixed = blend(layer, original, controls.strength)
        out[i] = from_unit(mixed, out.dtype)
    return out
