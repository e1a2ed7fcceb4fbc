"""Building the temporal stage `apply` asks for: the shipped recurrent network, or the fixed fuser."""

from __future__ import annotations

import torch

from stylecut.errors import UsageError
from stylecut.temporal import KINDS, TemporalStage
from stylecut.temporal.fuser import TemporalFuser
from stylecut.temporal.recurrent_file import bundled_recurrent, load_recurrent


def create_temporal_stage(kind: str, device: torch.device) -> tuple[TemporalStage, str]:
    """The stage for ``kind`` (one of ``KINDS``) on ``device``, and a one-line notice saying which runs.

    The recurrent network's weights are checked against their sha256 in the
    manifest; on CUDA its convolutions run in fp16 autocast, as the generator's do.
    """
    if kind not in KINDS:
        raise UsageError(f"Unknown temporal module {kind!r}; choose one of {', '.join(KINDS)}.")
    if kind == "fuser":
        return TemporalFuser(), "Temporal module: the fixed fuser (requested)."
    bundled = bundled_recurrent()
    if bundled is None:
        raise UsageError(
            "The recurrent temporal network's weights are not installed; "
            "reinstall stylecut or use --temporal fuser."
        )
    path, sha256 = bundled
    stage, _ = load_recurrent(path, sha256)
    stage.to(device)
    stage.autocast = torch.float16 if device.type == "cuda" else None
    return (
        stage,
        f"Temporal module: the recurrent network ({path.stem}; --temporal fuser for the fixed rule).",
    )
