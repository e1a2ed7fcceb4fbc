"""The recurrent temporal stage against the per-frame stylisation and the fixed fuser, scored like the report.

For each clip (its first ``--frames`` frames, cut like the report's: x264
CRF 12) and style: the per-frame stylisation, the fixed fuser at the
pipeline's setting (scale 2) and at full resolution (scale 1; ``--no-fusers``
leaves both out), and the recurrent stage (``--weights``; ``--untrained``
adds its initialisation), all driven by the pipeline's flow estimator; ``--unregistered`` adds each
recurrent stage without its anchor registration and enlargement limit
(temporal/registration.py). ``--synthetic`` adds camera moves rendered
from a photo (benchmarks/camera_motion.py: pans of 12 and 25 px a frame, a
push-in) to the clips; ``--height`` scales them all (360: the light path's
360p target). Scores, as benchmarks/run_all.py's:
short- and long-term E_warp with flow and masks from the input frames
(``temporal.clip_consistency``; for the camera moves also long-term along
their exact motion, ``long_known``), the sharpness ratio to the per-frame output
over the whole clip and its last 10 frames, the drift of the mean colour from the
per-frame output's over the last 10 frames (``temporal.colour_drift``, CIE76), and the style distance change
in Lite0 and Lite2 (every ``--fidelity-every``-th frame). Then the cost of
one step of each stage on a 720p frame. ``--plot`` draws E_warp against
sharpness, one point per clip, style and variant. Run on one thread:

    python benchmarks/temporal_recurrent.py --weights weights/temporal-recurrent.safetensors \\
        --clips bear,cockatoo --styles starry-night,great-wave,udnie --untrained \\
        --out results.json --plot docs/temporal-tradeoff.png
    python benchmarks/temporal_recurrent.py --weights weights/temporal-recurrent.safetensors --unregistered \\
        --clips bear,flower,car-detection,cockatoo,backpack --synthetic pan12,pan25,push-in
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import torch
from camera_motion import MOVES, motion, render
from fidelity import Fidelity, loss_networks
from plots import plot_tradeoff
from temporal import clip_consistency, colour_drift, evaluation_flow

from stylecut.flow import create_flow_estimator
from stylecut.flow.warp import random_smooth_flow, warp
from stylecut.frames import to_pixels, to_tensor
from stylecut.styles.registry import load_style, resolve_style
from stylecut.temporal.fuser import TemporalFuser
from stylecut.temporal.recurrent import RecurrentTemporal
from stylecut.temporal.recurrent_file import load_recurrent

from media import SHARED_MEDIA, find_clip, prepare_clip, read_frames

# Issue 10's targets: short- and long-term E_warp at most these times the per-frame output's, sharpness
# at least this times its.
TARGETS = (0.25, 0.5, 0.92)


@torch.inference_mode()
def run_stage(
    stage, frames: torch.Tensor, stylised: torch.Tensor, to_prev: torch.Tensor, from_prev: torch.Tensor
) -> np.ndarray:
    """The stage's output for a whole clip, frame by frame as the pipeline drives it."""
    stage.reset()
    outputs = [stage.step(frames[:1], stylised[:1], None, None, None)]
    for t in range(1, len(frames)):
        outputs.append(
            stage.step(
                frames[t : t + 1],
                stylised[t : t + 1],
                to_prev[t - 1 : t],
                from_prev[t - 1 : t],
                frames[t - 1 : t],
            )
        )
    return to_pixels(torch.cat(outputs))


@torch.inference_mode()
def step_cost(
    stage: RecurrentTemporal | TemporalFuser, size: tuple[int, int] = (720, 1280), repeats: int = 8
) -> dict[str, float]:
    """Median CPU and wall milliseconds of one step with history on a frame of ``size``."""
    h, w = size
    g = torch.Generator().manual_seed(0)
    flow = random_smooth_flow(1, h, w, 6.0, generator=g)
    previous = torch.rand(1, 3, h, w, generator=g)
    frame = warp(previous, flow)
    stage.reset()
    stage.step(previous, previous, None, None, None)
    cpu, wall = [], []
    for _ in range(repeats):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        stage.step(frame, frame, flow, -flow, previous)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started_wall) * 1000)
    return {"cpu_ms": round(statistics.median(cpu), 1), "wall_ms": round(statistics.median(wall), 1)}


def move_flow(move: str, size: tuple[int, int], earlier: int, later: int) -> torch.Tensor:
    """A synthetic camera move's exact flow from frame ``later`` to ``earlier``, ``(1, 2, H, W)``."""
    return torch.from_numpy(motion(move, earlier, later, size))[None]


def score_clip(
    variants: dict[str, np.ndarray],
    fidelity: Fidelity,
    every: int,
    known: Callable[[int, int], torch.Tensor] | None = None,
) -> dict:
    """Each variant's scores; with a synthetic move's exact flow (``known``), its long-term E_warp along it too."""
    consistency = clip_consistency(variants, evaluation_flow(), known=known)
    base = {span: statistics.mean(consistency[span]["no-temporal"]) for span in ("short", "long")}
    inputs = {span: statistics.mean(consistency[span]["input"]) for span in ("short", "long")}
    sampled = {name: to_tensor(frames[::every]) for name, frames in variants.items()}
    style = fidelity.score(sampled, original="input")["style"]
    rows = {}
    for name in variants:
        if name == "input":
            continue
        sharp = consistency["sharpness_ratio"].get(name, [1.0] * len(variants[name]))
        rows[name] = {
            "short/no-temporal": statistics.mean(consistency["short"][name]) / base["short"],
            "long/no-temporal": statistics.mean(consistency["long"][name]) / base["long"],
            **(
                {
                    "long_known/no-temporal": statistics.mean(consistency["long_known"][name])
                    / statistics.mean(consistency["long_known"]["no-temporal"])
                }
                if known is not None
                else {}
            ),
            "short/input": statistics.mean(consistency["short"][name]) / inputs["short"],
            "sharpness": statistics.mean(sharp),
            "sharpness_last10": statistics.mean(sharp[-10:]),
            "colour_drift": colour_drift(variants[name], variants["no-temporal"]),
            **{f"style {net}": style[name][net] / style["no-temporal"][net] - 1 for net in style[name]},
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights", type=Path, action="append", default=[], help="recurrent stage weights (repeatable)"
    )
    parser.add_argument("--untrained", action="store_true", help="also score the stage's initialisation")
    parser.add_argument("--no-fusers", action="store_true", help="leave out the fixed fuser's two variants")
    parser.add_argument(
        "--unregistered", action="store_true", help="also score each --weights without anchor registration"
    )
    parser.add_argument("--synthetic", default="", help="camera moves over a photo: pan12,pan25,push-in")
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA)
    parser.add_argument("--clips", default="bear")
    parser.add_argument("--styles", default="starry-night,great-wave")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument(
        "--height", type=int, default=None, help="scale every clip to this height (default: as it is)"
    )
    parser.add_argument("--fidelity-every", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--plot", type=Path, default=None, help="draw E_warp against sharpness here (PNG)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)

    stages = (
        {} if args.no_fusers else {"fuser scale=2": TemporalFuser(), "fuser scale=1": TemporalFuser(scale=1)}
    )
    if args.untrained:
        torch.manual_seed(0)
        stages["recurrent (untrained)"] = RecurrentTemporal().eval()
    for path in args.weights:
        stages[f"recurrent {path.stem}"] = load_recurrent(path)[0]
        if args.unregistered:
            stage = load_recurrent(path)[0]
            stage.config = stage.registration.config = dataclasses.replace(
                stage.config, registration_blend=0.0, max_magnification=16.0
            )
            stages[f"recurrent {path.stem} unregistered"] = stage
    flow, _ = create_flow_estimator("auto", "cpu")
    networks = loss_networks()
    results: dict = {"clips": {}, "speed_720p": {}}
    with tempfile.TemporaryDirectory() as scratch:
        sources = {
            key: lambda key=key: read_frames(
                prepare_clip(
                    find_clip(args.media, key), Path(scratch) / f"{key}.mp4", args.frames, args.height
                )
            )
            for key in filter(None, args.clips.split(","))
        }
        size = (480, 854) if args.height is None else (args.height, 2 * round(args.height * 854 / 960))
        for move in filter(None, args.synthetic.split(",")):
            sources[move] = lambda move=move, size=size: render(args.media, move, args.frames, size)
        for key, source in sources.items():
            inputs = source()
            frames = to_tensor(inputs)
            to_prev = torch.cat([flow(frames[t : t + 1], frames[t - 1 : t]) for t in range(1, len(frames))])
            from_prev = torch.cat([flow(frames[t - 1 : t], frames[t : t + 1]) for t in range(1, len(frames))])
            for style_name in args.styles.split(","):
                generator, meta = load_style(resolve_style(style_name))
                with torch.inference_mode():
                    stylised = torch.cat([generator(frames[i : i + 4]) for i in range(0, len(frames), 4)])
                variants = {"input": inputs, "no-temporal": to_pixels(stylised.clone())}
                for name, stage in stages.items():
                    variants[name] = run_stage(stage, frames, stylised, to_prev, from_prev)
                fidelity = Fidelity(networks, args.media / "styles" / meta["style_image"])
                known = partial(move_flow, key, tuple(frames.shape[-2:])) if key in MOVES else None
                rows = score_clip(variants, fidelity, args.fidelity_every, known)
                results["clips"][f"{key} {style_name}"] = rows
                print(f"\n{key} / {style_name} ({frames.shape[-1]}x{frames.shape[-2]}, {len(frames)} frames)")
                for name, row in rows.items():
                    print(
                        f"  {name:32s} "
                        + "  ".join(
                            f"{k} {v:+.3f}" if k.startswith("style") else f"{k} {v:.3f}"
                            for k, v in row.items()
                        )
                    )
    for name, stage in stages.items():
        results["speed_720p"][name] = step_cost(stage)
        print(f"{name}: one 720p step {results['speed_720p'][name]}")
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    if args.plot is not None:
        plot_tradeoff(results["clips"], args.plot, TARGETS)


if __name__ == "__main__":
    main()
