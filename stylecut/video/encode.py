"""Encode RGB frames with ffmpeg and remux the result with the source's other streams.

:class:`VideoWriter` pipes uint8 RGB frames into an ffmpeg process whose graph
is built with ffmpeg-python. Frames are already upright, so no rotation is
written. The RGB to YUV matrix and range mirror what the decoder used for the
source (its tagged matrix, BT.601 limited range when untagged, whatever the
size: that is what decord/ffmpeg did when decoding), and the source's colour
tags are copied verbatim, so unchanged pixels come back to the same YUV values
and players treat input and output alike. Odd sizes cannot be stored in
4:2:0 (or ProRes 4:2:2), so such clips are written 4:4:4 at their exact size
instead of being padded or cropped. :func:`finalize` stream-copies audio,
subtitles, chapters, metadata and timecode from the source next to the new
video, into a hidden temp file beside the target, then renames it atomically.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import ffmpeg
import numpy as np

from stylecut.errors import MediaError, OutputError, StylecutError
from stylecut.video.ffmpeg_tools import ffmpeg_exe
from stylecut.video.probe import StreamInfo, VideoInfo, list_streams

_MOV_FAMILY = {".mp4", ".m4v", ".mov"}
# The scale filter's names for the matrices ffprobe reports as color_space.
_SCALE_MATRIX = {
    "bt709": "bt709",
    "smpte170m": "smpte170m",
    "bt470bg": "bt470",
    "fcc": "fcc",
    "smpte240m": "smpte240m",
    "bt2020nc": "bt2020",
    "bt2020c": "bt2020",
}
# Subtitle codecs each container family can hold by stream copy.
_SUBTITLES = {
    ".mp4": {"mov_text"},
    ".m4v": {"mov_text"},
    ".mov": {"mov_text"},
    ".mkv": {"subrip", "ass", "ssa", "webvtt", "dvd_subtitle", "hdmv_pgs_subtitle", "dvb_subtitle"},
    ".webm": {"webvtt"},
}
_STDERR_LINES = 20
_LOG_PREFIX = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\] ")  # "[mp4 @ 0x55f7...] "


@dataclass(frozen=True)
class EncodeSettings:
    """How the stylised video is compressed."""

    codec: str = "h264"  # "h264" (libx264), "h265" (libx265, tagged hvc1), "prores" (prores_ks HQ, .mov only)
    crf: int = 18  # h264/h265 quality; ProRes is fixed-quality and ignores it
    preset: str = "medium"  # h264/h265 speed/size trade-off

    def __post_init__(self) -> None:
        if self.codec not in ("h264", "h265", "prores"):
            raise OutputError(f"Unknown codec {self.codec!r}: choose h264, h265 or prores.")


class VideoWriter:
    """Write uint8 RGB frames (display orientation) to a new video file through ffmpeg."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        fps: Fraction,
        settings: EncodeSettings,
        source: VideoInfo,
    ) -> None:
        self.path = Path(path)
        self.width, self.height = width, height
        _check_writable(self.path)
        if settings.codec == "prores" and self.path.suffix.lower() != ".mov":
            raise OutputError(f"ProRes needs a .mov file, so {self.path.name} cannot hold it.")
        args = _encoder_graph(self.path, width, height, fps, settings, source).compile(cmd=ffmpeg_exe())
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        # ffmpeg can block on a full stderr pipe while we block on its stdin: drain it.
        self._drain = threading.Thread(target=self._drain_stderr, daemon=True)
        self._drain.start()

    def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self._stderr.append(line)

    def write(self, frames: np.ndarray) -> None:
        """Append ``(n, height, width, 3)`` uint8 RGB frames."""
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[1:] != (self.height, self.width, 3):
            raise ValueError(
                f"expected uint8 frames of shape (n, {self.height}, {self.width}, 3), "
                f"got {frames.dtype} {frames.shape}"
            )
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(np.ascontiguousarray(frames).data)
        except (BrokenPipeError, OSError):
            # ffmpeg died; its own stderr says why.
            self._proc.wait()
            self._fail()

    def close(self) -> None:
        """Finish the file; raise OutputError (and remove it) if ffmpeg failed."""
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # ffmpeg already exited: the return code below says how
        self._proc.wait()
        self._drain.join()
        if self._proc.returncode != 0:
            self._fail()

    def abort(self) -> None:
        """Stop ffmpeg and delete the partial file."""
        self._proc.kill()
        self._proc.wait()
        if self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
        self._drain.join()
        self.path.unlink(missing_ok=True)

    def _fail(self) -> None:
        self._drain.join()
        self.path.unlink(missing_ok=True)
        raise _ffmpeg_error(self.path, list(self._stderr))

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _check_writable(path: Path) -> None:
    if path.exists():
        raise OutputError(f"{path.name} already exists and will not be overwritten.")
    if not path.parent.is_dir():
        raise OutputError(f"The folder for {path.name} does not exist: {path.parent}.")


def _pix_fmt(codec: str, width: int, height: int) -> str:
    if codec == "prores":
        return "yuv422p10le" if width % 2 == 0 else "yuv444p10le"
    return "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"


def _encoder_graph(
    path: Path, width: int, height: int, fps: Fraction, settings: EncodeSettings, source: VideoInfo
) -> ffmpeg.nodes.OutputStream:
    pix_fmt = _pix_fmt(settings.codec, width, height)
    video = (
        ffmpeg.input(
            "pipe:",
            format="rawvideo",
            pix_fmt="rgb24",
            s=f"{width}x{height}",
            framerate=f"{fps.numerator}/{fps.denominator}",
        )
        .filter(
            "scale",
            out_color_matrix=_SCALE_MATRIX.get(source.color_space or "", "bt601"),
            out_range="full" if source.color_range == "pc" else "limited",
        )
        # scale tags frames with the matrix it used; restore the source's exact tags
        # (including "untagged"), which the encoder and muxer then write.
        .filter(
            "setparams",
            colorspace=source.color_space or "unknown",
            color_primaries=source.color_primaries or "unknown",
            color_trc=source.color_transfer or "unknown",
            range=source.color_range or "unknown",
        )
        .filter("format", pix_fmt)
    )
    return video.output(str(path), **_codec_args(settings, pix_fmt, path)).global_args(
        "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-n"
    )


def _codec_args(settings: EncodeSettings, pix_fmt: str, path: Path) -> dict[str, str | int]:
    if settings.codec == "prores":
        profile = 4 if pix_fmt.startswith("yuv444") else 3  # 4444 for odd widths, else HQ
        return {"vcodec": "prores_ks", "profile:v": profile, "vendor": "apl0", "pix_fmt": pix_fmt}
    args: dict[str, str | int] = {"crf": settings.crf, "preset": settings.preset, "pix_fmt": pix_fmt}
    if settings.codec == "h264":
        return {"vcodec": "libx264", **args}
    args.update({"vcodec": "libx265", "x265-params": "log-level=error"})
    if path.suffix.lower() in _MOV_FAMILY:
        args["tag:v"] = "hvc1"  # Apple players and NLEs reject the default hev1 tag
    return args


def _ffmpeg_error(path: Path, stderr: list[str], source: Path | None = None) -> StylecutError:
    """Turn ffmpeg's error output into one sentence naming the file and the problem."""
    lines = [_LOG_PREFIX.sub("", line).rstrip(".") for line in stderr]
    text = "\n".join(lines)
    if "No space left on device" in text:
        return OutputError(f"Disk full while writing {path.name}.")
    if "Permission denied" in text:
        return OutputError(f"Permission denied while writing {path.name}.")
    if tag := re.search(r"Could not find tag for codec (\S+)", text):
        return OutputError(f"{path.name} cannot hold a {tag[1]} stream; choose a .mov or .mkv output.")
    if "Could not write header" in text:
        return OutputError(
            f"{path.name} cannot hold one of the streams copied into it; choose a .mov or .mkv output."
        )
    last = lines[-1] if lines else "ffmpeg exited with an error"
    if source is not None and str(source) in last:
        return MediaError(f"{source.name} could not be read while writing {path.name}: {last}.")
    return OutputError(f"ffmpeg could not write {path.name}: {last}.")


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
            raise _ffmpeg_error(target, lines, source.path)
        os.replace(tmp, target)
    except BaseException:
        proc.kill()
        proc.wait()
        tmp.unlink(missing_ok=True)
        raise


def _remux_args(video_tmp: Path, source: VideoInfo, suffix: str, tmp: Path) -> list[str]:
    args = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
        "-i", str(source.path),
    ]
    if source.start:
        # ffmpeg shifts each input to start at zero: keep the video as far after the source's earliest stream.
        args += ["-itsoffset", f"{source.start:.6f}"]
    args += ["-i", str(video_tmp), "-map", "1:v:0"]
    for stream in source.other_streams:
        if _copyable(stream, suffix):
            args += ["-map", f"0:{stream.index}"]
    args += ["-c", "copy", "-map_metadata", "0", "-map_chapters", "0"]
    if source.timecode:
        # The muxer rebuilds a timecode track from this; the source's own tmcd data
        # stream cannot be stream-copied into every container.
        args += ["-metadata:s:v:0", f"timecode={source.timecode}"]
    if suffix in _MOV_FAMILY and _video_codec(video_tmp) == "hevc":
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
