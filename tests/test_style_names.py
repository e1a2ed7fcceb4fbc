"""A style's name means one style: no user file takes a bundled name, and a name two files claim is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stylecut.commands import finetune
from stylecut.errors import StyleError, UsageError
from stylecut.styles import registry

from cli_support import assert_one_sentence, make_style, run_cli

FAST = ("--preset", "ultrafast", "--quiet")


@pytest.fixture
def bundled() -> registry.StyleEntry:
    return registry.bundled_styles()[0]


def user_entries() -> dict[Path, registry.StyleEntry]:
    return {entry.path: entry for entry in registry.user_styles()}


def test_a_name_two_user_files_claim_is_refused_in_both(
    stylecut_home: Path, make_clip, tmp_path: Path
) -> None:
    folder = stylecut_home / "styles"
    first = make_style(folder / "a-look.safetensors", "t-min")
    second = make_style(folder / "t-min.safetensors", "t-min")
    entries = user_entries()
    for path, other in ((first, second), (second, first)):
        assert entries[path].problem is not None and str(other) in entries[path].problem
    with pytest.raises(StyleError, match="t-min"):
        registry.resolve_style("t-min")

    source = tmp_path / "clip.mp4"
    shutil.copy(make_clip(frames=3), source)
    result = run_cli("apply", source, "--style", "t-min", *FAST)
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, "t-min", "remove one")
    assert not (tmp_path / "clip.t-min.mp4").exists()


def test_a_user_file_never_takes_a_bundled_name(stylecut_home: Path, bundled: registry.StyleEntry) -> None:
    spoof = make_style(stylecut_home / "styles" / "renamed.safetensors", bundled.name)
    assert "bundled" in (user_entries()[spoof].problem or "")
    resolved = registry.resolve_style(bundled.name)
    assert (resolved.origin, resolved.path) == ("bundled", bundled.path)


def test_a_file_by_path_with_a_bundled_name_is_refused(
    stylecut_home: Path, bundled: registry.StyleEntry, make_clip, tmp_path: Path
) -> None:
    spoof = make_style(tmp_path / "download.safetensors", bundled.name)
    source = tmp_path / "clip.mp4"
    shutil.copy(make_clip(frames=3), source)
    result = run_cli("apply", source, "--style", spoof, *FAST)
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, "download.safetensors", f"'{bundled.name}'")
    assert not (tmp_path / f"clip.{bundled.name}.mp4").exists()


def test_a_file_by_path_with_a_user_style_name_is_refused(stylecut_home: Path, tmp_path: Path) -> None:
    installed = make_style(stylecut_home / "styles" / "my-look.safetensors", "my-look")
    with pytest.raises(StyleError, match="my-look"):
        registry.resolve_style(str(make_style(tmp_path / "copy.safetensors", "my-look")))
    assert registry.resolve_style(str(installed)).origin == "user"  # its own file is that style


def test_a_bundled_style_by_its_own_path_is_that_style(bundled: registry.StyleEntry) -> None:
    entry = registry.resolve_style(str(bundled.path))
    assert (entry.origin, entry.sha256) == ("bundled", bundled.sha256)


def test_finetune_refuses_a_name_another_user_file_carries(stylecut_home: Path) -> None:
    make_style(stylecut_home / "styles" / "other.safetensors", "my-look")
    with pytest.raises(UsageError, match="other.safetensors"):
        finetune.check_name("my-look", overwrite=True)
