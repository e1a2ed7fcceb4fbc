"""Train one bundled style from its config, resumably, and export it into weights/.

    python training/train_style.py training/configs/starry-night.toml --media ../shared/media

Paths in a config are relative to --media. The run lives in runs/NAME/
(checkpoint.pt, log.jsonl): run the same command again to resume after an
interruption or a session's end. When the run has reached its steps, the
EMA generator is exported to weights/NAME.safetensors with its metadata,
a preview contact sheet weights/NAME.png, measured metrics, and its entry in
weights/manifest.json; the loss log is copied to training/logs/NAME.jsonl.

With --adversarial, the style's second stage: the generator of weights/NAME.safetensors (the first
stage's) is trained on with the config's [adversarial] table on top of the config, in runs/NAME-adversarial/,
and exported the same way, its log to training/logs/NAME-adversarial.jsonl; the first stage's recipe and
training go into the style's metadata under ``pre_training``. The style's revision network is trained on
the exported generator afterwards (train_revision.py), as after the first stage.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tomllib
from pathlib import Path

import torch

from stylecut.errors import StylecutError
from stylecut.styles.style_file import load_generator
from stylecut.training.config import TrainConfig
from stylecut.training.export import export_style
from stylecut.training.trainer import CHECKPOINT, LOG, Trainer

ROOT = Path(__file__).resolve().parent.parent


def load_config(path: Path, media: Path, adversarial: bool = False) -> TrainConfig:
    data = tomllib.loads(path.read_text())
    if adversarial:
        data = {**data, **data["adversarial"]}
    data["style"] = [str(media / p) for p in data["style"]]
    data["content"] = [str(media / p) for p in data["content"]]
    return TrainConfig.from_dict(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--base", type=Path, help="a style file to fine-tune from (default: a fresh generator)"
    )
    start.add_argument(
        "--adversarial",
        action="store_true",
        help="the second stage: weights/NAME.safetensors trained on with the config's [adversarial] table",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    config = load_config(args.config, args.media.resolve(), args.adversarial)
    stage = f"{config.name}-adversarial" if args.adversarial else config.name
    run_dir = args.runs / stage
    base_file = ROOT / "weights" / f"{config.name}.safetensors" if args.adversarial else args.base
    base, base_metadata = load_generator(base_file) if base_file else (None, {})
    if args.adversarial and "pre_training" in base_metadata and not (run_dir / CHECKPOINT).exists():
        raise SystemExit(f"{base_file} is already a second stage's: train the first stage again first.")
    trainer = Trainer(config, run_dir, base=base)
    if (run_dir / CHECKPOINT).exists():
        try:
            trainer.resume()
        except StylecutError as exc:
            raise SystemExit(f"{exc} Remove {run_dir} to start over.") from exc
        print(f"resuming {config.name} at step {trainer.step}", flush=True)

    def report(step: int, total: int, values: dict[str, float]) -> None:
        if step % 25 == 0 or step == total:
            print(
                f"{config.name} {step}/{total} {trainer.elapsed:.0f}s "
                + " ".join(f"{k}={v:.4g}" for k, v in values.items()),
                flush=True,
            )

    trainer.run(report)
    (ROOT / "training" / "logs").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / LOG, ROOT / "training" / "logs" / f"{stage}.jsonl")
    # A resumed second stage's base may be its own earlier export: its first stage is recorded there.
    pre_training = base_metadata.get("pre_training") or {
        k: base_metadata.get(k) for k in ("recipe", "training")
    }
    first_stage = {"pre_training": pre_training} if args.adversarial else {}
    entry = export_style(
        trainer,
        ROOT / "weights",
        recipe=str(args.config.resolve().relative_to(ROOT)),
        media=args.media.resolve(),
        **first_stage,
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
