"""The one frame reader: a video's frames as uint8 RGB arrays, upright, decoded by decord.

Every pixel stylecut reads from a video comes through this module: through
:class:`FrameReader` for apply's chunks (:func:`iter_frames`), preview's
frames, the style and content samples of finetune and training, the temporal
trainer's windows, the export's preview frames and the benchmarks, and through
PyAV for apply's chunks of footage deeper than 8 bits (below). So every clip
is decoded the same way and fails with the same sentences.

decord decodes to 8-bit RGB only (and takes 10-bit footage down by truncating,
1-2 levels too dark). So apply's chunks of a clip with more than 8 bits per
sample come from PyAV instead, as uint16 RGB (``rgb48le``, the conversion
ffmpeg's own scaler makes, which the encoder's inverts exactly), turned upright
here from the probed rotation; the networks-only readers (finetune, preview,
training) keep decord's 8 bits.

Conventions:

- Frames are ``(n, height, width, 3)`` uint8 RGB in display orientation
  (uint16 from :func:`iter_frames` for a clip deeper than 8 bits).
  decord2 (see docs/decord.md for the evidence) reads the stream's display
  matrix and rotates frames itself, bit-identical to ffmpeg's autorotate;
  :func:`iter_frames` checks every chunk against the probed display shape
  rather than rotating again.
- Index ``i`` is the i-th frame a player shows. For an MP4 whose edit list
  hides pre-roll packets, ``len(FrameReader)`` also counts the hidden packets
  (as trailing duplicates), so :func:`iter_frames` reads only the first
  ``info.frame_count`` indices.
- A seek must decode what decoding from the start does, and for some streams it does not (state set
  only at the start: an old x264's note, an in-band parameter set): :func:`seeks_match` checks each clip
  once, and a clip that fails is read on from its start (see docs/decord.md), with :func:`seek_notice`.
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

import itertools
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

# Where PyTorch is installed it is loaded before decord: the other way round, torch's CPU convolutions
# crash the process (SIGSEGV; torch 2.14.1, decord2 3.4.0). The light path has no torch to load.
if find_spec("torch") is not None:
    import torch  # noqa: F401

import decord
import numpy as np

from stylecut.errors import MediaError
from stylecut.frames import pixel_dtype
from stylecut.video.ffmpeg_tools import media_arg
from stylecut.video.probe import VideoInfo, frame_pts

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream


class FrameReader:
    """Random access to the frames of one video file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reader = _open(path)
        self._position = 0  # the frame the decoder gives next without a seek

    def __len__(self) -> int:
        return len(self._reader)

    def read(self, indices: Sequence[int]) -> np.ndarray:
        """The frames at ``indices`` (each in ``0 .. len(self) - 1``) as ``(len(indices), h, w, 3)``."""
        indices = list(indices)
        if not indices:
            return self._reader.get_batch([]).asnumpy()
        if self._seeks_safely(indices):
            frames = self._decode(indices)
        else:
            frames = self._read_on(indices)
        self._position = indices[-1] + 1
        return frames

    def spread(self, count: int, skip_edges: float = 0.0) -> np.ndarray:
        """``count`` frames (fewer when the video is shorter) spread evenly over it.

        The first and last ``skip_edges`` of its length are left out.
        """
        total = len(self)
        if total == 0:
            raise MediaError(f"{self.path.name} holds no decodable frames.")
        positions = np.linspace(total * skip_edges, total * (1 - skip_edges) - 1, num=min(count, total))
        return self.read(sorted({int(round(p)) for p in positions}))

    def _seeks_safely(self, indices: list[int]) -> bool:
        """Whether decord may read ``indices`` as it likes: without a seek (they continue the last read),
        with a seek to frame 0 only (they are all before the second keyframe), or with seeks that
        :func:`seeks_match` found right."""
        if indices == list(range(self._position, self._position + len(indices))):
            return True
        later = _later_keyframe(self._reader)
        return later is None or max(indices) < later or seeks_match(self.path)

    def _decode(self, indices: list[int]) -> np.ndarray:
        try:
            return self._reader.get_batch(indices).asnumpy()
        except decord.DECORDError:
            # Either a frame is undecodable, or decord hit its row-padding bug;
            # reading frame by frame tells which one and recovers from the latter.
            return self._read_one_by_one(indices)

    def _read_on(self, indices: list[int]) -> np.ndarray:
        """``indices`` read without a seek, for a clip whose seeks give other frames (:func:`seeks_match`):
        decoding on from the current frame, or from the first with a fresh decoder; at most one chunk
        of the frames in between is held at a time."""
        wanted: dict[int, np.ndarray] = {}
        for index in sorted(set(indices)):
            if index < self._position:
                self._reader, self._position = _open(self.path), 0
            while self._position < index:
                skip = min(index - self._position, SKIP_CHUNK)
                self._decode(list(range(self._position, self._position + skip)))
                self._position += skip
            wanted[index] = self._decode([index])[0]
            self._position = index + 1
        return np.stack([wanted[index] for index in indices])

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


# Frames decoded per step while reading on to a frame of a clip whose seeks give other frames.
SKIP_CHUNK = 4

# Per clip (path, size, modification time): whether a fresh decoder's seek gives the frames that decoding
# from the start gives. Decided once per clip and process by seeks_match.
_SEEKS_MATCH: dict[tuple[str, int, int], bool] = {}


def seeks_match(path: Path) -> bool:
    """Whether a seek into ``path`` decodes the frames that decoding on from its start does.

    Not always: an x264 older than build 151 wrote 4:4:4 streams that decode right only after the
    encoder's note in the first frame (which switches on the decoder's workaround), and a stream may
    hold other state that only its start sets. So the first keyframe after frame 0 is decoded both
    ways, each by a fresh decoder, and compared: one keyframe interval more decoded, once per clip.
    """
    key = _clip_key(path)
    if key not in _SEEKS_MATCH:
        seeker = FrameReader(path)  # nothing decoded yet, so its seek starts from no state
        later = _later_keyframe(seeker._reader)
        _SEEKS_MATCH[key] = later is None or np.array_equal(_seek_to(seeker, later), _decode_to(path, later))
    return _SEEKS_MATCH[key]


def seek_notice(path: Path) -> str | None:
    """The notice for a clip that :func:`seeks_match` found decoding other frames after a seek, else None."""
    if _SEEKS_MATCH.get(_clip_key(path), True):
        return None
    return (
        f"{path.name} decodes wrongly from a seek (its stream holds state set only at its start), "
        "so its frames are read on from the start: reading from its middle is slower."
    )


def _later_keyframe(reader: decord.VideoReader) -> int | None:
    """The first keyframe after frame 0, if any."""
    return next((int(k) for k in reader.get_key_indices() if 0 < k < len(reader)), None)


def _clip_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return os.fspath(path.resolve()), stat.st_size, stat.st_mtime_ns


def _seek_to(reader: FrameReader, index: int) -> np.ndarray:
    # This seek may decode a broken frame: the decoder's complaints about it are no error of the user's.
    decord.logging.set_level(decord.logging.QUIET)
    try:
        return reader._decode([index])[0]
    finally:
        decord.logging.set_level(decord.logging.ERROR)  # decord's own default


def _decode_to(path: Path, index: int) -> np.ndarray:
    return FrameReader(path)._read_on([index])[0]


def _open(path: Path) -> decord.VideoReader:
    try:
        with _utf8_name(path) as name:
            return decord.VideoReader(name, ctx=decord.cpu(0))
    except (RuntimeError, decord.DECORDError) as err:
        raise MediaError(f"{path.name} is not a readable video: the decoder cannot open it.") from err


def iter_frames(
    info: VideoInfo, chunk_size: int, start: int = 0, stop: int | None = None
) -> Iterator[np.ndarray]:
    """Yield ``(n, display_height, display_width, 3)`` RGB chunks of frames ``start`` to ``stop``: uint8,
    or uint16 for a clip of more than 8 bits per sample (``info.bit_depth``).

    The default range is the whole clip, ``info.frame_count`` frames; a range
    (a segment of a long clip) starts with a seek, frame-accurate like the rest.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    stop = info.frame_count if stop is None else stop
    if not 0 <= start <= stop <= info.frame_count:
        raise ValueError(f"frames {start}-{stop} are not within the clip's {info.frame_count}")
    chunks = (
        _deep_chunks(info, chunk_size, start, stop)
        if info.bit_depth > 8
        else _chunks(info, chunk_size, start, stop)
    )
    dtype = pixel_dtype(info.bit_depth)
    for first in range(start, stop, chunk_size):
        frames = next(chunks, None)  # the readers end early only when frames are missing
        expected = (min(first + chunk_size, stop) - first, info.display_height, info.display_width, 3)
        if frames is None or len(frames) < expected[0]:
            raise _too_few(info, first + (0 if frames is None else len(frames)))
        if frames.shape != expected or frames.dtype != dtype:
            raise MediaError(
                f"{info.path.name} cannot be decoded upright: the decoder returned frames of shape "
                f"{frames.shape[1:]} instead of {expected[1:]}."
            )
        yield frames


@contextmanager
def _utf8_name(path: Path) -> Iterator[str]:
    """A name of ``path`` that decord and PyAV can take: they pass names to C as UTF-8, which a
    name in another encoding (bytes from another system, surrogates here) is not. Such a file is
    opened through a link with a plain name, needed only while the decoder opens it."""
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


def _too_few(info: VideoInfo, found: int) -> MediaError:
    return MediaError(
        f"{info.path.name} is corrupt or truncated: the decoder finds only {found} of its {info.frame_count} frames."
    )


def _chunks(info: VideoInfo, chunk_size: int, start: int, stop: int) -> Iterator[np.ndarray]:
    reader = FrameReader(info.path)
    if len(reader) < info.frame_count:
        raise _too_few(info, len(reader))
    for first in range(start, stop, chunk_size):
        yield reader.read(range(first, min(first + chunk_size, stop)))


def _deep_chunks(info: VideoInfo, chunk_size: int, start: int, stop: int) -> Iterator[np.ndarray]:
    """Frames ``start`` to ``stop`` as uint16 RGB chunks, decoded by PyAV and turned upright.

    The conversion to RGB is ffmpeg's format filter, not a bare swscale call, so the chroma is placed
    and scaled as the ffmpeg command line does it.
    """
    import av  # 0.1-0.2 s to load FFmpeg's libraries, which 8-bit footage never needs

    chunk: list[np.ndarray] = []
    index = start
    try:
        with _utf8_name(info.path) as name, av.open(name) as container:
            stream = container.streams[info.stream_index]
            stream.thread_type = "AUTO"
            graph = av.filter.Graph()
            nodes = (
                graph.add_buffer(template=stream),
                graph.add("format", "rgb48le"),
                graph.add("buffersink"),
            )
            graph.link_nodes(*nodes).configure()
            seek_pts = frame_pts(info)[1][start] if start and seeks_match(info.path) else None
            frames = _decode_from(container, stream, start, seek_pts)
            for frame in itertools.islice(frames, stop - start):
                graph.vpush(frame)
                chunk.append(np.rot90(graph.vpull().to_ndarray(), k=-info.rotation // 90))
                index += 1
                if len(chunk) == chunk_size:
                    yield np.ascontiguousarray(np.stack(chunk))
                    chunk = []
    except av.FFmpegError as err:
        raise MediaError(
            f"{info.path.name} is corrupt or truncated: its frame {index + 1} of {info.frame_count} "
            "cannot be decoded."
        ) from err
    if chunk:
        yield np.ascontiguousarray(np.stack(chunk))


def _decode_from(
    container: InputContainer, stream: VideoStream, start: int, seek_pts: int | None
) -> Iterator[VideoFrame]:
    """The stream's frames in presentation order from its ``start``-th on: given ``seek_pts`` (that frame's
    time, from :func:`frame_pts`), after a seek to the keyframe before it; else by decoding from the first."""
    if seek_pts is None:
        return itertools.islice(container.decode(stream), start, None)
    container.seek(seek_pts, stream=stream, backward=True)
    return (f for f in container.decode(stream) if f.pts is None or f.pts >= seek_pts)


def _unpad_rows(frame: np.ndarray) -> np.ndarray:
    """Undo decord's row-padding bug: ``(h, w, k > 3)`` is h rows of k*w bytes, the first 3*w of them RGB."""
    height, width, channels = frame.shape
    if channels == 3:
        return frame
    return np.ascontiguousarray(frame.reshape(height, -1)[:, : width * 3].reshape(height, width, 3))
