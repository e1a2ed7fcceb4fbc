"""Running a network exported for the light runtime (export.py) without PyTorch: numpy in, numpy out.

The IR is read from its checked weights file (after the file's sha256, when one is known, as for the
weights) and refused unless every operation in it is one the exporter writes for stylecut's networks: an
IR is a graph, not code, so a file from a stranger can at worst declare a wrong or large computation, and
the list keeps even that to the layers these networks have. It is compiled at fp32 for the CPU (see
openvino_runner.py for why not bf16); samples go through one at a time, as there. OpenVINO keeps what it
compiled in stylecut's cache folder (:func:`compiled_cache`), keyed by the checked model and the compile
settings, so a later command loads it instead of compiling again (a third of the time for a generator).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import openvino as ov

from stylecut.runtime.cache import cache_root
from stylecut.weights_file import WeightsKind, check_sha256, read_exported

GENERATOR = "generator"  # the style generator's name in a style file (export.export_generator)
TEMPORAL = "temporal"  # the recurrent temporal network's, in its file (recurrent_file.export_temporal)
REVISION = "revision"  # a style's revision network's, in the style file (export.export_revision)
# Each network's inputs, named as its forward's parameters, and how many outputs it has: an export that
# declares others is refused (a new network adds its line here).
SIGNATURES = {
    GENERATOR: (("frames", "gain"), 1),
    TEMPORAL: (("x", "hidden"), 2),
    REVISION: (("draft", "band"), 1),
}
# What ov.convert_model writes for the generator, the temporal network and the revision network (checked by
# the tests on each).
OPERATIONS = frozenset(
    {
        "Add", "Clamp", "Concat", "Constant", "Convert", "Convolution", "Divide", "Gather", "Greater",
        "GroupConvolution", "Interpolate", "MVN", "Mod", "Multiply", "Pad", "Parameter", "Relu", "Result",
        "ShapeOf", "Sigmoid", "Subtract", "Tanh", "VariadicSplit",
    }
)  # fmt: skip


@cache
def openvino_core() -> ov.Core:
    """The process's one OpenVINO core, which every network is compiled with.

    Each core's CPU plugin sets the main thread's alternate signal stack (AMX needs a large one) and,
    when it goes, puts back the one it found and unmaps its own. With two cores gone out of order the
    stack left behind is unmapped memory, and the next signal handled on it (Ctrl-C, SIGTERM) crashes
    the process; one core that lives as long as the process leaves one stack that stays mapped.
    """
    return ov.Core()


class ExportedNetwork:
    """A compiled exported network: ``network({input name: (1, ...) float32 array})`` -> its outputs."""

    def __init__(self, compiled: ov.CompiledModel) -> None:
        self.compiled = compiled
        self._request = compiled.create_infer_request()
        self.inputs = tuple(port.get_any_name() for port in compiled.inputs)

    def __call__(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        arrays = {name: np.ascontiguousarray(inputs[name], np.float32) for name in self.inputs}
        results = self._request.infer(arrays, share_inputs=True)
        return [np.array(results[index]) for index in range(len(results))]


def load_exported(
    path: Path, kind: WeightsKind, name: str, expected_sha256: str | None, threads: int | None
) -> ExportedNetwork:
    """The network ``name`` exported in ``path``, checked and compiled; ``kind``'s error when it cannot be."""
    check_sha256(path, kind, expected_sha256)
    exported = read_exported(path, kind, name)
    if exported is None:
        raise kind.error(
            f"{path} holds no {name} exported for OpenVINO (an older stylecut made it), so it needs "
            "PyTorch: install it with pip install 'stylecut[torch]'."
        )
    xml, weights = exported
    core = openvino_core()
    try:
        model = core.read_model(model=xml, weights=ov.Tensor(weights))
    except RuntimeError as exc:
        raise kind.refuse(path, f"its exported {name} is not a readable OpenVINO model") from exc
    unknown = {op.get_type_name() for op in model.get_ops()} - OPERATIONS
    if unknown:
        raise kind.refuse(path, f"its exported {name} holds operations stylecut does not write")
    inputs = tuple(port.get_any_name() for port in model.inputs)
    if (inputs, len(model.outputs)) != SIGNATURES[name]:
        raise kind.refuse(path, f"its exported {name} does not take and give what a {name} does")
    config: dict[str, object] = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    try:
        compiled = core.compile_model(model, "CPU", {**config, "CACHE_DIR": str(compiled_cache())})
    except RuntimeError:  # a cache folder that cannot be made: the cache is an optimisation, never fatal
        compiled = core.compile_model(model, "CPU", config)
    return ExportedNetwork(compiled)


def compiled_cache() -> Path:
    """Where OpenVINO keeps the networks it compiled: one blob per model and settings, which it checks when
    it reads one back and compiles again (rewriting it) when the blob is damaged."""
    return cache_root() / "openvino"
