"""`apply --temporal`: the trained recurrent stage by default, the fixed fuser on request, a damaged network refused.

Tiny synthetic clips and a tiny random style, through the real command line;
the stages' ``fuse_chunk`` is wrapped to count the frames each one is given.
"""

from __future__ import annotations

import json
import shutil

import pytest

from stylecut.temporal import stages
from stylecut.temporal.fuser import TemporalFuser
from stylecut.temporal.recurrent import RecurrentTemporal
from stylecut.temporal.recurrent_file import bundled_recurrent
from stylecut.video.probe import probe

from cli_support import assert_one_sentence, assert_same_timing, run_cli

FAST = ("--preset", "ultrafast")
NOTICES = {
    "recurrent": "Temporal module: the recurrent network",
    "fuser": "Temporal module: the fixed fuser",
}


def _counting(stage: type, seen: dict[str, int]):
    original = stage.fuse_chunk

    def fuse_chunk(self, frames, *rest):
        seen[self.name] += len(frames)
        return original(self, frames, *rest)

    return fuse_chunk


@pytest.mark.parametrize(
    ("flags", "expected"),
    [((), "recurrent"), (("--temporal", "fuser"), "fuser"), (("--temporal", "fuser", "--no-temporal"), None)],
    ids=["default", "fuser", "no-temporal"],
)
def test_apply_runs_the_temporal_stage_asked_for(
    make_clip, tiny_style, stylecut_home, tmp_path, monkeypatch, flags, expected
):
    seen = {"recurrent": 0, "fuser": 0}
    for stage in (RecurrentTemporal, TemporalFuser):
        monkeypatch.setattr(stage, "fuse_chunk", _counting(stage, seen))
    clip = make_clip(frames=10)
    target = tmp_path / "out.mp4"

    result = run_cli("apply", clip, "--style", tiny_style, "-o", target, "--json", *FAST, *flags)

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["temporal"] == expected
    assert seen == {name: 10 if name == expected else 0 for name in seen}
    said = [notice for notice in report["notices"] if notice.startswith("Temporal module")]
    assert len(said) == (expected is not None)
    assert all(notice.startswith(NOTICES[expected]) for notice in said)
    assert_same_timing(probe(clip), target)


def test_a_damaged_temporal_network_is_refused_in_one_sentence(
    make_clip, tiny_style, stylecut_home, tmp_path, monkeypatch
):
    shipped, sha256 = bundled_recurrent()
    damaged = tmp_path / shipped.name
    shutil.copy(shipped, damaged)
    data = bytearray(damaged.read_bytes())
    data[-1] ^= 0xFF  # a flipped bit in the last weight
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(stages, "bundled_recurrent", lambda: (damaged, sha256))
    target = tmp_path / "out.mp4"

    result = run_cli("apply", make_clip(frames=4), "--style", tiny_style, "-o", target)

    assert result.exit_code == 2
    assert_one_sentence(result.stderr, "checksum")
    assert not target.exists()
