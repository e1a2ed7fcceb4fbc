"""Temp names beside an output (stylecut.video.tempfiles): unique, hidden, no longer than the output's;
a killed run's are removed by the next run that writes the same output, and nothing else is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stylecut.errors import OutputError
from stylecut.video import tempfiles
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
        assert len(os.fsencode(temp)) <= max(len(os.fsencode(name)), 53)
        (tmp_path / temp).touch()  # the file system takes it


def test_check_writable_refuses_names_too_long_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="too long: 304 bytes"):
        check_writable(tmp_path / f"{'x' * 300}.mp4")
    with pytest.raises(OutputError, match="too long"):
        check_name_length(tmp_path / ("d" * 256) / "out.mp4")

    check_writable(tmp_path / "new" / f"{'n' * 245}.mp4")  # creates the folder, and its check file fits
    assert [p.name for p in tmp_path.iterdir()] == ["new"] and not list((tmp_path / "new").iterdir())


DEAD = 0xFFFFFFF  # above any system's largest process id: no process has it


def named_by(temp: Path, pid: int, host: str = tempfiles._HOST) -> Path:
    """``temp`` (a name :func:`temp_path` gave) as if process ``pid`` on ``host`` had written it."""
    mine = f"{tempfiles._HOST}{os.getpid():x}-"
    assert mine in temp.name
    return temp.with_name(temp.name.replace(mine, f"{host}{pid:x}-"))


@pytest.mark.parametrize("name", ["out.tiny.mp4", f"{'long-name-' * 20}.tiny.mov", ".hidden.mkv"])
def test_a_killed_runs_temp_files_are_removed_and_nothing_else(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    video = named_by(temp_path(target, "video"), DEAD)
    parts = named_by(temp_path(target, "parts"), DEAD)
    timed = named_by(temp_path(temp_path(target, "video"), "timed"), DEAD)  # of the video temp
    stale = [video, parts, timed]
    kept = [
        temp_path(target, "video"),  # this process: a run still writing
        named_by(temp_path(target, "remux"), DEAD, host="0000" if tempfiles._HOST != "0000" else "ffff"),
        named_by(temp_path(tmp_path / f"other{target.suffix}", "video"), DEAD),  # another output's
        named_by(temp_path(target.with_suffix(".webm"), "video"), DEAD),
        tmp_path / f".{target.stem}.stylecut-video{target.suffix}",  # the user's own name
        tmp_path / f".{target.name}",
        target,  # an earlier output, which --overwrite replaces only when it is done
    ]
    for path in [*stale, *kept]:
        path.touch()
    parts.unlink()
    parts.mkdir()
    (parts / "part0000.mp4").touch()

    check_writable(target)

    assert sorted(tmp_path.iterdir()) == sorted(kept)
