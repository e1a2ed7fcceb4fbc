"""Train a bundled style's revision network on its shipped generator, resumably, and put it in its style file.

    python training/train_revision.py training/configs/udnie.toml --media ../shared/media --threads 1

The recipe is training/configs/revision.toml with the style config's ``[revision]`` table on top; paths are
relative to --media. The style's generator is the one in weights/NAME.safetensors, frozen. The run lives in
runs/NAME-revision/ (checkpoint.pt, log.jsonl): run the same command again to resume after an
interruption or a session's end. When the run has reached its steps, the revision network is written into
weights/NAME.safetensors beside the generator (with its recipe in the metadata), the manifest's checksum is
updated and the loss log is copied to training/logs/NAME-revision.jsonl.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
import tomllib
from pathlib import Path

import torch

from stylecut.errors import StylecutError
from stylecut.styles.style_file import load_networks, save_style
from stylecut.training.data import expand_media, read_image
from stylecut.training.export import update_manifest
from stylecut.training.revision_trainer import RevisionTrainer, read_recipe
from stylecut.training.trainer import LOG

ROOT = Path(__file__).resolve().parent.parent
SHARED_RECIPE = ROOT / "training" / "configs" / "revision.toml"
FULL_SIZE = 4096  # photos and paintings are read at (nearly) their own size; the trainer scales them


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path, help="the style's training config")
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    media = args.media.resolve()
    style = tomllib.loads(args.config.read_text())
    name = style["name"]
    recipe = read_recipe(SHARED_RECIPE, args.config, media)
    weights = ROOT / "weights"
    path = weights / f"{name}.safetensors"
    generator, _, metadata = load_networks(path)
    run_dir = args.runs / f"{name}-revision"
    trainer = RevisionTrainer(
        recipe,
        generator,
        [read_image(p, FULL_SIZE) for p in expand_media(Path(p) for p in recipe.content)],
        [read_image(media / p, FULL_SIZE) for p in style["style"]],
        style.get("style_max_side", 512),
        metadata["working_side"],
        run_dir,
    )
    started = time.perf_counter()

    def report(step: int, steps: int, values: dict[str, float]) -> None:
        if step % 10 == 0:
            shown = " ".join(f"{k} {v:.4g}" for k, v in values.items())
            rate = (time.perf_counter() - started) / (step - first)
            print(f"step {step}/{steps}: {shown} ({rate:.2f} s/step)", flush=True)

    try:
        trainer.resume()
        first = trainer.step
        trainer.run(report)
    except StylecutError as exc:
        raise SystemExit(str(exc)) from exc
    (ROOT / "training" / "logs").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / LOG, ROOT / "training" / "logs" / f"{name}-revision.jsonl")
    revision_recipe = trainer.recipe_metadata(
        [str(p.resolve().relative_to(ROOT)) for p in (SHARED_RECIPE, args.config)]
    )
    sha256 = save_style(
        path, generator, {**metadata, "revision_training": revision_recipe}, trainer.final_revision()
    )
    manifest = json.loads((weights / "manifest.json").read_text())
    entry = next(s for s in manifest["styles"] if s["name"] == name)
    update_manifest(
        weights / "manifest.json", {**entry, "sha256": sha256, "revision_training": revision_recipe}
    )
    print(json.dumps(revision_recipe, indent=2))


if __name__ == "__main__":
    main()
