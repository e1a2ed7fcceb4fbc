"""What the temporal stages share: a clip's chunk taken one frame at a time through ``step``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor


class SteppedStage:
    """A temporal stage (``stylecut.temporal.TemporalStage``) that fuses frame by frame.

    A subclass implements ``step`` and keeps its history in ``_state``; after
    each step ``last_trust`` holds where the carried picture was trusted.
    """

    _state: object | None = None
    last_trust: Tensor | None = None
    chunk_trust: list[Tensor | None]
    _warmup = 0  # the frames of the clip's warm-up (reset)
    _fused = 0  # the frames fuse_chunk has stepped through since reset, this one included
    _warmup_refreshed = False  # whether the stage took a new anchor during the warm-up

    def reset(self, warmup: int = 0) -> None:
        """Forget the history (call between clips). The first ``warmup`` frames fused next are a
        warm-up: a clip's segment that starts mid-shot runs them, unkept, to build its history."""
        self._state = None
        self.last_trust = None
        self.chunk_trust = []
        self._warmup, self._fused, self._warmup_refreshed = warmup, 0, False

    def ends_warmup(self, refresh: Tensor) -> bool:
        """Whether this step must take its output as the anchor although the stage's rules (``refresh``,
        per sample) do not: at the warm-up's last frame, when none of its steps took one.

        Such a warm-up still holds its first frame's stylisation as the anchor,
        as many frames old at the segment's first frame as the warm-up is long:
        on camera motion, late in the cycle between refreshes, where the frame's
        entering edge has grown and the output changes most from frame to
        frame, whatever the single run's cycle is there. Taken at the warm-up's
        end, the anchor is a fused output, as the single run's is, and the
        seam's frames start a cycle (benchmarks/seams.py). A warm-up that took
        an anchor keeps it: its refreshes follow the content's motion, as the
        single run's do.
        """
        self._warmup_refreshed |= bool(refresh.any())
        return 0 < self._warmup == self._fused and not self._warmup_refreshed

    def fuse_chunk(
        self,
        frames: Tensor,
        stylised: Tensor,
        flows_to_prev: Tensor | None,
        flows_from_prev: Tensor | None,
        previous_frames: Tensor | None,
    ) -> Tensor:
        """The next ``T`` consecutive frames of a clip through :meth:`step`, one after another.

        See ``stylecut.temporal.TemporalStage.fuse_chunk`` for the arguments.
        Afterwards ``chunk_trust`` holds each frame's ``last_trust``.
        """
        offset = len(frames) - (0 if flows_to_prev is None else len(flows_to_prev))

        def before(values: Tensor | None, i: int) -> Tensor | None:
            """The entry of ``values`` for frame ``i``; None for a frame without a predecessor."""
            return None if values is None or i < offset else values[i - offset : i - offset + 1]

        fused, self.chunk_trust = [], []
        for i in range(len(frames)):
            self._fused += 1
            args = (before(flows_to_prev, i), before(flows_from_prev, i), before(previous_frames, i))
            fused.append(self.step(frames[i : i + 1], stylised[i : i + 1], *args))
            self.chunk_trust.append(self.last_trust)
        return self.concat(fused)

    @staticmethod
    def concat(frames: list[Tensor]) -> Tensor:
        """The stepped frames as one batch; a stage on numpy arrays concatenates those instead."""
        import torch

        return torch.cat(frames)

    def step(
        self,
        frame: Tensor,
        stylised: Tensor,
        flow_to_prev: Tensor | None,
        flow_from_prev: Tensor | None,
        prev_frame: Tensor | None,
    ) -> Tensor:
        raise NotImplementedError
