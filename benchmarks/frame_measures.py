"""What a benchmark measures on one still frame, as uint8 RGB arrays: reading and sizing frames, running a
style on them as ``apply`` does, and the picture measures of benchmarks/resolution.py and benchmarks/crisp.py.

- :func:`lightness_ssim`: SSIM of the CIELAB lightness of output and input at 384 px on the short side
  (1 = structure untouched, as a colour grade);
- :func:`laplacian_ratio`: the output's mean absolute Laplacian of its grey level over the input's, at the
  size given (crispness at 100%);
- :func:`edges_kept`: the correlation of the blurred edge maps of input and output at 720 px on the short
  side (whether people and outlines stay readable);
- :func:`shift_change`: how far an output moves off the picture when the input is shifted (strokes that
  belong to the picture move with it; a texture printed on a network's grid does not).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecut.frames import shrink, to_pixels, to_tensor
from stylecut.models.generator import Generator
from stylecut.models.revision import Revision
from stylecut.pipeline.controls import working_size
from stylecut.pipeline.detail import with_detail
from stylecut.video.decode import iter_frames
from stylecut.video.probe import probe

SSIM_SIDE = 384
EDGE_SIDE = 720
EDGE_THRESHOLDS = (50, 150)
# px (sigma, at EDGE_SIDE): an outline moved or broken by a stroke still counts as kept. With these
# settings the VGG udnie and our udnie on amber score 0.75 and 0.59, as issue 20 quotes (0.75, 0.58).
EDGE_BLUR = 5.0
SHIFT_MARGIN = 16  # px left out at each border of the shift test: the padding is not the picture's


def read_rgb(path: Path) -> np.ndarray:
    rgb = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if rgb is None:
        raise SystemExit(f"{path} cannot be read.")
    return cv2.cvtColor(rgb, cv2.COLOR_BGR2RGB)


def video_frames(path: Path, indices: Sequence[int]) -> list[np.ndarray]:
    """The clip's frames at ``indices``, decoded from its first frame on: a seek into the cockatoo clip
    (decord, FrameReader.read of one index or iter_frames from a start) returns a green, garbled frame."""
    wanted, found, index = set(indices), {}, 0
    for chunk in iter_frames(probe(path), chunk_size=16, stop=max(indices) + 1):
        found |= {index + i: frame for i, frame in enumerate(chunk) if index + i in wanted}
        index += len(chunk)
    return [found[i] for i in indices]


def fill(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Centre-cropped to the aspect ratio of width x height, then resized to it (area down, cubic up)."""
    h, w = rgb.shape[:2]
    scale = max(width / w, height / h)
    crop_w, crop_h = round(width / scale), round(height / scale)
    top, left = (h - crop_h) // 2, (w - crop_w) // 2
    cropped = rgb[top : top + crop_h, left : left + crop_w]
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(cropped, (width, height), interpolation=method)


@torch.inference_mode()
def stylise_as_apply(
    generator: Generator, rgb: np.ndarray, working_side: int | None, revision: Revision | None = None
) -> np.ndarray:
    """What apply makes of one frame at --scale 1: the working size, then the footage's detail restored (by
    the style's ``revision`` network when it has one)."""
    frame = to_tensor(rgb)[None]
    height, width = rgb.shape[:2]
    working = working_size(width, height, working_side=working_side)
    if working == (height, width):
        return to_pixels(generator(frame)[0])
    small = shrink(frame, working)
    return to_pixels(with_detail(generator(small), frame, small, revision)[0])


def lightness(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float64)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two grey images (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, 8-bit range)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(z: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(z, (11, 11), 1.5)

    ma, mb = blur(a), blur(b)
    va, vb, cov = blur(a * a) - ma * ma, blur(b * b) - mb * mb, blur(a * b) - ma * mb
    return float((((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))).mean())


def lightness_ssim(source: np.ndarray, output: np.ndarray) -> float:
    h, w = source.shape[:2]
    size = (round(w * SSIM_SIDE / min(h, w)), round(h * SSIM_SIDE / min(h, w)))
    small = [cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (source, output)]
    return ssim(lightness(small[0]), lightness(small[1]))


def mean_abs_laplacian(rgb: np.ndarray) -> float:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[8:-8, 8:-8].mean())


def laplacian_ratio(source: np.ndarray, output: np.ndarray) -> float:
    return mean_abs_laplacian(output) / mean_abs_laplacian(source)


def resize_short_side(rgb: np.ndarray, side: int) -> np.ndarray:
    """Scaled so that its short side is ``side`` (area down, cubic up); as it is when it already is."""
    h, w = rgb.shape[:2]
    if min(h, w) == side:
        return rgb
    scale = side / min(h, w)
    method = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=method)


def edge_map(rgb: np.ndarray) -> np.ndarray:
    """The Canny edges of the grey level (thresholds 50 and 150), blurred by :data:`EDGE_BLUR`."""
    edges = cv2.Canny(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), *EDGE_THRESHOLDS).astype(np.float32)
    return cv2.GaussianBlur(edges, (0, 0), EDGE_BLUR)


def edges_kept(source: np.ndarray, output: np.ndarray) -> float:
    """Pearson correlation of the blurred edge maps of input and output, both at :data:`EDGE_SIDE` px."""
    a, b = (edge_map(resize_short_side(x, EDGE_SIDE)).ravel() for x in (source, output))
    return float(np.corrcoef(a, b)[0, 1])


def shift_change(
    stylise: Callable[[np.ndarray], np.ndarray], rgb: np.ndarray, shift: int, most: int = 8
) -> float:
    """Mean absolute difference, in 8-bit levels, of the output of the frame shifted by ``shift`` px
    (right and down) and the frame's output shifted the same way, away from the borders.

    Both inputs are windows of the same size (the frame less ``most`` px), so a style that runs at a
    working size scales them alike and the shift is the only difference.
    """
    h, w = rgb.shape[:2]
    window = (slice(most, h), slice(most, w))
    moved = (slice(most - shift, h - shift), slice(most - shift, w - shift))
    still, shifted = stylise(rgb[window]), stylise(rgb[moved])
    # shifted[y + shift, x + shift] shows what still[y, x] shows
    m = SHIFT_MARGIN
    a = still[m : -m - shift, m : -m - shift].astype(np.float32)
    b = shifted[m + shift : -m, m + shift : -m].astype(np.float32)
    return float(np.abs(a - b).mean())
