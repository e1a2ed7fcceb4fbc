"""Where the networks run: one choice shared by `apply` and `finetune`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stylecut.errors import UsageError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda")


def select_device(name: str) -> torch.device:
    """``auto`` is CUDA when PyTorch sees a GPU, else the CPU; ``cuda`` without a GPU is a usage error."""
    import torch

    if name not in DEVICES:
        raise UsageError(f"Unknown device '{name}'; choose one of {', '.join(DEVICES)}.")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was requested but PyTorch sees no CUDA GPU here; use --device cpu or auto.")
    return torch.device(name)
