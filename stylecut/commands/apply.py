"""`stylecut apply`: plan the jobs, stylise each clip, report what happened.

Problems with the command itself (an unknown style, an unusable `-o`, a
device that is not there) raise before any clip is touched. A failed clip is
reported when it is reached and skipped; the others are still processed, a
summary names every failure and the exit code is 1. Existing outputs are
skipped unless `--overwrite`, so a re-run resumes an interrupted batch. With
`--ray` the same planned jobs go to the distributed driver
(stylecut.pipeline.distributed), with the same reports and summary.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from rich.console import Console

from stylecut.errors import StylecutError
from stylecut.models.generator import Generator
from stylecut.pipeline.batch import Job, check_writable, describe_failure, plan_jobs
from stylecut.pipeline.cluster import ClusterOptions, load_driver
from stylecut.pipeline.stylise import ApplyOptions, ClipStyliser
from stylecut.progress import BatchProgress, ClusterProgress, progress_mode, stderr_console
from stylecut.styles.registry import load_style, resolve_style
from stylecut.video.probe import VideoInfo, probe


def _probe_jobs(jobs: list[Job], overwrite: bool) -> dict[Path, VideoInfo]:
    """Probe every pending job up front: bad files fail early and the overall bar knows its total."""
    infos = {}
    for job in jobs:
        if job.status != "pending":
            continue
        if job.target.exists() and not overwrite:
            job.status, job.message = "skipped", f"{job.target} exists (use --overwrite to replace it)."
            continue
        try:
            infos[job.source] = probe(job.source)
            check_writable(job.target)
        except StylecutError as exc:
            job.status, job.message = "failed", str(exc)
    return infos


def _run_job(styliser: ClipStyliser, job: Job, info: VideoInfo, progress: BatchProgress) -> None:
    progress.start_clip(job.source.name, info.frame_count)
    try:
        result = styliser.run(info, job.target, progress.advance)
    except Exception as exc:  # one bad clip must not stop the batch (Ctrl-C does: it is no Exception)
        job.status, job.message = "failed", describe_failure(job.source, exc)
        return
    job.status, job.frames, job.seconds, job.notice = "done", result.frames, result.seconds, result.notice
    job.message = f"{result.frames} frames in {result.seconds:.1f} s ({result.fps:.2f} fps)"


def _report(job: Job, progress: BatchProgress) -> None:
    if job.status == "failed":
        progress.error(f"failed: {job.message}")
    elif job.status == "skipped":
        progress.note(f"skipped: {job.message}")
    else:
        progress.note(f"done: {job.target} ({job.message})")
        if job.notice:
            progress.note(f"note: {job.notice}")


def _run_on_cluster(
    jobs: list[Job], infos: dict[Path, VideoInfo], generator: Generator, options: ApplyOptions,
    cluster: ClusterOptions, mode: str, console: Console,
) -> ClusterProgress:
    """The distributed branch: the pending jobs go to the Ray driver, the others are reported at once."""
    pending = [job for job in jobs if job.status == "pending"]
    total = sum(info.frame_count for info in infos.values())
    with ClusterProgress(len(pending), total, mode, console) as progress:
        for job in jobs:
            if job.status != "pending":
                _report(job, progress)
        if pending:
            report = partial(_report, progress=progress)
            load_driver().run_jobs(pending, infos, generator, options, cluster, progress, report)
    return progress


def run_apply(
    inputs: list[Path], style: str, output: Path | None, options: ApplyOptions, *, recursive: bool,
    overwrite: bool, quiet: bool, json_report: bool, cluster: ClusterOptions | None = None,
) -> int:
    """Stylise every input (on Ray with ``cluster``); 0 when none failed, 1 when any did.

    Raises StylecutError when the command cannot start.
    """
    if cluster is not None:
        load_driver()  # without Ray, say how to install it before anything else
    entry = resolve_style(style)
    generator, _ = load_style(entry)
    jobs = plan_jobs(inputs, output, entry.name, options.encode.codec, recursive)
    styliser = ClipStyliser(generator, options) if cluster is None else None  # on Ray: one per worker
    infos = _probe_jobs(jobs, overwrite)
    console = stderr_console()

    mode = progress_mode(quiet, console)
    if cluster is not None:
        progress = _run_on_cluster(jobs, infos, generator, options, cluster, mode, console)
    else:
        with BatchProgress(sum(info.frame_count for info in infos.values()), mode, console) as progress:
            if infos and styliser.flow_notice:
                progress.note(styliser.flow_notice)
            for job in jobs:
                if job.status == "pending":
                    _run_job(styliser, job, infos[job.source], progress)
                _report(job, progress)

    failures = [job for job in jobs if job.status == "failed"]
    if json_report:
        print(json.dumps({"style": entry.name, "jobs": [job.to_json() for job in jobs]}, indent=2))
    if failures and len(jobs) > 1:
        progress.error(f"{len(failures)} of {len(jobs)} inputs failed:")
        for job in failures:
            progress.error(f"  {job.message}")
    return 1 if failures else 0
