"""Style files with torch: writing a generator's weights, and rebuilding a generator from a checked file.

The format and every check that needs no tensor data live in metadata.py;
the file itself is a checked weights file (weights_file.py). A generator is
rebuilt only after, in this order: the checksum matches when one is known
(bundled styles, on every load); the metadata is within bounds; the header
lists exactly the tensors the declared architecture has, with its shapes,
as 32-bit floats; and the weights are finite.
"""

from __future__ import annotations

from pathlib import Path

from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.runtime.export import export_generator
from stylecut.styles.metadata import STYLE_FILE, read_metadata
from stylecut.weights_file import check_sha256, load_tensors, save_weights


def save_style(path: Path, generator: Generator, metadata: dict) -> str:
    """Write atomically, with the generator exported for the light runtime; returns the file's sha256."""
    document = dict(metadata, architecture=generator.config.to_dict())
    return save_weights(path, STYLE_FILE, generator.state_dict(), document, export_generator(generator))


def load_generator(path: Path, expected_sha256: str | None = None) -> tuple[Generator, dict]:
    """Rebuild the generator a style file describes, after checking all that can be checked."""
    check_sha256(path, STYLE_FILE, expected_sha256)
    metadata = read_metadata(path)
    config = GeneratorConfig.from_dict(metadata["architecture"])
    tensors = load_tensors(path, STYLE_FILE, lambda: Generator(config))
    generator = Generator(config)
    generator.load_state_dict(tensors)
    return generator.eval().requires_grad_(False), metadata
