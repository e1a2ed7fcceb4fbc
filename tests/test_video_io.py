"""Video I/O: probe (both tool paths), decode, encode + finalize round trips, bad inputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from stylecut import __version__
from stylecut.errors import MediaError, OutputError, UsageError
from stylecut.video import ffmpeg_tools
from stylecut.video import probe as probe_mod
from stylecut.video.decode import iter_frames
from stylecut.video.encode import VideoWriter
from stylecut.video.encode_settings import EncodeSettings
from stylecut.video.ffmpeg_tools import ffmpeg_exe, ffprobe_exe
from stylecut.video.probe import StylecutMark, VideoInfo, probe
from stylecut.video.remux import check_streams_fit, finalize

import media
from cli_support import HANG


def assert_one_sentence(err: pytest.ExceptionInfo, name: str) -> None:
    message = str(err.value)
    assert name in message and message.endswith(".") and "\n" not in message, message


FAST = EncodeSettings(preset="ultrafast")


def encode_video_only(info: VideoInfo, path: Path, settings: EncodeSettings = FAST) -> Path:
    """Decode ``info`` and write its frames, unchanged, through VideoWriter."""
    with VideoWriter(path, info.display_width, info.display_height, info.fps, settings, info) as writer:
        for chunk in iter_frames(info, chunk_size=4):
            writer.write(chunk)
    return path


def transcode(info: VideoInfo, target: Path, settings: EncodeSettings = FAST) -> VideoInfo:
    """Encode + finalize into ``target`` and probe the result."""
    video = encode_video_only(info, target.with_name(f"video-only{target.suffix}"), settings)
    finalize(video, info, target, "test-style")
    return probe(target)


# --- probe -----------------------------------------------------------------------------


@pytest.mark.parametrize("container", ["mp4", "mkv", "mov"])
@pytest.mark.parametrize("fps", ["30000/1001", "25"])
def test_probe_counts_frames_and_exact_rate(make_clip, container, fps):
    info = probe(make_clip(fps=fps, frames=12, audio=True, container=container))
    assert (info.width, info.height, info.rotation) == (64, 48, 0)
    assert info.frame_count == 12
    assert info.fps == Fraction(fps)  # Matroska's 1 ms timestamps are snapped back
    assert not info.is_vfr
    assert info.duration == pytest.approx(12 / Fraction(fps), abs=1e-6)
    assert info.has_audio and info.codec == "h264" and info.pix_fmt == "yuv420p"


@pytest.mark.parametrize("rotation", [90, 180, 270])
@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_probe_rotation_is_clockwise_turn_to_upright(make_clip, rotation, container):
    info = probe(make_clip(rotation=rotation, container=container))
    assert info.rotation == rotation
    swapped = rotation in (90, 270)
    assert (info.display_width, info.display_height) == ((48, 64) if swapped else (64, 48))


@pytest.mark.parametrize(
    "params",
    [
        dict(audio=True, rotation=90, container="mov", colour=("tv", "bt709"), timecode="01:00:00:00"),
        dict(fps="30000/1001", container="mkv", audio=True),
        dict(size="63x47", fps="24000/1001"),
        dict(size="704x576", sar="16/11", frames=2),
    ],
)
def test_both_probe_paths_agree(make_clip, params):
    path = make_clip(**params)
    fallback = probe_mod._probe(path, None)
    assert fallback.rotation == params.get("rotation", 0)
    if "timecode" in params:
        assert fallback.timecode == "01:00:00:00"
        assert fallback.color_space == "bt709" and fallback.color_range == "tv"
    assert fallback.sar == Fraction(params.get("sar", "1"))
    if ffprobe_exe() is None:
        pytest.skip("no ffprobe on PATH: only the ffmpeg fallback path is exercised here")
    assert probe_mod._probe(path, ffprobe_exe()) == fallback


@pytest.mark.parametrize("name", ["-dash.mp4", "http:x.mp4"])
def test_names_are_never_options_or_protocols(make_clip, tmp_path, monkeypatch, name):
    shutil.copy(make_clip(frames=3, audio=True), tmp_path / name)
    monkeypatch.chdir(tmp_path)
    source = probe(Path(name))
    assert probe_mod._probe(Path(name), None) == source
    frames = np.concatenate(list(iter_frames(source, 4)))
    assert np.array_equal(frames, media.decode_reference(tmp_path / name))
    out = transcode(source, Path(f"-out-{name[:4]}.mkv"))
    assert out.frame_count == 3 and out.has_audio


@pytest.mark.parametrize(
    ("rotation", "coded", "sar", "square"),
    [(0, (704, 576), Fraction(16, 11), (1024, 576)), (90, (576, 704), Fraction(11, 16), (576, 1024))],
)
def test_pixel_aspect_ratio_gives_the_square_pixel_size(make_clip, rotation, coded, sar, square):
    info = probe(make_clip(size="704x576", sar="16/11", frames=2, rotation=rotation))
    display = (info.display_width, info.display_height)
    assert (display, info.display_sar, info.square_size) == (coded, sar, square)
    narrow = VideoInfo(**{**info.__dict__, "rotation": 0, "sar": Fraction(8, 9), "width": 720, "height": 480})
    assert narrow.square_size == (720, 540)  # never squeezed: the height grows instead


def test_ffmpeg_dump_parser_handles_older_and_newer_wording():
    anamorphic = "h264 (High), yuv420p(progressive), 704x576 [SAR 16:11 DAR 16:9], SAR 12:11 DAR 4:3, 25 fps"
    assert probe_mod._stream_from_dump(0, "video", anamorphic).sar == Fraction(12, 11)  # the container's wins
    dump = [
        "  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(pc, bt709/bt470bg/unknown, "
        "top coded first (swapped)), 1920x1080 [SAR 1:1 DAR 16:9], 30 fps (default)",
        "      displaymatrix: rotation of 90.00 degrees",
        "  Stream #0:1: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 600x600, 90k tbn (attached pic)",
    ]
    stream = probe_mod._stream_from_dump(0, "video", dump[0].split(": Video: ", 1)[1])
    assert (stream.width, stream.height, stream.pix_fmt) == (1920, 1080, "yuv420p")
    assert (stream.color_range, stream.color_space, stream.color_primaries, stream.color_transfer) == (
        "pc",
        "bt709",
        "bt470bg",
        None,
    )
    assert probe_mod._clockwise(float(probe_mod._ROTATION.search(dump[1])[1])) == 270
    assert probe_mod._stream_from_dump(1, "video", dump[2].split(": Video: ", 1)[1]).attached_pic


def test_ffprobe_json_parser():
    stream = probe_mod._stream_from_json(
        {
            "index": 0,
            "codec_type": "video",
            "codec_name": "hevc",
            "width": 1920,
            "height": 1080,
            "pix_fmt": "yuv420p10le",
            "color_range": "tv",
            "color_space": "bt2020nc",
            "color_transfer": "arib-std-b67",
            "color_primaries": "bt2020",
            "disposition": {"attached_pic": 0},
            "tags": {"TIMECODE": "00:59:59:00"},
            "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}],
        }
    )
    assert (stream.rotation, stream.color_space, stream.color_transfer, stream.timecode) == (
        90,
        "bt2020nc",
        "arib-std-b67",
        "00:59:59:00",
    )


def test_probe_variable_frame_rate(tmp_path):
    # 25 fps, then every other frame left out: frames 10 to 19 at 12.5 fps.
    path = media.make_vfr_clip(
        tmp_path / "vfr.mp4", "testsrc2=size=64x48:rate=25", 20, "(N+max(N-10,0))*3600"
    )
    info = probe(path)
    assert info.is_vfr and info.frame_count == 20
    assert info.duration == pytest.approx(30 / 25, abs=0.05)
    assert info.fps == pytest.approx(20 / info.duration, rel=0.01)


def test_edit_list_preroll_is_not_counted_and_not_decoded(make_clip, tmp_path):
    cut = tmp_path / "cut.mp4"
    media.run_ffmpeg("-ss", "0.52", "-i", str(make_clip(frames=25)), "-c", "copy", str(cut))
    info = probe(cut)
    reference = media.decode_reference(cut)
    assert info.frame_count == len(reference) < 25
    assert np.array_equal(np.concatenate(list(iter_frames(info, 8))), reference)


def test_bad_inputs_are_one_sentence_media_errors(tmp_path, make_clip):
    (tmp_path / "notes.mp4").write_text("this is not a video\n")
    (tmp_path / "folder.mp4").mkdir()
    audio_only = tmp_path / "song.m4a"
    media.run_ffmpeg("-f", "lavfi", "-i", "sine=duration=0.3", "-c:a", "aac", str(audio_only))
    cases = {
        "missing.mp4": "does not exist",
        "folder.mp4": "directory",
        "notes.mp4": "not a video",
        "song.m4a": "no video stream",
    }
    for name, words in cases.items():
        with pytest.raises(MediaError, match=words) as err:
            probe(tmp_path / name)
        assert_one_sentence(err, name)


def test_truncated_file_is_reported(make_clip, tmp_path):
    whole = tmp_path / "whole.mp4"
    media.run_ffmpeg("-i", str(make_clip(frames=40)), "-c", "copy", "-movflags", "+faststart", str(whole))
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    with pytest.raises(MediaError, match="corrupt or truncated") as err:
        probe(truncated)
    assert_one_sentence(err, "truncated.mp4")


# --- decode ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(rotation=90),  # display width 48 also exercises decord's row-padding bug
        dict(rotation=180),
        dict(rotation=270, container="mkv"),
        dict(size="63x47"),
        dict(rotation=90, size="63x47", container="mov"),
    ],
)
@pytest.mark.parametrize("chunk_size", [1, 4])
def test_decode_matches_ffmpeg_upright(make_clip, params, chunk_size):
    info = probe(make_clip(frames=9, **params))
    chunks = list(iter_frames(info, chunk_size))
    assert all(len(c) <= chunk_size and c.dtype == np.uint8 for c in chunks)
    frames = np.concatenate(chunks)
    assert frames.shape == (9, info.display_height, info.display_width, 3)
    assert np.array_equal(frames, media.decode_reference(info.path))


# --- encode + finalize -----------------------------------------------------------------


@pytest.mark.parametrize(
    "params, suffix, codec",
    [
        (dict(fps="30000/1001", audio=True, rotation=90), ".mp4", "h264"),
        (dict(fps="25", audio=True, container="mkv"), ".mkv", "h264"),
        (dict(fps="24000/1001", size="63x47", audio=True, container="mov"), ".mov", "h264"),
        (dict(audio=True, container="mov", colour=("tv", "bt709")), ".mov", "prores"),
        (dict(audio=True, rotation=270, colour=("tv", "smpte170m")), ".mp4", "h265"),
        (dict(size="704x576", sar="16/11", audio=True, container="mkv"), ".mkv", "h264"),
        (dict(size="704x576", sar="16/11", rotation=90, audio=True), ".mp4", "h264"),
        (dict(size="704x576", sar="16/11", container="mov", audio=True), ".mov", "prores"),
    ],
)
def test_roundtrip_keeps_the_editors_contract(make_clip, tmp_path, params, suffix, codec):
    source = probe(make_clip(frames=15, **params))
    out = transcode(source, tmp_path / f"out{suffix}", EncodeSettings(codec=codec, preset="ultrafast"))
    assert out.frame_count == source.frame_count
    assert out.fps == source.fps and not out.is_vfr
    assert abs(out.duration - source.duration) < float(1 / source.fps)
    assert out.rotation == 0
    assert (out.width, out.height) == (source.display_width, source.display_height)
    assert media.audio_md5(out.path) == media.audio_md5(source.path)
    assert (out.color_space, out.color_primaries, out.color_transfer) == (
        source.color_space,
        source.color_primaries,
        source.color_transfer,
    )
    assert out.codec == {"h264": "h264", "h265": "hevc", "prores": "prores"}[codec]
    assert out.sar == source.display_sar  # non-square pixels keep their shape, turned with the picture
    assert out.made_by == StylecutMark(__version__, "test-style") and source.made_by is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"out{suffix}", f"video-only{suffix}"])


@pytest.mark.parametrize(
    "size, colour", [("1279x719", None), ("63x47", ("tv", "bt709")), ("63x47", ("pc", "bt709"))]
)
def test_colours_survive_with_the_decoders_matrix(make_clip, tmp_path, size, colour):
    source = probe(make_clip(size=size, frames=1, colour=colour))
    out = transcode(source, tmp_path / "out.mp4", EncodeSettings(crf=0, preset="ultrafast"))
    assert out.color_range == source.color_range and out.color_space == source.color_space
    before = np.concatenate(list(iter_frames(source, 1))).astype(int)
    after = np.concatenate(list(iter_frames(out, 1))).astype(int)
    # Odd sizes keep 4:4:4 both ways, so only the matrix and range matter here: they
    # round-trip within 0.6 levels on average; a mismatched matrix is off by 4-5.
    assert np.abs(before - after).mean() < 1.0


def test_finalize_copies_subtitles_and_timecode_where_the_container_allows(tmp_path, make_clip):
    srt = tmp_path / "subs.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:00,300\nhello\n")
    source_path = tmp_path / "source.mov"
    clip = make_clip(frames=10, audio=True, container="mov", timecode="10:00:00:00")
    media.run_ffmpeg(
        "-i",
        str(clip),
        "-i",
        str(srt),
        "-map",
        "0",
        "-map",
        "1",
        "-c",
        "copy",
        "-c:s",
        "mov_text",
        str(source_path),
    )
    source = probe(source_path)
    for suffix, subtitles in ((".mp4", 1), (".mkv", 0)):
        out = transcode(source, tmp_path / f"out{suffix}")
        assert out.timecode == "10:00:00:00"
        assert sum(s.kind == "subtitle" for s in out.other_streams) == subtitles
        assert out.has_audio


def test_writer_refuses_and_cleans_up(make_clip, tmp_path):
    source = probe(make_clip())
    existing = tmp_path / "taken.mp4"
    existing.write_bytes(b"user data")
    with pytest.raises(OutputError, match="already exists"):
        VideoWriter(existing, 64, 48, source.fps, EncodeSettings(), source)
    assert existing.read_bytes() == b"user data"
    with pytest.raises(OutputError, match="ProRes needs a .mov"):
        VideoWriter(tmp_path / "x.mp4", 64, 48, source.fps, EncodeSettings(codec="prores"), source)
    with pytest.raises(UsageError, match="Unknown codec"):
        EncodeSettings(codec="vp9")
    with pytest.raises(UsageError, match=r"^Unknown preset 'nonsense': choose ultrafast, .* or placebo\.$"):
        EncodeSettings(preset="nonsense")
    partial = tmp_path / "partial.mp4"
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(partial, 64, 48, source.fps, EncodeSettings(), source) as writer:
            writer.write(np.zeros((3, 48, 64, 3), np.uint8))
            raise RuntimeError("boom")
    assert not partial.exists()
    with VideoWriter(tmp_path / "shape.mp4", 64, 48, source.fps, EncodeSettings(), source) as writer:
        with pytest.raises(ValueError):
            writer.write(np.zeros((1, 64, 48, 3), np.uint8))
        writer.write(np.zeros((1, 48, 64, 3), np.uint8))


def test_finalize_failure_or_interrupt_leaves_nothing(make_clip, tmp_path, monkeypatch):
    source = probe(make_clip(frames=5, audio=True, container="mkv"))  # Opus audio
    video = encode_video_only(source, tmp_path / "video-only.mp4")
    target = tmp_path / "out.avi"  # AVI cannot hold the Opus track by stream copy
    with pytest.raises(OutputError, match="cannot hold") as err:
        finalize(video, source, target)
    assert_one_sentence(err, "out.avi")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video-only.mp4"]

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(subprocess.Popen, "communicate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        finalize(video, source, tmp_path / "out.mkv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["video-only.mp4"]


@pytest.mark.parametrize(
    ("params", "suffix", "fits"),
    [
        (dict(audio="libopus", container="mkv"), ".mov", False),
        (dict(audio="libopus", container="mkv"), ".avi", False),
        (dict(audio="libopus", container="mkv"), ".mp4", True),
        (dict(audio="pcm_s16le", container="mov"), ".mov", True),
        (dict(audio="pcm_s16le", container="mov"), ".avi", True),
        (dict(audio="pcm_s16le", container="mov"), ".mkv", True),
    ],
)
def test_streams_a_container_cannot_hold_are_found_before_encoding(make_clip, tmp_path, params, suffix, fits):
    source = probe(make_clip(frames=3, **params))
    target = tmp_path / f"out{suffix}"
    if fits:
        check_streams_fit(source, target)
    else:
        expected = "cannot hold the opus audio of clip.mkv, .*; choose a .*mkv"
        with pytest.raises(OutputError, match=expected) as err:
            check_streams_fit(source, target)
        assert_one_sentence(err, "out" + suffix)
    assert list(tmp_path.iterdir()) == []


def test_disk_full_is_one_clear_sentence(make_clip, tiny_disk):
    source = probe(make_clip(size="320x240", frames=5))
    noise = np.random.default_rng(0).integers(0, 256, (5, 240, 320, 3), dtype=np.uint8)
    with pytest.raises(OutputError, match=r"^Disk full while writing big\.mp4\.$"):
        with VideoWriter(
            tiny_disk / "big.mp4", 320, 240, source.fps, EncodeSettings(crf=0, preset="ultrafast"), source
        ) as writer:
            for _ in range(4):
                writer.write(noise)
    assert list(tiny_disk.iterdir()) == []


@pytest.mark.parametrize(
    "stderr, message",
    [
        (
            "[out#0/mp4 @ 0x5f1a] Error writing trailer: No space left on device",
            "Disk full while writing x.mp4.",
        ),
        (
            "[mp4 @ 0x55f7] Could not find tag for codec prores in stream #0, codec not currently supported in container",
            "x.mp4 cannot hold a prores stream; choose a .mov or .mkv output.",
        ),
        (
            "[vost#0:0/libx264 @ 0x5a] Error while opening encoder.",
            "ffmpeg could not write x.mp4: Error while opening encoder.",
        ),
    ],
)
def test_ffmpeg_errors_become_one_sentence(stderr, message):
    assert str(ffmpeg_tools.ffmpeg_error(Path("x.mp4"), [stderr])) == message


def test_ffmpeg_binary_is_found():
    version = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("ffmpeg version")


COMPLETE = "libx264 x\\n V....D libx265 x\\n VFS... prores_ks x"  # the encoders stylecut needs, as listed


def fake_ffmpeg(folder: Path, version: str, lavf: str, encoders: str, with_ffprobe: bool = True) -> str:
    """A script answering -version, -encoders and -filters as an ffmpeg build would."""
    folder.mkdir()
    script = folder / "ffmpeg"
    filters = "".join(f" ..C {name}  V->V  x\\n" for name in ("scale", "setparams", "setsar", "format"))
    script.write_text(
        "#!/bin/sh\n"
        'case "$2" in\n'
        f"  -version) printf 'ffmpeg version {version} Copyright\\nlibavformat    {lavf} / {lavf}\\n' ;;\n"
        f"  -encoders) printf ' V....D {encoders}\\n' ;;\n"
        f"  -filters) printf '{filters}' ;;\n"
        "  *) exit 1 ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    if with_ffprobe:
        (folder / "ffprobe").write_text("#!/bin/sh\n")
        (folder / "ffprobe").chmod(0o755)
    return str(script)


def test_system_ffmpeg_is_used_only_when_recent_and_complete(tmp_path):
    bundled = ffmpeg_tools.imageio_ffmpeg.get_ffmpeg_exe
    ubuntu = fake_ffmpeg(tmp_path / "ubuntu", "4.4.2-0ubuntu0.22.04.1", "58. 76.100", COMPLETE)
    choice = ffmpeg_tools.choose_ffmpeg(ubuntu, bundled)
    assert (choice.ffmpeg, choice.ffprobe, choice.bundled) == (ubuntu, f"{tmp_path}/ubuntu/ffprobe", False)
    assert choice.describe() == f"ffmpeg 4.4.2-0ubuntu0.22.04.1 (system, {ubuntu})"

    git_build = fake_ffmpeg(tmp_path / "git", "N-112233-gabcdef", "61.  1.100", COMPLETE, with_ffprobe=False)
    assert ffmpeg_tools.choose_ffmpeg(git_build, bundled).ffprobe is None  # no ffprobe of another build

    for folder, version, lavf, encoders, reason in [
        ("old", "4.2.7", "58. 29.100", COMPLETE, "the system ffmpeg 4.2.7 is older than 4.4"),
        (
            "no-x265",
            "6.1.1",
            "60. 16.100",
            "libx264 x\\n VFS... prores_ks x",
            "the system ffmpeg 6.1.1 lacks libx265",
        ),
    ]:
        choice = ffmpeg_tools.choose_ffmpeg(fake_ffmpeg(tmp_path / folder, version, lavf, encoders), bundled)
        assert (choice.ffmpeg, choice.ffprobe, choice.bundled) == (bundled(), None, True)
        assert choice.reason == reason
        assert choice.describe().startswith("ffmpeg ") and reason in choice.describe()

    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\nexit 127\n")
    broken.chmod(0o755)
    assert ffmpeg_tools.choose_ffmpeg(str(broken), bundled).reason == f"{broken} does not run as ffmpeg"
    assert ffmpeg_tools.choose_ffmpeg(None, bundled).reason == "no ffmpeg on PATH"


def _counting_runs(exe: str, runs: Path) -> None:
    """Make the fake ffmpeg at ``exe`` note each run in ``runs``."""
    script = Path(exe)
    script.write_text(script.read_text().replace("#!/bin/sh\n", f"#!/bin/sh\necho run >> {runs}\n", 1))


def test_the_system_ffmpeg_check_is_kept_until_the_binary_changes(tmp_path, stylecut_home):
    bundled = ffmpeg_tools.imageio_ffmpeg.get_ffmpeg_exe
    exe = fake_ffmpeg(tmp_path / "system", "6.1.1", "60. 16.100", COMPLETE)
    runs = tmp_path / "runs"
    _counting_runs(exe, runs)
    first = ffmpeg_tools.choose_ffmpeg(exe, bundled)
    assert not first.bundled and len(runs.read_text().split()) == 3
    assert ffmpeg_tools.choose_ffmpeg(exe, bundled) == first  # the next command: from the cache
    assert len(runs.read_text().split()) == 3

    # Upgraded in place to a build without x265: same path, a new time of change.
    Path(exe).write_text(Path(exe).read_text().replace("libx265", "libx266"))
    stat = Path(exe).stat()
    os.utime(exe, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    upgraded = ffmpeg_tools.choose_ffmpeg(exe, bundled)
    assert upgraded.bundled and upgraded.reason == "the system ffmpeg 6.1.1 lacks libx265"
    assert len(runs.read_text().split()) == 6


def test_a_refused_system_ffmpeg_and_the_bundled_ones_version_are_both_kept(tmp_path, stylecut_home):
    old = fake_ffmpeg(tmp_path / "old", "4.2.7", "58. 29.100", COMPLETE)
    bundled = fake_ffmpeg(tmp_path / "bundled", "7.0.2-static", "61.  1.100", COMPLETE, with_ffprobe=False)
    runs = tmp_path / "runs"
    _counting_runs(old, runs)
    _counting_runs(bundled, runs)
    first = ffmpeg_tools.choose_ffmpeg(old, lambda: bundled)
    assert (first.ffmpeg, first.version, first.reason) == (
        bundled,
        "7.0.2-static",
        "the system ffmpeg 4.2.7 is older than 4.4",
    )
    for _ in range(2):
        assert ffmpeg_tools.choose_ffmpeg(old, lambda: bundled) == first
    assert len(runs.read_text().split()) == 4  # three for the check, one for the bundled version

    cache = stylecut_home / "cache" / "ffmpeg-checks.json"
    kept = json.loads(cache.read_text())
    kept[f"version: {bundled}"]["answer"] = []
    cache.write_text(json.dumps(kept))
    assert ffmpeg_tools.choose_ffmpeg(old, lambda: bundled) == first  # what it cannot use is checked again
    assert len(runs.read_text().split()) == 5


@pytest.mark.parametrize("content", ["[" * 100_000, "\udcff", '{"system check: x": 1}', "null"])
def test_a_damaged_ffmpeg_check_cache_is_checked_again(tmp_path, stylecut_home, content):
    exe = fake_ffmpeg(tmp_path / "system", "6.1.1", "60. 16.100", COMPLETE)
    runs = tmp_path / "runs"
    _counting_runs(exe, runs)
    cache = stylecut_home / "cache" / "ffmpeg-checks.json"
    cache.parent.mkdir(parents=True)
    cache.write_text(content, errors="surrogateescape")

    choice = ffmpeg_tools.choose_ffmpeg(exe, ffmpeg_tools.imageio_ffmpeg.get_ffmpeg_exe)

    assert not choice.bundled and len(runs.read_text().split()) == 3
    assert f"system check: {exe}" in json.loads(cache.read_text())  # the answer replaced the damaged file


def test_the_ffmpeg_check_runs_without_a_cache_it_can_write(tmp_path, read_only_folder, monkeypatch):
    monkeypatch.setenv("STYLECUT_HOME", str(read_only_folder))
    exe = fake_ffmpeg(tmp_path / "system", "6.1.1", "60. 16.100", COMPLETE)
    runs = tmp_path / "runs"
    _counting_runs(exe, runs)
    for _ in range(2):
        assert not ffmpeg_tools.choose_ffmpeg(exe, ffmpeg_tools.imageio_ffmpeg.get_ffmpeg_exe).bundled
    assert len(runs.read_text().split()) == 6
    assert list(read_only_folder.iterdir()) == []


@pytest.mark.skipif(not Path("/usr/bin/ffmpeg").exists(), reason="Debian's ffmpeg is not installed")
def test_debian_ffmpeg_is_good_enough():
    choice = ffmpeg_tools.choose_ffmpeg("/usr/bin/ffmpeg", lambda: "bundled")
    assert not choice.bundled, choice.reason


_CTRL_C_DURING_ENCODE = """
import os, signal, sys
import numpy as np
from stylecut.video.encode import VideoWriter
from stylecut.video.encode_settings import EncodeSettings
from stylecut.video.probe import probe

info = probe(sys.argv[1])
size = (info.display_width, info.display_height)
writer = VideoWriter(sys.argv[2], *size, info.fps, EncodeSettings(preset="ultrafast"), info)
frame = np.zeros((1, size[1], size[0], 3), np.uint8)
writer.write(frame)
try:
    os.killpg(0, signal.SIGINT)  # a terminal's Ctrl-C goes to its whole foreground group
    signal.pause()
except KeyboardInterrupt:
    pass
writer.write(frame)
writer.close()
"""


def test_a_terminal_ctrl_c_reaches_stylecut_and_not_its_ffmpeg(make_clip, tmp_path):
    # Only stylecut decides what Ctrl-C does to a file being written: here it goes on and finishes it.
    source, target = make_clip(size="64x48", frames=2), tmp_path / "out.mp4"

    proc = subprocess.run(
        [sys.executable, "-c", _CTRL_C_DURING_ENCODE, str(source), str(target)],
        capture_output=True,
        text=True,
        timeout=HANG,
        start_new_session=True,
    )

    assert proc.returncode == 0, proc.stderr
    assert probe(target).frame_count == 2
