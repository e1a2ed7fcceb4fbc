"""Issue 20's figures: 100% crops of every bundled style without and with its revision network, and amber
beside the VGG-trained udnie.

    python benchmarks/crisp_figures.py --media ../shared/media --out docs/crisp [--styles DIR]

- ``STYLE.jpg`` per style: three rows, each a 100% crop of the output as apply makes it (frame by frame)
  with the plain sum (the enlarged draft plus the footage's fine lightness, what a style without a revision
  gets) on the left and the revision on the right: a cockatoo frame at its own 1280x720, the vacation photo
  taken down to 1920x1080 (held out of the revision's training) and the rommel photo at a 2160 px short
  side (4K-class; one of the revision's training photos, read there at 1080p);
- ``amber.jpg``: a 100% crop of amber at 1080x1080: the photo, the VGG-trained udnie of media/reference,
  our udnie with the plain sum, our udnie with its revision.

With ``--styles DIR`` the styles are the style files in DIR (those `stylecut finetune` made, say), the
sheets the same, without amber.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
from crisp import AMBER, COCKATOO
from frame_measures import read_rgb, resize_short_side, stylise_as_apply, video_frames

from stylecut.styles.registry import bundled_styles
from stylecut.styles.style_file import load_networks

CROP = 360  # px square, at 100%
GAP = 6
JPEG_QUALITY = 92


def _crop(rgb: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """A CROP x CROP square around ``centre`` (fractions of height and width)."""
    h, w = rgb.shape[:2]
    top = min(max(0, round(centre[0] * h) - CROP // 2), h - CROP)
    left = min(max(0, round(centre[1] * w) - CROP // 2), w - CROP)
    return rgb[top : top + CROP, left : left + CROP]


def _row(tiles: list[np.ndarray]) -> np.ndarray:
    gap = np.full((CROP, GAP, 3), 255, np.uint8)
    return np.hstack([part for tile in tiles for part in (tile, gap)][:-1])


def _save(rows: list[np.ndarray], path: Path) -> None:
    gap = np.full((GAP, rows[0].shape[1], 3), 255, np.uint8)
    sheet = np.vstack([part for row in rows for part in (row, gap)][:-1])
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--media", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "media"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--styles", type=Path, help="a folder of style files instead of the bundled styles")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    photos = args.media / "photos"
    scenes = [  # (frame, centre of the crop)
        (video_frames(args.media / "clips" / COCKATOO, [48])[0], (0.45, 0.5)),
        (resize_short_side(read_rgb(photos / "photo_moviepy_vacation_2017.jpg"), 1080), (0.55, 0.45)),
        (resize_short_side(read_rgb(photos / "photo_imageio_rommel_EXIF_ORIENT6.jpg"), 2160), (0.35, 0.5)),
    ]
    amber = read_rgb(photos / AMBER)
    styles = (
        {path.stem: path for path in sorted(args.styles.glob("*.safetensors"))}
        if args.styles
        else {entry.name: entry.path for entry in bundled_styles()}
    )
    for name, path in styles.items():
        generator, revision, metadata = load_networks(path)
        side = metadata["working_side"]
        rows = []
        for frame, centre in scenes:
            plain, revised = (stylise_as_apply(generator, frame, side, r) for r in (None, revision))
            rows.append(_row([_crop(plain, centre), _crop(revised, centre)]))
        _save(rows, args.out / f"{name}.jpg")
        if name == "udnie" and not args.styles:
            reference = read_rgb(args.media / "reference" / "vgg_johnson_amber-udnie.jpg")
            ours = [stylise_as_apply(generator, amber, side, r) for r in (None, revision)]
            _save([_row([_crop(x, (0.42, 0.5)) for x in (amber, reference, *ours)])], args.out / "amber.jpg")
        print(f"wrote {args.out / name}.jpg", flush=True)


if __name__ == "__main__":
    main()
