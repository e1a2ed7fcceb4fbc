"""Benchmark inputs: short test clips cut from the shared media, and frames read back as arrays.

Clips are never copied into the repository: :func:`prepare_clip` re-encodes
the first frames of a media clip (optionally scaled) into a scratch folder
with the same ffmpeg binary stylecut uses, at a high quality (x264 CRF 12)
so that the benchmark's own encode adds no visible loss. Frames are read back
through stylecut's probe and decoder, so the benchmark sees exactly the
frames (upright, exact count) that `stylecut apply` sees.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from stylecut.video.decode import iter_frames
from stylecut.video.ffmpeg_tools import ffmpeg_exe
from stylecut.video.probe import probe

# ../shared/media beside the repository, where CI and the workplace keep it.
SHARED_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


def find_clip(media: Path, key: str) -> Path:
    """The one clip in ``media/clips`` whose file name contains ``key`` (e.g. "bear")."""
    matches = [p for p in sorted((media / "clips").iterdir()) if key in p.name]
    if len(matches) != 1:
        raise SystemExit(f"--clips: {key!r} matches {len(matches)} files in {media / 'clips'}, expected one.")
    return matches[0]


def prepare_clip(source: Path, target: Path, frames: int, height: int | None = None) -> Path:
    """The first ``frames`` frames of ``source`` (scaled to ``height`` px, width kept even), without audio."""
    scale = ["-vf", f"scale=-2:{height}:flags=lanczos"] if height else []
    command = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-frames:v", str(frames), "-an", *scale]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-pix_fmt", "yuv420p", str(target)]
    subprocess.run(command, check=True)
    return target


def read_frames(path: Path) -> np.ndarray:
    """Every frame of a clip as ``(T, H, W, 3)`` uint8 RGB, upright."""
    return np.concatenate(list(iter_frames(probe(path), chunk_size=16)))
