"""Remux the encoded video with the source's other streams, atomically.

:func:`finalize` stream-copies audio, subtitles, chapters, metadata and
timecode from the source next to the new video, into a hidden temp file beside
the target, then renames it over the target, so the target only ever appears
complete. It marks the video track as stylecut's (``handler_name`` =
``StylecutMark.tag()``, the one track tag MP4, MOV and Matroska all keep) so a
later run recognises its own outputs. For a time range (``apply --from/--to``)
the audio is cut to the sample and encoded again (``_CUT_AUDIO``), and
subtitles are left out (:func:`range_notice`). :func:`check_streams_fit` tells before
any frame is made whether the target's container can hold the streams
``finalize`` will copy: a whole clip's audio is never re-encoded, so a container
that cannot hold it is an error the user resolves by choosing another one.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from stylecut import __version__
from stylecut.errors import OutputError
from stylecut.video.ffmpeg_tools import (
    MOV_FAMILY,
    choose_instead,
    container_refused,
    ffmpeg_command,
    ffmpeg_error,
    media_arg,
    run_tool,
    start_tool,
    write_failed,
)
from stylecut.video.probe import StreamInfo, StylecutMark, VideoInfo, list_streams
from stylecut.video.tempfiles import temp_path
from stylecut.video.time_range import ClipRange

# Subtitle codecs each container family can hold by stream copy.
_SUBTITLES = {
    ".mp4": {"mov_text"},
    ".m4v": {"mov_text"},
    ".mov": {"mov_text"},
    ".mkv": {"subrip", "ass", "ssa", "webvtt", "dvd_subtitle", "hdmv_pgs_subtitle", "dvb_subtitle"},
    ".webm": {"webvtt"},
}


def finalize(
    video_tmp: Path,
    source: VideoInfo,
    target: Path,
    style: str | None = None,
    clip_range: ClipRange | None = None,
) -> None:
    """Remux ``video_tmp``'s video with ``source``'s audio, subtitles and metadata into ``target``.

    With ``clip_range`` (``video_tmp`` holds its frames from time 0), the
    audio is cut to the range and the start timecode is the range's:
    see :func:`_cut_args`.

    The result appears under ``target`` only when complete (replacing any file
    there: whether that is allowed is the caller's decision); on failure or
    Ctrl-C the temp file is removed and ``target`` is left untouched. Write
    ``video_tmp`` in the target's container family so its timestamps carry over
    exactly (Matroska rounds them to milliseconds). ``style`` is the style's
    name for the mark on the video track.
    """
    target = Path(target)
    tmp = temp_path(target, "remux")
    mark = StylecutMark(__version__, style)
    args = _remux_args(Path(video_tmp), source, target.suffix.lower(), tmp, mark, clip_range)
    proc = start_tool(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, stderr = proc.communicate()
        lines = stderr.decode("utf-8", "replace").strip().splitlines()
        if write_failed(proc.returncode, lines):
            raise ffmpeg_error(target, lines, source.path)
        os.replace(tmp, target)
    except BaseException:
        proc.kill()
        proc.wait()
        tmp.unlink(missing_ok=True)
        raise


def check_streams_fit(source: VideoInfo, target: Path, cut: bool = False) -> None:
    """Raise OutputError if ``target``'s container cannot hold a stream ``finalize`` copies from ``source``.

    With ``cut`` (a time range) the audio is encoded again to a codec the
    container holds and subtitles are left out, so neither is asked about.

    The muxer itself is asked, by writing just the header of a trial file with
    that stream in it: which codecs a container takes depends on the ffmpeg.
    """
    target = Path(target)
    suffix = target.suffix.lower()
    with tempfile.TemporaryDirectory(prefix="stylecut-") as folder:
        trial = Path(folder) / f"trial{suffix}"
        copied = (s for s in source.other_streams if not (cut and s.kind in ("audio", "subtitle")))
        for stream in (s for s in copied if _copyable(s, suffix)):
            proc = run_tool(
                ffmpeg_command(
                    "-i",
                    media_arg(source.path),
                    "-map",
                    f"0:{stream.index}",
                    "-c",
                    "copy",
                    "-t",
                    "0",
                    "-y",
                    media_arg(trial),
                ),
            )
            if proc.returncode == 0:
                continue
            lines = proc.stderr.strip().splitlines()
            if not container_refused(lines):
                raise ffmpeg_error(target, lines, source.path)
            raise OutputError(
                f"{target.name} cannot hold the {stream.codec} {stream.kind} of {source.path.name}, "
                f"which is copied untouched; {choose_instead(target)}."
            )


def _remux_args(
    video_tmp: Path,
    source: VideoInfo,
    suffix: str,
    tmp: Path,
    mark: StylecutMark,
    clip_range: ClipRange | None,
) -> list[str]:
    args = ffmpeg_command(*_cut_args(source, clip_range), "-i", media_arg(source.path))
    if source.start and clip_range is None:
        # ffmpeg shifts each input to start at zero: keep the video as far after the source's earliest stream.
        args += ["-itsoffset", f"{source.start:.6f}"]
    args += ["-i", media_arg(video_tmp), "-map", "1:v:0"]
    for stream in source.other_streams:
        if clip_range is not None and stream.kind == "subtitle":
            continue  # ffmpeg 5.1 copies them, and even re-encodes them, at their old times: see range_notice
        if _copyable(stream, suffix):
            args += ["-map", f"0:{stream.index}"]
    args += ["-c", "copy", "-map_metadata", "0", "-map_chapters", "0"]
    if clip_range is not None:
        args += ["-c:a", *_CUT_AUDIO.get(suffix, ["pcm_s24le"])]
        if suffix in MOV_FAMILY:
            # The edit lists that end each track count in this unit (milliseconds by default): a sample's.
            args += ["-movie_timescale", "48000"]
    args += ["-metadata:s:v:0", f"handler_name={mark.tag()}"]
    timecode = clip_range.timecode if clip_range else source.timecode
    if timecode:
        # The muxer rebuilds a timecode track from this; the source's own tmcd data
        # stream cannot be stream-copied into every container.
        args += ["-metadata:s:v:0", f"timecode={timecode}"]
    if suffix in MOV_FAMILY and _video_codec(video_tmp) == "hevc":
        args += ["-tag:v:0", "hvc1"]
    return [*args, "-y", media_arg(tmp)]


def dropped_streams(source: VideoInfo) -> str | None:
    """The notice for the video streams of ``source`` that its output does not carry (it has one video
    stream, the stylised one): cover art and further video streams; ``None`` when there are none."""
    covers = sum(1 for s in source.other_streams if s.kind == "video" and s.cover)
    videos = sum(1 for s in source.other_streams if s.kind == "video" and not s.cover)
    dropped = [
        *(["its cover art"] if covers == 1 else [f"its {covers} cover pictures"] if covers else []),
        *(
            ["its second video stream"]
            if videos == 1
            else [f"its {videos} other video streams"]
            if videos
            else []
        ),
    ]
    if not dropped:
        return None
    return f"The output of {source.path.name} leaves out {' and '.join(dropped)}: it holds only the stylised video."


# The audio of a range is decoded and cut to the sample, so it is encoded again: as 24-bit PCM where the
# container holds it (lossless for 16- and 24-bit sources, no second lossy generation for the others), as
# AAC in MP4 (which cannot hold PCM with every supported ffmpeg) and MPEG-TS.
_AAC = ["aac", "-b:a", "256k"]
_CUT_AUDIO = {".mp4": _AAC, ".m4v": _AAC, ".mts": _AAC}


def range_notice(source: VideoInfo) -> str | None:
    """What a time range of ``source`` leaves out, for the user to know."""
    if any(stream.kind == "subtitle" for stream in source.other_streams):
        return f"The subtitles of {source.path.name} are left out of the range: ffmpeg cannot cut them to it."
    return None


def _cut_args(source: VideoInfo, clip_range: ClipRange | None) -> list[str]:
    """Input options that cut the source to ``clip_range``: from its first frame, for its duration.

    ffmpeg's input seek counts from the file's start, before which the video may
    start late; it decodes from an earlier point and drops what comes before the
    seek time, to the audio sample, and the same for the end.
    """
    if clip_range is None:
        return []
    start = source.start + clip_range.start
    return ["-ss", f"{float(start):.6f}", "-t", f"{float(clip_range.duration):.6f}"]


def _copyable(stream: StreamInfo, suffix: str) -> bool:
    """Audio always goes (untouched audio is the contract); other kinds where the container holds them."""
    if stream.kind == "audio":
        return True
    if stream.kind == "subtitle":
        return stream.codec in _SUBTITLES.get(suffix, set())
    return stream.kind == "attachment" and suffix == ".mkv"


def _video_codec(path: Path) -> str:
    return next((s.codec for s in list_streams(path) if s.kind == "video"), "")
