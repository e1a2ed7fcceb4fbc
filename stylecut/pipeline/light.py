"""The light path: `apply` on a CPU without PyTorch, from the networks exported in the weights files.

Where PyTorch is not installed, the styliser runs the style file's exported generator and the temporal
network's on OpenVINO (runtime/exported.py), the optical flow with OpenCV's DIS, and its frame work and
the temporal stage's rules in numpy and OpenCV (array_frames.py, temporal/recurrent_arrays.py); its frames
match the PyTorch path's (tests/test_light.py). What runs only on PyTorch (a GPU, RAFT, the fixed fuser)
asks for its extra.
"""

from __future__ import annotations

from importlib.util import find_spec

import numpy as np

from stylecut.errors import UsageError
from stylecut.extras import TORCH, install_hint
from stylecut.flow.estimators import create_flow_estimator
from stylecut.models.generator_config import GeneratorConfig
from stylecut.pipeline.array_frames import ArrayFrames
from stylecut.pipeline.options import ApplyOptions
from stylecut.pipeline.stylise import ClipStyliser
from stylecut.runtime.exported import GENERATOR, REVISION, ExportedNetwork, load_exported
from stylecut.styles.metadata import STYLE_FILE, read_metadata
from stylecut.styles.registry import StyleEntry
from stylecut.temporal.recurrent_arrays import load_recurrent_arrays
from stylecut.temporal.stages import check_kind, shipped_recurrent


def runs_light() -> bool:
    """Whether `apply` takes the light path: where PyTorch is not installed."""
    return find_spec("torch") is None


class ExportedGenerator:
    """The exported generator as the styliser's runner: ``(N, 3, H, W)`` float32 arrays in [0, 1] in and
    out, one frame at a time, at the strength's feature gain (controls.py)."""

    def __init__(self, network: ExportedNetwork, strength: float) -> None:
        self.network = network
        self.gain = np.array([strength], np.float32)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [self.network({"frames": frame[None], "gain": self.gain})[0] for frame in frames]
        )


def light_generator(
    entry: StyleEntry, strength: float, threads: int | None
) -> tuple[ExportedGenerator, dict]:
    """The style's exported generator at ``strength``, compiled for ``threads`` (None: all cores), and the
    style's checked metadata."""
    metadata = read_metadata(entry.path)
    network = load_exported(entry.path, STYLE_FILE, GENERATOR, entry.sha256, threads)
    return ExportedGenerator(network, strength), metadata


class ExportedRevision:
    """The exported revision network as the frame work's revision: ``(1, 3, H, W)`` draft and ``(1, 1, H, W)``
    band float32 arrays in, the ``(1, 3, H, W)`` revised picture out."""

    def __init__(self, network: ExportedNetwork) -> None:
        self.network = network

    def __call__(self, draft: np.ndarray, band: np.ndarray) -> np.ndarray:
        return self.network({"draft": draft, "band": band})[0]


def create_light_styliser(entry: StyleEntry, options: ApplyOptions) -> tuple[ClipStyliser, list[str]]:
    """The styliser for ``entry``'s style on the light path, and the notices to show (which temporal stage
    and flow run). Raises StylecutError for what the light path cannot run or a file it cannot use."""
    # With the temporal stage the styliser's three stages (stylise.py) keep the cores busy side by side,
    # each network on one thread: threads that wait for each other there only cost CPU (7 % less CPU a
    # frame at 360p, 3 % at 1080p, measured). Frame by frame the generator is most of the work, and takes
    # every thread.
    threads = 1 if options.temporal is not None else options.threads
    generator, metadata = light_generator(entry, options.controls.strength, threads)
    revision = None
    if metadata["revision"] is not None:  # the style file's sha256 was checked with its generator
        revision = ExportedRevision(load_exported(entry.path, STYLE_FILE, REVISION, None, threads))
    parts: dict = {
        "style": entry.name,
        "working_side": metadata["working_side"],
        "work": ArrayFrames(revision),
    }
    parts["min_side"] = GeneratorConfig.from_dict(metadata["architecture"]).min_side
    notices = []
    if options.temporal is not None:
        check_kind(options.temporal)
        if options.temporal == "fuser":
            raise UsageError(f"--temporal fuser needs PyTorch: install it with {install_hint(TORCH)}.")
        path, sha256, temporal_notice = shipped_recurrent()
        flow, flow_notice = create_flow_estimator(options.flow, "cpu", options.raft_weights)
        parts.update(flow=flow, temporal=load_recurrent_arrays(path, sha256, threads))
        notices += [temporal_notice, flow_notice]
    return ClipStyliser(generator, options, **parts), notices
