"""10-bit and HDR footage: its precision kept where the codec holds it, no level shift, and a notice where
bits or range must be lost.

Every source is a lossless (FFV1) 10-bit clip tagged BT.2020 PQ, made by ``media.make_deep_clip``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from stylecut.video import encode
from stylecut.video.decode import iter_frames
from stylecut.video.ffmpeg_tools import ffmpeg_exe
from stylecut.video.probe import probe

import media
from cli_support import run_cli

FAST = ("--preset", "ultrafast")
HDR_TAGS = ("bt2020nc", "bt2020", "smpte2084")


def _apply(source, target, *flags):
    result = run_cli("apply", source, "-o", target, "--json", *FAST, *flags)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["jobs"][0]


def test_strength_0_in_prores_keeps_every_code_of_a_10_bit_ramp(tmp_path, tiny_style, stylecut_home):
    source = media.make_deep_clip(tmp_path)
    job = _apply(source, tmp_path / "out.mov", "--style", tiny_style, "--strength", 0, "--codec", "prores")
    before, after = media.yuv_codes(source), media.yuv_codes(tmp_path / "out.mov")
    assert len(np.unique(before[:, 0])) == 137
    assert np.array_equal(after, before)  # 8 bits on the way kept 35 of the 137 luma codes
    assert job["notice"] is None


@pytest.mark.parametrize(
    ("codec", "suffix", "pix_fmt", "tolerance"),
    [("prores", "mov", "yuv422p10le", 0), ("h265", "mp4", "yuv420p10le", 1), ("h264", "mp4", "yuv420p", 2)],
)
def test_a_flat_10_bit_patch_keeps_its_level_and_tags(
    tmp_path, tiny_style, stylecut_home, codec, suffix, pix_fmt, tolerance
):
    source = media.make_deep_clip(tmp_path, luma="500", chroma=(400, 620), size="64x32")
    target = tmp_path / f"out.{suffix}"
    job = _apply(source, target, "--style", tiny_style, "--strength", 0, "--codec", codec)
    out = probe(target)
    assert out.pix_fmt == pix_fmt
    assert (out.color_space, out.color_primaries, out.color_transfer, out.color_range) == (*HDR_TAGS, "tv")
    # Within half an 8-bit level for H.264 (one 8-bit level is four 10-bit codes); the old path lost 6.
    shift = media.yuv_codes(target).mean(axis=(0, 2, 3)) - (500, 400, 620)
    assert np.abs(shift).max() <= tolerance
    if codec == "h264":
        assert "8 of its 10 bits" in job["notice"] and "--codec prores" in job["notice"]
    else:
        assert job["notice"] is None


def test_a_full_range_source_in_prores_is_written_and_tagged_as_video_range(
    tmp_path, tiny_style, stylecut_home
):
    source = media.make_deep_clip(tmp_path, luma="1000", size="64x32", colour_range="pc")
    target = tmp_path / "out.mov"
    job = _apply(source, target, "--style", tiny_style, "--strength", 0, "--codec", "prores")
    assert probe(target).color_range == "tv"
    # ProRes in .mov has no full-range flag: a player reads it as video range, so it must be video range
    # (within ffmpeg's scaler's own 16-bit rounding, which is 0.3% short at white in one range and not the other).
    assert media.yuv_codes(target)[:, 0].mean() == pytest.approx(64 + 1000 / 1023 * 876, abs=3)
    assert "full range" in job["notice"]


def test_h265_keeps_10_bits_only_where_this_ffmpegs_x265_has_them(tmp_path, monkeypatch):
    info = probe(media.make_deep_clip(tmp_path, frames=1))
    monkeypatch.setattr(encode, "_x265_has_10_bits", lambda exe: False)
    assert encode.output_bits("h265", info) == 8
    assert "H.265 keeps 8 of its 10 bits" in encode.reduction_notice(info, "h265")
    monkeypatch.setattr(encode, "_x265_has_10_bits", lambda exe: True)
    assert encode.output_bits("h265", info) == 10
    assert encode.reduction_notice(info, "h265") is None


def test_deep_frames_are_16_bit_upright_and_seek_exactly(tmp_path):
    flat = media.make_deep_clip(tmp_path, "flat", luma="64+X*13", chroma=(300, 700), size="64x32", frames=7)
    turned = tmp_path / "turned.mov"
    media.run_ffmpeg("-display_rotation", "-90", "-i", str(flat), "-map", "0", "-c", "copy", str(turned))
    info = probe(turned)
    assert (info.bit_depth, info.rotation, info.display_width, info.display_height) == (10, 90, 32, 64)
    frames = np.concatenate(list(iter_frames(info, 3)))
    assert np.array_equal(frames, media.decode_reference(turned, "rgb48le"))
    assert np.array_equal(np.concatenate(list(iter_frames(info, 2, 4, 7))), frames[4:7])


def test_an_edit_lists_hidden_frames_are_not_decoded_at_10_bits(tmp_path):
    coded = tmp_path / "coded.mp4"
    media.run_ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25,format=yuv420p10le", "-frames:v", "25"),
        *("-c:v", "libx265", "-x265-params", "log-level=error:keyint=10", str(coded)),
    )
    cut = tmp_path / "cut.mp4"
    media.run_ffmpeg("-ss", "0.52", "-i", str(coded), "-c", "copy", str(cut))
    info = probe(cut)
    reference = media.decode_reference(cut, "rgb48le")
    assert info.frame_count == len(reference) < 25
    assert np.array_equal(np.concatenate(list(iter_frames(info, 8))), reference)


def test_bit_depth_from_the_pixel_format_name_is_ffmpegs_for_every_format(tmp_path):
    from av.video.format import VideoFormat

    listed = subprocess.run([ffmpeg_exe(), "-hide_banner", "-pix_fmts"], capture_output=True, text=True)
    names = re.findall(r"^[IOHPB.]{5} (\S+)", listed.stdout, re.MULTILINE)
    assert {"yuv420p", "yuv422p10le", "yuv420p10le", "p010le", "gbrp12le"} <= set(names)
    info = probe(media.make_clip(tmp_path))
    for name in names:
        try:
            expected = max(8, max(c.bits for c in VideoFormat(name).components))
        except ValueError:  # a hardware format: no components
            expected = 8
        assert replace(info, pix_fmt=name).bit_depth == expected, name
    assert replace(info, pix_fmt="").bit_depth == 8


_READ_FRAMES = """
import sys
from stylecut.video.decode import iter_frames
from stylecut.video.probe import probe

info = probe(sys.argv[1])
next(iter_frames(info, 2))
print(info.bit_depth, "av" in sys.modules)
"""


def test_pyav_is_loaded_only_for_deep_footage(tmp_path):
    for clip, answer in [(media.make_clip(tmp_path), "8 False"), (media.make_deep_clip(tmp_path), "10 True")]:
        run = subprocess.run(
            [sys.executable, "-c", _READ_FRAMES, clip], capture_output=True, text=True, check=True
        )
        assert run.stdout.split() == answer.split()
