"""Render the README's figures from the example clip examples/grace_hopper_pan.mp4 into docs/.

- docs/preview.jpg: what `stylecut preview examples/grace_hopper_pan.mp4 --height 240` shows, for the
  bundled styles.
- docs/scale.jpg: the same frame at 100% with `apply --scale 2, 1, 0.5`, for two styles: the working size
  sets the stroke size relative to the frame.

Run from the repository root: `python docs/make_figures.py` (about a minute on a laptop CPU).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from stylecut.commands.preview import PreviewRequest, run_preview, stylise_frames
from stylecut.pipeline.controls import Controls, working_size
from stylecut.styles.registry import bundled_styles, load_style, resolve_style
from stylecut.video.decode import FrameReader

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "grace_hopper_pan.mp4"
DOCS = ROOT / "docs"
SCALES = (2.0, 1.0, 0.5)
SCALE_STYLES = ("starry-night", "great-wave")
FRAME = 48  # the middle of the push-in
CROP = (160, 90, 480, 330)  # the face, at 100% of the 640x360 clip
LABEL_HEIGHT, GAP, FONT_SIZE = 24, 4, 16
JPEG_QUALITY = 88


def preview_sheet() -> Path:
    request = PreviewRequest(
        clip=EXAMPLE,
        styles=[entry.name for entry in bundled_styles()],
        output=DOCS / "preview.jpg",
        height=240,
        overwrite=True,
    )
    return run_preview(request, print)


def _at_scale(generator: torch.nn.Module, frame: Image.Image, scale: float) -> Image.Image:
    """The frame stylised at ``scale`` times its size and brought back to it, as `apply --scale` does."""
    height, width = working_size(frame.width, frame.height, scale)
    small = np.asarray(frame.resize((width, height), Image.Resampling.BILINEAR))[None]
    stylised = stylise_frames(generator, small, Controls(), torch.device("cpu"))[0]
    return Image.fromarray(stylised).resize(frame.size, Image.Resampling.BICUBIC)


def scale_figure() -> Path:
    frame = Image.fromarray(FrameReader(EXAMPLE).read([FRAME])[0])
    columns = [("original", lambda generator: frame)]
    for scale in SCALES:
        height, width = working_size(frame.width, frame.height, scale)
        label = f"scale {scale:g} ({width}x{height})"
        columns.append((label, lambda generator, scale=scale: _at_scale(generator, frame, scale)))
    crop_w, crop_h = CROP[2] - CROP[0], CROP[3] - CROP[1]
    size = (len(columns) * (crop_w + GAP), len(SCALE_STYLES) * (LABEL_HEIGHT + crop_h))
    sheet = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=FONT_SIZE)
    for row, name in enumerate(SCALE_STYLES):
        generator, _ = load_style(resolve_style(name))
        top = row * (LABEL_HEIGHT + crop_h)
        for column, (label, render) in enumerate(columns):
            left = column * (crop_w + GAP)
            text = label if column == 0 else f"{name}, {label}"
            draw.text((left + GAP, top + (LABEL_HEIGHT - FONT_SIZE) // 2), text, fill="black", font=font)
            sheet.paste(render(generator).crop(CROP), (left, top + LABEL_HEIGHT))
    target = DOCS / "scale.jpg"
    sheet.save(target, quality=JPEG_QUALITY)
    return target


def main() -> None:
    print(f"wrote {preview_sheet()}")
    print(f"wrote {scale_figure()}")


if __name__ == "__main__":
    main()
