"""The options of `apply --ray`: where Ray runs, how many tasks at once, how long a segment is.

Like the package's ``__init__``, this module never imports Ray, so the command
line can parse and check ``--ray`` without it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from stylecut.errors import UsageError

LOCAL = "local"  # the `--ray` value for a Ray runtime started on this machine for the command
INSTALL_HINT = "pip install 'stylecut[ray]'"
# Chosen from benchmarks/cluster.py (docs/measurements.md): long enough that a segment's extra work
# (warm-up and blend frames, seek, encoder start) stays near 2% of it, short enough that a 20-minute
# clip keeps 40 workers busy.
DEFAULT_SEGMENT_SECONDS = 30.0
# The frames a segment's temporal stage warms up on, and a range's: measured by benchmarks/cluster.py, where
# the seams' E_warp is that of a single run with these and segments.BLEND_FRAMES, and at 480p on camera
# motion by benchmarks/seams.py (docs/measurements.md): 16 frames brought the recurrent stage's anchor into
# step with the single run's on a handheld clip, but on a steady camera move its refreshes keep the phase
# where the warm-up started, whatever its length, so 8 more frames a segment bought no steadier seam.
WARMUP_FRAMES = 8

_HOST_PORT = re.compile(r"(?:[\w.-]+|\[[0-9a-fA-F:.]+\]):\d{1,5}")


@dataclass(frozen=True)
class ClusterOptions:
    """`--ray [ADDRESS] --workers N --segment-seconds S`, and `--threads` as each task's CPUs."""

    address: str = LOCAL  # "local", "auto", "ray://HOST:PORT" or "HOST:PORT"
    workers: int | None = None  # tasks at once; None: what the cluster's CPUs (or GPUs) allow
    segment_seconds: float = DEFAULT_SEGMENT_SECONDS
    threads: int | None = None  # CPUs (and threads) per task; None: the driver's CPUS_PER_TASK


def cluster_options(
    address: str | None, workers: int | None, segment_seconds: float | None, threads: int | None
) -> ClusterOptions | None:
    """The options of a run on Ray (None without ``--ray``); a UsageError for options that cannot work."""
    if address is None:
        if workers is not None or segment_seconds is not None:
            raise UsageError("--segment-seconds and --workers only apply with --ray.")
        return None
    if segment_seconds is not None and not math.isfinite(segment_seconds):
        raise UsageError(f"--segment-seconds {segment_seconds} is not a length: give a number of seconds.")
    if not is_ray_address(address):
        raise UsageError(
            f"--ray {address} is not a Ray address: give auto, ray://HOST:PORT or HOST:PORT, "
            "or --ray alone for a local runtime."
        )
    return ClusterOptions(address, workers, segment_seconds or DEFAULT_SEGMENT_SECONDS, threads)


def is_ray_address(value: str) -> bool:
    """Whether ``value`` names a Ray runtime: local, auto, ray://HOST:PORT or HOST:PORT."""
    if value in (LOCAL, "auto"):
        return True
    return bool(_HOST_PORT.fullmatch(value.removeprefix("ray://")))
