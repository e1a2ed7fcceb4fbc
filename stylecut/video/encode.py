"""Encode RGB frames with ffmpeg into a video-only file (``remux.finalize`` then adds the source's streams).

The codec, crf and preset come in an ``encode_settings.EncodeSettings``.

:class:`VideoWriter` pipes RGB frames into an ffmpeg process whose graph is
built with ffmpeg-python: uint8, or uint16 for a source of more than 8 bits per
sample (what ``decode.iter_frames`` gives for it). The output keeps 10 bits
where the codec holds them: ProRes 422 HQ (10 bits whatever the source), and
H.265 for a deeper source where the ffmpeg's libx265 was built with 10 bits;
H.264 is written with 8 (what every player decodes). ProRes in a .mov cannot
say it is full range, so it is written in video range. :func:`reduction_notice`
says where a source loses bits or range. Frames are already upright, so no rotation is
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

import functools
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
from stylecut.frames import pixel_dtype
from stylecut.video.encode_settings import EncodeSettings
from stylecut.video.ffmpeg_tools import (
    MOV_FAMILY,
    QUIET,
    ffmpeg_error,
    ffmpeg_exe,
    media_arg,
    run_tool,
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
_CODEC_NAMES = {"h264": "H.264", "h265": "H.265", "prores": "ProRes"}


class VideoWriter:
    """Write RGB frames (display orientation; uint16 for a source deeper than 8 bits) to a new video file."""

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
        self.dtype = pixel_dtype(source.bit_depth)
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
        """Append ``(n, height, width, 3)`` RGB frames of the writer's ``dtype``."""
        if frames.dtype != self.dtype or frames.ndim != 4 or frames.shape[1:] != (self.height, self.width, 3):
            raise ValueError(
                f"expected {self.dtype} frames of shape (n, {self.height}, {self.width}, 3), "
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


def output_bits(codec: str, source: VideoInfo) -> int:
    """Bits per sample ``codec`` writes ``source``'s stylisation with."""
    if codec == "prores":
        return 10
    if codec == "h265" and source.bit_depth > 8 and _x265_has_10_bits(ffmpeg_exe()):
        return 10
    return 8


@functools.cache
def _x265_has_10_bits(exe: str) -> bool:
    """Whether this ffmpeg's libx265 encodes 10 bits (a build of x265 has 8, 10 or 12, or several)."""
    return "yuv420p10le" in run_tool([exe, "-hide_banner", "-h", "encoder=libx265"]).stdout


def _full_range(codec: str, source: VideoInfo) -> bool:
    return source.color_range == "pc" and codec != "prores"


def reduction_notice(source: VideoInfo, codec: str) -> str | None:
    """One sentence when ``codec`` cannot keep ``source``'s bits per sample or its full range, else None."""
    losses = []
    bits = output_bits(codec, source)
    if source.bit_depth > bits:
        keeps = " (--codec prores keeps 10)" if bits < 10 else ""
        losses.append(
            f"{_CODEC_NAMES[codec]} keeps {bits} of its {source.bit_depth} bits per sample, "
            f"so gradients may band{keeps}"
        )
    if source.color_range == "pc" and not _full_range(codec, source):
        losses.append("ProRes in a .mov cannot be full range, so its full range is written as video range")
    return f"{source.path.name}: " + "; ".join(losses) + "." if losses else None


def _pix_fmt(codec: str, width: int, height: int, bits: int) -> str:
    if codec == "prores":
        return "yuv422p10le" if width % 2 == 0 else "yuv444p10le"
    layout = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    return layout if bits == 8 else f"{layout}{bits}le"


def _encoder_graph(
    path: Path, width: int, height: int, fps: Fraction, settings: EncodeSettings, source: VideoInfo
) -> ffmpeg.nodes.OutputStream:
    pix_fmt = _pix_fmt(settings.codec, width, height, output_bits(settings.codec, source))
    full = _full_range(settings.codec, source)
    video = (
        ffmpeg.input(
            "pipe:",
            format="rawvideo",
            pix_fmt="rgb24" if source.bit_depth <= 8 else "rgb48le",
            s=f"{width}x{height}",
            framerate=f"{fps.numerator}/{fps.denominator}",
        )
        .filter(
            "scale",
            out_color_matrix=_SCALE_MATRIX.get(source.color_space or "", "bt601"),
            out_range="full" if full else "limited",
        )
        # scale tags frames with the matrix it used; restore the source's exact tags
        # (including "untagged"), which the encoder and muxer then write.
        .filter(
            "setparams",
            colorspace=source.color_space or "unknown",
            color_primaries=source.color_primaries or "unknown",
            color_trc=source.color_transfer or "unknown",
            range="tv" if source.color_range == "pc" and not full else source.color_range or "unknown",
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
