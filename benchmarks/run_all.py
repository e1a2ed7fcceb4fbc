"""Regenerate benchmarks/report/ (REPORT.md, PNG figures, results.json) with one command.

Steps: cut the first frames of a few clips from the shared media into a
scratch folder; stylise them with the real `stylecut apply` twice (with the
temporal module and with ``--no-temporal``); score input and both outputs
for temporal consistency (``temporal``) and style/content fidelity
(``fidelity``); calibrate the style measure on the VGG-trained Udnie
reference; time the command at 360p/720p/1080p beside the Johnson et al.
baseline (``speed``); then write the figures (``plots``) and the report
(``report``). Nothing from the media folder is copied into the repository.
Run: ``.venv/bin/python benchmarks/run_all.py --media ../shared/media --style starry-night``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import torch
from apply_run import ApplyRun, import_footprint, run_apply
from fidelity import Fidelity, calibrate, loss_networks
from fuser_replay import label, parse_settings, pipeline_settings, replay
from plots import frame_strip, plot_consistency
from report import summarise, write_report
from speed import SIZES, speed_runs
from temporal import EVALUATION_FLOW, clip_consistency, evaluation_flow

from stylecut.errors import StyleError
from stylecut.frames import to_tensor
from stylecut.styles.registry import load_style, resolve_style

from media import SHARED_MEDIA, find_clip, prepare_clip, read_frames

REPORT_DIR = Path(__file__).resolve().parent / "report"
VARIANTS = {"temporal": [], "no-temporal": ["--no-temporal"]}
# Besides the pipeline's own settings (replayed to check the replay against the real temporal output):
# low-band fusion (the first shipped default), and carrying or blending the history at half resolution.
OTHER_REPLAYS = ["strength=0.6,scale=4", "strength=1.0,scale=2", "strength=0.9,scale=2"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA, help="the shared media folder")
    parser.add_argument("--style", default="starry-night", help="style name or style file to benchmark")
    parser.add_argument(
        "--calibration-style", default="udnie", help="the style compared with the VGG Udnie reference"
    )
    parser.add_argument(
        "--clips",
        default="bear,flower,car-detection,cockatoo,backpack",
        help="comma-separated parts of clip file names",
    )
    parser.add_argument(
        "--frames", type=int, default=40, help="first frames of each clip to stylise and score"
    )
    parser.add_argument("--long-gap", type=int, default=10, help="frames apart for long-term E_warp")
    parser.add_argument("--long-stride", type=int, default=2, help="score every n-th long-term pair")
    parser.add_argument(
        "--fidelity-every", type=int, default=20, help="score style/content on every n-th frame"
    )
    parser.add_argument(
        "--fuser",
        action="append",
        default=None,
        help='TemporalFuser settings to replay on the frame-by-frame output, e.g. "strength=0.8,scale=2" (repeatable; '
        "default: the pipeline's own and three others)",
    )
    parser.add_argument("--strip-clip", default="bear", help="the clip shown in the frame strip")
    parser.add_argument("--speed-clip", default="cockatoo", help="the clip scaled to each speed size")
    parser.add_argument(
        "--sizes", default=",".join(SIZES), help="speed sizes, comma-separated (empty: no speed runs)"
    )
    parser.add_argument("--speed-frames", type=int, default=32, help="frames per speed clip")
    parser.add_argument(
        "--johnson-frames", type=int, default=4, help="frames the Johnson baseline is timed on"
    )
    parser.add_argument("--out", type=Path, default=REPORT_DIR, help="where the report goes")
    parser.add_argument(
        "--scratch", type=Path, default=None, help="keep intermediate clips here (default: a temp folder)"
    )
    parser.add_argument(
        "--rerender",
        action="store_true",
        help="only rewrite REPORT.md and consistency.png from --out/results.json",
    )
    args = parser.parse_args()
    args.fuser = list(dict.fromkeys(args.fuser or [pipeline_settings(), *OTHER_REPLAYS]))
    return args


def stylise_clips(
    folder: Path, style: str, out_root: Path
) -> tuple[dict[str, ApplyRun], dict[str, dict[Path, Path]]]:
    """Both variants of `stylecut apply` over a folder of clips: the runs and input -> output per variant."""
    runs, outputs = {}, {}
    for variant, flags in VARIANTS.items():
        runs[variant] = run_apply(
            [str(folder), "--style", style, "-o", str(out_root / variant), "--overwrite", *flags]
        )
        outputs[variant] = {Path(job["input"]).resolve(): Path(job["output"]) for job in runs[variant].clips}
        print(
            f"  stylised {runs[variant].frames} frames {variant}: {runs[variant].fps:.2f} frames/s whole command",
            flush=True,
        )
    return runs, outputs


def score_clip(name: str, frames: dict, fidelity: Fidelity, args: argparse.Namespace) -> tuple[dict, dict]:
    """Temporal consistency and fidelity of one clip's variants, fuser replays included."""
    frames = frames | replay(frames["input"], frames["no-temporal"], [parse_settings(s) for s in args.fuser])
    consistency = clip_consistency(frames, evaluation_flow(), args.long_gap, args.long_stride)
    # Frame 0 has no history, so its temporal output is the frame-by-frame one: start a stride in.
    picks = list(range(args.fidelity_every - 1, len(frames["input"]), args.fidelity_every))
    scores = {
        "frames": picks,
        **fidelity.score({variant: to_tensor(f[picks]) for variant, f in frames.items()}, original="input"),
    }
    if name == args.strip_clip:
        last = len(frames["input"]) - 1
        indices = [round(last * k / 3) for k in range(4)]
        frame_strip(
            {v: frames[v] for v in ("input", "no-temporal", "temporal")}, indices, args.out / "strip.png"
        )
    return consistency, scores


def calibration(networks: dict, media: Path, style: str) -> dict:
    try:
        entry = resolve_style(style)
    except StyleError as exc:
        return {"missing": str(exc)}
    generator, _ = load_style(entry)
    return {"style": entry.name, "origin": entry.origin, **calibrate(networks, media, generator)}


def git_commit() -> str:
    here = Path(__file__).resolve().parent
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=here, capture_output=True, text=True
    )
    return described.stdout.strip() or "unknown"


def render(results: dict, out: Path) -> None:
    """Summarise, then write results.json, the E_warp figure and REPORT.md."""
    results["summary"] = summarise(results)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    plot_consistency(results["temporal"], out / "consistency.png")
    write_report(results, out / "REPORT.md")


def main() -> None:
    args = parse_args()
    if args.rerender:
        render(json.loads((args.out / "results.json").read_text()), args.out)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    entry = resolve_style(args.style)
    painting = args.media / "styles" / entry.style_image
    sections: dict[str, float] = {}
    results: dict = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "style": {
                "name": entry.name,
                "origin": entry.origin,
                "painting": entry.style_image,
                "description": entry.description,
            },
            "commit": git_commit(),
            "machine": {
                "cpus": os.cpu_count(),
                "torch": torch.__version__,
                "torch_threads": torch.get_num_threads(),
                "python": platform.python_version(),
            },
            "load_at_start": os.getloadavg(),
            "options": {k: str(v) for k, v in vars(args).items()},
            "evaluation_flow": EVALUATION_FLOW,
            "pipeline_fuser": label(parse_settings(pipeline_settings())),
            "seconds": sections,
        }
    }
    with tempfile.TemporaryDirectory(prefix="stylecut-bench-") as temp:
        scratch = args.scratch or Path(temp)
        (scratch / "clips").mkdir(parents=True, exist_ok=True)
        tick = time.perf_counter()
        prepared = {
            key: prepare_clip(find_clip(args.media, key), scratch / "clips" / f"{key}.mp4", args.frames)
            for key in args.clips.split(",")
        }
        runs, outputs = stylise_clips(scratch / "clips", args.style, scratch / "out")
        results["stylise_runs"] = {variant: run.to_json() for variant, run in runs.items()}
        sections["stylise"] = time.perf_counter() - tick

        tick = time.perf_counter()
        networks = loss_networks()
        fidelity = Fidelity(networks, painting)
        results["temporal"], results["fidelity"] = {}, {}
        for key, clip in prepared.items():
            frames = {"input": read_frames(clip)} | {
                v: read_frames(outputs[v][clip.resolve()]) for v in VARIANTS
            }
            results["temporal"][key], results["fidelity"][key] = score_clip(key, frames, fidelity, args)
            print(f"  scored {key}", flush=True)
        results["calibration"] = calibration(networks, args.media, args.calibration_style)
        sections["score"] = time.perf_counter() - tick

        tick = time.perf_counter()
        results["imports"] = import_footprint()
        results["speed"] = speed_runs(
            find_clip(args.media, args.speed_clip),
            args.style,
            scratch,
            args.speed_frames,
            args.johnson_frames,
            [s for s in args.sizes.split(",") if s],
        )
        sections["speed"] = time.perf_counter() - tick

    sections["total"] = time.perf_counter() - started
    results["meta"]["load_at_end"] = os.getloadavg()
    render(results, args.out)
    print(f"wrote {args.out} in {sections['total'] / 60:.1f} min")


if __name__ == "__main__":
    main()
