"""Style files with torch: writing a generator's weights, and rebuilding a generator from a checked file.

The format and every check that needs no tensor data live in metadata.py.
A generator is rebuilt only after, in this order: the checksum matches when
one is known (bundled styles, on every load); the metadata is within bounds;
the header lists exactly the tensors the declared architecture has, with its
shapes, as 32-bit floats (compared with a generator made on torch's meta
device, which allocates nothing). Only then are the weights read, and they
must be finite. No pickle anywhere, so a style file from a stranger cannot
run code.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from stylecut.errors import StyleError
from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.styles.metadata import FORMAT, TensorLayout, read_metadata, tensor_layout

WEIGHT_DTYPE = "F32"  # as save_style writes them


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_style(path: Path, generator: Generator, metadata: dict) -> str:
    """Write atomically; returns the file's sha256."""
    document = dict(metadata, architecture=generator.config.to_dict())
    tensors = {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(
        tensors, str(tmp), metadata={"format": FORMAT, "stylecut": json.dumps(document, sort_keys=True)}
    )
    os.chmod(tmp, 0o644)  # a style is shareable data, whatever the writer's temp-file defaults
    os.replace(tmp, path)
    return sha256_of(path)


def expected_layout(config: GeneratorConfig) -> TensorLayout:
    """The tensors a generator of this architecture has, from a generator that holds no memory."""
    with torch.device("meta"):
        generator = Generator(config)
    return {key: (WEIGHT_DTYPE, tuple(value.shape)) for key, value in generator.state_dict().items()}


def load_generator(path: Path, expected_sha256: str | None = None) -> tuple[Generator, dict]:
    """Rebuild the generator a style file describes, after checking all that can be checked."""
    try:
        if expected_sha256 is not None and sha256_of(path) != expected_sha256:
            raise StyleError(f"{path} does not match its checksum: the file is damaged or was replaced.")
    except OSError as exc:
        raise StyleError(f"{path} cannot be read ({exc.strerror or exc}).") from exc
    metadata = read_metadata(path)
    config = GeneratorConfig.from_dict(metadata["architecture"])
    if tensor_layout(path) != expected_layout(config):
        raise StyleError(f"{path} is a damaged style file: its weights do not fit its architecture.")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise StyleError(f"{path} could not be read: it changed or became unreadable while loading.") from exc
    if not all(bool(torch.isfinite(tensor).all()) for tensor in tensors.values()):
        raise StyleError(f"{path} is a damaged style file: its weights hold NaN or infinite values.")
    generator = Generator(config)
    generator.load_state_dict(tensors)
    return generator.eval().requires_grad_(False), metadata
