"""`stylecut apply`: plan the jobs, stylise each clip, report what happened.

Problems with the command itself (an unknown style, an unusable `-o`, a
device that is not there) raise before any clip is touched. A failed clip is
reported when it is reached and skipped; the others are still processed, a
summary names every failure and the exit code is 1. Existing outputs are
skipped unless `--overwrite`, so a re-run resumes an interrupted batch; an
input is never an output. With `--ray` the same planned jobs go to the
distributed driver (stylecut.pipeline.ray.driver), with the same reports
and summary. The ``--json`` report names the temporal stage that ran (None
frame by frame) and gives, per clip, the seconds spent in each stage
(``timing.PROBE`` and ``timing.STAGES``). With ``--from``/``--to`` each clip
gives the frames of that range (stylecut.video.time_range), warmed up on the
frames before it like a segment; a clip that does not reach the range is
skipped with its reason, or ends the command when it is the only input.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from stylecut.device import check_threads, thread_limit
from stylecut.errors import StylecutError, UsageError
from stylecut.pipeline.batch import Job, describe_failure, plan_jobs
from stylecut.pipeline.controls import Controls
from stylecut.pipeline.options import ApplyOptions
from stylecut.pipeline.ray import load_driver
from stylecut.pipeline.ray.options import WARMUP_FRAMES, ClusterOptions, cluster_options
from stylecut.pipeline.timing import PROBE, StageTimer
from stylecut.progress import BatchProgress, ClusterProgress, progress_mode, stderr_console
from stylecut.styles.registry import StyleEntry, load_style_networks, resolve_style
from stylecut.video.encode_settings import EncodeSettings
from stylecut.video.ffmpeg_tools import ffmpeg_choice
from stylecut.video.probe import VideoInfo, probe
from stylecut.video.remux import check_streams_fit
from stylecut.video.tempfiles import check_writable
from stylecut.video.time_range import RangeError, TimeRange
from stylecut.weights_file import sha256_of

if TYPE_CHECKING:
    from stylecut.pipeline.stylise import ClipStyliser


@dataclass
class ApplyRequest:
    """The command's options, as given; what is not given takes ApplyOptions' and EncodeSettings' defaults."""

    inputs: list[Path]
    style: str
    output: Path | None = None
    recursive: bool = False
    overwrite: bool = False
    temporal: str | None = ApplyOptions.temporal
    flow: str = ApplyOptions.flow
    raft_weights: Path | None = ApplyOptions.raft_weights
    device: str = ApplyOptions.device
    runtime: str = ApplyOptions.runtime
    max_side: int | None = ApplyOptions.max_side
    threads: int | None = ApplyOptions.threads
    strength: float = Controls.strength
    keep_colours: bool = Controls.keep_colours
    scale: float = Controls.scale
    cfr: bool = ApplyOptions.cfr
    crf: int = EncodeSettings.crf
    preset: str = EncodeSettings.preset
    codec: str = EncodeSettings.codec
    quiet: bool = False
    json_report: bool = False
    ray: str | None = None  # a Ray address, "local" for a runtime of the command's own
    segment_seconds: float | None = None
    workers: int | None = None
    start: str | None = None  # --from, as given
    end: str | None = None  # --to, as given

    def options(self) -> ApplyOptions:
        return ApplyOptions(
            temporal=self.temporal,
            flow=self.flow,
            raft_weights=self.raft_weights,
            device=self.device,
            runtime=self.runtime,
            max_side=self.max_side,
            cfr=self.cfr,
            threads=self.threads,
            encode=EncodeSettings(codec=self.codec, crf=self.crf, preset=self.preset),
            controls=Controls(strength=self.strength, keep_colours=self.keep_colours, scale=self.scale),
        )

    def cluster(self) -> ClusterOptions | None:
        return cluster_options(self.ray, self.workers, self.segment_seconds, self.threads)

    def time_range(self) -> TimeRange | None:
        time_range = TimeRange.parse(self.start, self.end)
        if time_range and self.ray:
            raise UsageError("--from and --to do not work with --ray yet; run the range without --ray.")
        return time_range


def _probe_jobs(
    jobs: list[Job], overwrite: bool, time_range: TimeRange | None, warmup: int, stop: threading.Event
) -> dict[Path, VideoInfo]:
    """Probe every pending job up front: bad files fail early and the overall bar knows its total.

    With ``time_range``, each job gets the frames it holds (and up to ``warmup`` before them); one that
    holds none is skipped, or raises RangeError when it is the only job. Once ``stop`` is set, the jobs
    not yet probed are left pending (the command is ending).
    """
    infos = {}
    for job in jobs:
        if stop.is_set():
            break
        if job.status != "pending":
            continue
        if job.target.exists() and not overwrite:
            job.status, job.message = "skipped", f"{job.target} exists (use --overwrite to replace it)."
            continue
        timer = StageTimer([PROBE])
        try:
            with timer(PROBE):
                info = probe(job.source)
            if info.made_by is not None:  # a re-run over a folder that holds an earlier run's outputs
                style = f" (style {info.made_by.style})" if info.made_by.style else ""
                job.status = "skipped"
                job.message = f"{job.source} is a stylecut output{style}, so it is not stylised again."
                continue
            if time_range is not None:
                job.clip_range = time_range.resolve(info, warmup)
            check_writable(job.target)
            check_streams_fit(info, job.target, cut=job.clip_range is not None)
            infos[job.source] = info
        except RangeError as exc:
            if len(jobs) == 1:
                raise
            job.status, job.message = "skipped", str(exc)
        except StylecutError as exc:
            job.status, job.message = "failed", str(exc)
        job.stages = timer.seconds
    return infos


def _run_job(styliser: ClipStyliser, job: Job, info: VideoInfo, progress: BatchProgress) -> None:
    progress.start_clip(job.source.name, _frames(job, info))
    try:
        result = styliser.run(info, job.target, progress.advance, job.clip_range)
    except Exception as exc:  # one bad clip must not stop the batch (Ctrl-C does: it is no Exception)
        job.status, job.message = "failed", describe_failure(job.source, exc)
        return
    job.status, job.frames, job.seconds, job.notice = "done", result.frames, result.seconds, result.notice
    job.stages = {PROBE: job.stages[PROBE], **result.stage_seconds}
    job.message = f"{result.frames} frames in {result.seconds:.1f} s ({result.fps:.2f} fps)"


def _frames(job: Job, info: VideoInfo) -> int:
    """The input frames the job renders."""
    return job.clip_range.frames if job.clip_range else info.frame_count


def _report(job: Job, progress: BatchProgress) -> None:
    if job.status == "failed":
        progress.error(f"failed: {job.message}")
    elif job.status == "skipped":
        progress.note(f"skipped: {job.message}")
    else:
        progress.note(f"done: {job.target} ({job.message})")
        if job.notice:
            progress.note(f"note: {job.notice}")


def _styliser_maker(entry: StyleEntry) -> Callable[[ApplyOptions], tuple[ClipStyliser, list[str]]]:
    """``make(options)`` -> the style's styliser and its notices: on the light path without PyTorch,
    otherwise with the style's networks loaded here. The pipeline is imported here rather than with this
    module, so that its imports run while the clips are probed."""
    from stylecut.pipeline.light import create_light_styliser, runs_light
    from stylecut.pipeline.stylise import create_styliser

    if runs_light():
        return partial(create_light_styliser, entry)
    generator, revision, metadata = load_style_networks(entry)
    # A style given by path has no manifest checksum; its own keys the cache of its compiled generator.
    return partial(
        create_styliser,
        generator,
        style=entry.name,
        cache_key=entry.sha256 or sha256_of(entry.path),
        working_side=metadata["working_side"],
        revision=revision,
    )


def run_apply(request: ApplyRequest) -> int:
    """Stylise every input; 0 when none failed, 1 when any did. Raises StylecutError when the command cannot start."""
    options = request.options()
    cluster = request.cluster()
    time_range = request.time_range()
    driver = load_driver() if cluster else None  # without Ray, say how to install it before any work
    if cluster is None:  # a Ray task's threads are its node's cores, not this machine's
        check_threads(options.threads)
    entry = resolve_style(request.style)
    range_tag = time_range.tag() if time_range else ""
    jobs = plan_jobs(
        request.inputs,
        request.output,
        entry.name,
        options.encode.codec,
        request.recursive,
        request.overwrite,
        range_tag,
    )
    # The temporal stage warms up on the frames before a range, as on those before a segment.
    warmup = WARMUP_FRAMES if options.temporal else 0
    stop_probing = threading.Event()
    # ffmpeg probes the clips, in processes of its own, while the pipeline is imported and the networks
    # load and compile here.
    with ThreadPoolExecutor(1) as probing:
        probed = probing.submit(_probe_jobs, jobs, request.overwrite, time_range, warmup, stop_probing)
        try:
            make_styliser = _styliser_maker(entry)
            with thread_limit(options.threads):
                if driver is None:
                    styliser, notices = make_styliser(options)
            infos = probed.result()
        finally:
            stop_probing.set()  # on an error or Ctrl-C, the clips not yet probed never are
    with thread_limit(options.threads):
        console = stderr_console()
        total = sum(_frames(job, infos[job.source]) for job in jobs if job.source in infos)
        mode = progress_mode(request.quiet, console)
        if driver is None:
            progress = BatchProgress(total, mode, console)
        else:
            progress = ClusterProgress(len(infos), total, mode, console)
        with progress:
            if infos:
                progress.note(ffmpeg_choice().describe())
            if driver is None:
                for notice in notices if infos else []:
                    progress.note(notice)
                for job in jobs:
                    if job.status == "pending":
                        _run_job(styliser, job, infos[job.source], progress)
                    _report(job, progress)
            else:  # each Ray worker makes its own styliser; the driver notes what they chose
                report = partial(_report, progress=progress)
                args = (make_styliser, entry.name, options, cluster, progress, report)
                notices = driver.run_jobs(jobs, infos, *args)

    failures = [job for job in jobs if job.status == "failed"]
    if request.json_report:
        report = {
            "style": entry.name,
            "ffmpeg": ffmpeg_choice().to_json(),
            "temporal": options.temporal,  # the stage every clip ran, locally or on a Ray worker
            "notices": notices,
            "range": time_range.to_json() if time_range else None,
            "jobs": [job.to_json() for job in jobs],
        }
        print(json.dumps(report, indent=2))
    if failures and len(jobs) > 1:
        progress.error(f"{len(failures)} of {len(jobs)} inputs failed:")
        for job in failures:
            progress.error(f"  {job.message}")
    return 1 if failures else 0
