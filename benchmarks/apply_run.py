"""Run the real `stylecut apply` command in a child process and measure it: wall, CPU, peak memory, stages.

The parent starts ``python apply_run.py --record FILE -- apply ARGS`` and
collects it with ``os.wait4``, which gives that child's CPU time (ffmpeg
processes it reaped included). Peak memory is the child's own ``VmHWM``,
which it records as it exits: ``ru_maxrss`` would not do, because Linux
carries the RSS of the forking parent (this benchmark, holding decoded clips
and loss networks) over the ``exec`` into the child's figure. The ffmpeg
encoder is a separate process and is not counted. The child is the
unmodified command line (``stylecut.cli.app``); its ``--json`` report gives
the seconds of every stage of every clip. With ``--johnson`` the child swaps
the style's generator for the random-weight Johnson et al. network, so the
baseline goes through exactly the same probe, decode, encode and remux code.
With no command after ``--`` it only imports what `apply` imports, to
measure that.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from stylecut.pipeline import timing

STAGES = (timing.PROBE, *timing.STAGES)


@dataclass
class ApplyRun:
    """One `stylecut apply` command: whole-command figures and per-stage seconds summed over its clips."""

    wall: float
    cpu: float
    max_rss_mb: float
    frames: int
    pipeline_seconds: float  # stylising, summed over clips (no start-up, no probe)
    stages: dict[str, float]
    flow: str | None  # the command's notice naming the flow backend it used (None without temporal)
    clips: list[dict] = field(default_factory=list)  # the --json report's jobs

    @property
    def fps(self) -> float:
        """Frames per second of the whole command, start-up included."""
        return self.frames / self.wall

    @property
    def startup(self) -> float:
        """Seconds outside probing and stylising: imports, loading the style and the flow backend, exit."""
        return self.wall - self.pipeline_seconds - self.stages["probe"]

    def to_json(self) -> dict:
        return {
            "wall": self.wall, "cpu": self.cpu, "max_rss_mb": self.max_rss_mb, "frames": self.frames,
            "fps": self.fps, "pipeline_seconds": self.pipeline_seconds, "startup": self.startup,
            "stages": self.stages, "flow": self.flow, "clips": self.clips,
        }


def _measure_child(command: list[str]) -> tuple[bytes, float, float]:
    """Run ``command``; its stdout, wall seconds and CPU seconds."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE)
    stdout = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {child.returncode}")
    return stdout, wall, usage.ru_utime + usage.ru_stime


def _run_child(options: list[str], cli_args: list[str]) -> tuple[bytes, float, float, dict]:
    """Start this file as the instrumented child: its stdout, wall and CPU seconds, and what it recorded."""
    with tempfile.TemporaryDirectory(prefix="stylecut-bench-") as scratch:
        record = Path(scratch) / "record.json"
        stdout, wall, cpu = _measure_child([sys.executable, __file__, "--record", str(record), *options, "--", *cli_args])
        return stdout, wall, cpu, json.loads(record.read_text())


def import_footprint() -> dict[str, float]:
    """Wall, CPU seconds and peak RSS of a process that only imports what `stylecut apply` imports."""
    _, wall, cpu, recorded = _run_child([], [])
    return {"wall": wall, "cpu": cpu, "max_rss_mb": recorded["max_rss_mb"]}


def run_apply(args: list[str], johnson: bool = False) -> ApplyRun:
    """Run ``stylecut apply ARGS --json -q`` (with ``johnson``: the baseline network) and measure it."""
    stdout, wall, cpu, recorded = _run_child(["--johnson"] if johnson else [], ["apply", *args, "--json", "-q"])
    report = json.loads(stdout)
    clips = report["jobs"]
    return ApplyRun(
        wall=wall,
        cpu=cpu,
        max_rss_mb=recorded["max_rss_mb"],
        frames=sum(job["frames"] for job in clips),
        pipeline_seconds=sum(job["seconds"] for job in clips),
        stages={name: sum(job["stages"].get(name, 0.0) for job in clips) for name in STAGES},
        flow=report["flow"],
        clips=clips,
    )


def _peak_rss_mb() -> float:
    """This process's VmHWM (peak resident set since its exec) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _child(record: Path, johnson: bool, cli_args: list[str]) -> None:
    """The command line (or, without arguments, its imports only); see the module docstring."""
    recorded: dict = {}
    try:
        import stylecut.commands.apply as apply_command
        from stylecut.cli import app

        if johnson:
            from johnson import JohnsonNet

            apply_command.load_style = lambda entry: (JohnsonNet().eval(), {})
        if cli_args:
            app(args=cli_args, prog_name="stylecut")  # exits with the command's own code
    finally:
        recorded["max_rss_mb"] = _peak_rss_mb()
        record.write_text(json.dumps(recorded))


if __name__ == "__main__":
    split = sys.argv.index("--")
    options = sys.argv[1:split]
    _child(Path(options[options.index("--record") + 1]), "--johnson" in options, sys.argv[split + 1 :])
