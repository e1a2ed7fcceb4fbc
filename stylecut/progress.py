"""Progress reporting: rich bars on a terminal, plain lines in pipes and CI, nothing when quiet."""

from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class _FramesPerSecond(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # type: ignore[override]
        speed = task.finished_speed or task.speed
        return f"{speed:5.2f} fps" if speed else "  -.-- fps"


class BatchProgress(AbstractContextManager):
    """One overall bar (frames of all clips) and one bar for the current clip."""

    def __init__(self, total_frames: int, mode: str, console: Console) -> None:
        self.mode = mode  # "rich", "plain" or "quiet"
        self.console = console
        self.total = total_frames
        self.done = 0
        self._clip_total = 0
        self._clip_done = 0
        self._clip_name = ""
        self._last_line = 0.0
        self._progress: Progress | None = None
        self._overall: TaskID | None = None
        self._clip: TaskID | None = None

    def __enter__(self) -> "BatchProgress":
        if self.mode == "rich":
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _FramesPerSecond(),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console,
            )
            self._progress.start()
            self._overall = self._progress.add_task("all clips", total=self.total)
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start_clip(self, name: str, frames: int) -> None:
        self._clip_name, self._clip_total, self._clip_done = name, frames, 0
        self._started = time.monotonic()
        if self._progress is not None:
            if self._clip is not None:
                self._progress.remove_task(self._clip)
            self._clip = self._progress.add_task(name, total=frames)

    def advance(self, frames: int) -> None:
        self.done += frames
        self._clip_done += frames
        if self._progress is not None:
            self._progress.advance(self._clip, frames)
            self._progress.advance(self._overall, frames)
        elif self.mode == "plain" and (time.monotonic() - self._last_line > 5 or self._clip_done == self._clip_total):
            self._last_line = time.monotonic()
            fps = self._clip_done / max(time.monotonic() - self._started, 1e-6)
            self.console.print(f"{self._clip_name}: {self._clip_done}/{self._clip_total} frames, {fps:.2f} fps", highlight=False)

    def note(self, message: str) -> None:
        if self.mode != "quiet":
            self.console.print(message, highlight=False, markup=False)

    def error(self, message: str) -> None:
        """Printed even when quiet: a failure must never pass silently."""
        self.console.print(message, highlight=False, markup=False)


def progress_mode(quiet: bool, console: Console) -> str:
    if quiet:
        return "quiet"
    return "rich" if console.is_terminal else "plain"


def stderr_console() -> Console:
    # No wrapping: in a pipe rich would break long notices and paths at 80 columns.
    return Console(file=sys.stderr, soft_wrap=True)
