"""What `apply` does to each clip: the processing and encoding options and their defaults.

The dataclasses own the defaults and the modules named in the comments own
the choice lists; the command line reads both. This module imports no torch,
so `stylecut --help` can show the defaults at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stylecut.device import available_cores
from stylecut.errors import UsageError
from stylecut.pipeline.controls import Controls
from stylecut.video.encode_settings import EncodeSettings


@dataclass(frozen=True)
class ApplyOptions:
    # The temporal stage create_styliser adds with a flow estimator: one of stylecut.temporal.KINDS, or
    # None to stylise frame by frame.
    temporal: str | None = "recurrent"
    flow: str = "auto"  # one of stylecut.flow.KINDS
    raft_weights: Path | None = None
    device: str = "auto"  # one of stylecut.device.DEVICES
    runtime: str = "auto"  # one of stylecut.runtime.RUNTIMES
    max_side: int | None = None  # cap on the working size's longer side (controls.working_size)
    # Frames a chunk holds at most (stylise.frames_per_chunk): 4, so that the three stages that hand chunks
    # on (stylise.py) fill and drain in half the time 8 took on a short clip; the frames are the same.
    chunk: int = 4
    cfr: bool = False  # convert variable-rate input to a constant rate instead of keeping its frame times
    # CPU threads for the networks, the flow and any runtime; None: all cores (set on construction).
    threads: int | None = None
    encode: EncodeSettings = field(default_factory=EncodeSettings)
    controls: Controls = field(default_factory=Controls)

    def __post_init__(self) -> None:
        if self.threads is None:
            object.__setattr__(self, "threads", available_cores())
        elif self.threads < 1:
            raise UsageError(f"--threads must be at least 1, not {self.threads}.")
