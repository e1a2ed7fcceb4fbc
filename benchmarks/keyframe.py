"""Keyframe-guided looks: `stylecut finetune --pair` on one treated frame, measured on the rest of the shot.

    /work/venv/bin/python benchmarks/keyframe.py --media ../shared/media --out /tmp/keyframe \
        [--clip bear] [--treatments graphic,painterly] [--minutes 10]

Two treatments of our own that apply to any frame, so every frame of the shot has its ground truth:

- graphic: mean-shift smoothing, the lightness posterised into five levels drawn in a fixed palette
  unrelated to the footage's colours (navy, violet, coral, mustard, cream), and thick dark outlines
  where the smoothed frame has edges (Canny, dilated to 3 px);
- painterly: OpenCV's edge-preserving stylisation (``cv2.stylization``) under a teal-and-orange grade.

For each treatment: the first 3 s of the clip (``media.prepare_clip``), its middle frame and that frame
treated as the pair; ``stylecut finetune --pair`` at default settings (torch on one thread: the machine
is shared); then ``stylecut apply`` of the clip with the new style, temporal stage on. On every frame at
least ``--gap`` frames from the keyframe: the mean Lab colour error (CIE76 delta E) of the output to the
treatment of that frame, over the input's error to it (the ratio; the target is 0.5 or less). A global
colour transfer from the pair (Reinhard: Lab means and deviations of the treated keyframe over the
keyframe's) is scored the same way for comparison. Writes to --out: ``results.json``, the pair and a
few far frames (input, truth, output) as PNGs, and a sheet ``<treatment>.jpg``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from media import SHARED_MEDIA, find_clip, prepare_clip, read_frames

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 3.0
# Five lightness levels in colours no footage has: the palette a graphic treatment would impose.
PALETTE = np.array(
    [(28, 30, 74), (92, 52, 128), (226, 94, 86), (236, 178, 62), (248, 238, 214)], dtype=np.uint8
)
OUTLINE = np.array((16, 12, 24), dtype=np.uint8)


def graphic(rgb: np.ndarray) -> np.ndarray:
    """Flat regions in PALETTE by lightness, with thick dark outlines."""
    smooth = cv2.pyrMeanShiftFiltering(rgb, 12, 28)
    grey = cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY)
    # Lightness on a 0.6 gamma, so a dim shot still spans the palette.
    levels = np.clip(((grey / 255) ** 0.6 * len(PALETTE)).astype(np.int32), 0, len(PALETTE) - 1)
    out = PALETTE[levels]
    edges = cv2.Canny(cv2.GaussianBlur(grey, (5, 5), 0), 40, 100)
    lines = cv2.dilate(edges, np.ones((3, 3), np.uint8)) > 0
    out[lines] = OUTLINE
    return out


def painterly(rgb: np.ndarray) -> np.ndarray:
    """Edge-preserving painterly smoothing, then a teal-shadows, orange-highlights grade."""
    painted = cv2.stylization(rgb, sigma_s=40, sigma_r=0.35).astype(np.float32) / 255
    lum = painted.mean(-1, keepdims=True)
    teal, orange = np.array([0.0, 0.35, 0.45]), np.array([1.0, 0.62, 0.3])
    graded = painted * 0.75 + (1 - lum) * teal * 0.25 + lum * orange * 0.25
    graded = np.clip((graded - 0.5) * 1.15 + 0.5, 0, 1)
    return (graded * 255).round().astype(np.uint8)


TREATMENTS = {"graphic": graphic, "painterly": painterly}


def lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    """Mean CIE76 colour difference of two uint8 RGB images."""
    return float(np.linalg.norm(lab(a) - lab(b), axis=-1).mean())


def colour_transfer(frame: np.ndarray, key: np.ndarray, key_treated: np.ndarray) -> np.ndarray:
    """Reinhard et al.: the frame's Lab statistics moved as the keyframe's moved under the treatment."""
    src, dst = lab(key).reshape(-1, 3), lab(key_treated).reshape(-1, 3)
    moved = (lab(frame) - src.mean(0)) / (src.std(0) + 1e-6) * dst.std(0) + dst.mean(0)
    rgb = cv2.cvtColor(moved.astype(np.float32), cv2.COLOR_LAB2RGB)
    return (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)


def save_png(path: Path, rgb: np.ndarray) -> None:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def stylecut(*args: object, home: Path) -> float:
    """Run the real command with one torch thread; returns its wall time in seconds."""
    env = {**os.environ, "STYLECUT_HOME": str(home), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    started = time.monotonic()
    command = [str(Path(sys.executable).with_name("stylecut")), *(str(a) for a in args)]
    subprocess.run(command, check=True, env=env, stdin=subprocess.DEVNULL)
    return time.monotonic() - started


def sheet(path: Path, rows: list[list[np.ndarray]], height: int = 180) -> None:
    """A JPEG grid: each row's images scaled to `height`."""
    scaled = [
        np.concatenate([cv2.resize(i, (round(i.shape[1] * height / i.shape[0]), height)) for i in row], 1)
        for row in rows
    ]
    cv2.imwrite(
        str(path), cv2.cvtColor(np.concatenate(scaled, 0), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )


def train_and_apply(name: str, clip: Path, out: Path, args: argparse.Namespace) -> dict:
    """finetune on the pair, then apply to the clip; their wall times, also kept in ``timing_<name>.json``."""
    original, painted = out / f"{name}_key.png", out / f"{name}_key_painted.png"
    home = out / "home"
    style = f"key-{name}"
    extra = ["--minutes", args.minutes] if args.minutes else []
    timing = {
        "finetune_seconds": stylecut(
            "finetune",
            "--pair",
            original,
            painted,
            "--name",
            style,
            "--overwrite",
            *extra,
            *args.finetune_args,
            home=home,
        ),
    }
    output = out / f"{name}_out.mp4"
    timing["apply_seconds"] = stylecut(
        "apply", clip, "--style", style, "-o", output, "--overwrite", "--threads", 1, home=home
    )
    timing = {k: round(v, 1) for k, v in timing.items()}
    (out / f"timing_{name}.json").write_text(json.dumps(timing))
    return timing


def measure(name: str, clip: Path, out: Path, args: argparse.Namespace) -> dict:
    treat = TREATMENTS[name]
    frames = read_frames(clip)
    key = len(frames) // 2
    key_treated = treat(frames[key])
    save_png(out / f"{name}_key.png", frames[key])
    save_png(out / f"{name}_key_painted.png", key_treated)
    if args.score_only:
        timing = json.loads((out / f"timing_{name}.json").read_text())
    else:
        timing = train_and_apply(name, clip, out, args)
    stylised = read_frames(out / f"{name}_out.mp4")
    far = [i for i in range(len(frames)) if abs(i - key) >= args.gap]
    truth = {i: treat(frames[i]) for i in far}
    scores = {
        "input": np.mean([delta_e(frames[i], truth[i]) for i in far]),
        "output": np.mean([delta_e(stylised[i], truth[i]) for i in far]),
        "colour_transfer": np.mean(
            [delta_e(colour_transfer(frames[i], frames[key], key_treated), truth[i]) for i in far]
        ),
    }
    shown = [far[0], far[-1]]
    for i in shown:
        save_png(out / f"{name}_{i:03d}_out.png", stylised[i])
        save_png(out / f"{name}_{i:03d}_truth.png", truth[i])
    # Rows: the keyframe, its treatment and the output there; then far frames: input, truth, output.
    rows = [[frames[key], key_treated, stylised[key]], *([frames[i], truth[i], stylised[i]] for i in shown)]
    sheet(out / f"{name}.jpg", rows)
    return {
        "clip": clip.name,
        "frames": len(frames),
        "keyframe": key,
        "far_frames": len(far),
        "delta_e": {k: round(float(v), 2) for k, v in scores.items()},
        "ratio": round(float(scores["output"] / scores["input"]), 3),
        "colour_transfer_ratio": round(float(scores["colour_transfer"] / scores["input"]), 3),
        **timing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--clip", default="bear")
    parser.add_argument("--treatments", default=",".join(TREATMENTS))
    parser.add_argument("--minutes", type=float, default=None, help="finetune's budget (default: its own)")
    parser.add_argument(
        "--gap", type=int, default=10, help="frames at least this far from the keyframe count"
    )
    parser.add_argument(
        "--score-only", action="store_true", help="score the outputs and timings already in --out"
    )
    parser.add_argument("--finetune-args", nargs=argparse.REMAINDER, default=[])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    source = find_clip(args.media, args.clip)
    fps = cv2.VideoCapture(str(source)).get(cv2.CAP_PROP_FPS)
    clip = args.out / f"{args.clip}_3s.mp4"
    if not args.score_only:
        prepare_clip(source, clip, round(fps * SECONDS))
    results = {name: measure(name, clip, args.out, args) for name in args.treatments.split(",")}
    results_path = args.out / "results.json"
    earlier = json.loads(results_path.read_text()) if results_path.exists() else {}
    results_path.write_text(json.dumps({**earlier, **results}, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
