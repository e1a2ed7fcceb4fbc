"""The one frame reader: a video's frames as uint8 RGB arrays, upright, decoded by decord.

Every pixel stylecut reads from a video comes through :class:`FrameReader`:
apply's chunks (:func:`iter_frames`), the style and content samples of
finetune and training, the temporal trainer's windows, the export's preview
frames and the benchmarks. So
every clip is decoded the same way and fails with the same sentences.

Conventions:

- Frames are ``(n, height, width, 3)`` uint8 RGB in display orientation.
  decord2 (see docs/decord.md for the evidence) reads the stream's display
  matrix and rotates frames itself, bit-identical to ffmpeg's autorotate;
  :func:`iter_frames` checks every chunk against the probed display shape
  rather than rotating again.
- Index ``i`` is the i-th frame a player shows. For an MP4 whose edit list
  hides pre-roll packets, ``len(FrameReader)`` also counts the hidden packets
  (as trailing duplicates), so :func:`iter_frames` reads only the first
  ``info.frame_count`` indices.
- decord returns a frame whose padded RGB line size is a multiple of its
  width as an ``(h, w, k > 3)`` array, and ``get_batch`` then fails. The
  widths this hits depend on the CPU's row alignment (24, 48, 72, 96 and 144
  px among others), so any clip may meet it: such frames are read one by one
  and their rows un-padded, which gives ffmpeg's pixels.

Errors are :class:`MediaError` sentences that name the file: it cannot be
opened (not a readable video), holds no frames, fewer frames than its probe
counts, a frame that cannot be decoded (corrupt or truncated), or frames of
the wrong shape.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import decord
import numpy as np

from stylecut.errors import MediaError
from stylecut.video.ffmpeg_tools import media_arg
from stylecut.video.probe import VideoInfo


class FrameReader:
    """Random access to the frames of one video file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with _utf8_name(path) as name:
                self._reader = decord.VideoReader(name, ctx=decord.cpu(0))
        except (RuntimeError, decord.DECORDError) as err:
            raise MediaError(f"{path.name} is not a readable video: the decoder cannot open it.") from err

    def __len__(self) -> int:
        return len(self._reader)

    def read(self, indices: Sequence[int]) -> np.ndarray:
        """The frames at ``indices`` (each in ``0 .. len(self) - 1``) as ``(len(indices), h, w, 3)``."""
        try:
            return self._reader.get_batch(list(indices)).asnumpy()
        except decord.DECORDError:
            # Either a frame is undecodable, or decord hit its row-padding bug;
            # reading frame by frame tells which one and recovers from the latter.
            return self._read_one_by_one(indices)

    def spread(self, count: int, skip_edges: float = 0.0) -> np.ndarray:
        """``count`` frames (fewer when the video is shorter) spread evenly over it.

        The first and last ``skip_edges`` of its length are left out.
        """
        total = len(self)
        if total == 0:
            raise MediaError(f"{self.path.name} holds no decodable frames.")
        positions = np.linspace(total * skip_edges, total * (1 - skip_edges) - 1, num=min(count, total))
        return self.read(sorted({int(round(p)) for p in positions}))

    def _read_one_by_one(self, indices: Sequence[int]) -> np.ndarray:
        frames = []
        previous = None
        for index in indices:
            try:
                if previous is None or index != previous + 1:
                    self._reader.seek_accurate(index)
                frame = self._reader.next().asnumpy()
            except (decord.DECORDError, StopIteration) as err:
                raise MediaError(
                    f"{self.path.name} is corrupt or truncated: "
                    f"its frame {index + 1} of {len(self)} cannot be decoded."
                ) from err
            frames.append(_unpad_rows(frame))
            previous = index
        return np.stack(frames)


def iter_frames(
    info: VideoInfo, chunk_size: int, start: int = 0, stop: int | None = None
) -> Iterator[np.ndarray]:
    """Yield ``(n, display_height, display_width, 3)`` uint8 RGB chunks of frames ``start`` to ``stop``.

    The default range is the whole clip, ``info.frame_count`` frames; a range
    (a segment of a long clip) starts with a seek, frame-accurate like the rest.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    stop = info.frame_count if stop is None else stop
    if not 0 <= start <= stop <= info.frame_count:
        raise ValueError(f"frames {start}-{stop} are not within the clip's {info.frame_count}")
    reader = FrameReader(info.path)
    if len(reader) < info.frame_count:
        raise MediaError(
            f"{info.path.name} is corrupt or truncated: the decoder finds only "
            f"{len(reader)} of its {info.frame_count} frames."
        )
    for first in range(start, stop, chunk_size):
        last = min(first + chunk_size, stop)
        frames = reader.read(range(first, last))
        expected = (last - first, info.display_height, info.display_width, 3)
        if frames.shape != expected or frames.dtype != np.uint8:
            raise MediaError(
                f"{info.path.name} cannot be decoded upright: decord returned frames of shape "
                f"{frames.shape[1:]} instead of {expected[1:]}."
            )
        yield frames


@contextmanager
def _utf8_name(path: Path) -> Iterator[str]:
    """A name of ``path`` that decord can take: it passes names to its C library as UTF-8, which a
    name in another encoding (bytes from another system, surrogates here) is not. Such a file is
    opened through a link with a plain name, needed only while decord opens it."""
    name = media_arg(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        with tempfile.TemporaryDirectory(prefix="stylecut-") as folder:
            link = os.path.join(folder, "video" + path.suffix.encode("ascii", "replace").decode())
            os.symlink(name, link)
            yield link
        return
    yield name


def _unpad_rows(frame: np.ndarray) -> np.ndarray:
    """Undo decord's row-padding bug: ``(h, w, k > 3)`` is h rows of k*w bytes, the first 3*w of them RGB."""
    height, width, channels = frame.shape
    if channels == 3:
        return frame
    return np.ascontiguousarray(frame.reshape(height, -1)[:, : width * 3].reshape(height, width, 3))
