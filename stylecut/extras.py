"""The optional extras (``pip install 'stylecut[NAME]'``) and the one sentence that names the one missing.

PyTorch is an extra, not a requirement of apply, preview and styles on a CPU: ``train`` brings it for
``finetune`` and the training recipes, ``torch`` for what runs on PyTorch at inference (an NVIDIA GPU,
``--runtime torch``, RAFT flow). The checks read only whether the package is installed, so they cost
nothing and run before anything imports it.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from stylecut.errors import UsageError

TRAIN = "train"
TORCH = "torch"


def install_hint(extra: str) -> str:
    return f"pip install 'stylecut[{extra}]'"


def require_torch(what: str, extra: str) -> None:
    """Refuse ``what`` (an option or a command) in one sentence naming ``extra`` when PyTorch is missing."""
    if find_spec("torch") is None or find_spec("torchvision") is None:
        raise UsageError(
            f"{what} needs PyTorch, which is not installed: install it with {install_hint(extra)}."
        )


def check_inference_extras(
    device: str, runtime: str = "auto", flow: str = "auto", raft_weights: Path | None = None
) -> None:
    """Refuse the inference options that run on PyTorch when it is not installed."""
    if device == "cuda":
        require_torch("--device cuda", TORCH)
    if runtime == "torch":
        require_torch("--runtime torch", TORCH)
    if flow == "raft" or raft_weights is not None:
        require_torch("RAFT optical flow (--flow raft, --raft-weights)", TORCH)
