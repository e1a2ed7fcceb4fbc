"""The seams of `apply --ray` at a working size on camera motion: each seam's E_warp against the unsplit run's.

Run by hand from the repository root, with the shared media beside the checkout:

    .venv/bin/python benchmarks/seams.py --media ../shared/media --out /tmp/seams \
        --clips backpack,cockatoo --synthetic pan12,push-in --variants 8:8:off,8:8:on,16:8:off,8:16:off

Each clip is cut from the shared media and scaled to 480 px high (or rendered by camera_motion.py at
854x480, 25 fps) and stylised at the style's working size on one thread, with `--segment-seconds`
(default 2), once unsplit and once in segments per warm-up and blend length. The segments are planned
and run as `apply --ray` runs them (segments.plan_segments with the driver's cut search, and each
segment through ClipStyliser.stylise_range with its warm-up, head and tail), and their raw frames
joined as segments.stitch joins them, cross-fades included, but in this process and without encoding:
an encode would add its own noise to both sides. The generator's output is kept per input frame (and in
OUT between runs), so that every run of a clip differs from the others only in the temporal stage's
state. Each variant (--variants) is a warm-up length, a blend length, and whether the warm-up ends by
taking its last output as the stage's anchor (an experiment: the stage has no such rule).

Per seam s (the later segment's first frame), E_warp of the pairs (t - 1, t) for t from s - 1 to
s + blend + 3 in the stitched frames and in the unsplit run's, with cluster.py's flow and mask from the
input frames. Three figures, each the split run's sum over the unsplit run's: "join", the three pairs
around the join (t = s - 1, s, s + 1), "worst", the worst three consecutive pairs of the WINDOW pairs
from s - 1, and "all", those pairs. Beside
them the temporal state at s in both runs: the anchor's age (frames since the stage last took an
output as its anchor), the refreshes during the warm-up, and the mean absolute difference of the
frames. Everything goes to OUT/results.json; a markdown summary is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import torch
from camera_motion import render
from temporal import evaluation_flow, frame_sharpness, warping_errors

from stylecut.commands.apply import _styliser_maker
from stylecut.pipeline.options import ApplyOptions
from stylecut.pipeline.ray.segments import cross_fade, plan_segments, search_ranges, split_points
from stylecut.pipeline.stylise import ClipStyliser
from stylecut.styles.registry import resolve_style
from stylecut.video.decode import iter_frames
from stylecut.video.ffmpeg_tools import ffmpeg_exe
from stylecut.video.probe import VideoInfo, probe
from stylecut.video.scenes import scene_cuts

from media import find_clip, prepare_clip

HEIGHT = 480
SYNTHETIC_FPS = 25
AFTER = 3  # pairs measured after the cross-fade's last frame
# The pairs from s - 1 that "worst" and "all" cover, the same for every variant so that they compare: an
# 8-frame fade and AFTER pairs past it (a longer window would catch more of the later segment's own cycle).
WINDOW = 13


def synthetic_clip(media: Path, move: str, frames: int, target: Path) -> Path:
    """camera_motion.py's ``move`` as an 854x480 clip at 25 fps (x264 CRF 12, as media.prepare_clip)."""
    pixels = render(media, move, frames)
    _, height, width, _ = pixels.shape
    command = [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    command += ["-s", f"{width}x{height}", "-r", str(SYNTHETIC_FPS), "-i", "-"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-pix_fmt", "yuv420p", str(target)]
    subprocess.run(command, input=pixels.tobytes(), check=True)
    return target


class Traced:
    """The styliser with its generator's output kept per input frame, and its temporal state traced.

    ``trace`` holds, per frame the temporal stage stepped in the last :meth:`run`, the anchor's age
    (frames since it was taken) and the sharpening servo.
    """

    def __init__(self, styliser: ClipStyliser) -> None:
        self.styliser = styliser
        self.kept: dict[bytes, object] = {}
        self.trace: list[tuple[int, float]] = []
        batch, stage = styliser._stylise_batch, styliser.temporal
        step = stage.step

        def stylise(frames):  # one frame at a time, so that any chunking gives the same stylisations
            out = []
            for frame in frames.split(1):
                key = hashlib.sha1(frame.numpy().tobytes()).digest()
                if key not in self.kept:
                    self.kept[key] = batch(frame)
                out.append(self.kept[key])
            return torch.cat(out)

        def traced_step(*args):
            # --variants: at the warm-up's last frame, the output taken as the anchor (the stage's training
            # knob forced_refresh) always ("on"), or unless the warm-up took one ("unless").
            last = 0 < self.warmup == len(self.trace) + 1
            took = self.refreshed == "unless" and any(age == 0 for age, _ in self.trace[1:])
            stage.forced_refresh = 1.0 if last and self.refreshed != "off" and not took else 0.0
            before = None if stage._state is None else stage._state.anchor
            output = step(*args)
            age = 0 if before is None or stage._state.anchor is not before else self.trace[-1][0] + 1
            self.trace.append((age, float(stage._state.servo[0])))
            return output

        styliser._stylise_batch = stylise
        stage.step = traced_step
        self.refreshed, self.warmup = "off", 0

    def run(
        self, info: VideoInfo, start: int, stop: int, warmup: int, refreshed: str = "off"
    ) -> tuple[np.ndarray, list]:
        """Frames ``[start, stop)`` after ``warmup`` frames, and the trace of every step, warm-up first;
        ``refreshed``: whether the warm-up's last output becomes the anchor (see --variants)."""
        self.trace = []
        self.refreshed, self.warmup = refreshed, warmup
        with closing(self.styliser.stylise_range(info, start, stop, warmup)) as chunks:
            frames = np.concatenate([chunk for _, chunk in chunks])
        return frames, self.trace


def segmented(
    traced: Traced,
    info: VideoInfo,
    points: list[int],
    cuts: list[int],
    warmup: int,
    blend: int,
    refreshed: str,
    unsplit: np.ndarray,
):
    """The stitched frames of a run in segments, and per seam its frame and the later segment's trace."""
    plan = plan_segments(info, points, cuts, warmup, blend)
    joined, seams, earlier = [], [], None
    for segment in plan:
        if segment.index == 0:  # the clip's start: as the unsplit run
            frames, trace = unsplit[: segment.stop + segment.tail], []
        else:
            frames, trace = traced.run(
                info, segment.start, segment.stop + segment.tail, segment.warmup, refreshed
            )
        if segment.head:
            joined.append(cross_fade(earlier[1:], frames[: segment.head]))
        joined.append(frames[segment.head : segment.frames])
        if segment.index:
            seam = {"frame": segment.start, "warmup": segment.warmup, "blend": segment.head, "trace": trace}
            # Each side alone over the overlap: the earlier from s - 1, the later from s.
            seams.append({**seam, "earlier": earlier, "later": frames[: segment.head + AFTER + 1]})
        earlier = frames[segment.frames - 1 :]
    return np.concatenate(joined), seams


def measure_clip(traced: Traced, path: Path, seconds: float, variants: list[tuple[int, int, str]]) -> dict:
    info = probe(path)
    inputs = np.concatenate(list(iter_frames(info, 16)))
    points = split_points(info, max(1, round(seconds * info.fps)))
    cuts = sorted({c for start, stop in search_ranges(info, points) for c in scene_cuts(info, start, stop)})
    started = time.perf_counter()
    unsplit, unsplit_trace = traced.run(info, 0, info.frame_count, 0)
    result = {"frames": info.frame_count, "fps": str(info.fps), "points": points, "cuts": cuts}
    result["unsplit_seconds"] = time.perf_counter() - started
    flow = evaluation_flow()
    errors: dict[int, float] = {}

    def pair_errors(frames: np.ndarray, ts: range, first: int = 0, cache: dict | None = None) -> list[float]:
        """E_warp of the pairs (t - 1, t) for t in ``ts``, of ``frames`` that start at frame ``first``."""
        out = []
        for t in ts:
            if cache is None or t not in cache:
                pair = {"o": frames[t - 1 - first : t + 1 - first]}
                e = warping_errors(pair, inputs[t - 1 : t + 1], flow, gap=1)["o"][0]
                if cache is None:
                    out.append(e)
                    continue
                cache[t] = e
            out.append(cache[t])
        return out

    result["variants"] = {}
    for warmup, blend, refreshed in variants:
        started = time.perf_counter()
        split, seams = segmented(traced, info, points, cuts, warmup, blend, refreshed, unsplit)
        assert len(split) == info.frame_count
        rows = []
        for seam in seams:
            s, k = seam["frame"], seam["blend"]
            ts = range(max(1, s - 1), min(info.frame_count, s + k + AFTER + 1))
            ours, theirs = pair_errors(split, ts), pair_errors(unsplit, ts, 0, errors)
            n = min(WINDOW, len(ts))
            windows = [(sum(ours[i : i + 3]) / sum(theirs[i : i + 3]), ts[i]) for i in range(n - 2)]
            trace = seam["trace"]
            mid = s + (k - 1) // 2
            alone = {}  # each side alone over the overlap
            for side, frames, first in (("earlier", seam["earlier"], s - 1), ("later", seam["later"], s)):
                side_ts = range(first + 1, first + len(frames))
                ours_alone = pair_errors(frames, side_ts, first)
                alone[side] = sum(ours_alone) / sum(pair_errors(unsplit, side_ts, 0, errors))
            rows.append(
                {
                    "frame": s,
                    "kind": "cut" if s in cuts else "frame boundary",
                    "pairs": list(ts),
                    "ewarp": ours,
                    "ewarp_unsplit": theirs,
                    "join": windows[0][0],
                    "worst": max(windows),
                    "all": sum(ours[:n]) / sum(theirs[:n]),
                    "earlier_alone": alone["earlier"],
                    "later_alone": alone["later"],
                    "anchor_age": trace[seam["warmup"]][0] if len(trace) > seam["warmup"] else None,
                    "anchor_age_unsplit": unsplit_trace[s][0],
                    "warmup_refreshes": sum(age == 0 for age, _ in trace[1 : seam["warmup"] + 1]),
                    "servo": trace[seam["warmup"]][1],
                    "servo_unsplit": unsplit_trace[s][1],
                    "diff_at_seam": float(np.abs(split[s].astype(int) - unsplit[s]).mean()),
                    # Mid-fade, two stroke patterns are averaged: the detail left of the unsplit run's.
                    "detail_mid_fade": float(
                        np.divide(*frame_sharpness(np.stack([split[mid], unsplit[mid]])))
                    ),
                    "diff_after_blend": float(
                        np.abs(
                            split[min(s + k, info.frame_count - 1)].astype(int)
                            - unsplit[min(s + k, info.frame_count - 1)]
                        ).mean()
                    ),
                }
            )
        name = f"warm-up {warmup}, blend {blend}" + ("" if refreshed == "off" else f", refreshed {refreshed}")
        result["variants"][name] = {
            "seconds": time.perf_counter() - started,
            "seams": rows,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--media", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="a scratch folder outside the repository")
    parser.add_argument("--styles", default="composition-vii,starry-night")
    parser.add_argument("--clips", default="backpack,cockatoo,flower")
    parser.add_argument("--synthetic", default="pan12,push-in")
    parser.add_argument("--frames", type=int, default=120, help="of each clip (the first ones)")
    parser.add_argument("--segment-seconds", type=float, default=2.0)
    parser.add_argument(
        "--variants",
        default="8:8:off",
        help="WARMUP:BLEND:ANCHOR,...; ANCHOR: whether the warm-up's last output becomes the anchor: "
        "off (as apply does), on (always) or unless (unless the warm-up took one)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    clips = {}  # made once per OUT: the generator's outputs kept there belong to these frames
    for key in filter(None, args.clips.split(",")):
        path = args.out / f"{key}.mp4"
        clips[key] = (
            path if path.exists() else prepare_clip(find_clip(args.media, key), path, args.frames, HEIGHT)
        )
    for move in filter(None, args.synthetic.split(",")):
        path = args.out / f"{move}.mp4"
        clips[move] = path if path.exists() else synthetic_clip(args.media, move, args.frames, path)
    results_path = args.out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results["machine"] = {"cpus": os.cpu_count(), "load": os.getloadavg()[0]}
    variants = [(int(w), int(b), r) for w, b, r in (v.split(":") for v in args.variants.split(","))]
    for style in args.styles.split(","):
        styliser, _ = _styliser_maker(resolve_style(style))(ApplyOptions(threads=1))
        traced = Traced(styliser)
        for key, path in clips.items():
            # The generator's outputs of a clip, kept between runs of this script (the slow part).
            kept = args.out / f"{key}-{style}.pt"
            traced.kept = torch.load(kept) if kept.exists() else {}
            results.setdefault(style, {})[key] = measure_clip(traced, path, args.segment_seconds, variants)
            torch.save(traced.kept, kept)
            results_path.write_text(json.dumps(results, indent=2))
            print(summary({style: {key: results[style][key]}}), flush=True)
    print(summary({k: v for k, v in results.items() if k != "machine"}))


def summary(results: dict) -> str:
    lines = [
        "| style | clip | seam | variant | join: split / unsplit | worst 3 pairs (from t) | all | anchor age: split / unsplit "
        "| warm-up refreshes | servo: split / unsplit | mean abs diff at s / s+K | each side alone: earlier, later "
        "| detail mid-fade |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for style, clips in results.items():
        for key, clip in clips.items():
            for variant, run in clip["variants"].items():
                for r in run["seams"]:
                    lines.append(
                        f"| {style} | {key} | {r['frame']} ({r['kind']}) | {variant} | {r['join']:.2f} "
                        f"| {r['worst'][0]:.2f} ({r['worst'][1]}) | {r['all']:.2f} | {r['anchor_age']} / {r['anchor_age_unsplit']} "
                        f"| {r['warmup_refreshes']} | {r['servo']:.2f} / {r['servo_unsplit']:.2f} "
                        f"| {r['diff_at_seam']:.2f} / {r['diff_after_blend']:.2f} "
                        f"| {r['earlier_alone']:.2f}, {r['later_alone']:.2f} | {r['detail_mid_fade']:.2f} |"
                    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
