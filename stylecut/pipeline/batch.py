"""A batch of clips: which files, where each output goes, and what happened to each.

Inputs are files and folders; a folder means every video file in it. Every
input becomes a job with its target path; a job whose target exists is
skipped unless overwriting, so re-running an interrupted batch resumes it.
A job that fails is reported and the batch goes on. Past one machine the
same job list would be handed to an existing distributed engine (Ray), not
to a home-made scheduler.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

from stylecut.errors import OutputError, StylecutError
from stylecut.training.data import VIDEO_SUFFIXES

DEFAULT_SUFFIX = ".mp4"
KEEP_SUFFIXES = {".mp4", ".mov", ".mkv"}


@dataclass
class Job:
    source: Path
    target: Path | None
    status: str = "pending"  # pending, done, skipped, failed
    message: str = ""
    frames: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {
            "input": str(self.source),
            "output": str(self.target) if self.target else None,
            "status": self.status,
            "message": self.message,
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.frames / self.seconds, 3) if self.seconds else None,
        }


def find_videos(folder: Path, recursive: bool) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith("."))


def output_suffix(source: Path, codec: str) -> str:
    if codec == "prores":
        return ".mov"
    return source.suffix.lower() if source.suffix.lower() in KEEP_SUFFIXES else DEFAULT_SUFFIX


def default_name(source: Path, style: str, codec: str) -> str:
    """`clip.mp4` -> `clip.<style>.mp4`: beside the input, never the input itself."""
    return f"{source.stem}.{style}{output_suffix(source, codec)}"


def plan_jobs(inputs: list[Path], output: Path | None, style: str, codec: str, recursive: bool) -> list[Job]:
    """One job per video found; inputs that are missing or hold no video become failed jobs."""
    jobs: list[Job] = []
    sources: list[tuple[Path, Path]] = []  # (video, the folder it was found under, for relative output paths)
    for item in inputs:
        if item.is_dir():
            videos = find_videos(item, recursive)
            if not videos:
                jobs.append(Job(item, None, "failed", f"{item} holds no video files."))
            sources += [(video, item) for video in videos]
        elif item.exists():
            sources.append((item, item.parent))
        else:
            jobs.append(Job(item, None, "failed", f"{item} does not exist."))

    single_file = len(inputs) == 1 and not inputs[0].is_dir()
    to_file = output is not None and single_file and not output.is_dir() and output.suffix != ""
    if output is not None and not to_file and output.exists() and not output.is_dir():
        raise OutputError(f"{output} is a file, but several inputs need an output folder.")
    for video, root in sources:
        if to_file:
            target = output
        elif output is not None:
            target = output / video.relative_to(root).parent / default_name(video, style, codec)
        else:
            target = video.with_name(default_name(video, style, codec))
        if target.resolve() == video.resolve():
            jobs.append(Job(video, None, "failed", f"The output for {video} would overwrite the input itself."))
        else:
            jobs.append(Job(video, target))
    return jobs


def check_writable(target: Path) -> None:
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create the output folder {folder}: {exc.strerror}.") from exc
    probe_file = folder / f".{target.name}.stylecut-check"
    try:
        probe_file.touch()
        probe_file.unlink()
    except OSError as exc:
        raise OutputError(f"Cannot write to the output folder {folder}: {exc.strerror}.") from exc


def describe_failure(source: Path, exc: Exception) -> str:
    """The one sentence a failed job reports."""
    if isinstance(exc, StylecutError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"Disk full while writing the output for {source}."
    if isinstance(exc, OSError):
        return f"Could not process {source}: {exc.strerror or exc}."
    return f"Could not process {source}: unexpected {type(exc).__name__}: {exc}."
