"""Tiny synthetic clips for tests, made with ffmpeg's lavfi sources in a few milliseconds.

``make_clip`` writes a testsrc2 clip (optionally with a sine tone, a display
rotation, a pixel aspect ratio, colour tags or a timecode) and returns its path;
``decode_reference`` decodes a clip with the ffmpeg CLI (autorotated, rgb24) as
ground truth for the decord path; ``audio_md5`` hashes the audio packets
without decoding them.

These helpers always run the bundled ffmpeg, whatever is on PATH: no option
writes a display rotation with every supported ffmpeg (5.1 lacks
``-display_rotation`` and cannot tag Matroska; the bundled build ignores the old
``rotate`` tag), so test media and ground truth come from one known build,
while stylecut itself runs the ffmpeg it chose (system or bundled).
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
_CODEC = {"mp4": "aac", "mov": "aac", "mkv": "libopus", "avi": "libmp3lame"}


def run_ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-y", *args], check=True)


def make_clip(
    folder: Path,
    name: str = "clip",
    *,
    size: str = "64x48",
    fps: str = "25",
    frames: int = 10,
    audio: bool | str = False,
    rotation: int = 0,
    sar: str | None = None,
    container: str = "mp4",
    colour: tuple[str, str] | None = None,
    timecode: str | None = None,
) -> Path:
    """Write a clip; ``rotation`` is the clockwise turn a player must apply to show it upright.

    ``audio`` is True (the container's usual codec) or an audio encoder's name;
    ``sar`` is the pixel aspect ratio, e.g. "16/11". ``colour`` is
    (color_range, matrix/primaries/transfer name), e.g. ("tv", "bt709").
    Odd sizes are encoded 4:4:4 because 4:2:0 cannot hold them.
    """
    width, height = (int(v) for v in size.split("x"))
    rate = Fraction(fps)
    seconds = float(frames / rate)
    # testsrc2 rounds odd sizes down to even, so draw even and scale to the exact size.
    source = f"testsrc2=size={width + width % 2}x{height + height % 2}:rate={fps},scale={width}:{height}"
    if colour:
        # Frame properties, not -color_* options, are what ffmpeg 7+ encoders write.
        colour_range, tag = colour
        source += f",setparams=range={colour_range}:colorspace={tag}:color_primaries={tag}:color_trc={tag}"
    source += f",setsar={sar or 1}"  # scale to an odd size would otherwise tag the pixels non-square
    args = ["-f", "lavfi", "-i", source]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    odd = width % 2 or height % 2
    args += ["-frames:v", str(frames), "-c:v", "libx264", "-preset", "ultrafast", "-g", "5"]
    args += ["-pix_fmt", "yuv444p" if odd else "yuv420p"]
    if audio:
        args += ["-c:a", audio if isinstance(audio, str) else _CODEC[container]]
    if timecode:
        args += ["-timecode", timecode]
    path = folder / f"{name}.{container}"
    if rotation:
        plain = folder / f".{name}.unrotated.{container}"
        run_ffmpeg(*args, str(plain))
        # -display_rotation is counter-clockwise; the clip then needs `rotation` clockwise.
        run_ffmpeg(
            "-display_rotation", str(-rotation), "-i", str(plain), "-map", "0", "-c", "copy", str(path)
        )
        plain.unlink()
    else:
        run_ffmpeg(*args, str(path))
    return path


def make_shots(path: Path, lengths: tuple[int, ...], size: str = "64x48") -> Path:
    """A 25 fps clip with sound made of shots of ``lengths`` frames, each a different picture (hard cuts)."""
    sources = [
        f"testsrc2=size={size}:rate=25",
        f"mandelbrot=size={size}:rate=25",
        f"testsrc2=size={size}:rate=25,negate,hflip",
    ]
    shots = "".join(
        f"{sources[i % 3]},trim=end_frame={n},setpts=PTS-STARTPTS[v{i}];" for i, n in enumerate(lengths)
    )
    joined = "".join(f"[v{i}]" for i in range(len(lengths)))
    run_ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"{shots}{joined}concat=n={len(lengths)}:v=1:a=0",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:sample_rate=48000:duration={sum(lengths) / 25}",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "10",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        str(path),
    )
    return path


def make_vfr_clip(path: Path, source: str, frames: int, times: str, audio_seconds: float = 0) -> Path:
    """A variable-frame-rate clip, as phones record: ``frames`` frames of the lavfi ``source``, frame N
    shown at ``times`` (a setpts expression in 1/90000 s ticks), every frame kept at its own time; with
    ``audio_seconds`` of a sine tone in AAC."""
    args = ["-f", "lavfi", "-i", f"{source},settb=1/90000,setpts='{times}'"]
    if audio_seconds:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={audio_seconds}"]
    args += ["-frames:v", str(frames), "-fps_mode", "passthrough", "-enc_time_base", "1/90000"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio_seconds:
        args += ["-c:a", "aac"]
    run_ffmpeg(*args, str(path))
    return path


def make_deep_clip(
    folder: Path,
    name: str = "deep",
    *,
    luma: str = "300+X/2",
    chroma: tuple[int, int] = (512, 512),
    size: str = "274x16",
    frames: int = 5,
    colour_range: str = "tv",
    pix_fmt: str = "yuv422p10le",
    container: str = "mkv",
) -> Path:
    """A lossless (FFV1) clip of ``pix_fmt``, tagged BT.2020 PQ HDR: each frame's luma code is the geq
    expression ``luma`` (X: the column), its chroma codes are ``chroma``. The default is a 10-bit ramp
    of 137 luma codes."""
    source = (
        f"color=c=gray:s={size}:r=10,format={pix_fmt},geq=lum='{luma}':cb={chroma[0]}:cr={chroma[1]},"
        "setparams=range=tv:colorspace=bt2020nc:color_primaries=bt2020:color_trc=smpte2084"
    )
    path = folder / f"{name}.{container}"
    coded = folder / f".{name}.tv.{container}"
    run_ffmpeg("-f", "lavfi", "-i", source, "-frames:v", str(frames), "-c:v", "ffv1", str(coded))
    # Tagged after encoding: a full-range tag in the graph makes ffmpeg 7+ convert the codes to video range.
    run_ffmpeg("-i", str(coded), "-c", "copy", "-color_range", colour_range, str(path))
    return path


def yuv_codes(path: Path) -> np.ndarray:
    """Every frame's Y, U and V codes as ``(n, 3, h, w)`` uint16 at 10 bits (8-bit codes times 4), chroma
    repeated to full size."""
    return _raw_frames(path, "yuv444p10le", np.dtype("<u2")).reshape(-1, 3, *_frame_size(path)[::-1])


def decode_reference(path: Path, pix_fmt: str = "rgb24") -> np.ndarray:
    """Every frame as ffmpeg shows it: upright, rgb24 (uint8) or rgb48le (uint16), (n, h, w, 3)."""
    width, height = _frame_size(path)
    dtype = np.dtype(np.uint8 if pix_fmt == "rgb24" else "<u2")
    return _raw_frames(path, pix_fmt, dtype).reshape(-1, height, width, 3)


def _frame_size(path: Path) -> tuple[int, int]:
    """(width, height) of the upright frames."""
    probe_size = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "image2pipe", "-vcodec", "ppm", "-"],
        capture_output=True,
        check=True,
    ).stdout
    width, height = (int(v) for v in probe_size.split(b"\n")[1].split())
    return width, height


def _raw_frames(path: Path, pix_fmt: str, dtype: np.dtype) -> np.ndarray:
    raw = subprocess.run(
        [
            FFMPEG,
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-fps_mode",
            "passthrough",
            "-pix_fmt",
            pix_fmt,
            "-f",
            "rawvideo",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype)


def audio_md5(path: Path) -> str:
    return subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "md5", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
