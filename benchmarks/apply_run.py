"""Run the real `stylecut apply` command in a child process and measure it: wall, CPU, peak memory, stages.

The parent starts ``python apply_run.py --record FILE -- apply ARGS`` and
collects it with ``os.wait4``, which gives that child's CPU time (ffmpeg
processes it reaped included). Peak memory is the child's own ``VmHWM``,
which it records as it exits: ``ru_maxrss`` would not do, because Linux
carries the RSS of the forking parent (this benchmark, holding decoded clips
and loss networks) over the ``exec`` into the child's figure. The ffmpeg
encoder is a separate process and is not counted. The child is the
unmodified command line (``stylecut.cli.app``) with two recorders wrapped
around it, because ``--json`` reports frames and seconds per clip but not
per stage: the probe time, and the ``stage_seconds`` of every
``ClipStyliser.run``; and CPU seconds by where they were spent: the generator
(this process's CPU clock while the runner runs, so what the other threads do
during that time, decoding and flow ahead and the temporal stage of the chunk
before, is counted there too), the rest of this
process (start-up, decoding, flow, temporal stage, conversions) and the
ffmpeg processes (probe, encode, remux). Decoding is not clocked on its own:
decord decodes in ffmpeg's threads, which no clock of the calling thread sees.
With ``--johnson`` the child also swaps the style's
generator for the random-weight Johnson et al. network, so the baseline goes
through exactly the same probe, decode, encode and remux code. With no
command after ``--`` it only imports what `apply` imports, to measure that.
The child may run on another interpreter (``run_apply(python=...)``): that of a
light install, without PyTorch, runs the light path, whose exported generator is
clocked in place of the runner.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from stylecut.pipeline.timing import PROBE
from stylecut.pipeline.timing import STAGES as PIPELINE_STAGES

STAGES = (PROBE, *PIPELINE_STAGES)
CPU_STAGES = ("generator", "rest", "ffmpeg")  # see the module docstring


@dataclass
class ApplyRun:
    """One `stylecut apply` command: whole-command figures and per-stage seconds summed over its clips."""

    wall: float
    cpu: float
    max_rss_mb: float
    frames: int
    pipeline_seconds: float  # inside ClipStyliser.run, summed over clips (no start-up, no probe)
    stages: dict[str, float]
    flow: str | None  # the pipeline's notice naming the flow backend it used (None without temporal)
    clips: list[dict] = field(default_factory=list)  # the --json report's jobs
    cpu_stages: dict[str, float] = field(default_factory=dict)  # CPU seconds per CPU_STAGES

    @property
    def fps(self) -> float:
        """Frames per second of the whole command, start-up included."""
        return self.frames / self.wall

    @property
    def startup(self) -> float:
        """Seconds outside stylising: imports, loading the style and the flow backend with the clips probed
        beside them, exit."""
        return self.wall - self.pipeline_seconds

    def to_json(self) -> dict:
        return {
            "wall": self.wall,
            "cpu": self.cpu,
            "max_rss_mb": self.max_rss_mb,
            "frames": self.frames,
            "fps": self.fps,
            "pipeline_seconds": self.pipeline_seconds,
            "startup": self.startup,
            "stages": self.stages,
            "flow": self.flow,
            "clips": self.clips,
            "cpu_stages": self.cpu_stages,
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


def _run_child(
    options: list[str], cli_args: list[str], python: str = sys.executable
) -> tuple[bytes, float, float, dict]:
    """Start this file as the instrumented child: its stdout, wall and CPU seconds, and what it recorded."""
    with tempfile.TemporaryDirectory(prefix="stylecut-bench-") as scratch:
        record = Path(scratch) / "record.json"
        stdout, wall, cpu = _measure_child(
            [python, __file__, "--record", str(record), *options, "--", *cli_args]
        )
        return stdout, wall, cpu, json.loads(record.read_text())


def import_footprint() -> dict[str, float]:
    """Wall, CPU seconds and peak RSS of a process that only imports what `stylecut apply` imports."""
    _, wall, cpu, recorded = _run_child([], [])
    return {"wall": wall, "cpu": cpu, "max_rss_mb": recorded["max_rss_mb"]}


def run_apply(args: list[str], johnson: bool = False, python: str = sys.executable) -> ApplyRun:
    """Run ``stylecut apply ARGS --json -q`` on ``python`` (with ``johnson``: the baseline network) and
    measure it."""
    stdout, wall, cpu, recorded = _run_child(
        ["--johnson"] if johnson else [], ["apply", *args, "--json", "-q"], python
    )
    clips = json.loads(stdout)["jobs"]
    stages = {name: sum(r["stages"].get(name, 0.0) for r in recorded["runs"]) for name in STAGES}
    stages["probe"] = recorded["probe"]
    clock = recorded["cpu"]
    generator = clock["generator"]
    cpu_stages = {"generator": generator, "rest": clock["self"] - generator, "ffmpeg": clock["children"]}
    return ApplyRun(
        wall=wall,
        cpu=cpu,
        max_rss_mb=recorded["max_rss_mb"],
        frames=sum(job["frames"] for job in clips),
        pipeline_seconds=sum(r["seconds"] for r in recorded["runs"]),
        stages=stages,
        flow=recorded["runs"][0]["flow"] if recorded["runs"] else None,
        clips=clips,
        cpu_stages=cpu_stages,
    )


def _peak_rss_mb() -> float:
    """This process's VmHWM (peak resident set since its exec) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _child(record: Path, johnson: bool, cli_args: list[str]) -> None:
    """The instrumented command line (or, without arguments, its imports only); see the module docstring."""
    recorded: dict = {"probe": 0.0, "runs": [], "cpu": {"generator": 0.0}}
    try:
        import stylecut.commands.apply as apply_command
        from stylecut.cli import app
        from stylecut.pipeline.stylise import ClipStyliser

        if cli_args:
            _instrument(apply_command, ClipStyliser, recorded, johnson)
            app(args=cli_args, prog_name="stylecut")  # exits with the command's own code
    finally:
        recorded["max_rss_mb"] = _peak_rss_mb()
        for who, key in ((resource.RUSAGE_SELF, "self"), (resource.RUSAGE_CHILDREN, "children")):
            usage = resource.getrusage(who)
            recorded["cpu"][key] = usage.ru_utime + usage.ru_stime
        record.write_text(json.dumps(recorded))


def _instrument(apply_command, styliser: type, recorded: dict, johnson: bool) -> None:
    """Wrap the probe, ``ClipStyliser.run`` and the generator (the runner, or the light path's exported
    generator) to record their times.

    With ``johnson``, swap the generator.
    """
    from stylecut.pipeline.light import ExportedGenerator, runs_light

    probe, run = apply_command.probe, styliser.run

    def timed_probe(path):
        tick = time.perf_counter()
        try:
            return probe(path)
        finally:
            recorded["probe"] += time.perf_counter() - tick

    def recorded_run(self, *args, **kwargs):
        result = run(self, *args, **kwargs)
        recorded["runs"].append(
            {
                "frames": result.frames,
                "seconds": result.seconds,
                "stages": result.stage_seconds,
                "flow": result.flow,
            }
        )
        return result

    def clocked(generator):
        def timed(*inputs):
            cpu = time.process_time()
            try:
                return generator(*inputs)
            finally:
                recorded["cpu"]["generator"] += time.process_time() - cpu

        return timed

    apply_command.probe = timed_probe
    styliser.run = recorded_run
    if runs_light():
        call = ExportedGenerator.__call__
        ExportedGenerator.__call__ = lambda self, frames: clocked(partial(call, self))(frames)
    else:
        import stylecut.runtime.runner as runners

        create_runner = runners.create_runner

        def timed_runner(*args, **kwargs):
            runner, notice = create_runner(*args, **kwargs)
            return clocked(runner), notice

        runners.create_runner = timed_runner  # create_styliser imports it from there when it runs
    if johnson:
        from johnson import JohnsonNet

        # The baseline runs frame by frame at the clip's size, like the networks it stands for.
        apply_command.load_style_networks = lambda entry: (JohnsonNet().eval(), None, {"working_side": None})


if __name__ == "__main__":
    split = sys.argv.index("--")
    options = sys.argv[1:split]
    _child(Path(options[options.index("--record") + 1]), "--johnson" in options, sys.argv[split + 1 :])
