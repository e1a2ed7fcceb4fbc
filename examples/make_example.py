"""Render the bundled example clip: a slow pan and zoom over a photo, with a generated soundtrack.

The photo is matplotlib's sample image of Grace Hopper (a US Navy photograph,
public domain), which ships in the matplotlib wheel, so this clip is made by
the project from nothing copied. 4 s at 24000/1001 fps (a rate editors meet
every day and that must survive exactly), 640x360, H.264 with a stereo AAC
chord. Re-run with `python examples/make_example.py` (needs matplotlib).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import ffmpeg
import matplotlib
import numpy as np
from PIL import Image

from stylecut.video.ffmpeg_tools import ffmpeg_exe

WIDTH, HEIGHT = 640, 360
FPS = Fraction(24000, 1001)
FRAMES = 96
OUT = Path(__file__).with_name("grace_hopper_pan.mp4")


def frames(photo: Image.Image):
    pw, ph = photo.size
    for i in range(FRAMES):
        t = i / (FRAMES - 1)
        ease = 0.5 - 0.5 * np.cos(np.pi * t)
        zoom = 1.0 + 0.35 * ease  # the window shrinks: a slow push in
        w = pw / zoom
        h = w * HEIGHT / WIDTH
        cx = pw / 2
        cy = h / 2 + (ph * 0.42 - h / 2) * ease  # from the top of the photo down towards the face and medals
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        yield np.asarray(photo.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC, box=box))


def main() -> None:
    photo = Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")
    seconds = float(FRAMES / FPS)
    video = ffmpeg.input(
        "pipe:",
        format="rawvideo",
        pix_fmt="rgb24",
        s=f"{WIDTH}x{HEIGHT}",
        framerate=f"{FPS.numerator}/{FPS.denominator}",
    )
    # Tagged BT.709, so convert with the BT.709 matrix (swscale's default is BT.601).
    video = video.filter("scale", out_color_matrix="bt709", out_range="tv").filter(
        "setparams", color_primaries="bt709", color_trc="bt709", colorspace="bt709", range="tv"
    )
    tones = [
        ffmpeg.input(f"sine=frequency={f}:sample_rate=48000:duration={seconds}", f="lavfi")
        for f in (220, 277.18, 329.63)
    ]
    audio = (
        ffmpeg.filter(tones, "amix", inputs=3)
        .filter("volume", 0.6)
        .filter("afade", t="out", st=seconds - 0.5, d=0.5)
        .filter("aformat", channel_layouts="stereo")
    )
    out = ffmpeg.output(
        video,
        audio,
        str(OUT),
        vcodec="libx264",
        pix_fmt="yuv420p",
        crf=20,
        preset="slow",
        acodec="aac",
        audio_bitrate="128k",
        movflags="+faststart",
        shortest=None,
    ).overwrite_output()
    process = out.run_async(cmd=ffmpeg_exe(), pipe_stdin=True, quiet=True)
    for frame in frames(photo):
        process.stdin.write(frame.tobytes())
    process.stdin.close()
    if process.wait() != 0:
        raise SystemExit(process.stderr.read().decode(errors="replace"))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
