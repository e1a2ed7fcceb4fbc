"""Where the networks run (one choice shared by `apply` and `finetune`), and on how many CPU threads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from importlib.util import find_spec
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
        raise UsageError(
            "--device cuda was requested but PyTorch sees no CUDA GPU here; use --device cpu or auto."
        )
    return torch.device(name)


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, which containers and taskset narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_threads(count: int) -> None:
    """Refuse more threads than the cores this process may use: beyond that they only wait for each other
    (10,000 of them overloaded a machine until thread creation failed)."""
    cores = available_cores()
    if count > cores:
        raise UsageError(f"--threads {count} is more than the {cores} CPU cores here; use at most {cores}.")


@contextmanager
def thread_limit(count: int) -> Iterator[None]:
    """Run OpenCV's and, where it is installed, torch's CPU kernels on ``count`` threads; the previous counts
    come back afterwards."""
    import cv2

    torch = import_module("torch") if find_spec("torch") else None
    before = torch.get_num_threads() if torch else None, cv2.getNumThreads()
    if torch:
        torch.set_num_threads(count)
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        if torch:
            torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])
