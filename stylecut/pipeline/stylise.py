"""Stylise one clip: probe, decode in chunks, flow, generator, temporal fusion, encode, remux.

Memory is bounded by the chunk size whatever the clip's length. Decoding runs
one chunk ahead in a thread and ffmpeg encodes in its own process, so the
three stages overlap with the network. The output is written under a
temporary name beside the target and renamed only when complete; any error
or Ctrl-C removes the temporary files.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from stylecut.device import select_device
from stylecut.flow import create_flow_estimator
from stylecut.models.generator import Generator
from stylecut.models.temporal import TemporalFuser
from stylecut.pipeline.retime import describe, plan_retiming
from stylecut.video.decode import iter_frames
from stylecut.video.encode import EncodeSettings, VideoWriter, finalize
from stylecut.video.probe import VideoInfo


STAGES = ("decode", "generator", "flow", "temporal", "encode", "remux")


@dataclass(frozen=True)
class ApplyOptions:
    temporal: bool = True
    flow: str = "auto"
    raft_weights: Path | None = None
    device: str = "auto"
    max_side: int | None = None  # processing resolution (longer side); None keeps the clip's own
    chunk: int = 8
    encode: EncodeSettings = field(default_factory=EncodeSettings)


@dataclass
class ClipResult:
    frames: int
    seconds: float
    flow: str | None
    stage_seconds: dict[str, float]
    notice: str | None = None  # what the user should know about this clip's output (a frame-rate conversion)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


def processing_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(height, width) the network runs at: the display size, shrunk to `max_side` if given."""
    if max_side is None or max(width, height) <= max_side:
        return height, width
    scale = max_side / max(width, height)
    return max(2, round(height * scale)), max(2, round(width * scale))


def _prefetch(chunks: Iterator[np.ndarray], depth: int = 2) -> Iterator[np.ndarray]:
    """Decode ahead in a thread; errors re-raise in the caller's thread."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                slots.put(chunk)
        except BaseException as exc:  # handed over to the consumer, which raises it
            slots.put(exc)
        slots.put(done)

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


class ClipStyliser:
    """Runs a generator (and, with `temporal`, the flow and fusion) over a clip."""

    def __init__(self, generator: Generator, options: ApplyOptions) -> None:
        self.options = options
        self.device = select_device(options.device)
        self.generator = generator.to(self.device).eval()
        self.flow, self.flow_notice = (None, None)
        if options.temporal:
            self.flow, self.flow_notice = create_flow_estimator(options.flow, self.device, options.raft_weights)

    def _autocast(self):
        # fp16 on CUDA roughly halves the generator's time; the CPU path stays fp32 (bf16 gains nothing on most CPUs).
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.float16)
        return nullcontext()

    def _stylise_batch(self, frames: torch.Tensor) -> torch.Tensor:
        with self._autocast():
            return self.generator(frames).float()

    def run(self, info: VideoInfo, target: Path, on_frames: Callable[[int], None] | None = None) -> ClipResult:
        """Stylise the probed clip into ``target``, which appears only when complete."""
        # Same container family as the target: Matroska would round the timestamps to milliseconds.
        video_tmp = target.with_name(f".{target.stem}.stylecut-video{target.suffix}")
        video_tmp.unlink(missing_ok=True)  # left over by a killed run
        stages = dict.fromkeys(STAGES, 0.0)
        started = time.perf_counter()
        try:
            with closing(self.stylise_range(info, 0, info.frame_count, stages=stages)) as frames:
                self.write_video(info, video_tmp, frames, stages, on_frames)
            tick = time.perf_counter()
            finalize(video_tmp, info, target)
            stages["remux"] += time.perf_counter() - tick
        finally:
            video_tmp.unlink(missing_ok=True)
        retiming = plan_retiming(info)
        notice = None if retiming is None else describe(info, retiming)
        return ClipResult(info.frame_count, time.perf_counter() - started, self.flow_notice, stages, notice)

    # The two hooks below are also what a segment of a long clip runs (stylecut.pipeline.segments).

    @torch.inference_mode()
    def stylise_range(
        self, info: VideoInfo, start: int, stop: int, warmup: int = 0, stages: dict[str, float] | None = None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frames)`` for input frames ``[start, stop)``: the index of the first one and the
        stylised frames, uint8 RGB at display size, chunk by chunk.

        The ``warmup`` frames before ``start`` go through the whole pipeline,
        so the temporal state is built as in a run from the clip's start, but
        are not yielded. Seconds per stage are added to ``stages``.
        """
        stages = dict.fromkeys(STAGES, 0.0) if stages is None else stages
        height, width = processing_size(info.display_width, info.display_height, self.options.max_side)
        fuser = TemporalFuser() if self.options.temporal else None
        previous: torch.Tensor | None = None
        index = start - warmup  # of the chunk's first frame
        with closing(_prefetch(iter_frames(info, self.options.chunk, index, stop))) as chunks:
            tick = time.perf_counter()
            for chunk in chunks:
                frames = self._to_tensor(chunk, height, width)
                stages["decode"] += time.perf_counter() - tick

                tick = time.perf_counter()
                stylised = self._stylise_batch(frames)
                stages["generator"] += time.perf_counter() - tick

                if fuser is not None:
                    stylised, previous = self._fuse(fuser, frames, stylised, previous, stages)

                skip = max(start - index, 0)  # warm-up frames in this chunk
                if skip < len(chunk):
                    tick = time.perf_counter()
                    output = self._to_uint8(stylised[skip:], info.display_height, info.display_width)
                    stages["encode"] += time.perf_counter() - tick
                    yield index + skip, output
                index += len(chunk)
                tick = time.perf_counter()

    def write_video(
        self,
        info: VideoInfo,
        path: Path,
        frames: Iterable[tuple[int, np.ndarray]],
        stages: dict[str, float],
        on_frames: Callable[[int], None] | None = None,
    ) -> None:
        """Encode ``frames`` (from :meth:`stylise_range`) into the video-only file ``path``, no remux.

        The file is at the clip's output rate (a variable-rate clip's frames
        repeated or dropped by their index), so consecutive ranges written this
        way concatenate into the whole clip; on any error it is deleted.
        ``on_frames`` counts the input frames written.
        """
        retiming = plan_retiming(info)
        fps = info.fps if retiming is None else retiming.rate
        writer = VideoWriter(path, info.display_width, info.display_height, fps, self.options.encode, info)
        try:
            for index, output in frames:
                tick = time.perf_counter()
                count = len(output)
                if retiming is not None:
                    output = np.repeat(output, retiming.repeats[index : index + count], axis=0)
                writer.write(output)
                stages["encode"] += time.perf_counter() - tick
                if on_frames is not None:
                    on_frames(count)
            tick = time.perf_counter()
            writer.close()
            stages["encode"] += time.perf_counter() - tick
        except BaseException:
            writer.abort()
            raise

    def _fuse(self, fuser: TemporalFuser, frames: torch.Tensor, stylised: torch.Tensor, previous: torch.Tensor | None, stages: dict[str, float]) -> tuple[torch.Tensor, torch.Tensor]:
        """Flow for every consecutive pair in the chunk (batched), then the recurrent fusion frame by frame."""
        tick = time.perf_counter()
        before = frames[:-1] if previous is None else torch.cat([previous, frames[:-1]])
        after = frames[1:] if previous is None else frames
        flows_back = flows_fwd = None
        if len(after):
            pairs_a, pairs_b = torch.cat([after, before]), torch.cat([before, after])
            both = self.flow(pairs_a, pairs_b)
            flows_back, flows_fwd = both[: len(after)], both[len(after) :]
        stages["flow"] += time.perf_counter() - tick

        tick = time.perf_counter()
        fused = []
        offset = len(frames) - len(after)  # the first frame of a clip has no predecessor
        for i in range(len(frames)):
            j = i - offset
            has_prev = j >= 0
            fused.append(
                fuser.step(
                    frames[i : i + 1],
                    stylised[i : i + 1],
                    flows_back[j : j + 1] if has_prev else None,
                    flows_fwd[j : j + 1] if has_prev else None,
                    before[j : j + 1] if has_prev else None,
                )
            )
        stages["temporal"] += time.perf_counter() - tick
        return torch.cat(fused), frames[-1:]

    def _to_tensor(self, chunk: np.ndarray, height: int, width: int) -> torch.Tensor:
        frames = torch.from_numpy(chunk).to(self.device).permute(0, 3, 1, 2).float().div_(255)
        if frames.shape[-2:] != (height, width):
            frames = F.interpolate(frames, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
        return frames

    @staticmethod
    def _to_uint8(frames: torch.Tensor, height: int, width: int) -> np.ndarray:
        if frames.shape[-2:] != (height, width):
            frames = F.interpolate(frames, size=(height, width), mode="bicubic", align_corners=False)
        return frames.clamp_(0, 1).mul_(255).round_().byte().permute(0, 2, 3, 1).cpu().numpy()
