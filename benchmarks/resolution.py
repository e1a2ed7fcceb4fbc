"""Bold at editor resolutions, without a printed pattern: the bundled styles before and after retraining.

    python benchmarks/resolution.py --before OLD_WEIGHTS_DIR --out out/resolution [--docs docs/resolution]

For each style, the old style file (run at the clip's size, as apply used to) and the new one (run as
apply runs it: controls.working_size, then detail.py at the clip's size), on still frames:

- structure left untouched: SSIM of the CIELAB lightness between output and input, both at 384 px on the
  short side (1 = unchanged, as a colour grade); on 720p footage (a frame of the cockatoo clip, the
  vacation photo at 1280x720) and on 1080p (the vacation photo at 1920x1080, the amber photo at 1080x1080,
  the size media/reference stylises). The VGG references on amber score 0.37-0.66;
- sharpness at 100%: the mean absolute Laplacian of the output's grey level over the input's, at full size
  (1080p and 4K; 4K is the vacation photo enlarged to 3840x2160);
- the printed pattern: on the flat sky of the green landscape photo (CC0), the peak of the 2-D power
  spectrum of the output's grey level over the median power of its frequency ring, at the ring where it
  stands out most (above the lowest frequencies); a stripe of one angle and spacing is a peak of hundreds
  or thousands, brush strokes of many directions stay in the tens, like the painting's own (measured the
  same way on 128x256 tiles of the painting at 512 px, median over tiles);
- style ratio: Gram distance to the painting of the outputs over that of the inputs, in Lite0 and Lite2
  (benchmarks/looks.py's measure), on export's evaluation_media stills at 480 px (which the bundled styles
  trained on).

Writes results.json and table.md to --out, and with --docs small JPEG crops at 100% of CC0 and public
domain media only (the landscape's sky, the astronaut, and one CC0 photo at 720p, 1080p and 4K: the same
part of the frame, so a stroke's size relative to the frame can be compared), safe to commit.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from statistics import mean

import cv2
import numpy as np
import torch
from frame_measures import fill, laplacian_ratio, lightness_ssim, read_rgb, stylise_as_apply, video_frames
from looks import networks, score

from stylecut.frames import to_pixels, to_tensor
from stylecut.models.generator import Generator
from stylecut.styles.metadata import read_metadata
from stylecut.styles.style_file import load_generator
from stylecut.training.data import load_media
from stylecut.training.export import evaluation_media
from stylecut.weights_file import sha256_of

from media import SHARED_MEDIA

ROOT = Path(__file__).resolve().parent.parent
STYLES = ("composition-vii", "great-wave", "shipwreck", "starry-night", "the-scream", "udnie")
SKY = (slice(16, 208), slice(300, 812))  # rows, columns of the landscape's sky at 1280x552
FACE = (slice(20, 276), slice(110, 366))  # the astronaut's face and shoulders, 256 px
LOW_FREQUENCY = 4  # rings (of 1% of the sampling rate) left out: shading and gradients, not patterns
RING_COUNT = 50
JPEG_QUALITY = 80
# Top, left and side of a crop as fractions of the frame's height and width: the 4K sharpness is measured
# on the larger one, the sheets show the smaller one.
MEASURED, SHOWN = (0.42, 0.30, 0.25), (0.42, 0.30, 0.16)
BORDER = 64  # px of context around a crop when the old style runs on it alone (it sees no further)


@torch.inference_mode()
def stylise_region(generator: Generator, rgb: np.ndarray, region: tuple[slice, slice]) -> np.ndarray:
    """A full-size style's output on one region, computed from the region and a border of context."""
    rows, columns = region
    top, left = max(0, rows.start - BORDER), max(0, columns.start - BORDER)
    window = rgb[top : rows.stop + BORDER, left : columns.stop + BORDER]
    out = to_pixels(generator(to_tensor(window)[None])[0])
    return out[rows.start - top : rows.stop - top, columns.start - left : columns.stop - left]


def pattern_peak(grey: np.ndarray) -> float:
    """The largest power of the windowed spectrum over the median power of its frequency ring."""
    g = grey.astype(np.float64) - grey.mean()
    window = np.outer(np.hanning(g.shape[0]), np.hanning(g.shape[1]))
    power = np.abs(np.fft.fftshift(np.fft.fft2(g * window))) ** 2
    h, w = power.shape
    yy, xx = np.mgrid[:h, :w]
    radius = np.hypot((yy - h // 2) / h, (xx - w // 2) / w)
    rings = np.minimum((radius * 100).astype(int), RING_COUNT)
    peaks = []
    for k in range(LOW_FREQUENCY, RING_COUNT):
        ring = power[rings == k]
        peaks.append(ring.max() / max(float(np.median(ring)), 1e-12))
    return float(max(peaks))


def landscape(media: Path) -> np.ndarray:
    return read_rgb(media / "photos" / "photo_mdn_cc0_green_landscape.jpg")


def sky_pattern(rgb: np.ndarray) -> float:
    """:func:`pattern_peak` on the landscape's sky."""
    return round(pattern_peak(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[SKY]), 1)


def painting_pattern(path: Path) -> float:
    grey = cv2.cvtColor(fill_long_side(read_rgb(path), 512), cv2.COLOR_RGB2GRAY)
    tiles = [
        grey[y : y + 128, x : x + 256]
        for y in range(0, grey.shape[0] - 127, 96)
        for x in range(0, grey.shape[1] - 255, 128)
    ]
    return float(np.median([pattern_peak(t) for t in tiles]))


def fill_long_side(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    return cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def footage(media: Path) -> dict[str, list[np.ndarray]]:
    vacation = read_rgb(media / "photos" / "photo_moviepy_vacation_2017.jpg")
    return {
        "720p": [
            video_frames(media / "clips" / "imageio_cockatoo_1280x720_20fps.mp4", [100])[0],
            fill(vacation, 1280, 720),
        ],
        "1080p": [fill(vacation, 1920, 1080), read_rgb(media / "photos" / "photo_pytorch_amber.jpg")],
        "4K": [fill(vacation, 3840, 2160)],
    }


def crop_box(height: int, width: int, fractions: tuple[float, float, float]) -> tuple[slice, slice]:
    top, left, side = fractions
    rows, columns = round(height * top), round(width * left)
    return slice(rows, rows + round(height * side)), slice(columns, columns + round(width * side))


def style_images(metadata: dict, media: Path) -> list[torch.Tensor]:
    return load_media([media / "styles" / metadata["style_image"]], 512, 1)


def measure_file(path: Path, media: Path, nets: dict, examples: list[torch.Tensor], cache: Path) -> dict:
    """One style file as apply runs it (at its working side, or at the clip's size without one); the
    measurements are kept in ``cache`` under the file's sha256, so a rerun measures only new files."""
    kept = cache / f"{sha256_of(path)}.json"
    if kept.exists():
        return json.loads(kept.read_text())
    generator, metadata = load_generator(path)
    generator.eval()
    side = metadata["working_side"]
    frames = footage(media)
    row: dict = {}
    for size in ("720p", "1080p"):
        outputs = [stylise_as_apply(generator, f, side) for f in frames[size]]
        row[f"ssim_{size}"] = round(mean(lightness_ssim(f, o) for f, o in zip(frames[size], outputs)), 3)
        if size == "1080p":
            row["laplacian_1080p"] = round(
                mean(laplacian_ratio(f, o) for f, o in zip(frames[size], outputs)), 2
            )
    # At 4K, on the crop: a style at the clip's size runs on it and a border of context alone.
    big = frames["4K"][0]
    box = crop_box(*big.shape[:2], MEASURED)
    out = stylise_region(generator, big, box) if side is None else stylise_as_apply(generator, big, side)[box]
    row["laplacian_4K"] = round(laplacian_ratio(big[box], out), 2)
    row["pattern_sky"] = sky_pattern(stylise_as_apply(generator, landscape(media), side))
    row |= score(generator, style_images(metadata, media), examples, nets)
    cache.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps(row))
    return row


def measure_style(
    old: Path, new: Path, media: Path, nets: dict, examples: list[torch.Tensor], cache: Path
) -> dict:
    """Before (the old file, at the clip's size) and after (the new one, as apply runs it)."""
    metadata = read_metadata(new)
    return {
        "working_side": metadata["working_side"],
        "painting_pattern": round(painting_pattern(media / "styles" / metadata["style_image"]), 1),
        "before": measure_file(old, media, nets, examples, cache),
        "after": measure_file(new, media, nets, examples, cache),
    }


def crop_sheet(old: Path, new: Path, media: Path, target: Path) -> None:
    """One JPEG per style, at 100%: the sky before | after; a CC0 photo at 720p, 1080p and 4K (the same part
    of the frame) before, then after; the astronaut's face before | after."""
    old_generator = load_generator(old)[0].eval()
    new_generator, metadata = load_generator(new)
    new_generator.eval()
    side = metadata["working_side"]
    sky = landscape(media)
    photo = read_rgb(media / "photos" / "photo_mdn_cc0_tiger.jpg")
    astronaut = read_rgb(media / "photos" / "photo_skimage_astronaut.png")
    rows = [
        [stylise_as_apply(old_generator, sky, None)[SKY], stylise_as_apply(new_generator, sky, side)[SKY]]
    ]
    for generator, working in ((old_generator, None), (new_generator, side)):
        crops = []
        for width, height in ((1280, 720), (1920, 1080), (3840, 2160)):
            frame = fill(photo, width, height)
            box = crop_box(height, width, SHOWN)
            crops.append(
                stylise_region(generator, frame, box)
                if working is None
                else stylise_as_apply(generator, frame, working)[box]
            )
        rows.append(crops)
    rows.append(
        [
            stylise_as_apply(old_generator, astronaut, None)[FACE],
            stylise_as_apply(new_generator, astronaut, side)[FACE],
        ]
    )
    sheet = stack([hstack(row) for row in rows])
    cv2.imwrite(str(target), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])


def hstack(images: list[np.ndarray], gap: int = 6) -> np.ndarray:
    height = max(i.shape[0] for i in images)
    padded = [np.pad(i, ((0, height - i.shape[0]), (0, gap), (0, 0)), constant_values=255) for i in images]
    return np.hstack(padded)[:, :-gap]


def stack(rows: list[np.ndarray], gap: int = 6) -> np.ndarray:
    width = max(r.shape[1] for r in rows)
    padded = [np.pad(r, ((0, gap), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    return np.vstack(padded)[:-gap]


def arrow(before: dict, after: dict, key: str) -> str:
    return f"{before[key]} → {after[key]}"


def table(results: dict, photo_pattern: float) -> str:
    lines = [
        f"The photo's own sky scores {photo_pattern} on the pattern measure (the JPEG blocks of a smooth area).",
        "",
        "| style | working side | SSIM(L) 720p | SSIM(L) 1080p | Laplacian 1080p | Laplacian 4K "
        "| pattern on sky (painting) | style ratio Lite0 | style ratio Lite2 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        b, a = r["before"], r["after"]

        lines.append(
            f"| {name} | {r['working_side']} | {arrow(b, a, 'ssim_720p')} | {arrow(b, a, 'ssim_1080p')} | {arrow(b, a, 'laplacian_1080p')} "
            f"| {arrow(b, a, 'laplacian_4K')} | {b['pattern_sky']} → {a['pattern_sky']} ({r['painting_pattern']}) "
            f"| {b['lite0']['style_ratio']} → {a['lite0']['style_ratio']} "
            f"| {b['lite2']['style_ratio']} → {a['lite2']['style_ratio']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="a folder with the old style files")
    parser.add_argument("--after", type=Path, default=ROOT / "weights", help="a folder with the new ones")
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--docs", type=Path, help="also write the crops at 100% here (safe to commit)")
    parser.add_argument("--styles", default=",".join(STYLES), help="comma-separated style names")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    examples = evaluation_media(args.media)
    nets = networks()
    results = {}
    for name in args.styles.split(","):
        old, new = args.before / f"{name}.safetensors", args.after / f"{name}.safetensors"
        results[name] = measure_style(old, new, args.media, nets, examples, args.out / "cache")
        print(name, json.dumps(results[name]), flush=True)
        if args.docs:
            args.docs.mkdir(parents=True, exist_ok=True)
            crop_sheet(old, new, args.media, args.docs / f"{name}.jpg")
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    text = table(results, sky_pattern(landscape(args.media)))
    (args.out / "table.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
