"""The user's folders: one answer for every command and training script."""

from pathlib import Path

import pytest

from stylecut import user_folders
from stylecut.runtime.cache import cache_root


def test_stylecut_home_holds_styles_runs_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLECUT_HOME", str(tmp_path))
    assert user_folders.styles_folder() == tmp_path / "styles"
    assert user_folders.runs_folder() == tmp_path / "runs"
    assert cache_root() == tmp_path / "cache" / "runtime"


def test_without_stylecut_home_the_platform_folders_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STYLECUT_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert user_folders.styles_folder() == tmp_path / "data" / "stylecut" / "styles"
    # Finetune's runs and the temporal trainer's runs are one folder, beside the styles.
    assert user_folders.runs_folder() == tmp_path / "data" / "stylecut" / "runs"
    assert cache_root() == tmp_path / "cache" / "stylecut" / "runtime"
