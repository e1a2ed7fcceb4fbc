"""`stylecut apply`: plan the jobs, stylise each clip, report what happened.

A failed clip is reported and skipped; the others are still processed and
the exit code is 1. Existing outputs are skipped unless `--overwrite`, so a
re-run resumes an interrupted batch.
"""

from __future__ import annotations

import json
from pathlib import Path

from stylecut.errors import StylecutError
from stylecut.pipeline.batch import Job, check_writable, describe_failure, plan_jobs
from stylecut.pipeline.stylise import ApplyOptions, ClipStyliser
from stylecut.progress import BatchProgress, progress_mode, stderr_console
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


def run_apply(inputs: list[Path], style: str, output: Path | None, options: ApplyOptions, *, recursive: bool, overwrite: bool, quiet: bool, json_report: bool) -> int:
    entry = resolve_style(style)
    generator, _ = load_style(entry)
    jobs = plan_jobs(inputs, output, entry.name, options.encode.codec, recursive)
    infos = _probe_jobs(jobs, overwrite)
    console = stderr_console()
    mode = progress_mode(quiet, console)

    with BatchProgress(sum(info.frame_count for info in infos.values()), mode, console) as progress:
        styliser = ClipStyliser(generator, options) if infos else None
        if styliser is not None and styliser.flow_notice:
            progress.note(styliser.flow_notice)
        for job in jobs:
            if job.status == "skipped":
                progress.note(f"skipped: {job.message}")
            if job.status != "pending":
                continue
            info = infos[job.source]
            progress.start_clip(job.source.name, info.frame_count)
            try:
                result = styliser.run(job.source, job.target, progress.advance)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one bad clip must not stop the batch
                job.status, job.message = "failed", describe_failure(job.source, exc)
                progress.note(f"failed: {job.message}")
                continue
            job.status, job.frames, job.seconds = "done", result.frames, result.seconds
            job.message = f"{result.frames} frames in {result.seconds:.1f} s ({result.fps:.2f} fps)"
            progress.note(f"done: {job.target} ({job.message})")

    failures = [job for job in jobs if job.status == "failed"]
    if json_report:
        print(json.dumps({"style": entry.name, "jobs": [job.to_json() for job in jobs]}, indent=2))
    if failures:
        console.print(f"{len(failures)} of {len(jobs)} inputs failed:", highlight=False)
        for job in failures:
            console.print(f"  {job.message}", highlight=False, markup=False)
    return 1 if failures else 0
