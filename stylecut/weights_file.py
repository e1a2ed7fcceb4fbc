"""Checked weights files: one safetensors file with a JSON document in its header, read as untrusted.

Style files and the temporal network's file are both such a file: the
header holds ``format`` (the kind's tag) and, under ``stylecut``, a JSON
object (what the network is, and fields stylecut only stores). This module
holds what every kind shares: the atomic write, the header read (no tensor
data and no torch, so listing styles stays light), the sha256, and loading
the weights only after their names, shapes and dtype match the declared
network built on torch's meta device (which allocates nothing), and then
only when they are finite. A file may also hold its networks exported for
the light runtime (:data:`EXPORTED`), which :func:`read_exported` reads as
bytes without torch. No pickle anywhere, so a file from a stranger cannot
run code. Each refusal is one sentence naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from safetensors import SafetensorError, safe_open

from stylecut.errors import StylecutError

if TYPE_CHECKING:
    import torch

WEIGHT_DTYPE = "F32"  # as save_weights writes them
# Tensors under this prefix hold a network exported for the light runtime (runtime/export.py), not weights:
# EXPORTED + "NAME.xml" and EXPORTED + "NAME.bin", the bytes of its OpenVINO IR.
EXPORTED = "openvino/"
MAX_EXPORTED_BYTES = 64 << 20  # an exported network of the largest generator a style may declare is < 30 MB
DOCUMENT_KEY = "stylecut"

TensorLayout = dict[str, tuple[str, tuple[int, ...]]]


@dataclass(frozen=True)
class WeightsKind:
    """A kind of weights file: its header's format tag, the error it raises and how refusals name it."""

    format: str
    error: type[StylecutError]
    damaged: str  # said of a file of this kind that cannot be used: "is a damaged style file"
    holds: str  # what a file of this kind holds: "stylecut style"
    network_key: str  # the document's key that declares the network: "architecture"
    foreign: str | None = None  # said of a file that is not of this kind; None: as of a damaged one

    def refuse(self, path: Path, why: str, *, foreign: bool = False) -> StylecutError:
        said = self.foreign if foreign and self.foreign else self.damaged
        return self.error(f"{path} {said}: {why}.")


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def save_weights(
    path: Path,
    kind: WeightsKind,
    tensors: Mapping[str, torch.Tensor],
    document: dict,
    exported: Mapping[str, np.ndarray] | None = None,
) -> str:
    """Write the tensors (as 32-bit floats), the ``exported`` networks' bytes (runtime/export.py) and the
    document atomically; returns the file's sha256."""
    import torch
    from safetensors.torch import save_file  # torch, needed only once a network is written

    plain = {key: value.detach().cpu().float().contiguous() for key, value in tensors.items()}
    plain.update({key: torch.tensor(data) for key, data in (exported or {}).items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    header = {"format": kind.format, DOCUMENT_KEY: json.dumps(document, sort_keys=True)}
    save_file(plain, str(tmp), metadata=header)
    os.chmod(tmp, 0o644)  # weights are shareable data, whatever the writer's temp-file defaults
    os.replace(tmp, path)
    return sha256_of(path)


@contextmanager
def _opened(path: Path, kind: WeightsKind) -> Iterator:
    """The file's safetensors header; safetensors checks that the file holds every byte it declares."""
    if not path.is_file():
        raise kind.error(f"{path} is not a file.")
    try:
        with safe_open(str(path), framework="numpy") as handle:
            yield handle
    except SafetensorError as exc:
        raise kind.refuse(path, "it is not a complete safetensors file", foreign=True) from exc
    except OSError as exc:
        raise kind.error(f"{path} cannot be read ({exc.strerror or exc}).") from exc


def read_document(path: Path, kind: WeightsKind) -> dict:
    """The JSON object in the file's header, unchecked beyond being one; no tensor data is read."""
    with _opened(path, kind) as handle:
        header = handle.metadata() or {}
    if header.get("format") != kind.format or DOCUMENT_KEY not in header:
        raise kind.refuse(path, f"it holds no {kind.holds}", foreign=True)
    try:
        document = json.loads(header[DOCUMENT_KEY])
    except (ValueError, RecursionError) as exc:
        raise kind.refuse(path, "its metadata is not valid JSON") from exc
    if not isinstance(document, dict):
        raise kind.refuse(path, "its metadata is not a JSON object")
    return document


def tensor_layout(path: Path, kind: WeightsKind) -> TensorLayout:
    """Each tensor's dtype and shape, from the header alone."""
    with _opened(path, kind) as handle:
        slices = {key: handle.get_slice(key) for key in handle.keys()}
        return {key: (piece.get_dtype(), tuple(piece.get_shape())) for key, piece in slices.items()}


def read_exported(path: Path, kind: WeightsKind, name: str) -> tuple[bytes, np.ndarray] | None:
    """The exported network ``name`` in the file: its IR's XML and its weights' bytes, or None when the file
    holds none (made before exports, or by hand). Refused unless both are byte arrays of a bounded size."""
    keys = (f"{EXPORTED}{name}.xml", f"{EXPORTED}{name}.bin")
    layout = tensor_layout(path, kind)
    if not all(key in layout for key in keys):
        return None
    if not all(
        layout[key][0] == "U8" and len(layout[key][1]) == 1 and layout[key][1][0] <= MAX_EXPORTED_BYTES
        for key in keys
    ):
        raise kind.refuse(path, f"its exported {name} is not two byte arrays of at most 64 MB")
    with _opened(path, kind) as handle:
        xml, weights = (handle.get_tensor(key) for key in keys)
    return xml.tobytes(), weights


def check_sha256(path: Path, kind: WeightsKind, expected: str | None) -> None:
    """Refuse a file whose sha256 is not the one known for it (None: nothing is known)."""
    if expected is None:
        return
    try:
        matches = sha256_of(path) == expected
    except OSError as exc:
        raise kind.error(f"{path} cannot be read ({exc.strerror or exc}).") from exc
    if not matches:
        raise kind.error(f"{path} does not match its checksum: the file is damaged or was replaced.")


def load_tensors(
    path: Path, kind: WeightsKind, network: Callable[[], torch.nn.Module]
) -> dict[str, torch.Tensor]:
    """The file's tensors, once they are exactly ``network()``'s (built on the meta device) and finite."""
    import torch
    from safetensors.torch import load_file

    with torch.device("meta"):
        expected = {key: (WEIGHT_DTYPE, tuple(value.shape)) for key, value in network().state_dict().items()}
    layout = {key: value for key, value in tensor_layout(path, kind).items() if not key.startswith(EXPORTED)}
    if layout != expected:
        raise kind.refuse(path, f"its weights do not fit its {kind.network_key}")
    try:
        tensors = {key: value for key, value in load_file(str(path)).items() if key in expected}
    except (SafetensorError, OSError) as exc:
        raise kind.error(f"{path} could not be read: it changed or became unreadable while loading.") from exc
    if not all(bool(torch.isfinite(tensor).all()) for tensor in tensors.values()):
        raise kind.refuse(path, "its weights hold NaN or infinite values")
    return tensors
