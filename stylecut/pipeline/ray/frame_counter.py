"""Frames done across a Ray cluster: a tiny actor the tasks report to and the driver reads.

Kept apart from the driver module, which imports torch: an actor runs in a
process of its own, and this one only has to import Ray to start.
"""

from __future__ import annotations

import time

import ray

REPORT_SECONDS = 0.5  # the most often a task sends its count


@ray.remote(num_cpus=0)
class FrameCounter:
    """Frames written per clip since the driver last asked."""

    def __init__(self) -> None:
        self._frames: dict[int, int] = {}

    def add(self, key: int, frames: int) -> None:
        self._frames[key] = self._frames.get(key, 0) + frames

    def take(self) -> dict[int, int]:
        frames, self._frames = self._frames, {}
        return frames


class FrameReporter:
    """``on_frames`` for a task: its frame counts go to the counter at most every REPORT_SECONDS."""

    def __init__(self, counter: ray.actor.ActorHandle, key: int) -> None:
        self._counter, self._key = counter, key
        self._pending, self._sent = 0, time.monotonic()

    def __call__(self, frames: int) -> None:
        self._pending += frames
        if time.monotonic() - self._sent >= REPORT_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._counter.add.remote(self._key, self._pending)
            self._pending, self._sent = 0, time.monotonic()
