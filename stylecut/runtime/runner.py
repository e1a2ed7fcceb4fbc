"""Choosing a network's runner: OpenVINO on a CPU when it is installed and works, PyTorch otherwise.

``create_runner`` returns the runner and, when ``auto`` had to fall back to
PyTorch, the one line that tells the user why. An explicit ``--runtime
openvino`` that cannot be honoured is a usage error instead. PyTorch threads
are a process-wide setting made by the pipeline; ``threads`` here sets
OpenVINO's own thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

import torch
from torch import Tensor, nn

from stylecut.errors import UsageError
from stylecut.runtime import RUNTIMES

Runner = Callable[..., Tensor]


class TorchRunner:
    """The PyTorch module itself, on its device; fp16 autocast on CUDA."""

    def __init__(self, network: nn.Module, device: torch.device) -> None:
        self.network = network.to(device).eval()
        self.device = device

    @torch.inference_mode()
    def __call__(self, *inputs: Tensor) -> Tensor:
        # fp16 roughly halves the generator's time on CUDA; on a CPU PyTorch stays fp32.
        autocast = (
            torch.autocast("cuda", dtype=torch.float16) if self.device.type == "cuda" else nullcontext()
        )
        with autocast:
            return self.network(*inputs).float()


def create_runner(
    network: nn.Module,
    device: torch.device,
    runtime: str = "auto",
    *,
    threads: int | None = None,
    cache_key: str | None = None,
    input_channels: tuple[int, ...] = (3,),
    name: str = "generator",
) -> tuple[Runner, str | None]:
    """A runner for ``network`` and the notice to show when ``auto`` fell back to PyTorch.

    ``cache_key`` (the style file's sha256) names the exported model's cache
    entry; without it the network is exported afresh. ``input_channels``
    gives C for each ``(N, C, H, W)`` input the network's forward takes.
    """
    if runtime not in RUNTIMES:
        raise UsageError(f"Unknown runtime '{runtime}'; choose one of {', '.join(RUNTIMES)}.")
    if runtime == "openvino" and device.type != "cpu":
        raise UsageError("--runtime openvino runs on the CPU; use it with --device cpu, or --runtime torch.")
    if runtime == "torch" or device.type != "cpu":
        return TorchRunner(network, device), None
    try:
        from stylecut.runtime.openvino_runner import compile_network
    except ImportError:
        if runtime == "openvino":
            raise UsageError(
                "--runtime openvino was requested but OpenVINO is not installed; use --runtime torch."
            ) from None
        notice = f"OpenVINO is not installed: the {name} runs on PyTorch, which is slower on a CPU."
        return TorchRunner(network, device), notice
    try:
        return compile_network(network, input_channels, threads, cache_key), None
    except Exception as exc:  # noqa: BLE001 - whatever fails in the optional runtime, PyTorch still works
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        if runtime == "openvino":
            raise UsageError(f"OpenVINO could not run the {name} ({reason}); use --runtime torch.") from exc
        notice = f"OpenVINO could not run the {name} ({reason}), so it runs on PyTorch."
        return TorchRunner(network, device), notice
