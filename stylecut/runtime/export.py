"""Exporting networks where PyTorch is present, for the light runtime that runs them without it.

A network is converted to OpenVINO IR from its PyTorch module (no ONNX step), each ``(N, C, H, W)`` input
free in N, H and W, checked against PyTorch on a probe, and stored in the network's own checked weights
file beside its weights (``weights_file.EXPORTED``): the style file for the generator, the temporal
network's file for it. The file's sha256 (for a bundled file, the manifest's) then covers the export as
it covers the weights, and a style made by ``finetune`` on one machine carries what a light install on
another needs (runtime/exported.py). Another network is exported the same way: a name, and a probe of
its inputs, named as its forward's parameters.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import openvino as ov
import torch
from torch import Tensor, nn

from stylecut.models.generator import Generator
from stylecut.models.revision import Revision
from stylecut.runtime.exported import GENERATOR, REVISION, openvino_core
from stylecut.runtime.openvino_runner import PROBE_SIZE, PROBE_TOLERANCE, convert
from stylecut.weights_file import EXPORTED

MODEL_FILE = "model.xml"


class GeneratorWithGain(nn.Module):
    """The generator with the feature half of the strength as an input: ``gain`` (shape ``(1,)``) scales the
    output of its bottleneck norm, as :meth:`Generator.with_bottleneck_gain` scales that norm's affine."""

    def __init__(self, generator: Generator) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, frames: Tensor, gain: Tensor) -> Tensor:
        norm = self.generator.bottleneck_norm()
        if norm is None:  # a single width: the strength has no feature half
            return self.generator(frames) + 0 * gain
        hook = norm.register_forward_hook(lambda module, inputs, output: output * gain)
        try:
            return self.generator(frames)
        finally:
            hook.remove()


def export_network(name: str, network: nn.Module, probe: tuple[Tensor, ...]) -> dict[str, np.ndarray]:
    """``network``'s IR as the tensors a weights file stores for ``name``; raises when it disagrees with
    PyTorch on ``probe`` (one sample of each input)."""
    network = network.cpu().eval()
    model = convert(network, probe)
    compiled = openvino_core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    with torch.inference_mode():
        expected = network(*probe)
    expected = expected if isinstance(expected, tuple) else (expected,)
    outputs = compiled([x.numpy() for x in probe])
    for index, tensor in enumerate(expected):
        difference = float(np.abs(outputs[index] - tensor.numpy()).max())
        if not difference <= PROBE_TOLERANCE:
            raise RuntimeError(f"the exported {name} differs from PyTorch's by {difference:.3g}")
    _name_deterministically(model, name)
    with tempfile.TemporaryDirectory() as folder:
        xml = Path(folder) / MODEL_FILE
        ov.save_model(model, xml, compress_to_fp16=False)
        return {
            f"{EXPORTED}{name}.xml": np.frombuffer(xml.read_bytes(), np.uint8).copy(),
            f"{EXPORTED}{name}.bin": np.fromfile(xml.with_suffix(".bin"), np.uint8),
        }


def _name_deterministically(model: ov.Model, name: str) -> None:
    """Name the model and its operations by their place in it: OpenVINO numbers the operations it makes
    with a counter that runs across the process, so the same network would export to other bytes."""
    model.set_friendly_name(name)
    for index, op in enumerate(model.get_ordered_ops()):
        op.set_friendly_name(f"{op.get_type_name()}_{index}")


def export_generator(generator: Generator) -> dict[str, np.ndarray]:
    """The generator's export: inputs ``frames`` (N, 3, H, W) and ``gain`` (1,), output the stylisation."""
    seeded = torch.Generator().manual_seed(0)
    probe = (torch.rand(1, 3, PROBE_SIZE, PROBE_SIZE, generator=seeded), torch.tensor([0.5]))
    return export_network(GENERATOR, GeneratorWithGain(generator), probe)


def export_revision(revision: Revision) -> dict[str, np.ndarray]:
    """The revision network's export: inputs ``draft`` (N, 3, H, W) and ``band`` (N, 1, H, W), output the
    revised picture."""
    seeded = torch.Generator().manual_seed(0)
    probe = tuple(torch.rand(1, c, PROBE_SIZE, PROBE_SIZE, generator=seeded) for c in (3, 1))
    return export_network(REVISION, revision, probe)
