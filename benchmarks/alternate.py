"""`stylecut apply` of two or more code trees on one clip, run after run in turn: the whole command's speed
and its start-up, for before-and-after comparisons on a shared machine.

Each run is the real command (``apply CLIP --style STYLE --json -q``) on the given interpreter, with
PYTHONPATH set to one tree, so that the same install (a light one, by default: no PyTorch) runs each
tree's code. The trees take turns, the order reversed every round, so that a load that comes and goes
falls on all of them. Per run it prints one JSON line: frames/s of the whole command, CPU seconds a frame
(the command and the ffmpeg processes it waited for), the seconds from the command's start to its first
frame decoded, the per-stage milliseconds a frame of ``--json`` and the 1-minute load average before the
run; then the medians per tree. The first frame is timed in the child by wrapping the frame reader as
its module is imported, so the command imports what it imports in the order it does.

    python benchmarks/alternate.py CLIP before=../main after=. --python LIGHT/bin/python [-- APPLY OPTIONS]
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READER = "stylecut.video.decode"  # the module whose FrameReader.read decodes every frame apply reads


class _FirstFrame(importlib.abc.MetaPathFinder):
    """Wraps ``FrameReader.read`` when the reader's module is imported, to note when it first returns."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.seconds: float | None = None

    def find_spec(self, name, path, target=None):
        if name != READER:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        execute = spec.loader.exec_module

        def exec_module(module) -> None:
            execute(module)
            read = module.FrameReader.read

            def timed(reader, indices):
                frames = read(reader, indices)
                if self.seconds is None:
                    self.seconds = time.time() - self.started
                return frames

            module.FrameReader.read = timed

        spec.loader.exec_module = exec_module
        return spec


def _child(record: Path, started: float, args: list[str]) -> None:
    """The command line as the console script runs it, with the first frame timed (see the docstring)."""
    hook = _FirstFrame(started)
    sys.meta_path.insert(0, hook)
    try:
        from stylecut.cli import app

        app(args=args, prog_name="stylecut")
    finally:
        record.write_text(json.dumps({"first_frame": hook.seconds}))


def run_once(python: str, tree: Path, clip: Path, style: str, options: list[str]) -> dict:
    """One `apply` of ``clip`` by ``tree``'s code on ``python``; its figures (see the docstring)."""
    with tempfile.TemporaryDirectory(prefix="stylecut-alternate-") as scratch:
        record, target = Path(scratch) / "record.json", Path(scratch) / f"out{clip.suffix}"
        load = os.getloadavg()[0]
        started = time.time()
        command = [python, __file__, "--child", str(record), repr(started), "--"]
        command += ["apply", str(clip), "--style", style, "-o", str(target), "--json", "-q", *options]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(tree)})
        stdout = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.time() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{' '.join(command)} failed")
        job = json.loads(stdout)["jobs"][0]
        frames = job["frames"]
        return {
            "fps": round(frames / wall, 2),
            "wall": round(wall, 2),
            "cpu_per_frame": round((usage.ru_utime + usage.ru_stime) / frames, 3),
            "first_frame": round(json.loads(record.read_text())["first_frame"], 3),
            "load": round(load, 1),
            "stages_ms_per_frame": {stage: round(1000 * s / frames) for stage, s in job["stages"].items()},
        }


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(Path(sys.argv[2]), float(sys.argv[3]), sys.argv[5:])
        return
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("trees", nargs="+", help="NAME=PATH: a checkout whose stylecut package runs")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--style", default="starry-night")
    parser.add_argument(
        "--python", default=sys.executable, help="the interpreter of the install that runs (a light one's)"
    )
    args = parser.parse_args(argv[:split])
    options = argv[split + 1 :]  # apply's options for every run
    trees = [(name, Path(path).resolve()) for name, path in (tree.split("=", 1) for tree in args.trees)]
    runs: dict[str, list[dict]] = {name: [] for name, _ in trees}
    for round_ in range(args.rounds):
        for name, tree in trees if round_ % 2 == 0 else trees[::-1]:
            run = run_once(args.python, tree, args.clip.resolve(), args.style, options)
            runs[name].append(run)
            print(json.dumps({"tree": name, **run}), flush=True)
    for name, done in runs.items():
        medians = {
            key: statistics.median(run[key] for run in done)
            for key in ("fps", "cpu_per_frame", "first_frame")
        }
        loads = [run["load"] for run in done]
        print(
            f"{name}: median {medians['fps']:.2f} frames/s, {medians['cpu_per_frame']:.3f} CPU s a frame, "
            f"first frame at {medians['first_frame']:.2f} s ({len(done)} runs, load {min(loads)}-{max(loads)})"
        )


if __name__ == "__main__":
    main()
