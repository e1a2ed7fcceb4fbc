"""Encode RGB frames with ffmpeg into a video-only file (``remux.finalize`` then adds the source's streams).

The codec, crf and preset come in an ``encode_settings.EncodeSettings``.

:class:`VideoWriter` pipes uint8 RGB frames into an ffmpeg process whose graph
is built with ffmpeg-python. Frames are already upright, so no rotation is
written. The RGB to YUV matrix and range mirror what the decoder used for the
source (its tagged matrix, BT.601 limited range when untagged, whatever the
size: that is what decord/ffmpeg did when decoding), and the source's colour
tags are copied verbatim, so unchanged pixels come back to the same YUV values
and players treat input and output alike. Odd sizes cannot be stored in
4:2:0 (or ProRes 4:2:2), so such clips are written 4:4:4 at their exact size
instead of being padded or cropped. Non-square pixels keep their aspect ratio:
the frames come back at the source's upright coded size and are tagged with
its pixel aspect ratio (turned with the picture).
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections import deque
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import ffmpeg
import numpy as np

from stylecut.errors import OutputError
from stylecut.video.encode_settings import EncodeSettings
from stylecut.video.ffmpeg_tools import (
    MOV_FAMILY,
    QUIET,
    ffmpeg_error,
    ffmpeg_exe,
    media_arg,
    start_tool,
    write_failed,
)
from stylecut.video.probe import VideoInfo
from stylecut.video.tempfiles import check_writable

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
_STDERR_LINES = 20


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
        check_writable(self.path, replace=False)
        if settings.codec == "prores" and self.path.suffix.lower() != ".mov":
            raise OutputError(f"ProRes needs a .mov file, so {self.path.name} cannot hold it.")
        args = _encoder_graph(self.path, width, height, fps, settings, source).compile(cmd=ffmpeg_exe())
        self._stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self._proc = start_tool(
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
        if write_failed(self._proc.returncode, list(self._stderr)):
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
        raise ffmpeg_error(self.path, list(self._stderr))

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
    if source.display_sar != 1:
        video = video.filter("setsar", sar=f"{source.display_sar.numerator}/{source.display_sar.denominator}")
    # As bytes: ffmpeg-python hashes its arguments as UTF-8, which a name from another system may not be.
    return video.output(os.fsencode(media_arg(path)), **_codec_args(settings, pix_fmt, path)).global_args(
        *QUIET, "-n"
    )


def _codec_args(settings: EncodeSettings, pix_fmt: str, path: Path) -> dict[str, str | int]:
    if settings.codec == "prores":
        profile = 4 if pix_fmt.startswith("yuv444") else 3  # 4444 for odd widths, else HQ
        return {"vcodec": "prores_ks", "profile:v": profile, "vendor": "apl0", "pix_fmt": pix_fmt}
    args: dict[str, str | int] = {"crf": settings.crf, "preset": settings.preset, "pix_fmt": pix_fmt}
    if settings.codec == "h264":
        return {"vcodec": "libx264", **args}
    args.update({"vcodec": "libx265", "x265-params": "log-level=error"})
    if path.suffix.lower() in MOV_FAMILY:
        args["tag:v"] = "hvc1"  # Apple players and NLEs reject the default hev1 tag
    return args
