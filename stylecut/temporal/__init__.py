"""The temporal stage: what keeps a stylised clip steady from one frame to the next.

The pipeline hands a stage the frames of one clip in order, chunk by chunk:
the input frames, their per-frame stylisations and the optical flow between
consecutive input frames (from the pipeline's flow estimator, see
``stylecut.flow`` for the conventions), and writes what the stage returns.
:class:`TemporalStage` is that contract. There are two stages, :data:`KINDS`:
``recurrent.RecurrentTemporal`` (a trained ConvGRU network, the default) and
``fuser.TemporalFuser`` (the fixed flow-guided rule it replaced, kept for
comparison); both step through a chunk frame by frame (``stepped.SteppedStage``)
and ``stages.create_temporal_stage`` builds either. Import the
implementations from their modules: this package imports no torch, so the
command line can offer the choices at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from torch import Tensor

KINDS = ("recurrent", "fuser")


class TemporalStage(Protocol):
    """Turns per-frame stylisations of a clip into temporally consistent output frames."""

    name: str  # one of KINDS, for reports

    def reset(self) -> None:
        """Forget the history: the next chunk starts a new clip."""

    def fuse_chunk(
        self,
        frames: Tensor,
        stylised: Tensor,
        flows_to_prev: Tensor | None,
        flows_from_prev: Tensor | None,
        previous_frames: Tensor | None,
    ) -> Tensor:
        """The output frames ``(T, 3, H, W)`` for the next ``T`` consecutive frames of the clip.

        ``frames`` and ``stylised`` are ``(T, 3, H, W)`` in [0, 1]. The other
        three hold one entry for each of the last ``K`` frames, those with a
        predecessor (``K = T``, or ``T - 1`` in the chunk that starts the
        clip): the flow from the frame to the one before it and back, and the
        input frame before it. ``flows_to_prev`` is None when ``K = 0``; the
        other two may be None when unknown.
        """
        ...
