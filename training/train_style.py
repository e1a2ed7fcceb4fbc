"""Train one bundled style from its config, resumably, and export it into weights/.

    python training/train_style.py training/configs/starry-night.toml --media ../shared/media

Paths in a config are relative to --media. The run lives in runs/NAME/
(checkpoint.pt, log.jsonl): run the same command again to resume after an
interruption or a session's end. When the run has reached its steps, the
EMA generator is exported to weights/NAME.safetensors with its metadata,
a preview contact sheet weights/NAME.png, measured metrics, and its entry in
weights/manifest.json; the loss log is copied to training/logs/NAME.jsonl.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tomllib
from pathlib import Path

import torch

from stylecut.errors import StylecutError
from stylecut.training.config import TrainConfig
from stylecut.training.export import export_style
from stylecut.training.trainer import CHECKPOINT, LOG, Trainer

ROOT = Path(__file__).resolve().parent.parent


def load_config(path: Path, media: Path) -> TrainConfig:
    data = tomllib.loads(path.read_text())
    data["style"] = [str(media / p) for p in data["style"]]
    data["content"] = [str(media / p) for p in data["content"]]
    return TrainConfig.from_dict(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: PyTorch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    config = load_config(args.config, args.media.resolve())
    run_dir = args.runs / config.name
    trainer = Trainer(config, run_dir)
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
    shutil.copyfile(run_dir / LOG, ROOT / "training" / "logs" / f"{config.name}.jsonl")
    entry = export_style(
        trainer,
        ROOT / "weights",
        recipe=str(args.config.resolve().relative_to(ROOT)),
        media=args.media.resolve(),
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
