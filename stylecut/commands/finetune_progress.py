"""Progress of a finetune: a rich bar (step, phase, losses, ETA) on a terminal, plain lines otherwise.

Plain mode prints at most one line every few seconds, plus the last step, so a
log file or CI output stays short. The losses shown are the terms an editor
can relate to the result: style, content, and once adversarial training has
begun, the generator's and the discriminator's adversarial losses.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Column

from stylecut.progress import progress_mode, stderr_console

DEFAULT_PREVIEW_EVERY = 50  # steps between the small previews written to the run folder
SHOWN_LOSSES = {"style": "style", "content": "content", "adv_g": "adv", "d": "disc"}
PLAIN_INTERVAL_SECONDS = 10.0


def describe(values: dict[str, float]) -> str:
    return " ".join(f"{label} {values[key]:.3g}" for key, label in SHOWN_LOSSES.items() if key in values)


class FinetuneProgress(AbstractContextManager):
    """One bar (or a plain line every few seconds) for the steps of one run."""

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

    def __enter__(self) -> "FinetuneProgress":
        if self.mode == "rich":
            # On a narrow terminal the losses give way (ellipsis), never the step count or the ETA.
            losses = TextColumn("{task.fields[losses]}", table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis"))
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(bar_width=16), MofNCompleteColumn(), TextColumn("{task.fields[phase]}"),
                TextColumn("ETA"), TimeRemainingColumn(), losses, console=self.console, expand=True,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, step: int, phase: str) -> None:
        self._started, self._first_step = time.monotonic(), step
        if self._progress is not None:
            self._task = self._progress.add_task(self.name, total=self.total, completed=step, phase=phase, losses="")

    def update(self, step: int, total: int | None, values: dict[str, float], phase: str) -> None:
        """Show step `step` of `total`: None while a time budget has not yet set it, and it may shrink."""
        self.total = total
        if self._progress is not None:
            self._progress.update(self._task, completed=step, total=total, phase=phase, losses=describe(values))
            return
        now = time.monotonic()
        if now - self._last_line < PLAIN_INTERVAL_SECONDS and step != self.total:
            return
        self._last_line = now
        per_step = (now - self._started) / max(step - self._first_step, 1)
        of = "" if total is None else f"/{total}"
        eta = "" if total is None else f", ETA {per_step * (total - step):.0f} s"
        line = f"{self.name}: step {step}{of} ({phase}) {describe(values)}, {per_step:.2f} s/step{eta}"
        self.console.print(line, highlight=False)

    def note(self, message: str) -> None:
        self.console.print(message, highlight=False, markup=False)
