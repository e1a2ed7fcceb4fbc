"""A clip whose later keyframes decode right only after its start: FrameReader must not seek into it blindly.

The test clip has its picture parameters twice: in-band at its start (the ones it was encoded with) and,
different, in the MP4's avcC header. Decoding from the start uses the in-band ones for every frame; a
fresh decoder that seeks to a later keyframe has only the header's, so its chroma comes out wrong, as the
cockatoo clip's frames did after a seek (there an old x264's note in the first frame was what a seek missed).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import decord
import numpy as np
import pytest

from stylecut.video.decode import FrameReader, iter_frames, seek_notice, seeks_match
from stylecut.video.probe import probe

import media
from cli_support import run_cli

KEYFRAME = 10  # of three keyframe intervals of 10 frames


def _encode(target: Path, chroma_qp_offset: int, pix_fmt: str = "yuv420p", size: str = "128x72") -> Path:
    media.run_ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=10", "-frames:v", "30", "-c:v", "libx264",
        "-pix_fmt", pix_fmt, "-g", str(KEYFRAME), "-bf", "0",
        "-x264-params", f"chroma-qp-offset={chroma_qp_offset}", str(target),
    )  # fmt: skip
    return target


def _avcc_pps(mp4: bytes) -> tuple[int, bytes]:
    """Where the avcC header's one picture parameter set starts, and its bytes."""
    sps_at = mp4.index(b"avcC") + 4 + 8
    pps_at = sps_at + int.from_bytes(mp4[sps_at - 2 : sps_at]) + 3
    return pps_at, mp4[pps_at : pps_at + int.from_bytes(mp4[pps_at - 2 : pps_at])]


def _stateful_clip(folder: Path, pix_fmt: str, size: str = "128x72") -> Path:
    annex_b = folder / "stream.h264"
    own_clip = _encode(folder / "own.mp4", 6, pix_fmt, size)
    media.run_ffmpeg("-i", str(own_clip), "-c", "copy", "-bsf:v", "h264_mp4toannexb", str(annex_b))
    # The parameter sets only once, at the start, as an encoder writing a raw stream may.
    units = re.split(rb"(?=\x00\x00\x01)", annex_b.read_bytes())
    sets = [i for i, unit in enumerate(units) if unit[:3] == b"\x00\x00\x01" and unit[3] & 0x1F in (7, 8)]
    annex_b.write_bytes(b"".join(u for i, u in enumerate(units) if i not in sets[2:]))
    clip = folder / "stateful.mp4"
    media.run_ffmpeg("-r", "10", "-i", str(annex_b), "-c", "copy", str(clip))
    mp4 = bytearray(clip.read_bytes())
    at, own = _avcc_pps(mp4)
    other = _avcc_pps(_encode(folder / "other.mp4", -4, pix_fmt, size).read_bytes())[1]
    assert len(other) == len(own) and other != own
    mp4[at : at + len(other)] = other
    clip.write_bytes(mp4)
    return clip


@pytest.fixture(scope="module")
def stateful_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _stateful_clip(tmp_path_factory.mktemp("seek"), "yuv420p")


def test_the_clip_decodes_differently_after_a_seek(stateful_clip):
    assert list(decord.VideoReader(str(stateful_clip)).get_key_indices()) == [0, KEYFRAME, 2 * KEYFRAME]
    seeked = decord.VideoReader(str(stateful_clip)).get_batch([KEYFRAME + 5]).asnumpy()[0]
    assert np.abs(seeked.astype(int) - media.decode_reference(stateful_clip)[KEYFRAME + 5]).mean() > 10


def test_frames_read_anywhere_are_the_frames_decoded_from_the_start(stateful_clip):
    reference = media.decode_reference(stateful_clip)
    reader = FrameReader(stateful_clip)
    np.testing.assert_array_equal(reader.read([25, 3, 15, 15]), reference[[25, 3, 15, 15]])
    np.testing.assert_array_equal(reader.read(range(16, 22)), reference[16:22])
    np.testing.assert_array_equal(FrameReader(stateful_clip).spread(3), reference[[0, 14, 29]])
    assert "decodes wrongly from a seek" in seek_notice(stateful_clip)


def test_a_range_from_the_middle_is_decoded_from_the_start(stateful_clip):
    chunks = list(iter_frames(probe(stateful_clip), chunk_size=4, start=KEYFRAME + 2, stop=27))
    np.testing.assert_array_equal(
        np.concatenate(chunks), media.decode_reference(stateful_clip)[KEYFRAME + 2 : 27]
    )


def test_frames_with_decords_padded_rows_are_read_on_too(tmp_path):
    clip = _stateful_clip(tmp_path, "yuv420p", "96x64")  # a width decord pads: frames read one by one
    reference = media.decode_reference(clip)
    np.testing.assert_array_equal(FrameReader(clip).read([15, 16, 27]), reference[[15, 16, 27]])


def test_a_clip_that_seeks_right_is_read_with_seeks_and_no_notice(tmp_path):
    clip = _encode(tmp_path / "clip.mp4", 6)
    np.testing.assert_array_equal(FrameReader(clip).read([25, 15]), media.decode_reference(clip)[[25, 15]])
    assert seeks_match(clip)
    assert seek_notice(clip) is None


def test_a_range_of_a_10_bit_clip_is_decoded_from_the_start(tmp_path):
    clip = _stateful_clip(tmp_path, "yuv420p10le")
    info = probe(clip)
    assert info.bit_depth == 10
    chunks = list(iter_frames(info, chunk_size=4, start=KEYFRAME + 2, stop=27))
    reference = media.decode_reference(clip, "rgb48le")[KEYFRAME + 2 : 27]
    np.testing.assert_array_equal(np.concatenate(chunks), reference)


def test_apply_from_the_middle_stylises_the_frames_shown_and_says_why_it_is_slower(
    stateful_clip, tiny_style, stylecut_home, tmp_path
):
    target = tmp_path / "range.mp4"
    flags = ("--strength", "0", "--no-temporal", "--preset", "ultrafast", "--threads", "1", "--json")
    result = run_cli(
        "apply", stateful_clip, "--style", tiny_style, "-o", target, "--from", "1.2", "--to", "2.5", *flags
    )
    assert result.exit_code == 0, result.stderr
    assert "decodes wrongly from a seek" in json.loads(result.stdout)["jobs"][0]["notice"]
    written = media.decode_reference(target).astype(int)
    shown = media.decode_reference(stateful_clip)[12 : 12 + len(written)]
    assert len(written) == 13
    assert np.abs(written - shown).mean() < 5  # the encoder's loss; a frame from a blind seek is ~40 off
