"""Progress reporting: rich bars on a terminal, plain lines in pipes and CI, nothing when quiet.

:class:`BatchProgress` shows `apply`'s frames (all clips, and the current
one), :class:`ClusterProgress` those of `apply --ray` (all clips, and how
many are done); :class:`FinetuneProgress` a finetune's steps, phase and
losses. Plain mode prints at most one line every few seconds, plus the last one, so a log
file or CI output stays short. Everything goes to stderr: stdout is kept for
``--json`` reports.
"""

from __future__ import annotations

import sys
import time
from contextlib import AbstractContextManager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column

# The loss terms an editor can relate to the result: style, content, and once adversarial training
# has begun, the generator's and the discriminator's adversarial losses.
SHOWN_LOSSES = {"style": "style", "content": "content", "adv_g": "adv", "d": "disc"}


class _FramesPerSecond(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # type: ignore[override]
        speed = task.finished_speed or task.speed
        return f"{speed:5.2f} fps" if speed else "  -.-- fps"


class BatchProgress(AbstractContextManager):
    """One overall bar (frames of all clips) and one bar for the current clip."""

    plain_interval = 5.0  # seconds between plain lines

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

    def __enter__(self) -> BatchProgress:
        if self.mode == "rich":
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _FramesPerSecond(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
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
        elif self.mode == "plain" and (
            time.monotonic() - self._last_line > self.plain_interval or self._clip_done == self._clip_total
        ):
            self._last_line = time.monotonic()
            fps = self._clip_done / max(time.monotonic() - self._started, 1e-6)
            self.console.print(
                f"{self._clip_name}: {self._clip_done}/{self._clip_total} frames, {fps:.2f} fps",
                highlight=False,
            )

    def note(self, message: str) -> None:
        if self.mode != "quiet":
            self.console.print(message, highlight=False, markup=False)

    def error(self, message: str) -> None:
        """Printed even when quiet: a failure must never pass silently."""
        self.console.print(message, highlight=False, markup=False)


class ClusterProgress(BatchProgress):
    """A batch on many workers at once (`apply --ray`): one bar of all clips' frames, with fps and ETA,
    and the clips done.

    Frames arrive from every worker in any order, so there is no bar per
    clip; a clip that fails takes the frames it will never write out of the total.
    """

    def __init__(self, clips: int, total_frames: int, mode: str, console: Console) -> None:
        super().__init__(total_frames, mode, console)
        self.clips, self.clips_done = clips, 0
        self._started = self._last_line = time.monotonic()  # the first plain line once there is news

    def __enter__(self) -> ClusterProgress:
        super().__enter__()
        self._update()
        return self

    def advance(self, frames: int) -> None:
        self.done += frames
        self._update(advance=frames)

    def clip_finished(self, frames_left: int = 0) -> None:
        """A clip is done (or failed, leaving ``frames_left`` frames that will never come)."""
        self.clips_done += 1
        self.total -= frames_left
        self._update(total=self.total)

    def _update(self, **changes: int) -> None:
        description = f"clips {self.clips_done}/{self.clips}"
        if self._progress is not None:
            self._progress.update(self._overall, description=description, **changes)
        elif self.mode == "plain" and (
            self.clips_done == self.clips or time.monotonic() - self._last_line > self.plain_interval
        ):
            self._last_line = time.monotonic()
            fps = self.done / max(time.monotonic() - self._started, 1e-6)
            eta = f", ETA {(self.total - self.done) / fps:.0f} s" if fps else ""
            self.console.print(
                f"{description}, {self.done}/{self.total} frames, {fps:.2f} fps{eta}", highlight=False
            )


def progress_mode(quiet: bool, console: Console) -> str:
    if quiet:
        return "quiet"
    return "rich" if console.is_terminal else "plain"


def stderr_console() -> Console:
    # No wrapping: in a pipe rich would break long notices and paths at 80 columns.
    return Console(file=sys.stderr, soft_wrap=True)


def describe_losses(values: dict[str, float]) -> str:
    return " ".join(f"{label} {values[key]:.3g}" for key, label in SHOWN_LOSSES.items() if key in values)


class FinetuneProgress(AbstractContextManager):
    """One bar (or a plain line every few seconds) for the steps of one run."""

    plain_interval = 10.0  # seconds between plain lines

    def __init__(self, name: str, total: int | None) -> None:
        self.name = name
        self.total = total
        self.console = stderr_console()
        self.mode = progress_mode(False, self.console)
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._last_line = 0.0
        self._started = 0.0
        self._first_step = 0

    def __enter__(self) -> FinetuneProgress:
        if self.mode == "rich":
            # On a narrow terminal the losses give way (ellipsis), never the step count or the ETA.
            losses = TextColumn(
                "{task.fields[losses]}", table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")
            )
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=16),
                MofNCompleteColumn(),
                TextColumn("{task.fields[phase]}"),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                losses,
                console=self.console,
                expand=True,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, step: int, phase: str) -> None:
        self._started, self._first_step = time.monotonic(), step
        if self._progress is not None:
            self._task = self._progress.add_task(
                self.name, total=self.total, completed=step, phase=phase, losses=""
            )

    def update(self, step: int, total: int | None, values: dict[str, float], phase: str) -> None:
        """Show step `step` of `total`: None while a time budget has not yet set it, and it may shrink."""
        self.total = total
        if self._progress is not None:
            self._progress.update(
                self._task, completed=step, total=total, phase=phase, losses=describe_losses(values)
            )
            return
        now = time.monotonic()
        if now - self._last_line < self.plain_interval and step != self.total:
            return
        self._last_line = now
        per_step = (now - self._started) / max(step - self._first_step, 1)
        of = "" if total is None else f"/{total}"
        eta = "" if total is None else f", ETA {per_step * (total - step):.0f} s"
        self.console.print(
            f"{self.name}: step {step}{of} ({phase}) {describe_losses(values)}, {per_step:.2f} s/step{eta}",
            highlight=False,
        )

    def note(self, message: str) -> None:
        self.console.print(message, highlight=False, markup=False)
