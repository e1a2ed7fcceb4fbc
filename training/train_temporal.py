"""Train the recurrent temporal stage from a config, resumably, and export its weights.

    python training/train_temporal.py training/configs/temporal-recurrent.toml --threads 1

Paths in a config are relative to --media (a folder entry means every clip
or photo in it). The run lives in ``RUNS/NAME`` (default: the user's runs folder,
$STYLECUT_HOME/runs, as finetune's; never the repository): ``cache/`` holds the
stylised windows and their flows (built first, resumable), then
``checkpoint.pt`` (every ``checkpoint_every`` steps and on Ctrl-C) and
``log.jsonl`` (losses every step, validation every ``eval_every``). Run the
same command again to resume, in this session or a later one; a changed
config refuses to resume (only ``steps`` may change). When the run has
reached its steps the stage is exported to ``EXPORT/NAME.safetensors`` with
its config, recipe and last validation, entered under ``temporal`` in
``EXPORT/manifest.json`` with its sha256, and the log is copied to
training/logs/NAME.jsonl when EXPORT is the repository's weights folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import tomllib
from dataclasses import replace
from pathlib import Path

import cv2
import torch

from stylecut.styles.registry import bundled_styles
from stylecut.temporal.recurrent_file import MANIFEST, MANIFEST_KEY, save_recurrent
from stylecut.training.data import expand_media
from stylecut.training.temporal_trainer import (
    LOG,
    TemporalTrainConfig,
    TemporalTrainer,
    build_cache,
    checkpoint_config,
)
from stylecut.user_folders import runs_folder

ROOT = Path(__file__).resolve().parent.parent


def load_config(path: Path, media: Path) -> TemporalTrainConfig:
    data = tomllib.loads(path.read_text())
    for key in ("clips", "photos", "validation_photos"):
        data[key] = [str(p) for p in expand_media(media / entry for entry in data.get(key, []))]
    data.setdefault("styles", [entry.name for entry in bundled_styles()])
    if data.get("init"):  # a weights file, relative to the repository
        data["init"] = str(ROOT / data["init"])
    return TemporalTrainConfig.from_dict(data)


def export(trainer: TemporalTrainer, folder: Path, recipe: str) -> dict:
    """Write the best validated network and enter it in the folder's manifest; returns the manifest entry."""
    cfg = trainer.config
    log = [json.loads(line) for line in (trainer.run_dir / LOG).read_text().splitlines()]
    step = trainer.load_best()
    validation = next((r["validation"] for r in log if r["step"] == step and r.get("validation")), {})
    training = {"steps": trainer.step, "chosen_step": step, "seconds": round(trainer.elapsed, 1)}
    training["styles"] = cfg.styles
    path = folder / f"{cfg.name}.safetensors"
    sha256 = save_recurrent(
        path, trainer.stage, {"recipe": recipe, "training": training, "validation": validation}
    )
    entry = {
        "file": path.name,
        "sha256": sha256,
        "recipe": recipe,
        "steps": trainer.step,
        "chosen_step": step,
        "validation": validation,
    }
    manifest_path = folder / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest[MANIFEST_KEY] = entry
    tmp = manifest_path.with_name(f".{MANIFEST}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, manifest_path)
    return entry


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    # A job stopped by a signal (kill, a scheduler's SIGTERM, SIGINT to a background job, which the shell
    # ignores by default) checkpoints like Ctrl-C does.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--runs", type=Path, default=runs_folder())
    parser.add_argument(
        "--export", type=Path, default=ROOT / "weights", help="folder for the weights and manifest"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch and OpenCV threads")
    parser.add_argument(
        "--steps", type=int, default=None, help="train to this many steps instead of the config's"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)

    config = load_config(args.config, args.media.resolve())
    if args.steps is not None:
        config = replace(config, steps=args.steps)
    run_dir = args.runs / config.name
    saved = checkpoint_config(run_dir)
    if saved is not None and replace(saved, steps=config.steps) != config:
        raise SystemExit(f"{run_dir} was started with a different config; remove it to start over.")

    def cached(done: int, total: int, name: str) -> None:
        if done % 10 == 0 or done == total:
            print(f"cache {done}/{total} {name}", flush=True)

    try:
        build_cache(config, run_dir / "cache", cached)
    except KeyboardInterrupt:
        raise SystemExit(
            "interrupted while caching windows (finished ones are kept); run the same command to resume."
        ) from None
    trainer = TemporalTrainer(config, run_dir, run_dir / "cache")
    if saved is not None:
        trainer.load_checkpoint()
        print(f"resuming {config.name} at step {trainer.step}", flush=True)

    def report(step: int, record: dict) -> None:
        if step % 10 == 0 or "validation" in record:
            shown = " ".join(
                f"{k}={v:.4g}" for k, v in record.items() if isinstance(v, float) and k != "seconds"
            )
            extra = f" validation {record['validation']}" if "validation" in record else ""
            print(f"{config.name} {step}/{config.steps} {trainer.elapsed:.0f}s {shown}{extra}", flush=True)

    try:
        trainer.run(report)
    except KeyboardInterrupt:
        raise SystemExit(
            f"interrupted at step {trainer.step} (checkpoint saved); run the same command to resume."
        ) from None
    recipe = (
        str(args.config.resolve().relative_to(ROOT))
        if args.config.resolve().is_relative_to(ROOT)
        else args.config.name
    )
    entry = export(trainer, args.export, recipe)
    if args.export.resolve() == (ROOT / "weights").resolve():
        (ROOT / "training" / "logs").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run_dir / LOG, ROOT / "training" / "logs" / f"{config.name}.jsonl")
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
