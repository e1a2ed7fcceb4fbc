"""The recurrent temporal stage's weights file: safetensors with its config, checked before anything is built.

One ``.safetensors`` file whose header holds ``format`` (:data:`FORMAT`) and,
under ``stylecut``, a JSON object with the stage's ``config``
(:class:`RecurrentConfig`) and fields stylecut only stores (training
recipe, metrics): a checked weights file (weights_file.py). The shipped file is listed in ``weights/manifest.json``
under ``temporal`` with its sha256, checked on every load. A stage is built
only after the checksum (when known) matches, the config is within bounds,
the tensors are exactly the ones that config's network has, as 32-bit
floats, and they are finite. No pickle: a file from a stranger cannot run code.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from stylecut.errors import UsageError
from stylecut.runtime.exported import TEMPORAL
from stylecut.temporal.recurrent_config import INPUT_CHANNELS, RecurrentConfig
from stylecut.weights_file import WeightsKind, check_sha256, load_tensors, read_document, save_weights

if TYPE_CHECKING:
    import numpy as np

    from stylecut.temporal.recurrent import RecurrentTemporal, TemporalNet

FORMAT = "stylecut-temporal/1"
TEMPORAL_FILE = WeightsKind(
    FORMAT, UsageError, "is not a usable temporal network file", "stylecut temporal network", "config"
)
MANIFEST = "manifest.json"
MANIFEST_KEY = "temporal"


def save_recurrent(path: Path, stage: RecurrentTemporal, metadata: dict) -> str:
    """Write the stage's network (exported for the light runtime too) and config atomically; returns the
    file's sha256."""
    document = dict(metadata, config=stage.config.to_dict())
    return save_weights(path, TEMPORAL_FILE, stage.net.state_dict(), document, export_temporal(stage.net))


def export_temporal(net: TemporalNet) -> dict[str, np.ndarray]:
    """The network's export: inputs ``x`` (N, 22, h, w) and ``hidden`` (its hidden shape), outputs both."""
    import torch

    from stylecut.runtime.export import export_network
    from stylecut.runtime.openvino_runner import PROBE_SIZE

    seeded = torch.Generator().manual_seed(0)
    x = torch.rand(1, INPUT_CHANNELS, PROBE_SIZE, PROBE_SIZE, generator=seeded)
    hidden = torch.rand(net.hidden_shape(1, PROBE_SIZE, PROBE_SIZE), generator=seeded)
    return export_network(TEMPORAL, net, (x, hidden))


def read_config(path: Path, expected_sha256: str | None = None) -> tuple[RecurrentConfig, dict]:
    """The file's checked config and its metadata, after its checksum (when known); UsageError otherwise."""
    check_sha256(path, TEMPORAL_FILE, expected_sha256)
    document = read_document(path, TEMPORAL_FILE)
    try:
        return RecurrentConfig.from_dict(document.get("config")), document
    except (TypeError, ValueError) as exc:
        raise TEMPORAL_FILE.refuse(path, "its config is missing or out of bounds") from exc


def load_recurrent(path: Path, expected_sha256: str | None = None) -> tuple[RecurrentTemporal, dict]:
    """The stage a weights file describes and the file's metadata, after every check; UsageError otherwise."""
    from stylecut.temporal.recurrent import RecurrentTemporal, TemporalNet

    config, document = read_config(path, expected_sha256)
    tensors = load_tensors(path, TEMPORAL_FILE, lambda: TemporalNet(config.features, config.hidden))
    stage = RecurrentTemporal(config)
    stage.net.load_state_dict(tensors)
    return stage.eval().requires_grad_(False), document


def bundled_recurrent() -> tuple[Path, str] | None:
    """The shipped weights file and its sha256 from ``weights/manifest.json``, or None when none ships."""
    folder = Path(str(resources.files("stylecut_weights")))
    manifest = folder / MANIFEST
    if not manifest.exists():
        return None
    entry = json.loads(manifest.read_text()).get(MANIFEST_KEY)
    if entry is None:
        return None
    return folder / entry["file"], entry["sha256"]
