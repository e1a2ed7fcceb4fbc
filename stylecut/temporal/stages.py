"""Building the temporal stage `apply` asks for: the shipped recurrent network, or the fixed fuser."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from stylecut.errors import UsageError
from stylecut.temporal import KINDS, TemporalStage
from stylecut.temporal.recurrent_file import bundled_recurrent

if TYPE_CHECKING:
    import torch


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UsageError(f"Unknown temporal module {kind!r}; choose one of {', '.join(KINDS)}.")


def shipped_recurrent() -> tuple[Path, str, str]:
    """The shipped recurrent network's file, its sha256 from the manifest and the notice that names it."""
    bundled = bundled_recurrent()
    if bundled is None:
        raise UsageError(
            "The recurrent temporal network's weights are not installed; "
            "reinstall stylecut or use --temporal fuser."
        )
    path, sha256 = bundled
    notice = f"Temporal module: the recurrent network ({path.stem}; --temporal fuser for the fixed rule)."
    return path, sha256, notice


def create_temporal_stage(kind: str, device: torch.device) -> tuple[TemporalStage, str]:
    """The stage for ``kind`` (one of ``KINDS``) on ``device``, and a one-line notice saying which runs.

    The recurrent network's weights are checked against their sha256 in the
    manifest; on CUDA its convolutions run in fp16 autocast, as the generator's do.
    """
    import torch

    from stylecut.temporal.fuser import TemporalFuser
    from stylecut.temporal.recurrent_file import load_recurrent

    check_kind(kind)
    if kind == "fuser":
        return TemporalFuser(), "Temporal module: the fixed fuser (requested)."
    path, sha256, notice = shipped_recurrent()
    stage, _ = load_recurrent(path, sha256)
    stage.to(device)
    stage.autocast = torch.float16 if device.type == "cuda" else None
    return stage, notice
