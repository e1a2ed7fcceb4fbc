"""Shared fixtures: a session-wide factory of tiny synthetic clips (see tests/media.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import media


@pytest.fixture(scope="session")
def make_clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``make_clip(size=..., fps=..., frames=..., audio=..., rotation=..., container=...)`` -> path.

    Clips are cached per parameter set for the session; tests must not modify them.
    """
    cache: dict[tuple, Path] = {}

    def factory(**params: object) -> Path:
        key = tuple(sorted(params.items()))
        if key not in cache:
            folder = tmp_path_factory.mktemp("clip")
            cache[key] = media.make_clip(folder, **params)
        return cache[key]

    return factory
