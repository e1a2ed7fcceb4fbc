"""Style files: safetensors + metadata, checksums, clear errors for damaged or foreign files."""

import pytest
import torch

from stylecut.errors import StyleError
from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.styles import registry
from stylecut.styles.metadata import read_metadata
from stylecut.styles.style_file import load_generator, save_style
from stylecut.user_folders import styles_folder

TINY = GeneratorConfig(widths=(8, 16, 16), residual_blocks=1)


def _save(path, name="tiny"):
    torch.manual_seed(0)
    generator = Generator(TINY)
    return generator, save_style(
        path, generator, {"name": name, "style_image": "painting.jpg", "description": "a test style"}
    )


def test_round_trip_rebuilds_the_same_network(tmp_path):
    generator, sha = _save(tmp_path / "tiny.safetensors")
    loaded, meta = load_generator(tmp_path / "tiny.safetensors", expected_sha256=sha)
    assert meta["name"] == "tiny" and meta["architecture"] == TINY.to_dict()
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        assert torch.allclose(loaded(x), generator.eval()(x))


def test_checksum_mismatch_is_refused(tmp_path):
    _save(tmp_path / "tiny.safetensors")
    with pytest.raises(StyleError, match="checksum"):
        load_generator(tmp_path / "tiny.safetensors", expected_sha256="0" * 64)


def test_a_file_that_is_not_a_style_is_refused(tmp_path):
    bogus = tmp_path / "bogus.safetensors"
    bogus.write_bytes(b"not a safetensors file at all")
    with pytest.raises(StyleError, match="not a stylecut style file"):
        read_metadata(bogus)


def test_unknown_style_lists_known_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLECUT_HOME", str(tmp_path))
    _save(styles_folder() / "mine.safetensors", name="mine")
    with pytest.raises(StyleError, match="mine"):
        registry.resolve_style("no-such-style")
    assert registry.resolve_style("mine").origin == "user"


def test_bundled_styles_match_their_checksums():
    for entry in registry.bundled_styles():
        generator, meta = registry.load_style(entry)
        assert meta["name"] == entry.name
        assert entry.preview is not None and entry.preview.exists()
