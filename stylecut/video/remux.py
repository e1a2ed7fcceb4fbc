"""Remux the encoded video with the source's other streams, atomically.

:func:`finalize` stream-copies audio, subtitles, chapters, metadata and
timecode from the source next to the new video, into a hidden temp file beside
the target, then renames it over the target, so the target only ever appears
complete.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from stylecut.video.ffmpeg_tools import MOV_FAMILY, ffmpeg_error, ffmpeg_exe
from stylecut.video.probe import StreamInfo, VideoInfo, list_streams

# Subtitle codecs each container family can hold by stream copy.
_SUBTITLES = {
    ".mp4": {"mov_text"},
    ".m4v": {"mov_text"},
    ".mov": {"mov_text"},
    ".mkv": {"subrip", "ass", "ssa", "webvtt", "dvd_subtitle", "hdmv_pgs_subtitle", "dvb_subtitle"},
    ".webm": {"webvtt"},
}


def finalize(video_tmp: Path, source: VideoInfo, target: Path) -> None:
    """Remux ``video_tmp``'s video with ``source``'s audio, subtitles and metadata into ``target``.

    The result appears under ``target`` only when complete (replacing any file
    there: whether that is allowed is the caller's decision); on failure or
    Ctrl-C the temp file is removed and ``target`` is left untouched. Write
    ``video_tmp`` in the target's container family so its timestamps carry over
    exactly (Matroska rounds them to milliseconds).
    """
    target = Path(target)
    tmp = target.with_name(f".{target.stem}.stylecut-tmp{target.suffix}")
    tmp.unlink(missing_ok=True)  # a leftover of an earlier crash: ours to replace
    args = _remux_args(Path(video_tmp), source, target.suffix.lower(), tmp)
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, stderr = proc.communicate()
        if proc.returncode != 0:
            lines = stderr.decode("utf-8", "replace").strip().splitlines()
            raise ffmpeg_error(target, lines, source.path)
        os.replace(tmp, target)
    except BaseException:
        proc.kill()
        proc.wait()
        tmp.unlink(missing_ok=True)
        raise


def _remux_args(video_tmp: Path, source: VideoInfo, suffix: str, tmp: Path) -> list[str]:
    args = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
        "-i", str(source.path), "-i", str(video_tmp), "-map", "1:v:0",
    ]
    for stream in source.other_streams:
        if _copyable(stream, suffix):
            args += ["-map", f"0:{stream.index}"]
    args += ["-c", "copy", "-map_metadata", "0", "-map_chapters", "0"]
    if source.timecode:
        # The muxer rebuilds a timecode track from this; the source's own tmcd data
        # stream cannot be stream-copied into every container.
        args += ["-metadata:s:v:0", f"timecode={source.timecode}"]
    if suffix in MOV_FAMILY and _video_codec(video_tmp) == "hevc":
        args += ["-tag:v:0", "hvc1"]
    return [*args, "-y", str(tmp)]


def _copyable(stream: StreamInfo, suffix: str) -> bool:
    """Audio always goes (untouched audio is the contract); other kinds where the container holds them."""
    if stream.kind == "audio":
        return True
    if stream.kind == "subtitle":
        return stream.codec in _SUBTITLES.get(suffix, set())
    return stream.kind == "attachment" and suffix == ".mkv"


def _video_codec(path: Path) -> str:
    return next((s.codec for s in list_streams(path) if s.kind == "video"), "")
