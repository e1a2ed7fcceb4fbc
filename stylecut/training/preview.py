"""Preview contact sheets: the style image, then stylised examples, side by side."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylecut.frames import shrink, to_pixels
from stylecut.models.generator import Generator


def _fit_height(image: torch.Tensor, height: int) -> torch.Tensor:
    h, w = image.shape[-2:]
    return shrink(image[None], (height, max(1, round(w * height / h))))[0]


@torch.no_grad()
def contact_sheet(
    generator: Generator,
    style_image: torch.Tensor,
    examples: Sequence[torch.Tensor],
    path: Path,
    height: int = 360,
) -> None:
    """Write a PNG: the style image, then each example stylised at `height` pixels."""
    device = next(generator.parameters()).device
    tiles = [_fit_height(style_image, height)]
    for example in examples:
        scaled = _fit_height(example, height)
        tiles.append(generator(scaled[None].to(device))[0].cpu())
    side_by_side(tiles, path)


def side_by_side(tiles: Sequence[torch.Tensor], path: Path) -> None:
    """Write a PNG of ``(3, H, W)`` pictures of one height in a row, a thin white gap between them."""
    gap = torch.ones(3, tiles[0].shape[1], 8)
    row = torch.cat([t for tile in tiles for t in (tile, gap)][:-1], dim=2)
    pixels = to_pixels(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(pixels)).save(path)
