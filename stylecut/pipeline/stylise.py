"""Stylise one clip: probe, decode in chunks, generator, flow, temporal stage, encode, remux.

Memory is bounded by the chunk size whatever the clip's length. Decoding,
scaling to the working size and the optical flow run ahead in a thread (a
chunk is handed over once scaled, its flows follow while the generator runs
on it), the generator runs in a thread of its own, and ffmpeg encodes in its
own process, so on a 2-core CPU the flow, the generator and the temporal stage
of consecutive chunks run side by side. The output is written under a unique
temporary name beside the target and renamed only when complete; any error
or Ctrl-C removes the temporary files. A :class:`ClipStyliser` is handed its
parts: the generator and, for temporal consistency, a flow estimator and a
temporal stage (``stylecut.temporal``), and the frame work of its array
library (tensor_frames.py for PyTorch, array_frames.py for numpy on the
light path), so this module imports neither; :func:`create_styliser` builds
the PyTorch ones the options ask for. Frames smaller than the generator can
take (tiny clips, extreme aspect ratios shrunk by ``max_side``) are padded
for it and cropped back.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import closing
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from stylecut.device import select_device
from stylecut.flow.estimators import Frames, consecutive_flows
from stylecut.pipeline.controls import generator_at_strength, working_size
from stylecut.pipeline.options import ApplyOptions
from stylecut.pipeline.pixel_controls import finish
from stylecut.pipeline.retime import describe, plan_retiming
from stylecut.pipeline.timing import STAGES, StageTimer
from stylecut.temporal import TemporalStage
from stylecut.video.decode import iter_frames, seek_notice
from stylecut.video.encode import VideoWriter, reduction_notice
from stylecut.video.probe import VideoInfo
from stylecut.video.remux import dropped_streams, finalize, range_notice
from stylecut.video.tempfiles import temp_path
from stylecut.video.time_range import ClipRange
from stylecut.video.timestamps import FrameTimes

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import torch

    from stylecut.flow import FlowEstimator
    from stylecut.models.revision import Revision
    from stylecut.runtime.runner import Runner


class FrameWork(Protocol):
    """What the styliser does to frames with its array library: tensor_frames.TensorFrames, or
    array_frames.ArrayFrames on the light path."""

    def inference(self) -> AbstractContextManager: ...

    def working(self, chunk: np.ndarray, height: int, width: int) -> Frames: ...

    def concat(self, parts: list[Frames]) -> Frames: ...

    def pad(self, frames: Frames, pads: tuple[int, int, int, int], mode: str) -> Frames: ...

    def display(self, stylised: Frames, chunk: np.ndarray, frames: Frames) -> np.ndarray: ...


@dataclass
class ClipResult:
    frames: int
    seconds: float
    flow: str | None  # the flow estimator's name (None without the temporal stage)
    # wall seconds per stage (STAGES); flow and the scaling in "decode" run in the read-ahead thread, the
    # generator in its own, and "decode" is also the wait for those threads (the generator's chunk, then its
    # flows)
    stage_seconds: dict[str, float]
    # what the user should know about this clip's output (a frame-rate conversion, bits or range lost)
    notice: str | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def _prefetch(chunks: Iterator[np.ndarray], depth: int = 2) -> Iterator[np.ndarray]:
    """``chunks`` run ahead in a thread of their own; errors re-raise in the caller's thread."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        # Never an unbounded wait: a Ctrl-C or SIGTERM raised in the consumer inside slots.get() can
        # swallow the notification that a slot is free, so the consumer's stop is checked meanwhile.
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not hand_over(chunk):
                    return
        except BaseException as exc:  # handed over to the consumer, which raises it
            hand_over(exc)
        hand_over(done)

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while (item := slots.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                slots.get_nowait()
            except queue.Empty:
                worker.join(0.05)


CHUNK_PIXELS = 4 * 1280 * 720  # a chunk's budget: 4 frames of 720p, 1 of 1080p (see frames_per_chunk)


@dataclass
class PreparedChunk:
    """A decoded chunk, its frames at the working size and, with a temporal stage, their flows.

    The read-ahead thread hands the chunk over before it computes the flows, so that the generator runs on
    it meanwhile (at the clip's start the networks would otherwise wait for a whole chunk's flows);
    :meth:`flows_both_ways` waits for them.
    """

    chunk: np.ndarray  # (T, H, W, 3) uint8 at the display size, as decoded
    frames: Frames  # (T, 3, h, w) in [0, 1] at the working size
    before: Frames  # the input frame before each of the last K frames (see TemporalStage)
    # (to_prev, from_prev) for the last K frames, or (None, None) without a predecessor or a flow estimator
    flows: Future = field(default_factory=Future)

    def flows_both_ways(self) -> tuple[Frames | None, Frames | None]:
        """The flows, once the read-ahead thread has them; its error if computing them failed."""
        return self.flows.result()


def frames_per_chunk(chunk: int, pixels: int) -> int:
    """At most ``chunk`` frames of ``pixels`` each, and no more than CHUNK_PIXELS in all (at least one).

    The networks' activations, the flows and the read-ahead grow with a chunk's pixels. Starry-night with
    the temporal stage peaked at 5.0 GB for chunks of 8 1080p frames and 2.8 GB for single frames, and at
    3.1 GB for 8 720p frames and 2.5 GB for 4, at the same speed or faster (2-core CPU, 24 frames).
    """
    return max(1, min(chunk, CHUNK_PIXELS // pixels))


def network_min_side(generator: object) -> int:
    """The smallest side the generator takes (its ``config.min_side``); 1 for a network that declares none."""
    return getattr(getattr(generator, "config", None), "min_side", 1)


def pad_to_min_side(frames: Frames, min_side: int, work: FrameWork) -> tuple[Frames, tuple[slice, slice]]:
    """``frames`` padded around to at least ``min_side`` a side, and the (rows, columns) that crop it back.

    Mirrored where the frame is large enough, else its edge pixels repeated.
    """
    h, w = frames.shape[-2:]
    pad_h, pad_w = max(0, min_side - h), max(0, min_side - w)
    if not pad_h and not pad_w:
        return frames, (slice(None), slice(None))
    top, left = pad_h // 2, pad_w // 2
    pads = (left, pad_w - left, top, pad_h - top)
    mode = "reflect" if max(pads[:2]) < w and max(pads[2:]) < h else "replicate"
    return work.pad(frames, pads, mode), (slice(top, top + h), slice(left, left + w))


class ClipStyliser:
    """Runs a generator over a clip, with a flow estimator and a temporal stage when given them.

    ``generator`` is a runner (:func:`stylecut.runtime.runner.create_runner`)
    or a PyTorch module on ``options.device``: (N, 3, H, W) in [0, 1] in, the
    same out; ``min_side`` is the smallest side it takes (by default read from
    a module's config). ``flow`` and ``temporal`` come together or not at all:
    without them the clip is stylised frame by frame. ``work`` does the frame
    work in the runner's array library (by default PyTorch's on ``options.device``).
    """

    def __init__(
        self,
        generator: Runner,
        options: ApplyOptions,
        *,
        flow: FlowEstimator | None = None,
        temporal: TemporalStage | None = None,
        style: str | None = None,
        min_side: int | None = None,
        working_side: int | None = None,
        work: FrameWork | None = None,
    ) -> None:
        if (flow is None) != (temporal is None):
            raise ValueError("a temporal stage needs a flow estimator, and a flow estimator a temporal stage")
        self.options = options
        self.style = style  # the style's name, marked in each output's metadata
        self.working_side = working_side  # the style's short side in pixels (controls.working_size)
        if work is None:
            from stylecut.pipeline.tensor_frames import TensorFrames

            work = TensorFrames(select_device(options.device))
        self.work = work
        self.generator = generator
        self.min_side = network_min_side(generator) if min_side is None else min_side
        self.flow = flow
        self.temporal = temporal

    def _stylise_batch(self, frames: Frames) -> Frames:
        padded, (rows, columns) = pad_to_min_side(frames, self.min_side, self.work)
        return self.generator(padded)[..., rows, columns]

    def run(
        self,
        info: VideoInfo,
        target: Path,
        on_frames: Callable[[int], None] | None = None,
        clip_range: ClipRange | None = None,
    ) -> ClipResult:
        """Stylise the probed clip, or the frames of ``clip_range`` (``apply --from/--to``), into ``target``,
        which appears only when complete."""
        first, stop = (clip_range.first, clip_range.stop) if clip_range else (0, info.frame_count)
        warmup = clip_range.warmup if clip_range else 0
        retiming = plan_retiming(info) if self.options.cfr else None
        kept_times = FrameTimes(info, first, stop) if info.is_vfr and retiming is None else None
        # Same container family as the target: Matroska would round the timestamps to milliseconds.
        video_tmp = temp_path(target, "video")
        timer = StageTimer(STAGES)
        started = time.perf_counter()
        fps = retiming.rate if retiming else kept_times.rate if kept_times else info.fps
        try:
            with closing(self.stylise_range(info, first, stop, warmup, timer)) as frames:
                repeats = retiming.repeats if retiming else None
                written = self.write_video(info, video_tmp, fps, frames, timer, on_frames, repeats)
            with timer("remux"):
                if kept_times:
                    kept_times.restore(video_tmp)
                finalize(video_tmp, info, target, self.style, clip_range)
        finally:
            video_tmp.unlink(missing_ok=True)
        retimed = describe(info, retiming, first, stop) if retiming else None
        cut = range_notice(info) if clip_range else None
        notice = clip_notice(info, self.options.encode.codec, retimed, cut, seek_notice(info.path))
        flow_name = None if self.flow is None else self.flow.name
        return ClipResult(written, time.perf_counter() - started, flow_name, timer.seconds, notice)

    # The two steps of run, also what a segment of a long clip runs (stylecut.pipeline.ray.segments).

    def stylise_range(
        self, info: VideoInfo, start: int, stop: int, warmup: int = 0, timer: StageTimer | None = None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frames)`` for input frames ``[start, stop)``, chunk by chunk: the index of the
        first one and the finished frames, RGB pixels at display size (uint16 for a clip of more than 8 bits).

        The ``warmup`` frames before ``start`` go through the whole pipeline,
        so that the temporal state is built as in a run from the clip's start,
        but are not yielded.
        """
        timer = StageTimer(STAGES) if timer is None else timer
        controls = self.options.controls
        # Non-square pixels are stretched to the picture's shape for the network, and back for encoding.
        height, width = working_size(
            *info.square_size, controls.scale, self.options.max_side, self.working_side
        )
        if self.temporal is not None:
            self.temporal.reset()
        index = start - warmup  # of the chunk's first frame
        chunk = frames_per_chunk(
            self.options.chunk, max(height * width, info.display_width * info.display_height)
        )
        prepared = self._prepare(iter_frames(info, chunk, index, stop), height, width, timer)
        # Three stages, each one chunk ahead of the next: the read-ahead thread decodes and computes the
        # flows, the generator's thread stylises, and this one runs the temporal stage and hands the frames
        # to the encoder, so that on a 2-core CPU the generator of a chunk runs beside the temporal stage
        # of the one before it.
        with (
            closing(_prefetch(prepared, depth=1)) as chunks,
            closing(_prefetch(self._generate(chunks, timer), depth=1)) as generated,
        ):
            while True:
                with timer("decode"):  # waiting for the generator's thread
                    item = next(generated, None)
                    if item is None:
                        break
                ready, stylised = item
                if self.temporal is not None:
                    with timer("decode"):  # waiting for the read-ahead thread's flows
                        to_prev, from_prev = ready.flows_both_ways()
                    with timer("temporal"), self.work.inference():
                        stylised = self.temporal.fuse_chunk(
                            ready.frames, stylised, to_prev, from_prev, ready.before
                        )
                skip = max(start - index, 0)  # warm-up frames in this chunk
                if skip < len(ready.chunk):
                    with timer("restore"), self.work.inference():
                        output = finish(
                            self.work.display(stylised[skip:], ready.chunk[skip:], ready.frames[skip:]),
                            ready.chunk[skip:],
                            controls,
                        )
                    yield index + skip, output
                index += len(ready.chunk)

    def write_video(
        self,
        info: VideoInfo,
        path: Path,
        fps: Fraction,
        frames: Iterable[tuple[int, np.ndarray]],
        timer: StageTimer,
        on_frames: Callable[[int], None] | None = None,
        repeats: list[int] | None = None,
    ) -> int:
        """Encode ``frames`` (from :meth:`stylise_range`) at ``fps`` into the video-only file ``path``,
        no remux; returns the frames written.

        ``repeats`` (a ``--cfr`` retiming's) says how often each input frame
        is written. On any error the file is deleted. ``on_frames`` counts the
        input frames done.
        """
        writer = VideoWriter(path, info.display_width, info.display_height, fps, self.options.encode, info)
        written = 0
        try:
            for index, output in frames:
                count = len(output)
                with timer("encode"):
                    if repeats is not None:
                        output = np.repeat(output, repeats[index : index + count], axis=0)
                    written += len(output)
                    writer.write(output)
                if on_frames is not None:
                    on_frames(count)
            with timer("encode"):
                writer.close()
        except BaseException:
            writer.abort()
            raise
        return written

    def _generate(
        self, chunks: Iterator[PreparedChunk], timer: StageTimer
    ) -> Iterator[tuple[PreparedChunk, Frames]]:
        """Each prepared chunk with its frames through the generator. Runs in the generator's thread."""
        for ready in chunks:
            # Per chunk, as in _prepare: the inference mode is per thread.
            with timer("generator"), self.work.inference():
                stylised = self._stylise_batch(ready.frames)
            yield ready, stylised

    def _prepare(
        self, chunks: Iterator[np.ndarray], height: int, width: int, timer: StageTimer
    ) -> Iterator[PreparedChunk]:
        """Each chunk at the working size, then, once it is handed over, the flows between its consecutive
        frames (both directions).

        Runs in the read-ahead thread; its flow seconds go to the timer's "flow" entry.
        """
        previous: Frames | None = None
        work = self.work
        for chunk in chunks:
            # Per chunk: the inference mode is per thread, and this runs in the read-ahead thread.
            with work.inference():
                frames = work.working(chunk, height, width)
                sequence = frames if previous is None else work.concat([previous, frames])
            ready = PreparedChunk(chunk, frames, sequence[:-1])
            previous = frames[-1:]
            yield ready
            try:
                flows = None, None
                if self.flow is not None and len(sequence) > 1:
                    with timer("flow"), work.inference():
                        flows = consecutive_flows(self.flow, sequence, work.concat)
                ready.flows.set_result(flows)
            except BaseException as exc:  # the consumer waits on the flows; it raises this
                ready.flows.set_exception(exc)
                raise


def create_styliser(
    generator: torch.nn.Module,
    options: ApplyOptions,
    style: str | None = None,
    cache_key: str | None = None,
    working_side: int | None = None,
    revision: Revision | None = None,
) -> tuple[ClipStyliser, list[str]]:
    """The styliser `apply` runs: the generator (and the style's revision network, when it has one) on the
    runtime, flow backend and temporal stage ``options`` ask for.

    ``cache_key`` (the style file's sha256) names the compiled generator's
    cache entry. Also returns the notices to show (which temporal stage and
    flow backend run; why the runtime fell back to PyTorch). Raises
    StylecutError for an unusable device, runtime, temporal stage or flow.
    """
    from stylecut.flow import create_flow_estimator
    from stylecut.models.revision import INPUT_CHANNELS as REVISION_INPUTS
    from stylecut.pipeline.tensor_frames import TensorFrames
    from stylecut.runtime.runner import create_runner
    from stylecut.temporal.stages import create_temporal_stage

    device = select_device(options.device)
    strength = options.controls.strength
    if cache_key is not None and strength != 1.0:
        cache_key = f"{cache_key}-strength-{strength:g}"  # a weakened copy is another network
    network = generator_at_strength(generator, strength)
    runner, runtime_notice = create_runner(
        network, device, options.runtime, threads=options.threads, cache_key=cache_key
    )
    notices = [runtime_notice]
    parts: dict = {"style": style, "min_side": network_min_side(generator), "working_side": working_side}
    revision_runner = None
    if revision is not None:
        revision_runner, revision_notice = create_runner(
            revision,
            device,
            options.runtime,
            threads=options.threads,
            cache_key=cache_key and f"{cache_key}-revision",
            input_channels=REVISION_INPUTS,
            name="revision network",
        )
        notices.append(revision_notice)
    parts["work"] = TensorFrames(device, revision_runner)
    if options.temporal is not None:
        temporal, temporal_notice = create_temporal_stage(options.temporal, device)
        flow, flow_notice = create_flow_estimator(options.flow, device, options.raft_weights)
        parts.update(flow=flow, temporal=temporal)
        notices += [temporal_notice, flow_notice]
    return ClipStyliser(runner, options, **parts), [notice for notice in notices if notice]


def clip_notice(info: VideoInfo, codec: str, *first: str | None) -> str | None:
    """In one line, what the user should know about an output of ``info``: the ``first`` notices (its
    retiming, its range, its seeks), then the streams it leaves out and what ``codec`` cannot keep."""
    return " ".join(filter(None, [*first, dropped_streams(info), reduction_notice(info, codec)])) or None
