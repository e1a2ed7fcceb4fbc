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


class ClusterProgress(AbstractContextManager):
    """A batch running on many workers at once: frames done of all clips, with fps and ETA, and clips done.

    Frames arrive from every worker in any order, so there is no per-clip bar;
    a clip that fails takes its remaining frames out of the total.
    """

    def __init__(self, clips: int, total_frames: int, mode: str, console: Console) -> None:
        self.mode = mode  # "rich", "plain" or "quiet"
        self.console = console
        self.clips, self.clips_done = clips, 0
        self.total, self.done = total_frames, 0
        self._started = time.monotonic()
        self._last_line = 0.0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> "ClusterProgress":
        if self.mode == "rich":
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _FramesPerSecond(),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console,
            )
            self._progress.start()
            self._task = self._progress.add_task(self._description(), total=self.total)
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def advance(self, frames: int) -> None:
        self.done += frames
        self._update(advance=frames)

    def clip_finished(self, frames_left: int = 0) -> None:
        """A clip is done (or failed, leaving ``frames_left`` frames that will never come)."""
        self.clips_done += 1
        self.total -= frames_left
        self._update(total=self.total)

    def _description(self) -> str:
        return f"clips {self.clips_done}/{self.clips}"

    def _update(self, **changes: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=self._description(), **changes)
        elif self.mode == "plain" and (self.clips_done == self.clips or time.monotonic() - self._last_line > 5):
            self._last_line = time.monotonic()
            elapsed = max(time.monotonic() - self._started, 1e-6)
            fps = self.done / elapsed
            eta = f", ETA {(self.total - self.done) / fps:.0f} s" if fps else ""
            line = f"{self._description()}, {self.done}/{self.total} frames, {fps:.2f} fps{eta}"
            self.console.print(line, highlight=False)

    def note(self, message: str) -> None:
        if self.mode != "quiet":
            self.console.print(message, highlight=False, markup=False)

    def error(self, message: str) -> None:
        """Printed even when quiet: a failure must never pass silently."""
        self.console.print(message, highlight=False, markup=False)
