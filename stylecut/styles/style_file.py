"""Style files with torch: writing a style's networks, and rebuilding them from a checked file.

A style file holds its generator's tensors and, when the style has one, its revision network's
(models/revision.py) under ``revision.``, declared by the metadata's ``revision`` architecture.

The format and every check that needs no tensor data live in metadata.py;
the file itself is a checked weights file (weights_file.py). A generator is
rebuilt only after, in this order: the checksum matches when one is known
(bundled styles, on every load); the metadata is within bounds; the header
lists exactly the tensors the declared architecture has, with its shapes,
as 32-bit floats; and the weights are finite.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.models.revision import Revision, RevisionConfig
from stylecut.runtime.export import export_generator, export_revision
from stylecut.styles.metadata import REVISION_PREFIX, STYLE_FILE, read_metadata
from stylecut.weights_file import check_sha256, load_tensors, save_weights


def save_style(path: Path, generator: Generator, metadata: dict, revision: Revision | None = None) -> str:
    """Write atomically, with the networks exported for the light runtime; returns the file's sha256."""
    document = dict(metadata, architecture=generator.config.to_dict())
    exported = export_generator(generator)
    document.pop("revision", None)
    if revision is not None:
        document["revision"] = revision.config.to_dict()
        exported |= export_revision(revision)
    return save_weights(path, STYLE_FILE, _layout(generator, revision).state_dict(), document, exported)


def load_generator(path: Path, expected_sha256: str | None = None) -> tuple[Generator, dict]:
    """Rebuild the generator a style file describes, after checking all that can be checked."""
    generator, _, metadata = load_networks(path, expected_sha256)
    return generator, metadata


def load_networks(path: Path, expected_sha256: str | None = None) -> tuple[Generator, Revision | None, dict]:
    """Rebuild the generator and the revision network (None when the style has none) a style file describes,
    after checking all that can be checked."""
    check_sha256(path, STYLE_FILE, expected_sha256)
    metadata = read_metadata(path)
    config = GeneratorConfig.from_dict(metadata["architecture"])
    revision_config = RevisionConfig.from_dict(metadata["revision"]) if metadata["revision"] else None

    def networks() -> tuple[Generator, Revision | None]:
        return Generator(config), Revision(revision_config) if revision_config else None

    tensors = load_tensors(path, STYLE_FILE, lambda: _layout(*networks()))
    generator, revision = networks()
    _layout(generator, revision).load_state_dict(tensors)
    if revision is not None:
        revision.eval().requires_grad_(False)
    return generator.eval().requires_grad_(False), revision, metadata


def _layout(generator: Generator, revision: Revision | None) -> nn.Module:
    """A module that shares the networks' tensors, its state dict in a style file's layout: the generator's
    tensors, the revision's under ``revision.``."""
    layout = nn.Module()
    for name, child in generator.named_children():
        layout.add_module(name, child)
    if revision is not None:
        layout.add_module(REVISION_PREFIX.rstrip("."), revision)
    return layout
