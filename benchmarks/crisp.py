"""Crisp at delivery size: issue 20's targets, frame by frame, for each bundled style as apply runs it.

    python benchmarks/crisp.py --out out/crisp [--weights DIR] [--styles udnie,great-wave] [--frames 3]
        [--painting PATH] [--without-revision]

A style made by `stylecut finetune` is measured from its styles folder (--weights), against --painting
(its reference, or the painted frame of a pair) when that is not in media/styles; --without-revision
measures its generator with the plain sum of draft and detail instead of its revision network.

Each style runs as ``apply`` runs it with the temporal stage off: the generator at the style's working
side, then the footage's detail restored at the clip's size (frame_measures.stylise_as_apply). On every
frame (frame_measures says how each is taken):

- ``ssim``: luminance SSIM of output and input at 384 px on the short side (target at most 0.70);
- ``edges``: correlation of the blurred edge maps of input and output at 720 px (target at least 0.65);
- ``style_ratio``: the distance of early-layer texture and colour statistics to the painting, the output's
  over the input's (target at most 0.6). The statistics are Gram matrices in EfficientNet-Lite2, which no
  style trains against: of its block 0 (stride 2) and block 3 (the last of stride 4), and of the RGB
  pixels themselves (colour); the distance is the relative Gram error averaged over the three (as
  stylecut.quality.gram_distance). The frame is measured at 720 px on the short side, the painting at
  512 px on the long side (the size training reads it);
- ``laplacian``: the output's mean absolute Laplacian over the input's, at full size (target at least 1.5);
- ``shift_3`` / ``shift_8``: on the first frame of each clip, the mean absolute difference in 8-bit levels
  of output(shift(x)) and shift(output(x)) for a shift of 3 and 8 px at full size (the whole pipeline),
  and ``draft_shift_3`` / ``draft_shift_8`` the same for the generator alone at the working size, where
  its stride-8 grid lies: strokes that belong to the picture change alike for both shifts; a texture
  printed on a network's grid changes far more for 3 px than for 8.

The footage. Every training config trains on all of media/photos and media/clips, and media holds no
720p or 1080p footage outside them. Held out (``held_out``: in no style's training content): the
consecutive frames of media/flow (MPI-Sintel alley_1, a CG film; Middlebury RubberWhale, a real camera),
centre-cropped to 16:9 and enlarged to 1280x720 and 1920x1080, so softer at 100% than real footage of
that size. The closest native footage, seen in training: frames of the cockatoo clip at its own 1280x720
between those the trainer samples, and the vacation photo taken down to 1920x1080. Per style the table
shows the worst clip of each group for each measure.

The amber comparison: the same numbers (without the shift test, the style ratio only for udnie, the one
painting media holds) for media/reference's VGG-trained stylisations of photo_pytorch_amber.jpg against
the photo, beside our styles on the photo at its full 1080x1080.

Issue 20's other targets are measured elsewhere: speed and memory by benchmarks/speed.py, the
generator's own flicker on DAVIS bear by benchmarks/run_all.py (E_warp of its frame-by-frame output).

Writes results.json and table.md to --out. One torch thread.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from statistics import mean

import numpy as np
import torch
from frame_measures import (
    edges_kept,
    fill,
    laplacian_ratio,
    lightness_ssim,
    mean_abs_laplacian,
    read_rgb,
    resize_short_side,
    shift_change,
    stylise_as_apply,
    video_frames,
)
from looks import STYLE_SIDE, lite2_network

from stylecut.frames import shrink, to_pixels, to_tensor
from stylecut.models.features import gram
from stylecut.models.loss_network import LossNetwork
from stylecut.pipeline.controls import working_size
from stylecut.quality import relative_error
from stylecut.styles.style_file import load_networks
from stylecut.training.data import load_media

from media import SHARED_MEDIA

ROOT = Path(__file__).resolve().parent.parent
STYLES = ("composition-vii", "great-wave", "shipwreck", "starry-night", "the-scream", "udnie")
EARLY_BLOCKS = (0, 3)  # Lite2's last blocks at strides 2 and 4
STYLE_MEASURE_SIDE = 720
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
HELD_OUT = {
    "sintel-alley": ("flow_sintel_alley1_clean_frame_0002.png", "flow_sintel_alley1_clean_frame_0003.png"),
    "rubberwhale": ("flow_middlebury_rubberwhale_frame10.png", "flow_middlebury_rubberwhale_frame11.png"),
}
COCKATOO = "imageio_cockatoo_1280x720_20fps.mp4"
# Between the 12 frames the trainer reads from it (14, 37, 60, ... 265 of 280): picked in this order.
COCKATOO_FRAMES = (48, 140, 231, 94, 185)
AMBER = "photo_pytorch_amber.jpg"
TARGETS = {"ssim": (max, 0.70), "edges": (min, 0.65), "style_ratio": (max, 0.6), "laplacian": (min, 1.5)}
SHIFTS = ("shift_3", "shift_8", "draft_shift_3", "draft_shift_8")


def footage(media: Path, cockatoo_frames: int) -> dict[str, dict]:
    """Each clip's frames (uint8 RGB at the clip's size) and whether it is held out of training."""
    clips = {}
    for name, files in HELD_OUT.items():
        stills = [read_rgb(media / "flow" / f) for f in files]
        for size, (width, height) in SIZES.items():
            clips[f"{name} {size}"] = {"held_out": True, "frames": [fill(s, width, height) for s in stills]}
    indices = COCKATOO_FRAMES[:cockatoo_frames]
    clips["cockatoo 720p"] = {
        "held_out": False,
        "frames": video_frames(media / "clips" / COCKATOO, indices),
    }
    vacation = read_rgb(media / "photos" / "photo_moviepy_vacation_2017.jpg")
    clips["vacation 1080p"] = {"held_out": False, "frames": [fill(vacation, 1920, 1080)]}
    return clips


@torch.inference_mode()
def early_grams(net: LossNetwork, rgb: torch.Tensor) -> dict:
    """The Gram matrices of one ``(3, H, W)`` image: of :data:`EARLY_BLOCKS` and of its RGB pixels."""
    features = net(rgb[None])
    return {"colour": gram(rgb[None])[0]} | {k: gram(features[k])[0] for k in EARLY_BLOCKS}


def frame_grams(net: LossNetwork, rgb: np.ndarray) -> dict:
    return early_grams(net, to_tensor(resize_short_side(rgb, STYLE_MEASURE_SIDE)))


def painting_grams(net: LossNetwork, path: Path) -> dict:
    (painting,) = load_media([path], STYLE_SIDE, 1)
    return early_grams(net, painting)


def distance(grams: dict, target: dict) -> float:
    return mean(relative_error(grams[k], target[k]) for k in target)


def picture_measures(source: np.ndarray, output: np.ndarray) -> dict:
    return {
        "ssim": lightness_ssim(source, output),
        "edges": edges_kept(source, output),
        "laplacian": laplacian_ratio(source, output),
    }


def style_ratio(net: LossNetwork, target: dict, source_grams: dict, output: np.ndarray) -> float:
    return distance(frame_grams(net, output), target) / distance(source_grams, target)


def draft_shifts(generator: torch.nn.Module, rgb: np.ndarray, side: int | None) -> dict:
    """The shift test on the generator alone, on the frame taken down to the style's working size."""
    height, width = rgb.shape[:2]
    small = to_pixels(shrink(to_tensor(rgb)[None], working_size(width, height, working_side=side))[0])

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return to_pixels(generator(to_tensor(x)[None])[0])

    return {f"draft_shift_{s}": shift_change(run, small, s) for s in (3, 8)}


def measure_style(
    path: Path,
    media: Path,
    clips: dict,
    net: LossNetwork,
    source_grams: dict,
    painting: Path | None = None,
    with_revision: bool = True,
) -> dict:
    """Per clip, the mean of each measure over its frames (the shift tests on its first frame); and amber."""
    generator, revision, metadata = load_networks(path)
    revision = revision if with_revision else None
    side = metadata["working_side"]
    target = painting_grams(net, painting or media / "styles" / metadata["style_image"])

    def stylise(rgb: np.ndarray) -> np.ndarray:
        return stylise_as_apply(generator, rgb, side, revision)

    def on(name: str, frames: list[np.ndarray]) -> dict:
        rows = []
        for i, frame in enumerate(frames):
            output = stylise(frame)
            row = picture_measures(frame, output)
            row["style_ratio"] = style_ratio(net, target, source_grams[name][i], output)
            rows.append(row)
        result = {k: round(mean(r[k] for r in rows), 3) for k in rows[0]}
        result |= {f"shift_{s}": round(shift_change(stylise, frames[0], s), 2) for s in (3, 8)}
        result |= {k: round(v, 2) for k, v in draft_shifts(generator, frames[0], side).items()}
        result["frames"] = len(frames)
        return result

    per_clip = {name: on(name, clip["frames"]) for name, clip in clips.items()}
    return {
        "working_side": side,
        "adversarial_weight": metadata["training"]["config"]["adversarial_weight"],
        "revision_adversarial_weight": metadata.get("revision_training", {}).get("adversarial_weight", 0.0)
        if revision is not None
        else 0.0,
        "clips": per_clip,
        "amber": on("amber", [read_rgb(media / "photos" / AMBER)]),
    }


def references(media: Path, net: LossNetwork, amber_grams: dict) -> dict:
    """The VGG-trained stylisations of amber against the photo; the style ratio only where media holds the
    painting (udnie)."""
    photo = read_rgb(media / "photos" / AMBER)
    udnie = painting_grams(net, media / "styles" / "style_pytorch_udnie.jpg")
    results = {}
    for path in sorted((media / "reference").glob("vgg_johnson_amber-*.jpg")):
        output = read_rgb(path)
        row = {k: round(v, 3) for k, v in picture_measures(photo, output).items()}
        if path.stem.endswith("udnie"):
            row["style_ratio"] = round(style_ratio(net, udnie, amber_grams, output), 3)
        results[path.stem.removeprefix("vgg_johnson_amber-")] = row
    return results


def describe(clip: dict) -> dict:
    """What the table needs to be read: whether the clip is held out, its frames, and how crisp it is
    itself (the Laplacian ratio's denominator: soft or enlarged footage makes the ratio easy)."""
    sharpness = mean(mean_abs_laplacian(f) for f in clip["frames"])
    return {
        "held_out": clip["held_out"],
        "frames": len(clip["frames"]),
        "input_laplacian": round(sharpness, 2),
    }


def worst(per_clip: dict, held_out: bool, clips: dict) -> dict:
    """Per measure with a target, its worst value over the clips of one group; the shifts' largest."""
    group = [r for name, r in per_clip.items() if clips[name]["held_out"] == held_out]
    result = {k: pick(r[k] for r in group) for k, (pick, _) in TARGETS.items()}
    return result | {k: max(r[k] for r in group) for k in SHIFTS}


def cells(row: dict) -> str:
    def cell(key: str) -> str:
        if key not in row:
            return "–"
        pick, bar = TARGETS[key]
        met = row[key] <= bar if pick is max else row[key] >= bar
        return f"{row[key]:.2f}" if met else f"**{row[key]:.2f}**"

    shifts = " | ".join(
        f"{row[a]:.1f} / {row[b]:.1f}" if a in row else "–" for a, b in (SHIFTS[:2], SHIFTS[2:])
    )
    return " | ".join(cell(k) for k in TARGETS) + " | " + shifts


HEADER = (
    "SSIM(L) 384 px (≤ 0.70) | edges kept 720 px (≥ 0.65) | style ratio, Lite2 early (≤ 0.6) "
    "| Laplacian vs input (≥ 1.5) | shift 3 / 8 px, full size | shift 3 / 8 px, generator at working size"
)


def table(results: dict, clips: dict) -> str:
    lines = ["Worst clip per style; a value that misses its target is in bold.", ""]
    for held_out, title in (
        (True, "held out (media/flow, enlarged)"),
        (False, "native size, seen in training"),
    ):
        lines += [
            f"| style | adversarial weight, generator / revision (> 0) | footage | {HEADER} |",
            "| --- " * 9 + "|",
        ]
        for name, r in results["styles"].items():
            weights = f"{r['adversarial_weight']:g} / {r['revision_adversarial_weight']:g}"
            weight = (
                weights
                if max(r["adversarial_weight"], r["revision_adversarial_weight"]) > 0
                else f"**{weights}**"
            )
            lines.append(f"| {name} | {weight} | {title} | {cells(worst(r['clips'], held_out, clips))} |")
        lines.append("")
    lines += [
        "The footage's own mean absolute Laplacian at full size (8-bit levels; the ratio's denominator):",
        "",
    ]
    lines += ["| clip | held out | frames | input Laplacian |", "| --- " * 4 + "|"]
    for name, r in results["footage"].items():
        lines.append(
            f"| {name} | {'yes' if r['held_out'] else 'no'} | {r['frames']} | {r['input_laplacian']} |"
        )
    lines += ["", "Per clip (mean over its frames; the shift tests on its first frame):", ""]
    lines += [f"| style | clip | frames | {HEADER} |", "| --- " * 9 + "|"]
    for name, r in results["styles"].items():
        for clip, row in r["clips"].items():
            lines.append(f"| {name} | {clip} | {row['frames']} | {cells(row)} |")
    lines += [
        "",
        "On amber (1080x1080, full size): the VGG-trained references of media/reference and ours:",
        "",
    ]
    lines += [f"| stylisation | {HEADER} |", "| --- " * 7 + "|"]
    for name, row in results["references"].items():
        lines.append(f"| VGG {name} | {cells(row)} |")
    for name, r in results["styles"].items():
        lines.append(f"| ours: {name} | {cells(r['amber'])} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights", type=Path, default=ROOT / "weights", help="a folder with the style files"
    )
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--styles", default=",".join(STYLES), help="comma-separated style names")
    parser.add_argument(
        "--frames",
        type=int,
        default=3,
        choices=range(1, len(COCKATOO_FRAMES) + 1),
        help="cockatoo frames (the held-out clips have 2 each)",
    )
    parser.add_argument("--painting", type=Path, help="the styles' painting, when not in media/styles")
    parser.add_argument(
        "--without-revision", action="store_true", help="the plain sum instead of the revision"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    net = lite2_network(EARLY_BLOCKS)
    clips = footage(args.media, args.frames)
    amber = read_rgb(args.media / "photos" / AMBER)
    source_grams = {name: [frame_grams(net, f) for f in clip["frames"]] for name, clip in clips.items()}
    source_grams["amber"] = [frame_grams(net, amber)]
    results: dict = {
        "footage": {name: describe(clip) for name, clip in clips.items()},
        "references": references(args.media, net, source_grams["amber"][0]),
        "styles": {},
    }
    print(json.dumps(results["references"]), flush=True)
    for name in args.styles.split(","):
        results["styles"][name] = measure_style(
            args.weights / f"{name}.safetensors",
            args.media,
            clips,
            net,
            source_grams,
            args.painting,
            not args.without_revision,
        )
        print(name, json.dumps(results["styles"][name]), flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    text = table(results, clips)
    (args.out / "table.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
