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

    def reset(self) -> None:
        """Forget the history (call between clips)."""
        self._state = None
        self.last_trust = None
        self.chunk_trust = []

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
