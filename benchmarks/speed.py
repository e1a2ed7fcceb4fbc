"""Speed and memory of `stylecut apply` at 360p, 720p and 1080p, beside the Johnson et al. baseline.

One real clip is scaled (Lanczos) to each height and cut to its first
frames; every run is the real command in a child process (see
``apply_run``): with the temporal module, with ``--no-temporal``, and the
frame-by-frame Johnson et al. network through the same command. The
baseline runs on the first ``johnson_frames`` of the same clip, because it
is far slower (the report gives its frames/s). Runs are sequential and the machine may be
shared, so the load average before each run is recorded next to its figures.
"""

from __future__ import annotations

import os
from pathlib import Path

from apply_run import ApplyRun, run_apply
from media import prepare_clip

SIZES = {"360p": 360, "720p": 720, "1080p": 1080}
VARIANTS = {"temporal": ([], False), "no-temporal": (["--no-temporal"], False), "johnson": (["--no-temporal"], True)}


def speed_runs(source: Path, style: str, scratch: Path, frames: int, johnson_frames: int, sizes: list[str]) -> dict:
    """``{size: {variant: ApplyRun.to_json() + {"load": 1-min load average before the run}}}``."""
    table: dict[str, dict] = {}
    for size in sizes:
        clips = {
            frames: prepare_clip(source, scratch / f"speed-{size}.mp4", frames, SIZES[size]),
            johnson_frames: prepare_clip(source, scratch / f"speed-{size}-first{johnson_frames}.mp4", johnson_frames, SIZES[size]),
        }
        table[size] = {}
        for variant, (flags, johnson) in VARIANTS.items():
            clip = clips[johnson_frames if johnson else frames]
            load = os.getloadavg()[0]
            run: ApplyRun = run_apply([str(clip), "--style", style, "-o", str(scratch / f"out-{size}-{variant}.mp4"), "--overwrite", *flags], johnson)
            table[size][variant] = {**run.to_json(), "load": load}
            print(f"  speed {size} {variant}: {run.fps:.2f} frames/s whole command ({run.frames} frames, load {load:.1f})", flush=True)
    return table
