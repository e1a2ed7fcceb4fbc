"""A PyTorch network compiled by OpenVINO for the CPU, exported once per style and cached.

The network is converted from the PyTorch module (no ONNX step) with every
input ``(N, C, H, W)`` free in N, H and W, saved as OpenVINO IR with its fp32
weights, and compiled for the input shapes it meets at fp32: OpenVINO would
pick bf16 by itself on CPUs with AMX, which moves single output pixels by
up to 56 of 255 levels on real frames (fp32: at most 3). One dynamically shaped model serves
every size, because compiling one per size bought no speed (see
benchmarks/runtime_choice.py). Frames go through one at a time: batching
gained nothing on a CPU and multiplies the activations' memory at 1080p.
"""

from __future__ import annotations

import hashlib
import inspect
import warnings
from pathlib import Path

import openvino as ov
import torch
from torch import Tensor, nn

from stylecut.runtime.cache import cache_root, read_entry, remove_entry, write_entry
from stylecut.runtime.exported import openvino_core

MODEL_FILE = "model.xml"
# The probe: large enough for the generator's 8x downsampling, small enough to check in milliseconds.
PROBE_SIZE = 64
PROBE_TOLERANCE = 1e-3  # an fp32 compile differs from PyTorch by ~1e-6; anything near 1/255 is a wrong graph


class OpenVinoRunner:
    """Calls a compiled network like its PyTorch module: CPU float tensors in, a CPU float tensor out."""

    def __init__(self, compiled: ov.CompiledModel) -> None:
        self.compiled = compiled
        self._request = compiled.create_infer_request()

    def __call__(self, *inputs: Tensor) -> Tensor:
        outputs = [self._infer([x[i : i + 1] for x in inputs]) for i in range(len(inputs[0]))]
        return torch.cat(outputs)

    def _infer(self, inputs: list[Tensor]) -> Tensor:
        arrays = {k: x.detach().float().contiguous().numpy() for k, x in enumerate(inputs)}
        return torch.from_numpy(self._request.infer(arrays, share_inputs=True)[0])


def compile_network(
    network: nn.Module, input_channels: tuple[int, ...], threads: int | None, cache_key: str | None
) -> OpenVinoRunner:
    """The cached export (or a fresh one, then cached), compiled at fp32 and checked on a small probe.

    Raises when a fresh export fails or disagrees with PyTorch; a cached entry that
    does either is removed and rebuilt.
    """
    network = network.cpu().eval()
    probe = tuple(
        torch.rand(1, c, PROBE_SIZE, PROBE_SIZE, generator=torch.Generator().manual_seed(0))
        for c in input_channels
    )
    core = openvino_core()
    config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    entry = cache_root() / cache_key / _variant(network, probe) if cache_key else None
    if entry is not None and read_entry(entry) is not None:
        try:
            compiled = core.compile_model(entry / MODEL_FILE, "CPU", config)
            return _checked(OpenVinoRunner(compiled), network, probe)
        except Exception:  # noqa: BLE001 - whatever is wrong with a cache entry, rebuilding it is the remedy
            remove_entry(entry)
    model = convert(network, probe)
    runner = _checked(OpenVinoRunner(core.compile_model(model, "CPU", config)), network, probe)
    if entry is not None:  # only an export that passed the check is cached
        write_entry(entry, lambda folder: ov.save_model(model, folder / MODEL_FILE, compress_to_fp16=False))
    return runner


def convert(network: nn.Module, probe: tuple[Tensor, ...]) -> ov.Model:
    """``network`` as an OpenVINO model, traced on ``probe``: each ``(N, C, H, W)`` input free in N, H and W,
    any other input of the probe's shape."""
    shapes = [ov.PartialShape([-1, x.shape[1], -1, -1] if x.dim() == 4 else list(x.shape)) for x in probe]
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's deprecation and shape warnings are not the user's
        return ov.convert_model(network, example_input=probe, input=shapes)


def _checked(runner: OpenVinoRunner, network: nn.Module, probe: tuple[Tensor, ...]) -> OpenVinoRunner:
    with torch.inference_mode():
        difference = (runner(*probe) - network(*probe)).abs().max().item()
    if not difference <= PROBE_TOLERANCE:
        raise RuntimeError(f"its output differs from PyTorch's by {difference:.3g}")
    return runner


def _variant(network: nn.Module, probe: tuple[Tensor, ...]) -> str:
    """The runtime's version, the network's code and input layout: what the weights' checksum cannot see."""
    module = inspect.getmodule(type(network))
    source = Path(inspect.getfile(module)).read_bytes() if module else b""
    text = f"{type(network).__qualname__}|{[x.shape[1] for x in probe]}".encode()
    return f"openvino-{ov.__version__.split('-')[0]}-{hashlib.sha256(source + text).hexdigest()[:16]}"
