"""What a bundled style file says of its training is what its recipe in training/configs trains."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from stylecut.styles.metadata import read_metadata
from stylecut.styles.registry import bundled_styles

ROOT = Path(__file__).resolve().parent.parent
STYLES = bundled_styles()


@pytest.mark.parametrize("style", STYLES, ids=[s.name for s in STYLES])
def test_a_bundled_generator_is_trained_in_two_stages_the_second_adversarial(style):
    metadata = read_metadata(style.path)
    recipe = tomllib.loads((ROOT / metadata["recipe"]).read_text())
    first, second = metadata["pre_training"]["training"]["config"], metadata["training"]["config"]

    assert metadata["pre_training"]["recipe"] == metadata["recipe"]
    assert first["adversarial_weight"] == recipe["adversarial_weight"] == 0
    assert first["steps"] == recipe["steps"]
    assert second["adversarial_weight"] > 0
    assert {k: second[k] for k in recipe["adversarial"]} == recipe["adversarial"]
    assert metadata["revision_training"]["adversarial_weight"] > 0
