"""`stylecut apply --ray` on this machine: Ray's overhead against a plain local batch, a long clip in segments.

Run by hand from the repository root, with the shared media beside the checkout (about an hour on
the shared 2-core machine for every part; ``--parts overhead long costs --rounds 1`` is the reduced
run of docs/measurements.md):

    .venv/bin/python benchmarks/cluster.py --media ../shared/media --out /tmp/cluster-bench

Defaults: starry-night at --max-side 128 with x264 --preset ultrafast, so that each run takes
minutes; Ray's own costs do not depend on them.

1. Batch: every shared clip (symlinked into OUT, nothing is copied into the repository) through
   `stylecut apply` locally (one clip at a time, on 2 threads), with `--ray` (a local runtime, two
   1-CPU tasks at once) and with `--ray --workers 1 --threads 2` (the local run's layout). Wall time
   of each whole command, load average before. The overhead part runs the same layout on one thread,
   locally and on Ray, interleaved: what is left is Ray's own cost.
2. Long clip: five shared clips scaled to 640x360 and joined end to end at 25 fps with a sine
   soundtrack (57 s, 4 hard cuts, shots of 14 and 30 s), in OUT; stylised locally (`--threads 1`,
   the options of a Ray task) and with `--ray`
   at each --segment-seconds (default 10: 6 segments). For each: wall time, the contract (frames,
   exact rate, duration, audio packets), and per seam its kind (scene cut or frame boundary), E_warp
   of the seam pair in the Ray output and in the local one against the clip's mean E_warp (every
   5th pair, cuts left out), and the difference of the seam's frame to the local run's.
3. Seams: at the Ray runs' frame-boundary seams and at three points inside each shot longer than
   10 s, for each warm-up and blend length, E_warp of every pair the seam touches against the local
   run's for the same pairs (see :func:`seam_sweep`): what chose ``options.WARMUP_FRAMES`` and
   ``segments.BLEND_FRAMES``. The local run of the long clip is measured once per OUT (delete
   OUT/long-local.mp4 to measure it again). benchmarks/seams.py measures the seams at the style's
   working size on camera motion, pair by pair, with the temporal state on both sides.
4. The costs a speed-up estimate needs: Ray start-up, a cut search per boundary, the stitch.

E_warp is benchmarks/temporal.py's: DIS "medium" flow and the occlusion mask on the INPUT frames.
Everything goes to OUT/results.json; a markdown summary is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import closing
from fractions import Fraction
from pathlib import Path

import numpy as np
from temporal import evaluation_flow, warping_errors

from stylecut.pipeline.options import ApplyOptions
from stylecut.pipeline.ray.options import WARMUP_FRAMES
from stylecut.pipeline.ray.segments import (
    BLEND_FRAMES,
    cross_fade,
    plan_segments,
    search_ranges,
    split_points,
)
from stylecut.pipeline.stylise import create_styliser
from stylecut.pipeline.timing import STAGES, StageTimer
from stylecut.styles.registry import load_style, resolve_style
from stylecut.video.decode import iter_frames
from stylecut.video.encode_settings import EncodeSettings
from stylecut.video.ffmpeg_tools import ffmpeg_exe
from stylecut.video.probe import probe
from stylecut.video.scenes import scene_cuts

STYLECUT = Path(sys.executable).with_name("stylecut")
ONE_THREAD = ["--threads", "1"]  # what a Ray task runs with by default
LONG_SIZE = (640, 360)
LONG_ORDER = ("bear", "flower", "cockatoo", "car-detection", "sintel")
WARMUPS = (0, 8, 16)
BLENDS = (0, 4, 8, 16)
STRIDE = 5


def run_apply(args: list[str]) -> dict:
    """`stylecut apply ARGS --json -q` in a child process: its wall time, load average before, jobs."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.run([str(STYLECUT), "apply", *args, "--json", "-q"], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:  # a timing with a failed clip in it means nothing: say why and stop
        lines = proc.stderr.splitlines()
        failed = [line for line in lines if line.startswith(("failed:", "stylecut:"))] or lines[-20:]
        raise RuntimeError(f"stylecut apply {' '.join(args)} exited with {proc.returncode}: {failed}")
    jobs = json.loads(proc.stdout)["jobs"]
    return {"wall": wall, "load_before": load, "frames": sum(job["frames"] for job in jobs), "jobs": jobs}


def clip_folder(media: Path, out: Path) -> Path:
    """OUT/batch-in: a symlink to every shared clip."""
    folder = out / "batch-in"
    folder.mkdir(parents=True, exist_ok=True)
    for clip in sorted((media / "clips").iterdir()):
        if not (folder / clip.name).exists():
            (folder / clip.name).symlink_to(clip)
    return folder


def batch(media: Path, out: Path, style: list[str]) -> dict:
    folder = clip_folder(media, out)
    runs = {
        "local": run_apply([str(folder), "-o", str(out / "batch-local"), "--overwrite", *style]),
        "ray 2 tasks x 1 CPU": run_apply(
            [str(folder), "-o", str(out / "batch-ray"), "--overwrite", "--ray", *style]
        ),
        "ray 1 task x 2 CPUs": run_apply(
            [str(folder), "-o", str(out / "batch-ray1"), "--overwrite", "--ray", "--workers", "1"]
            + ["--threads", "2", *style]
        ),
    }
    return runs


def overhead(media: Path, out: Path, style: list[str], rounds: int) -> list[dict]:
    """Ray's own cost: one clip at a time on one thread, plainly and as 1-CPU Ray tasks, interleaved.

    The same compute layout on both sides, so that what differs is Ray: its start-up, the workers'
    imports, scheduling and progress. Interleaving, in turn first, spreads the shared machine's
    changing load over both.
    """
    folder = clip_folder(media, out)
    commands = {
        "local 1 thread": [str(folder), "-o", str(out / "overhead-local"), "--overwrite", *ONE_THREAD],
        "ray 1 task x 1 CPU": [str(folder), "-o", str(out / "overhead-ray"), "--overwrite", "--ray"]
        + ["--workers", "1"],
    }
    runs = []
    for i in range(rounds):
        order = list(commands) if i % 2 == 0 else list(reversed(commands))
        runs.append({"round": i, **{name: run_apply([*commands[name], *style]) for name in order}})
    return runs


def make_long_clip(media: Path, path: Path) -> Path:
    if path.exists():
        return path
    clips = [next(p for p in sorted((media / "clips").iterdir()) if key in p.name) for key in LONG_ORDER]
    width, height = LONG_SIZE
    inputs, filters = [], []
    for i, clip in enumerate(clips):
        inputs += ["-i", str(clip)]
        filters.append(
            f"[{i}:v]scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25[v{i}]"
        )
    graph = (
        ";".join(filters)
        + ";"
        + "".join(f"[v{i}]" for i in range(len(clips)))
        + f"concat=n={len(clips)}:v=1:a=0[v]"
    )
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            *inputs,
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:sample_rate=48000",
            "-filter_complex",
            graph,
            "-map",
            "[v]",
            "-map",
            f"{len(clips)}:a",
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "16",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(path),
        ],
        check=True,
    )
    return path


def audio_md5(path: Path) -> str:
    return subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "md5", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def contract(source: Path, output: Path) -> dict:
    a, b = probe(source), probe(output)
    return {
        "frames": [a.frame_count, b.frame_count],
        "fps": [str(a.fps), str(b.fps)],
        "duration": [a.duration, b.duration],
        "audio_identical": audio_md5(source) == audio_md5(output),
        "holds": a.frame_count == b.frame_count
        and a.fps == b.fps
        and abs(a.duration - b.duration) <= 1 / a.fps,
    }


def pair_errors(source: Path, outputs: dict[str, Path], wanted: set[int]) -> dict[str, dict[int, float]]:
    """E_warp of the pair (t - 1, t) for every t in ``wanted``, in each output, read chunk by chunk."""
    flow = evaluation_flow()
    readers = [iter_frames(probe(path), 32) for path in (source, *outputs.values())]
    errors: dict[str, dict[int, float]] = {name: {} for name in outputs}
    previous, t = None, 0
    for chunks in zip(*readers):
        for i in range(len(chunks[0])):
            frames = [chunk[i] for chunk in chunks]
            if previous is not None and t in wanted:
                pairs = {name: np.stack([previous[k + 1], frames[k + 1]]) for k, name in enumerate(outputs)}
                scored = warping_errors(pairs, np.stack([previous[0], frames[0]]), flow, gap=1)
                for name in outputs:
                    errors[name][t] = scored[name][0]
            previous, t = frames, t + 1
    return errors


def frames_at(path: Path, indices: list[int]) -> dict[int, np.ndarray]:
    info = probe(path)
    return {index: next(iter_frames(info, 1, index, index + 1))[0] for index in indices}


def long_clip(
    media: Path, out: Path, style: list[str], segment_seconds: list[float], previous: dict | None
) -> dict:
    source = make_long_clip(media, out / "long.mp4")
    info = probe(source)
    cuts = scene_cuts(info, 0, info.frame_count)
    local = out / "long-local.mp4"
    # The local run is the slow one and does not change with Ray's settings: measured once per OUT.
    if previous is not None and local.exists():
        runs = {"local": previous}
    else:
        runs = {"local": run_apply([str(source), "-o", str(local), "--overwrite", *ONE_THREAD, *style])}
    runs["local"]["contract"] = contract(source, local)
    outputs = {"local": local}
    for seconds in segment_seconds:
        name = f"ray {seconds:g} s segments"
        target = out / f"long-ray-{seconds:g}.mp4"
        runs[name] = run_apply(
            [
                str(source),
                "-o",
                str(target),
                "--overwrite",
                "--ray",
                "--segment-seconds",
                str(seconds),
                *style,
            ]
        )
        runs[name]["contract"] = contract(source, target)
        outputs[name] = target

    # Where the segments started: the first frame of each segment is the one after a seam.
    seams: dict[str, list[int]] = {}
    for seconds in segment_seconds:
        points = split_points(info, round(seconds * info.fps))
        found = [cut for start, stop in search_ranges(info, points) for cut in cuts if start < cut < stop]
        seams[f"ray {seconds:g} s segments"] = [
            s.start for s in plan_segments(info, points, found, WARMUP_FRAMES, BLEND_FRAMES)[1:]
        ]
    # A seam at s touches the pairs (s-1, s) to (s+K-1, s+K): the cross-fade's K frames and both ends.
    touched = {t for starts in seams.values() for s in starts for t in range(s, s + BLEND_FRAMES + 1)}
    sampled_pairs = set(range(STRIDE, info.frame_count, STRIDE)) - set(cuts)
    errors = pair_errors(source, outputs, sampled_pairs | touched)
    runs["local"]["mean_ewarp"] = float(np.mean([errors["local"][t] for t in sampled_pairs]))
    for name, starts in seams.items():
        mean = float(np.mean([errors[name][t] for t in sampled_pairs]))
        ray_frames = frames_at(outputs[name], starts)
        local_frames = frames_at(local, starts)
        runs[name]["mean_ewarp"] = mean
        runs[name]["seams"] = []
        for s in starts:
            pairs = range(s, s + BLEND_FRAMES + 1)
            ours, theirs = [errors[name][t] for t in pairs], [errors["local"][t] for t in pairs]
            runs[name]["seams"].append(
                {
                    "frame": s,
                    "kind": "cut" if s in cuts else "frame boundary",
                    "ewarp": ours,
                    "ewarp_local": theirs,
                    "worst_to_clip_mean": max(ours) / mean,
                    "worst_local_to_clip_mean": max(theirs) / mean,
                    "mean_abs_diff_to_local": float(
                        np.abs(ray_frames[s].astype(int) - local_frames[s]).mean()
                    ),
                }
            )
    return {"cuts": cuts, "frames": info.frame_count, "fps": str(info.fps), "runs": runs}


def seam_sweep(
    source: Path, local: Path, style_name: str, max_side: int | None, preset: str, out: Path, seams: list[int]
) -> dict:
    """Per (warm-up, blend) and seam s: E_warp of every pair the seam touches, (s-1, s) to (s+K-1, s+K).

    The later segment's frames s..s+K come from ``stylise_range`` with the warm-up, encoded as a part
    is; the earlier side is the local run, whose history is continuous as the earlier segment's is;
    the K frames from s are cross-faded from the one into the other as the stitch does. Beside each
    figure, the local run's E_warp for the same pairs.
    """
    info = probe(source)
    entry = resolve_style(style_name)
    generator, _ = load_style(entry)
    options = ApplyOptions(max_side=max_side, threads=1, encode=EncodeSettings(preset=preset))
    styliser, _ = create_styliser(generator, options, style_name, entry.sha256)
    flow = evaluation_flow()
    span = max(BLENDS) + 1
    results: dict[str, list[dict]] = {}
    for s in seams:
        inputs = read_range(source, s - 1, s + span)
        local_frames = read_range(local, s - 1, s + span)
        local_errors = pair_errors_of(local_frames, inputs, flow)
        for warmup in WARMUPS:
            part = out / f"sweep-{s}-{warmup}.mp4"
            part.unlink(missing_ok=True)
            timer = StageTimer(STAGES)
            with closing(styliser.stylise_range(info, s, s + span, min(warmup, s), timer)) as chunks:
                styliser.write_video(info, part, info.fps, chunks, timer)
            later = read_range(part, 0, span)
            part.unlink()
            for blend in BLENDS:
                joined = np.concatenate(
                    [local_frames[:1], cross_fade(local_frames[1 : blend + 1], later[:blend]), later[blend:]]
                )
                errors = pair_errors_of(joined, inputs, flow)
                results.setdefault(f"warm-up {warmup}, blend {blend}", []).append(
                    {"frame": s, "ewarp": errors[: blend + 1], "ewarp_local": local_errors[: blend + 1]}
                )
    return results


def read_range(path: Path, start: int, stop: int) -> np.ndarray:
    return np.concatenate(list(iter_frames(probe(path), 16, start, stop)))


def pair_errors_of(frames: np.ndarray, inputs: np.ndarray, flow) -> list[float]:
    """E_warp of each consecutive pair of ``frames``, with flow and mask from ``inputs``."""
    return [
        warping_errors({"o": frames[i - 1 : i + 1]}, inputs[i - 1 : i + 1], flow, gap=1)["o"][0]
        for i in range(1, len(frames))
    ]


def inside_long_shots(cuts: list[int], frames: int, fps: Fraction) -> list[int]:
    """Three evenly spaced frames inside each shot longer than 10 s."""
    bounds = [0, *cuts, frames]
    return [a + (b - a) * k // 4 for a, b in zip(bounds, bounds[1:]) if b - a > 10 * fps for k in (1, 2, 3)]


def costs(source: Path, out: Path) -> dict:
    """Ray start-up, one cut search (a 10 s window), and a stitch's I/O (two stream copies of the output)."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import ray; ray.init(address='local', num_cpus=2, include_dashboard=False, logging_level='ERROR'); ray.shutdown()",
        ],
        check=True,
        capture_output=True,
    )
    ray_start = time.perf_counter() - started
    info = probe(source)
    started = time.perf_counter()
    scene_cuts(info, 1000, 1250)
    search = time.perf_counter() - started
    copy = out / "copy.mp4"
    started = time.perf_counter()
    for _ in range(2):
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-i",
                str(out / "long-local.mp4"),
                "-map",
                "0",
                "-c",
                "copy",
                str(copy),
            ],
            check=True,
        )
    stitch = time.perf_counter() - started
    copy.unlink()
    return {
        "ray_start_seconds": ray_start,
        "cut_search_seconds_per_boundary": search,
        "stitch_seconds": stitch,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--media", type=Path, required=True)
    parser.add_argument("--style", default="starry-night")
    parser.add_argument("--max-side", type=int, default=128)
    parser.add_argument("--preset", default="ultrafast")
    parser.add_argument("--out", type=Path, required=True, help="a scratch folder outside the repository")
    parser.add_argument("--segment-seconds", type=float, nargs="+", default=[10.0])
    parser.add_argument("--parts", nargs="+", default=["batch", "overhead", "long", "sweep", "costs"])
    parser.add_argument("--rounds", type=int, default=2, help="of the interleaved overhead runs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # A fast encoder preset, so the runs stay minutes on the shared machine; Ray's costs do not depend on it.
    style = ["--style", args.style, "--max-side", str(args.max_side), "--preset", args.preset]
    results_path = args.out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results["machine"] = {"cpus": os.cpu_count(), "style": args.style, "max_side": args.max_side}

    if "batch" in args.parts:
        results["batch"] = batch(args.media, args.out, style)
        results_path.write_text(json.dumps(results, indent=2))
    if "overhead" in args.parts:
        results["overhead"] = overhead(args.media, args.out, style, args.rounds)
        results_path.write_text(json.dumps(results, indent=2))
    if "long" in args.parts:
        previous = results.get("long", {}).get("runs", {}).get("local")
        results["long"] = long_clip(args.media, args.out, style, args.segment_seconds, previous)
        results_path.write_text(json.dumps(results, indent=2))
    if "sweep" in args.parts:
        long = results["long"]
        frame_seams = sorted(
            {s["frame"] for run in long["runs"].values() for s in run.get("seams", []) if s["kind"] != "cut"}
            | set(inside_long_shots(long["cuts"], long["frames"], Fraction(long["fps"])))
        )
        results["sweep"] = seam_sweep(
            args.out / "long.mp4",
            args.out / "long-local.mp4",
            args.style,
            args.max_side,
            args.preset,
            args.out,
            frame_seams,
        )
        results_path.write_text(json.dumps(results, indent=2))
    if "costs" in args.parts:
        results["costs"] = costs(args.out / "long.mp4", args.out)
        results_path.write_text(json.dumps(results, indent=2))
    print(summary(results))


def summary(results: dict) -> str:
    lines = []
    if "batch" in results:
        runs = results["batch"]
        base = runs["local"]["wall"]
        lines += ["| batch run | frames | wall s | vs local | load before |", "|---|---|---|---|---|"]
        for name, run in runs.items():
            lines.append(
                f"| {name} | {run['frames']} | {run['wall']:.1f} | {run['wall'] / base:.2f}x | {run['load_before']:.1f} |"
            )
        lines.append("")
    if "overhead" in results:
        lines += [
            "| round | first | local, 1 thread: wall s | Ray, 1 task of 1 CPU: wall s | Ray / local "
            "| in the clips: local / Ray s | outside them: local / Ray s |",
            "|---|---|---|---|---|---|---|",
        ]
        for run in results["overhead"]:
            local, ray = run["local 1 thread"], run["ray 1 task x 1 CPU"]
            inside = [in_clips(r) for r in (local, ray)]
            lines.append(
                f"| {run['round']} | {next(iter(k for k in run if k != 'round')).split()[0]} "
                f"| {local['wall']:.1f} (load {local['load_before']:.1f}) "
                f"| {ray['wall']:.1f} (load {ray['load_before']:.1f}) | {ray['wall'] / local['wall'] - 1:+.1%} "
                f"| {inside[0]:.1f} / {inside[1]:.1f} "
                f"| {local['wall'] - inside[0]:.1f} / {ray['wall'] - inside[1]:.1f} |"
            )
        lines.append("")
    if "long" in results:
        long = results["long"]
        lines += [f"Long clip: {long['frames']} frames at {long['fps']} fps, cuts at {long['cuts']}.", ""]
        lines += [
            "| long run | wall s | contract | audio identical | mean E_warp | load before |",
            "|---|---|---|---|---|---|",
        ]
        for name, run in long["runs"].items():
            c = run["contract"]
            lines.append(
                f"| {name} | {run['wall']:.1f} | {'holds' if c['holds'] else c} | {c['audio_identical']} | {run.get('mean_ewarp', float('nan')):.4f} | {run['load_before']:.1f} |"
            )
        lines += [
            "",
            "| run | seam at frame | kind | worst E_warp over the seam's pairs (x clip mean) | "
            "local, same pairs (x clip mean) | mean abs diff to local at the seam |",
            "|---|---|---|---|---|---|",
        ]
        for name, run in long["runs"].items():
            for s in run.get("seams", []):
                lines.append(
                    f"| {name} | {s['frame']} | {s['kind']} | {max(s['ewarp']):.4f} ({s['worst_to_clip_mean']:.2f}) "
                    f"| {max(s['ewarp_local']):.4f} ({s['worst_local_to_clip_mean']:.2f}) | {s['mean_abs_diff_to_local']:.2f} |"
                )
        lines.append("")
    if "sweep" in results:
        lines += [
            "| warm-up, blend | seam pair E_warp / local's | worst pair / local's worst (same pairs) | "
            "mean over the pairs / local's |",
            "|---|---|---|---|",
        ]
        for config, rows in results["sweep"].items():
            first = np.mean([r["ewarp"][0] / r["ewarp_local"][0] for r in rows])
            worst = np.mean([max(r["ewarp"]) / max(r["ewarp_local"]) for r in rows])
            mean = np.mean([np.mean(r["ewarp"]) / np.mean(r["ewarp_local"]) for r in rows])
            lines.append(f"| {config} | {first:.2f} | {worst:.2f} | {mean:.2f} |")
        lines.append("")
    if "costs" in results:
        lines.append(f"Costs: {json.dumps({k: round(v, 2) for k, v in results['costs'].items()})}")
        lines.append("")
    if "costs" in results and "overhead" in results:
        lines += speedup_estimate(results)
    return "\n".join(lines)


def in_clips(run: dict) -> float:
    """Seconds inside the clips' own pipeline (probe, then stylising), summed over the run's clips."""
    return sum(job["seconds"] + job["stages"].get("probe", 0.0) for job in run["jobs"])


# The benchmark report generated on commit 48acab2 (git show ce63fa4:benchmarks/report/REPORT.md), 1080p
# with the temporal module on this machine: 4.83 CPU-seconds a frame for the whole pipeline, of which encoding (x264 medium) 0.57 s.
SECONDS_PER_FRAME_1080P = 4.83
ENCODE_SECONDS_PER_FRAME_1080P = 0.57


def speedup_estimate(results: dict) -> list[str]:
    """Wall time of a 20-minute 25 fps clip on P one-CPU workers, from the costs measured here.

    T(P) = start + search + rounds * segment + stitch, with rounds = ceil(n / P) for n segments of
    L frames, each segment (L + warm-up + blend frames) * s + c, the cut searches ceil((n - 1) / P)
    rounds, and the stitch two stream copies of the output plus its cross-fades encoded one after
    another. s: seconds a frame on one CPU; c: a task's fixed cost (measured by the overhead runs).
    Against the same clip on one CPU: n * L * s.
    """
    costs = results["costs"]
    # What Ray adds outside the clips' own pipeline, less its start, per task; averaged over the rounds
    # because the shared machine's load moves the clips' own seconds by more than that.
    extra = [
        (run["ray 1 task x 1 CPU"]["wall"] - in_clips(run["ray 1 task x 1 CPU"]))
        - (run["local 1 thread"]["wall"] - in_clips(run["local 1 thread"]))
        for run in results["overhead"]
    ]
    tasks = len(results["overhead"][0]["ray 1 task x 1 CPU"]["jobs"])
    per_task = max(0.0, (float(np.mean(extra)) - costs["ray_start_seconds"]) / tasks)
    frames = 20 * 60 * 25
    lines = [
        f"Speed-up estimate: a 20-minute clip at 25 fps ({frames} frames), 1080p at "
        f"{SECONDS_PER_FRAME_1080P} s a frame on one CPU; Ray start {costs['ray_start_seconds']:.0f} s, "
        f"cut search {costs['cut_search_seconds_per_boundary']:.1f} s a boundary, a task's fixed cost "
        f"{per_task:.1f} s, stitch {costs['stitch_seconds']:.1f} s plus {BLEND_FRAMES} frames encoded per seam.",
        "",
        "| workers | segments of 30 s: hours | speed-up | segments of 10 s: hours | speed-up |",
        "|---|---|---|---|---|",
    ]
    single = frames * SECONDS_PER_FRAME_1080P
    for workers in (1, 8, 40, 120, 400):
        cells = []
        for seconds in (30, 10):
            count = round(frames / (seconds * 25))
            segment = (frames / count + WARMUP_FRAMES + BLEND_FRAMES) * SECONDS_PER_FRAME_1080P + per_task
            rounds = -(-count // workers)
            search = -(-(count - 1) // workers) * costs["cut_search_seconds_per_boundary"]
            # The stitch's stream copies scale with the bytes: the measured clip was 640x360 and shorter.
            copies = costs["stitch_seconds"] * frames / results["long"]["frames"] * 1080 * 1920 / (640 * 360)
            stitch = copies + (count - 1) * BLEND_FRAMES * ENCODE_SECONDS_PER_FRAME_1080P
            total = costs["ray_start_seconds"] + search + rounds * segment + stitch
            cells += [f"{total / 3600:.2f}", f"{single / total:.1f}x"]
        lines.append(f"| {workers} | " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":
    main()
