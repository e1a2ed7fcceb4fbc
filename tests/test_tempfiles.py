"""Temp names beside an output (stylecut.video.tempfiles): unique, hidden, no longer than the output's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stylecut.errors import OutputError
from stylecut.video.tempfiles import check_name_length, check_writable, temp_path


@pytest.mark.parametrize(
    "name", ["a.mp4", "clip.the-scream.mov", f"{'n' * 236}.tiny.mp4", f"{'é' * 120}.tiny.mkv"]
)
def test_temp_names_are_hidden_unique_and_no_longer_than_the_output(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    names = {temp_path(target, role).name for role in ("video", "remux", "check") for _ in range(20)}

    assert len(names) == 60
    for temp in names:
        assert temp.startswith(".") and temp.endswith(target.suffix)
        assert len(os.fsencode(temp)) <= max(len(os.fsencode(name)), 48)
        (tmp_path / temp).touch()  # the file system takes it


def test_check_writable_refuses_names_too_long_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="too long: 304 bytes"):
        check_writable(tmp_path / f"{'x' * 300}.mp4")
    with pytest.raises(OutputError, match="too long"):
        check_name_length(tmp_path / ("d" * 256) / "out.mp4")

    check_writable(tmp_path / "new" / f"{'n' * 245}.mp4")  # creates the folder, and its check file fits
    assert [p.name for p in tmp_path.iterdir()] == ["new"] and not list((tmp_path / "new").iterdir())
