"""Decode a probed clip into uint8 RGB frames, chunk by chunk, upright, with decord.

decord2 (see docs/decord.md for the evidence) reads the stream's display
matrix and rotates frames itself, bit-identical to ffmpeg's autorotate, so the
frames it returns are already in display orientation; this module checks that
every chunk has the display shape rather than rotating again. Its frame index
is the presentation order of the frames a player shows: for an MP4 whose edit
list hides pre-roll packets, ``len(VideoReader)`` also counts the hidden
packets (as trailing duplicates), so only the first ``info.frame_count``
indices are read. Memory stays bounded by ``chunk_size`` frames.
"""

from __future__ import annotations

from collections.abc import Iterator

import decord
import numpy as np

from stylecut.errors import MediaError
from stylecut.video.probe import VideoInfo


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
    reader = _open(info)
    if len(reader) < info.frame_count:
        raise MediaError(
            f"{info.path.name} is corrupt or truncated: the decoder finds only "
            f"{len(reader)} of its {info.frame_count} frames."
        )
    for first in range(start, stop, chunk_size):
        yield _read_chunk(reader, info, first, min(first + chunk_size, stop))


def _open(info: VideoInfo) -> decord.VideoReader:
    try:
        return decord.VideoReader(str(info.path), ctx=decord.cpu(0))
    except (RuntimeError, decord.DECORDError) as err:
        raise MediaError(f"{info.path.name} cannot be decoded: decord could not open it.") from err


def _read_chunk(reader: decord.VideoReader, info: VideoInfo, start: int, stop: int) -> np.ndarray:
    expected = (stop - start, info.display_height, info.display_width, 3)
    try:
        frames = reader.get_batch(list(range(start, stop))).asnumpy()
    except decord.DECORDError:
        # Either a frame is undecodable, or decord hit its row-padding bug on a rotated
        # clip; reading frame by frame tells which one and recovers from the latter.
        frames = _read_one_by_one(reader, info, start, stop)
    if frames.shape != expected or frames.dtype != np.uint8:
        raise MediaError(
            f"{info.path.name} cannot be decoded upright: decord returned frames of shape "
            f"{frames.shape[1:]} instead of {expected[1:]}."
        )
    return frames


def _read_one_by_one(reader: decord.VideoReader, info: VideoInfo, start: int, stop: int) -> np.ndarray:
    frames = []
    reader.seek_accurate(start)
    for index in range(start, stop):
        try:
            frame = reader.next().asnumpy()
        except (decord.DECORDError, StopIteration) as err:
            raise MediaError(
                f"{info.path.name} is corrupt or truncated: the decoder could not decode frame "
                f"{index + 1} of {info.frame_count}."
            ) from err
        frames.append(_unpad_rows(frame, info.display_height, info.display_width))
    return np.stack(frames)


def _unpad_rows(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """Undo decord's rotated-frame bug: padded RGB rows returned as an (h, w, k>3) array.

    After its transpose filter, decord copies the frame with ffmpeg's padded line
    size; when that line size is a multiple of the width (display widths such as
    24, 48 or 72) it shapes the buffer as (h, w, 4) and get_batch fails.
    """
    if frame.shape[:2] != (height, width) or frame.shape[2] == 3:
        return frame
    return np.ascontiguousarray(frame.reshape(height, -1)[:, : width * 3].reshape(height, width, 3))
