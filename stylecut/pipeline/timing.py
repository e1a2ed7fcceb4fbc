"""Seconds spent in each stage of `apply`, summed over a clip; `apply --json` reports them per clip."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

PROBE = "probe"  # `apply` probes every input before stylising any
# ClipStyliser.run's, in order; "restore" is the way back to the clip's size: detail restoration, strength and
# keep colours.
STAGES = ("decode", "flow", "generator", "temporal", "restore", "encode", "remux")


class StageTimer:
    """``with timer("flow"): ...`` adds the block's wall time to ``timer.seconds["flow"]``."""

    def __init__(self, stages: Iterable[str]) -> None:
        self.seconds = dict.fromkeys(stages, 0.0)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started
