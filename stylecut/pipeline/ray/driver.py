"""`stylecut apply --ray`: the batch's clips, and the segments of long clips, as Ray tasks.

Storage. Tasks read each input and write each output at the path the
command resolved, so every node must see the inputs and outputs at the same
paths as the machine running the command (a shared folder, as render farms
have). A task that cannot see them fails its clip with one sentence.

The same code. Each worker process makes its styliser once, with the same
``create_styliser`` as a local run, and a clip runs in the same
``ClipStyliser.run``, so its output is the same, bit for bit, as a local run
with the same options on the same hardware. A long clip is split into segments
(:mod:`.segments`): one task per boundary searches its
neighbourhood for a scene cut, one task per segment stylises and encodes it
(and returns the raw frames it shares with its neighbours through Ray's
object store), and one task cross-fades the seams, stitches the parts and
remuxes the source's other streams.

Resources. Each stylising task asks for ``CPUS_PER_TASK`` CPUs (``--threads``
when given) and runs the networks with that many threads, or for one GPU
(and one CPU) when the cluster has GPUs and ``--device`` is not ``cpu``;
and for the memory a process
stylising frames of its clip's size needs (:func:`task_memory`), so that Ray
never packs more tasks onto a node than its memory holds. At most
``workers`` tasks are handed to Ray at once: by default as many as the
cluster's CPUs (or GPUs) hold, so every worker is busy and the queue stays
in this process, where Ctrl-C can drop it.

Failures. A task returns its clip's failure as the one sentence the local
batch would print. A worker or node that dies is retried by Ray up to
``MAX_RETRIES`` times, then its clip fails. A failed clip's other tasks are
cancelled and its temporary files removed once they have stopped; the other
clips go on. Ctrl-C cancels every task (each deletes its partial file as it
stops; after ``CANCEL_GRACE_SECONDS`` the rest are killed) and removes the
part files of every unfinished clip before it ends the command.

Progress. Tasks send their frame counts to a small actor on this machine's
node (:mod:`.frame_counter`); the driver reads it without
ever waiting for it.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError, TaskCancelledError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from stylecut.device import thread_limit
from stylecut.errors import MediaError, UsageError
from stylecut.pipeline.batch import Job, describe_failure
from stylecut.pipeline.options import ApplyOptions
from stylecut.pipeline.ray import segments
from stylecut.pipeline.ray.frame_counter import FrameCounter, FrameReporter
from stylecut.pipeline.ray.options import INSTALL_HINT, LOCAL, WARMUP_FRAMES, ClusterOptions
from stylecut.pipeline.stylise import ClipStyliser, clip_notice
from stylecut.progress import ClusterProgress
from stylecut.sigterm import raise_on_sigterm
from stylecut.video.decode import seek_notice
from stylecut.video.encode_settings import EncodeSettings
from stylecut.video.probe import VideoInfo
from stylecut.video.scenes import scene_cuts

# Measured by benchmarks/cluster.py on 2 cores: two 1-thread tasks beat one 2-thread task.
CPUS_PER_TASK = 1
MAX_RETRIES = 3
CANCEL_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.5
CONNECT_TIMEOUT_SECONDS = 5.0
QUIET = {"log_to_driver": False, "logging_level": logging.ERROR}
RAY_BOOTSTRAP_CONFIG = "ray_bootstrap_config.yaml"  # where Ray's usage-stats module reads the cloud's name


# --- connecting -------------------------------------------------------------------------


@contextmanager
def ray_runtime(cluster: ClusterOptions) -> Iterator[None]:
    """Ray for the block: the runtime this process already has, a new local one, or a cluster."""
    if cluster.address != LOCAL:
        _check_reachable(cluster.address)
    if ray.is_initialized():  # started by the caller (a test, a notebook): theirs to shut down
        yield
        return
    with ExitStack() as runtime:
        if cluster.address == LOCAL:
            runtime.enter_context(_local_runtime(cluster))
        else:
            _join(cluster.address)
            runtime.callback(ray.shutdown)
        raise_on_sigterm()  # ray.init replaced the handler of stylecut.sigterm with its own sys.exit
        yield


@contextmanager
def _local_runtime(cluster: ClusterOptions) -> Iterator[None]:
    """A Ray runtime on this machine for the block, which stays on it and writes nothing into HOME.

    Ray's dashboard process runs its usage-stats module even with the dashboard and usage stats off
    (RAY_USAGE_STATS_ENABLED=0, see :mod:`stylecut.offline`), and that module asks the cloud metadata
    addresses (169.254.169.254, metadata.google.internal) which cloud it is on unless
    ``~/ray_bootstrap_config.yaml`` names the provider; and Ray saves the token that guards a new
    runtime in ``~/.ray/auth_token`` unless it is given one. So the runtime's processes start with a
    HOME in the temporary folder holding a config that names a local provider, and with a token of
    this command's in their environment; its workers get the user's HOME back, where stylecut looks
    for the user's folders.

    The runtime's processes also start with SIGTERM blocked, as Ray starts them with SIGINT blocked: a
    scheduler stopping the job signals every process of it, and a raylet that stopped at once would end
    this command with it (its connection to the object store breaks) before the command could cancel
    the tasks and remove their files. ``ray.shutdown`` then stops them with SIGKILL after a second
    each (about 4 s a command).
    """
    cpus = cluster.workers * (cluster.threads or CPUS_PER_TASK) if cluster.workers else os.cpu_count()
    workers = {"env_vars": {"HOME": os.path.expanduser("~")}}
    with (
        tempfile.TemporaryDirectory(prefix="stylecut-ray-home-") as ray_home,
        _environment(RAY_AUTH_TOKEN=secrets.token_hex(16)),
    ):
        Path(ray_home, RAY_BOOTSTRAP_CONFIG).write_text("provider:\n  type: local\n")
        with _environment(HOME=ray_home), _sigterm_blocked():  # what the processes ray.init starts inherit
            _init(address="local", num_cpus=cpus, include_dashboard=False, runtime_env=workers)
        try:
            yield
        finally:
            ray.shutdown()


def _init(**options: Any) -> None:
    """``ray.init`` with ``options``, quietly, from a command line that may hold names that are not UTF-8.

    Ray records the command line as the job's entrypoint and hands it to C++ as UTF-8, which a file name
    of bytes from another system cannot be: ray.init then fails. Such bytes are recorded as U+FFFD, through
    Ray's private helper (tests/test_file_names.py checks it still does this; a Ray without it is left as
    it is rather than broken for every name).
    """
    from ray._private import utils

    entrypoint = getattr(utils, "get_entrypoint_name", None)
    if entrypoint is None:
        ray.init(**options, **QUIET)
        return
    utils.get_entrypoint_name = lambda: entrypoint().encode(errors="surrogateescape").decode(errors="replace")
    try:
        ray.init(**options, **QUIET)
    finally:
        utils.get_entrypoint_name = entrypoint


@contextmanager
def _sigterm_blocked() -> Iterator[None]:
    """SIGTERM blocked in this thread for the block (a SIGTERM that comes meanwhile waits for its end)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """This process's environment with ``values`` set for the block."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _join(address: str) -> None:
    """Connect to the Ray cluster at ``address``, or a UsageError saying why not."""
    try:
        _init(address=address)
    except ValueError as exc:
        if "ray[client]" not in str(exc):
            raise
        raise UsageError(
            f"Joining a cluster through ray:// needs Ray's client: install it with {INSTALL_HINT}."
        ) from None
    except ConnectionError as exc:
        reason = str(exc).split(". ")[0].rstrip(".")
        raise UsageError(f"Cannot connect to the Ray cluster {address}: {reason}.") from None


def _check_reachable(address: str) -> None:
    """Fail in seconds on an address nobody answers (Ray itself retries for minutes, then exits)."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_SECONDS).close()
    except OSError as exc:
        raise UsageError(f"Cannot reach the Ray cluster at {address}: {exc.strerror or exc}.") from None


@dataclass(frozen=True)
class TaskShape:
    """What each stylising task asks Ray for, and how many run at once."""

    cpus: int
    gpus: int
    workers: int
    node_memory: float  # bytes of the largest node: no task may ask for more

    @property
    def device(self) -> str:
        return "cuda" if self.gpus else "cpu"


def task_shape(
    nodes: list[dict[str, float]], device: str, workers: int | None, cpus_per_task: int = CPUS_PER_TASK
) -> TaskShape:
    """One GPU per task where the cluster has GPUs (unless ``device`` is cpu), else ``cpus_per_task`` CPUs.

    ``nodes`` holds the resources of each live node, as Ray counts them. A task no node can hold
    would wait forever, so asking for one is a UsageError.
    """
    gpus = sum(int(node.get("GPU", 0)) for node in nodes)
    memory = max(node.get("memory", 0.0) for node in nodes)
    if device == "cuda" and not gpus:
        raise UsageError("--device cuda was asked for, but the Ray cluster has no GPU.")
    if device != "cpu" and gpus:
        return TaskShape(1, 1, workers or gpus, memory)
    largest = max(int(node.get("CPU", 0)) for node in nodes)
    if cpus_per_task > largest:
        fewer = f": give --threads {largest} or fewer" if largest else ""
        raise UsageError(
            f"--threads {cpus_per_task} asks each Ray task for {cpus_per_task} CPUs, but the largest Ray node "
            f"has {largest}{fewer}."
        )
    cpus = sum(int(node.get("CPU", 0)) // cpus_per_task for node in nodes)
    return TaskShape(cpus_per_task, 0, workers or max(1, cpus), memory)


# What a stylising task asks Ray for: a base plus a cost per display pixel, sized from the peak RSS of
# `stylecut apply` in docs/measurements.md (the speed table: VmHWM, 24 frames, one-frame chunks). The
# generator runs at the style's working size, so the peak hardly follows the frame: 1.27-2.14 GiB over
# 360p-1080p, the largest 2132 MiB (2.24e9 B) at 720p with PyTorch, 1677 MiB at 1080p with OpenVINO.
# With the frame's own share the base covers every 24-frame peak (a 96-frame 360p run with PyTorch, not
# the default runtime, peaked at 2.36 GB, over its 2.22 GB request); that share is 100 B a pixel,
# about eight float32 RGB copies of the frame (the buffers the pipeline holds): 0.2 GB at 1080p, 0.8 GB
# at 2160p. Requests: 2.29 GB at 720p, 2.41 GB at 1080p, 3.03 GB at 2160p. With the styles' revision
# networks the 12-frame peaks were at most 2.12 GB at 720p and 2.07 GB at 1080p (docs/measurements.md).
BASE_MEMORY = 2.2e9
MEMORY_PER_PIXEL = 100.0


def task_memory(info: VideoInfo, largest_node: float) -> int:
    """Bytes of memory a task stylising ``info`` asks for; never more than the largest node has."""
    return int(min(BASE_MEMORY + MEMORY_PER_PIXEL * info.display_width * info.display_height, largest_node))


# --- what runs on the workers -------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    """A task's result: its seconds (per stage), what the user should know, or the sentence it failed with."""

    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    frames: int = 0  # of a clip's output (a --cfr conversion repeats or drops some)
    notices: tuple[str, ...] = ()  # the styliser's (which flow, which runtime)
    notice: str | None = None  # the clip's (a frame-rate conversion, dropped streams); a segment's: its seeks
    error: str | None = None
    cuts: tuple[int, ...] = ()


StyliserFactory = Callable[[ApplyOptions], tuple[ClipStyliser, list[str]]]  # create_styliser, style bound
_stylisers: dict[tuple[str, ApplyOptions], tuple[ClipStyliser, list[str]]] = {}


def _styliser(make: list[ray.ObjectRef], options: ApplyOptions) -> tuple[ClipStyliser, list[str]]:
    """This worker process's styliser and its notices: made by its first task for a style and options,
    reused by the next (compiling the generator takes seconds)."""
    key = (make[0].hex(), options)
    if key not in _stylisers:
        _stylisers.clear()
        _stylisers[key] = ray.get(make[0])(options)
    return _stylisers[key]


def _not_visible(path: Path) -> MediaError:
    return MediaError(
        f"{path} is not visible on the Ray node {socket.gethostname()}: inputs and outputs must be "
        "on storage that every node mounts at the same path."
    )


def _check_shared(info: VideoInfo, target: Path) -> None:
    for path in (info.path, target.parent):
        if not path.exists():
            raise _not_visible(path)


def _attempt(source: Path, threads: int, work: Callable[[], _Outcome]) -> _Outcome:
    try:
        with thread_limit(threads):
            return work()
    except Exception as exc:  # the clip's failure, as a sentence; Ctrl-C (cancel) is no Exception
        if isinstance(exc, FileNotFoundError) and not source.exists():
            # The storage went away during the task (the decoder opens the clip again to check its seeks).
            exc = _not_visible(source)
        return _Outcome(error=describe_failure(source, exc))


@ray.remote
def _clip_task(make, options: ApplyOptions, info: VideoInfo, target: Path, counter, key: int) -> _Outcome:
    def work() -> _Outcome:
        _check_shared(info, target)
        styliser, notices = _styliser(make, options)
        report = FrameReporter(counter, key)
        try:
            result = styliser.run(info, target, report)
        finally:
            report.flush()
        return _Outcome(result.seconds, result.stage_seconds, result.frames, tuple(notices), result.notice)

    return _attempt(info.path, options.threads, work)


@ray.remote(num_returns=2)
def _segment_task(
    make,
    options: ApplyOptions,
    info: VideoInfo,
    target: Path,
    folder: Path,
    segment: segments.Segment,
    counter,
    key: int,
) -> tuple[_Outcome, segments.Edges | None]:
    """The segment's outcome, and its raw head and tail for the stitch (in Ray's object store)."""
    edges = None

    def work() -> _Outcome:
        nonlocal edges
        _check_shared(info, target)
        styliser, notices = _styliser(make, options)
        report = FrameReporter(counter, key)
        try:
            result, edges = segments.write_segment(styliser, info, folder, segment, report)
        finally:
            report.flush()
        # A segment read on from the clip's start: the clip's notice, which the stitch gives.
        return _Outcome(
            result.seconds, result.stage_seconds, notices=tuple(notices), notice=seek_notice(info.path)
        )

    return _attempt(info.path, options.threads, work), edges


@ray.remote
def _cuts_task(info: VideoInfo, start: int, stop: int) -> _Outcome:
    return _attempt(info.path, 1, lambda: _Outcome(cuts=tuple(scene_cuts(info, start, stop))))


@ray.remote
def _stitch_task(
    info: VideoInfo,
    folder: Path,
    target: Path,
    planned: list[segments.Segment],
    settings: EncodeSettings,
    style: str,
    seeking: str | None,
    edges: list[ray.ObjectRef],
) -> _Outcome:
    """``seeking`` is the segments' seek notice; ``edges`` holds each segment's Edges reference (in a
    list, so Ray hands over the references and the stitch fetches one segment's frames at a time)."""

    def work() -> _Outcome:
        started = time.perf_counter()
        segments.stitch(info, folder, target, planned, settings, lambda index: ray.get(edges[index]), style)
        seconds = time.perf_counter() - started
        notice = clip_notice(info, settings.codec, seeking)
        return _Outcome(seconds, {"remux": seconds}, info.frame_count, notice=notice)

    return _attempt(info.path, 1, work)


# --- the driver ---------------------------------------------------------------------------


@dataclass
class _Clip:
    key: int
    job: Job
    info: VideoInfo
    points: list[int] = field(default_factory=list)  # even boundaries, before moving them to cuts
    cuts: list[int] = field(default_factory=list)
    searches_left: int = 0
    segments: list[segments.Segment] = field(default_factory=list)
    segments_left: int = 0
    edges: dict[int, ray.ObjectRef] = field(default_factory=dict)  # per segment: its raw head and tail
    parts: Path | None = None  # the folder of its segments' files
    seeking: str | None = None  # its segments' seek notice
    running: set[ray.ObjectRef] = field(default_factory=set)
    seconds: float = 0.0
    frames_shown: int = 0

    def __post_init__(self) -> None:
        # Workers have working directories of their own: they get absolute paths.
        self.info = replace(self.info, path=self.info.path.absolute())

    @property
    def target(self) -> Path:
        assert self.job.target is not None
        return self.job.target.absolute()

    @property
    def finished(self) -> bool:
        return self.job.status != "pending"

    def add_stages(self, outcome: _Outcome) -> None:
        for stage, seconds in outcome.stages.items():
            self.job.stages[stage] = self.job.stages.get(stage, 0.0) + seconds

    def remove_parts(self) -> None:
        if self.parts is not None:
            segments.remove_parts(self.parts)


_Handler = Callable[[_Clip, _Outcome], None]


class _Driver:
    """Hands the clips' tasks to Ray, at most ``shape.workers`` at a time, and follows them to the end."""

    def __init__(
        self,
        clips: list[_Clip],
        make: ray.ObjectRef,
        style: str,
        options: ApplyOptions,
        cluster: ClusterOptions,
        shape: TaskShape,
        counter: ray.actor.ActorHandle,
        progress: ClusterProgress,
        on_finished: Callable[[Job], None],
    ) -> None:
        self.clips = {clip.key: clip for clip in clips}
        self.make = [make]  # in a list, so that tasks receive the reference and fetch it once per worker
        self.style = style
        self.options = replace(options, device=shape.device, threads=shape.cpus)
        self.cluster, self.shape, self.counter = cluster, shape, counter
        self.progress, self.on_finished = progress, on_finished
        # Short tasks that unblock a clip (cut search, stitching) go before the stylising queue.
        self.urgent: deque[tuple[_Clip, Callable[[], ray.ObjectRef], _Handler]] = deque()
        self.queue: deque[tuple[_Clip, Callable[[], ray.ObjectRef], _Handler]] = deque()
        self.running: dict[ray.ObjectRef, tuple[_Clip, _Handler]] = {}
        self.notices: list[str] = []  # the workers' stylisers', each shown once
        self.counts: ray.ObjectRef | None = None  # the counter's answer to come

    def run(self) -> None:
        for clip in self.clips.values():
            self._start(clip)
        try:
            while self.urgent or self.queue or self.running:
                self._submit()
                refs = list(self.running)
                ray.wait(refs, num_returns=1, timeout=POLL_SECONDS)
                ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
                self._show_progress()
                for ref in ready:
                    self._collect(ref)
        except BaseException:
            self._cancel(list(self.running))
            raise
        finally:
            for clip in self.clips.values():
                if clip.job.status != "done":
                    clip.remove_parts()

    # -- planning

    def _start(self, clip: _Clip) -> None:
        info = clip.info
        clip.points = segments.split_points(info, max(1, round(self.cluster.segment_seconds * info.fps)))
        if not clip.points:
            self.queue.append((clip, lambda: self._stylise(_clip_task, clip), self._clip_done))
        elif not self.options.temporal:
            self._plan(clip)  # without temporal state every frame is a clean boundary: no cut search
        else:
            clip.searches_left = len(clip.points)
            for start, stop in segments.search_ranges(info, clip.points):
                submit = partial(_cuts_task.options(num_cpus=1).remote, info, start, stop)
                self.urgent.append((clip, submit, self._cuts_found))

    def _cuts_found(self, clip: _Clip, outcome: _Outcome) -> None:
        clip.cuts += outcome.cuts
        clip.searches_left -= 1
        if clip.searches_left == 0:
            self._plan(clip)

    def _plan(self, clip: _Clip) -> None:
        # Without temporal state every frame is a clean boundary: no warm-up, no blending.
        temporal = self.options.temporal
        warmup, blend = (WARMUP_FRAMES, segments.BLEND_FRAMES) if temporal else (0, 0)
        clip.segments = segments.plan_segments(clip.info, clip.points, clip.cuts, warmup, blend)
        clip.segments_left = len(clip.segments)
        clip.parts = segments.parts_folder(clip.target)
        # First in the queue: the clip was started in its turn, and its output comes sooner.
        for segment in reversed(clip.segments):
            submit = partial(self._submit_segment, clip, segment)
            self.queue.appendleft((clip, submit, self._segment_done))

    def _submit_segment(self, clip: _Clip, segment: segments.Segment) -> ray.ObjectRef:
        outcome, clip.edges[segment.index] = self._stylise(_segment_task, clip, clip.parts, segment)
        return outcome

    def _segment_done(self, clip: _Clip, outcome: _Outcome) -> None:
        clip.seconds += outcome.seconds
        clip.add_stages(outcome)
        clip.seeking = clip.seeking or outcome.notice
        clip.segments_left -= 1
        if clip.segments_left == 0:
            edges = [clip.edges[segment.index] for segment in clip.segments]
            stitch = partial(_stitch_task.options(num_cpus=1).remote, clip.info, clip.parts, clip.target)
            submit = partial(stitch, clip.segments, self.options.encode, self.style, clip.seeking, edges)
            self.urgent.append((clip, submit, self._clip_done))

    def _clip_done(self, clip: _Clip, outcome: _Outcome) -> None:
        job = clip.job
        job.status, job.frames, job.notice = "done", outcome.frames, outcome.notice
        job.seconds = clip.seconds + outcome.seconds
        clip.add_stages(outcome)
        split = f", {len(clip.segments)} segments" if clip.segments else ""
        job.message = (
            f"{job.frames} frames in {job.seconds:.1f} s ({job.frames / job.seconds:.2f} fps{split})"
        )
        self.progress.advance(clip.info.frame_count - clip.frames_shown)
        self.progress.clip_finished()
        self.on_finished(job)

    def _fail(self, clip: _Clip, message: str) -> None:
        clip.job.status, clip.job.message = "failed", message
        self.urgent = deque(item for item in self.urgent if item[0] is not clip)
        self.queue = deque(item for item in self.queue if item[0] is not clip)
        self._cancel(list(clip.running), wait=False)
        if not clip.running:  # else its files go when its last task has stopped
            clip.remove_parts()
        self.progress.clip_finished(frames_left=clip.info.frame_count - clip.frames_shown)
        self.on_finished(clip.job)

    # -- talking to Ray

    def _stylise(self, task: ray.remote_function.RemoteFunction, clip: _Clip, *args: object) -> Any:
        """Submit a stylising task for ``clip``: its reference, or references for several returns."""
        shape = self.shape
        memory = task_memory(clip.info, shape.node_memory)
        return task.options(
            num_cpus=shape.cpus, num_gpus=shape.gpus, memory=memory, max_retries=MAX_RETRIES
        ).remote(self.make, self.options, clip.info, clip.target, *args, self.counter, clip.key)

    def _submit(self) -> None:
        while (self.urgent or self.queue) and len(self.running) < self.shape.workers:
            clip, submit, handler = (self.urgent or self.queue).popleft()
            ref = submit()
            self.running[ref] = (clip, handler)
            clip.running.add(ref)

    def _collect(self, ref: ray.ObjectRef) -> None:
        clip, handler = self.running.pop(ref)
        clip.running.discard(ref)
        if clip.finished:  # a cancelled task of a failed clip: clean up after the last one
            if not clip.running:
                clip.remove_parts()
            return
        try:
            outcome = ray.get(ref)
        except TaskCancelledError:
            return
        except RayError as exc:  # the worker or its node died, and so did every retry
            lost = f"its Ray task was lost ({type(exc).__name__}), {MAX_RETRIES} retries included"
            outcome = _Outcome(error=f"Could not process {clip.info.path}: {lost}.")
        for notice in outcome.notices:
            if notice not in self.notices:
                self.notices.append(notice)
                self.progress.note(notice)
        if outcome.error:
            self._fail(clip, outcome.error)
        else:
            handler(clip, outcome)

    def _show_progress(self) -> None:
        """Count the frames reported since the last answer, if it has come, and ask again."""
        counts: dict[int, int] = {}
        if self.counts is not None:
            if not ray.wait([self.counts], timeout=0)[0]:
                return
            try:
                counts = ray.get(self.counts)
            except RayError:
                pass  # a lost progress figure is no reason to stop the batch
        self.counts = self.counter.take.remote()
        for key, frames in counts.items():
            clip = self.clips[key]
            frames = min(frames, clip.info.frame_count - clip.frames_shown)  # a retried task counts again
            if not clip.finished and frames > 0:
                clip.frames_shown += frames
                self.progress.advance(frames)

    def _cancel(self, refs: list[ray.ObjectRef], wait: bool = True) -> None:
        """Ask the tasks to stop (they delete their partial files); with ``wait``, kill those that do not."""
        for ref in refs:
            _quietly(ray.cancel, ref)
        if wait and refs:
            done = _quietly(ray.wait, refs, num_returns=len(refs), timeout=CANCEL_GRACE_SECONDS)
            for ref in set(refs) - set(done[0] if done else ()):
                _quietly(ray.cancel, ref, force=True)


def _quietly(call: Callable, *args: object, **kwargs: object) -> object:
    """For clean-up after Ctrl-C or a failure: the cluster may be going away; that must not mask the cause."""
    try:
        return call(*args, **kwargs)
    except Exception:
        return None


def run_jobs(
    jobs: list[Job],
    infos: dict[Path, VideoInfo],
    make_styliser: StyliserFactory,
    style: str,
    options: ApplyOptions,
    cluster: ClusterOptions,
    progress: ClusterProgress,
    on_finished: Callable[[Job], None],
) -> list[str]:
    """Run the pending ``jobs`` on Ray; each job's status and message are set as it ends, and
    ``on_finished`` hears of it (at once for the jobs that are not pending). Returns the notices the
    workers' stylisers gave (which flow and runtime they use).

    ``make_styliser`` is :func:`stylecut.pipeline.stylise.create_styliser` with the style bound; it
    goes to every worker, which calls it once with ``options`` for its share of the cluster.
    ``style`` is the style's name, marked in the outputs of split clips.
    """
    for job in jobs:
        if job.status != "pending":
            on_finished(job)
    pending = [job for job in jobs if job.status == "pending"]
    if not pending:
        return []
    with ray_runtime(cluster):
        nodes = [node["Resources"] for node in ray.nodes() if node["Alive"]]
        shape = task_shape(nodes, options.device, cluster.workers, cluster.threads or CPUS_PER_TASK)
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        counter = FrameCounter.options(scheduling_strategy=here).remote()
        clips = [_Clip(key, job, infos[job.source]) for key, job in enumerate(pending)]
        make = ray.put(make_styliser)
        driver = _Driver(clips, make, style, options, cluster, shape, counter, progress, on_finished)
        try:
            driver.run()
        finally:
            _quietly(ray.kill, counter)
    return driver.notices
