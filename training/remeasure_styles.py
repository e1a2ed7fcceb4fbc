"""Measure the bundled styles again with the export's current measure; only their metadata changes.

    python training/remeasure_styles.py --media ../shared/media

For each style in weights/manifest.json: load it (checking its sha256),
measure it as training/train_style.py's export does
(``stylecut.training.export.measure``, on the held-out media), rewrite the
file with the same weights, bit for bit, and the new metrics, and enter the
metrics and the new sha256 in the manifest. For a change of the measure,
without training the styles again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import load_file
from train_style import load_config

from stylecut.styles.registry import MANIFEST
from stylecut.styles.style_file import load_generator, load_networks, save_style
from stylecut.training.data import load_media
from stylecut.training.export import held_out_media, measure, update_manifest

ROOT = Path(__file__).resolve().parent.parent


def same_bits(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> bool:
    return before.keys() == after.keys() and all(
        torch.equal(before[k].view(torch.int32), after[k].view(torch.int32)) for k in before
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--weights", type=Path, default=ROOT / "weights")
    parser.add_argument("--styles", help="comma-separated names (default: every style in the manifest)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    media = args.media.resolve()
    examples, motion = held_out_media(media)
    manifest = json.loads((args.weights / MANIFEST).read_text())
    chosen = set(args.styles.split(",")) if args.styles else None
    for entry in manifest["styles"]:
        if chosen is not None and entry["name"] not in chosen:
            continue
        path = args.weights / entry["file"]
        generator, revision, metadata = load_networks(path, entry["sha256"])
        config = load_config(ROOT / entry["recipe"], media)
        style_images = load_media(
            [Path(p) for p in config.style], config.style_max_side, config.frames_per_video
        )
        metrics = measure(generator, style_images, examples, motion, metadata["working_side"])
        weights = load_file(str(path))
        sha256 = save_style(path, generator, {**metadata, "metrics": metrics}, revision)
        if not same_bits(weights, load_file(str(path))):
            raise SystemExit(f"{path}: the weights changed on rewriting; restore it from git.")
        load_generator(path, sha256)
        update_manifest(args.weights / MANIFEST, {**entry, "sha256": sha256, "metrics": metrics})
        print(entry["name"], json.dumps(metrics))


if __name__ == "__main__":
    main()
