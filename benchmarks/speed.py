"""Speed and memory of `stylecut apply` at 360p, 720p and 1080p, beside the Johnson et al. baseline.

One real clip is scaled (Lanczos) to each height and cut to its first
frames; every run is the real command in a child process (see
``apply_run``): with the temporal module and with ``--no-temporal``, each
with the default runtime (OpenVINO on a CPU) and with ``--runtime torch``,
and the frame-by-frame Johnson et al. network (PyTorch) through the same
command. The baseline runs on the first ``johnson_frames`` of the same clip,
because it is an order of magnitude slower. With ``--light-python PATH`` (the
python of a light install, without PyTorch) the same two commands also run on
that install, as the "light" variants. Alone: decoding the same frames,
and the same frames through each generator, in this process (best of two
passes, wall and CPU).
Runs are sequential and the machine may be shared, so the load average
before each run is recorded next to its figures.
Run alone: ``python benchmarks/speed.py --media ../shared/media --frames 24``
prints the table (and ``--out FILE`` writes it as JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from apply_run import CPU_STAGES, STAGES, ApplyRun, run_apply
from johnson import JohnsonNet

from stylecut.frames import to_tensor
from stylecut.pipeline.stylise import ApplyOptions
from stylecut.runtime.runner import Runner, TorchRunner, create_runner
from stylecut.styles.registry import load_style, resolve_style
from stylecut.video.decode import iter_frames
from stylecut.video.probe import VideoInfo, probe
from stylecut.weights_file import sha256_of

from media import SHARED_MEDIA, find_clip, prepare_clip, read_frames

SIZES = {"360p": 360, "720p": 720, "1080p": 1080}
CHUNK = ApplyOptions().chunk  # frames per call, as the pipeline hands them over
TORCH = ["--runtime", "torch"]
# variant: (apply's flags, whether it is the Johnson baseline, whether it runs on the light install)
VARIANTS = {
    "temporal light": ([], False, True),
    "temporal": ([], False, False),
    "temporal torch": (TORCH, False, False),
    "no-temporal light": (["--no-temporal"], False, True),
    "no-temporal": (["--no-temporal"], False, False),
    "no-temporal torch": (["--no-temporal", *TORCH], False, False),
    "johnson": (["--no-temporal", *TORCH], True, False),
}


def speed_runs(
    source: Path,
    style: str,
    scratch: Path,
    frames: int,
    johnson_frames: int,
    sizes: list[str],
    light_python: Path | None = None,
    threads: int | None = None,
) -> dict:
    """``{size: {variant: ApplyRun.to_json() + {"load": 1-min load average before the run}}}``; the light
    variants only with ``light_python``; every command with ``--threads threads`` when given."""
    table: dict[str, dict] = {}
    for size in sizes:
        clips = {
            frames: prepare_clip(source, scratch / f"speed-{size}.mp4", frames, SIZES[size]),
            johnson_frames: prepare_clip(
                source, scratch / f"speed-{size}-first{johnson_frames}.mp4", johnson_frames, SIZES[size]
            ),
        }
        table[size] = {}
        for variant, (flags, johnson, light) in VARIANTS.items():
            if light and light_python is None:
                continue
            clip = clips[johnson_frames if johnson else frames]
            load = os.getloadavg()[0]
            target = scratch / f"out-{size}-{variant.replace(' ', '-')}.mp4"
            python = str(light_python) if light else sys.executable
            args = [str(clip), "--style", style, "-o", str(target), "--overwrite", *flags]
            args += ["--threads", str(threads)] if threads else []
            run: ApplyRun = run_apply(args, johnson, python)
            table[size][variant] = {**run.to_json(), "load": load}
            print(
                f"  speed {size} {variant}: {run.fps:.2f} frames/s whole command, "
                f"{run.cpu / run.frames:.2f} CPU s/frame ({run.frames} frames, load {load:.1f})",
                flush=True,
            )
    return table


def stage_runs(
    source: Path, style: str, scratch: Path, frames: int, johnson_frames: int, sizes: list[str]
) -> dict:
    """``{size: {stage: {"ms_per_frame", "cpu_ms_per_frame", "load"}}}``: decoding, each generator alone."""
    entry = resolve_style(style)
    generator, _ = load_style(entry)
    cpu = torch.device("cpu")
    runners = {
        "openvino": create_runner(
            generator, cpu, "openvino", cache_key=entry.sha256 or sha256_of(entry.path)
        )[0],
        "torch": TorchRunner(generator, cpu),
        "johnson": TorchRunner(JohnsonNet(), cpu),
    }
    table: dict[str, dict] = {}
    for size in sizes:
        clip = prepare_clip(source, scratch / f"alone-{size}.mp4", frames, SIZES[size])
        batch = to_tensor(read_frames(clip))
        work = {"decode": (partial(_decode, probe(clip)), frames)}
        for name, runner in runners.items():
            n = johnson_frames if name == "johnson" else frames
            work[name] = (partial(_stylise, runner, batch[:n]), n)
        table[size] = {}
        for name, (run, n) in work.items():
            load = os.getloadavg()[0]
            passes = 1 if name == "johnson" else 2  # the second pass is warm
            wall, used = min(_clocked(run) for _ in range(passes))
            table[size][name] = {
                "ms_per_frame": 1000 * wall / n,
                "cpu_ms_per_frame": 1000 * used / n,
                "load": load,
            }
            print(
                f"  alone {size} {name}: {1000 * wall / n:.0f} ms/frame, {1000 * used / n:.0f} CPU ms/frame "
                f"(load {load:.1f})",
                flush=True,
            )
    return table


def _decode(info: VideoInfo) -> None:
    for _ in iter_frames(info, CHUNK):
        pass


def _stylise(runner: Runner, frames: torch.Tensor) -> None:
    for start in range(0, len(frames), CHUNK):
        runner(frames[start : start + CHUNK])


def _clocked(run: Callable[[], None]) -> tuple[float, float]:
    tick, used = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - tick, time.process_time() - used


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def markdown(results: dict) -> str:
    """The speed table: whole command per variant, CPU seconds per stage, decoding and generators alone."""
    lines = [
        f"{results['cpu']}, {results['cores']} cores; load average {results['load_at_start']:.1f} at the "
        f"start, {results['load_at_end']:.1f} at the end (2.0 = both cores busy).",
        "",
        "| run | frames | frames/s | x Johnson | CPU s/frame | "
        + " | ".join(f"{s} ms/frame" for s in STAGES)
        + " | "
        + " | ".join(f"CPU {s} s/frame" for s in CPU_STAGES)
        + " | peak RSS MB | load |",
        "|" + "---|" * (7 + len(STAGES) + len(CPU_STAGES)),
    ]
    for size, variants in results["speed"].items():
        johnson = variants["johnson"]["fps"]
        for variant, run in variants.items():
            n = run["frames"]
            stages = " | ".join(f"{1000 * run['stages'][s] / n:.0f}" for s in STAGES)
            cpu = " | ".join(f"{run['cpu_stages'][s] / n:.2f}" for s in CPU_STAGES)
            lines.append(
                f"| {size} {variant} | {n} | {run['fps']:.2f} | {run['fps'] / johnson:.1f} | "
                f"{run['cpu'] / n:.2f} | {stages} | {cpu} | {run['max_rss_mb']:.0f} | {run['load']:.1f} |"
            )
    lines += ["", "| alone | ms/frame | CPU ms/frame | load |", "|---|---|---|---|"]
    for size, runners in results.get("alone", {}).items():
        for name, r in runners.items():
            lines.append(
                f"| {size} {name} | {r['ms_per_frame']:.0f} | {r['cpu_ms_per_frame']:.0f} | {r['load']:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA)
    parser.add_argument("--style", default="starry-night")
    parser.add_argument("--clip", default="cockatoo", help="part of the clip's file name in media/clips")
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--johnson-frames", type=int, default=4)
    parser.add_argument(
        "--no-alone", action="store_true", help="skip timing decoding and the generators alone"
    )
    parser.add_argument(
        "--light-python",
        type=Path,
        default=None,
        help="the python of a light install (no PyTorch): its `apply` runs too, as the light variants",
    )
    parser.add_argument("--threads", type=int, default=None, help="apply's --threads for every command")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args()
    sizes = [s for s in args.sizes.split(",") if s]
    source = find_clip(args.media, args.clip)
    results: dict = {"cpu": cpu_name(), "cores": os.cpu_count(), "load_at_start": os.getloadavg()[0]}
    results |= {"alone": {}, "speed": {}}
    with tempfile.TemporaryDirectory(prefix="stylecut-speed-") as scratch:
        for size in sizes:  # size by size, saving as it goes: a long run on a shared machine may be cut short
            if not args.no_alone:
                results["alone"] |= stage_runs(
                    source, args.style, Path(scratch), args.frames, args.johnson_frames, [size]
                )
            results["speed"] |= speed_runs(
                source,
                args.style,
                Path(scratch),
                args.frames,
                args.johnson_frames,
                [size],
                args.light_python,
                args.threads,
            )
            results["load_at_end"] = os.getloadavg()[0]
            if args.out:
                args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
