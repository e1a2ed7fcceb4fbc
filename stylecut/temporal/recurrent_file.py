"""The recurrent temporal stage's weights file: safetensors with its config, checked before anything is built.

One ``.safetensors`` file whose header holds ``format`` (:data:`FORMAT`) and,
under ``stylecut``, a JSON object with the stage's ``config``
(:class:`RecurrentConfig`) and fields stylecut only stores (training
recipe, metrics). The shipped file is listed in ``weights/manifest.json``
under ``temporal`` with its sha256, checked on every load. A stage is built
only after the checksum (when known) matches, the config is within bounds,
the tensors are exactly the ones that config's network has, as 32-bit
floats, and they are finite. No pickle: a file from a stranger cannot run code.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from stylecut.errors import UsageError
from stylecut.styles.style_file import sha256_of
from stylecut.temporal.recurrent import RecurrentConfig, RecurrentTemporal, TemporalNet

FORMAT = "stylecut-temporal/1"
MANIFEST = "manifest.json"
MANIFEST_KEY = "temporal"


def save_recurrent(path: Path, stage: RecurrentTemporal, metadata: dict) -> str:
    """Write the stage's network and config atomically; returns the file's sha256."""
    document = dict(metadata, config=stage.config.to_dict())
    tensors = {k: v.detach().cpu().float().contiguous() for k, v in stage.net.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(
        tensors, str(tmp), metadata={"format": FORMAT, "stylecut": json.dumps(document, sort_keys=True)}
    )
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return sha256_of(path)


def _refuse(path: Path, why: str) -> UsageError:
    return UsageError(f"{path} is not a usable temporal network file: {why}.")


def _header(path: Path) -> tuple[dict, dict[str, tuple[str, tuple[int, ...]]]]:
    """The file's JSON document and each tensor's dtype and shape, without reading tensor data."""
    try:
        with safe_open(str(path), framework="numpy") as handle:
            header = handle.metadata() or {}
            slices = {key: handle.get_slice(key) for key in handle.keys()}
            layout = {key: (piece.get_dtype(), tuple(piece.get_shape())) for key, piece in slices.items()}
    except (SafetensorError, OSError) as exc:
        raise _refuse(path, "it is not a complete safetensors file") from exc
    if header.get("format") != FORMAT or "stylecut" not in header:
        raise _refuse(path, "it holds no stylecut temporal network")
    try:
        document = json.loads(header["stylecut"])
    except (ValueError, RecursionError) as exc:
        raise _refuse(path, "its metadata is not valid JSON") from exc
    if not isinstance(document, dict):
        raise _refuse(path, "its metadata is not a JSON object")
    return document, layout


def load_recurrent(path: Path, expected_sha256: str | None = None) -> tuple[RecurrentTemporal, dict]:
    """The stage a weights file describes and the file's metadata, after every check; UsageError otherwise."""
    try:
        if expected_sha256 is not None and sha256_of(path) != expected_sha256:
            raise UsageError(f"{path} does not match its checksum: the file is damaged or was replaced.")
    except OSError as exc:
        raise UsageError(f"{path} cannot be read ({exc.strerror or exc}).") from exc
    document, layout = _header(path)
    try:
        config = RecurrentConfig.from_dict(document.get("config"))
    except (TypeError, ValueError) as exc:
        raise _refuse(path, "its config is missing or out of bounds") from exc
    with torch.device("meta"):
        expected = {
            k: ("F32", tuple(v.shape))
            for k, v in TemporalNet(config.features, config.hidden).state_dict().items()
        }
    if layout != expected:
        raise _refuse(path, "its weights do not fit its config")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise _refuse(path, "it changed or became unreadable while loading") from exc
    if not all(bool(torch.isfinite(t).all()) for t in tensors.values()):
        raise _refuse(path, "its weights hold NaN or infinite values")
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
