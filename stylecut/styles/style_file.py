"""The style file: generator weights in safetensors plus the metadata that rebuilds them.

One ``.safetensors`` file per style. Its header metadata holds a JSON
document under the key ``stylecut``: name, description, the generator's
architecture config, the style image's file name, the training recipe and
the measured metrics. No pickle anywhere, so a style file from a stranger
cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file, safe_open

from stylecut.errors import StyleError
from stylecut.models.generator import Generator, GeneratorConfig

FORMAT = "stylecut-style/1"
REQUIRED_KEYS = ("name", "architecture", "style_image")


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
    save_file(tensors, str(tmp), metadata={"format": FORMAT, "stylecut": json.dumps(document, sort_keys=True)})
    os.chmod(tmp, 0o644)  # a style is shareable data, whatever the writer's temp-file defaults
    os.replace(tmp, path)
    return sha256_of(path)


def read_metadata(path: Path) -> dict:
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise StyleError(f"{path} is not a stylecut style file.") from exc
    if header.get("format") != FORMAT or "stylecut" not in header:
        raise StyleError(f"{path} is not a stylecut style file.")
    document = json.loads(header["stylecut"])
    if any(key not in document for key in REQUIRED_KEYS):
        raise StyleError(f"{path} is a damaged style file: its metadata is incomplete.")
    return document


def load_generator(path: Path, expected_sha256: str | None = None) -> tuple[Generator, dict]:
    """Rebuild the generator a style file describes; check its checksum when one is known."""
    if expected_sha256 is not None and sha256_of(path) != expected_sha256:
        raise StyleError(f"{path} does not match its checksum: the file is damaged or was replaced.")
    metadata = read_metadata(path)
    generator = Generator(GeneratorConfig.from_dict(metadata["architecture"]))
    try:
        generator.load_state_dict(load_file(str(path)))
    except (RuntimeError, SafetensorError) as exc:
        raise StyleError(f"{path} is a damaged style file: its weights do not fit its architecture.") from exc
    return generator.eval().requires_grad_(False), metadata
