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
from stylecut.media_types import VIDEO_SUFFIXES

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
    notice: str | None = None  # e.g. a frame-rate conversion the user should know about

    def to_json(self) -> dict:
        return {
            "input": str(self.source),
            "output": str(self.target) if self.target else None,
            "status": self.status,
            "message": self.message,
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.frames / self.seconds, 3) if self.seconds else None,
            "notice": self.notice,
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
    """One job per video found; inputs that are missing or hold no video become failed jobs.

    A video that is another job's output (a re-run over a folder finds the
    outputs of the first run beside their inputs) is left out, and a second
    video mapping to an output already taken fails instead of overwriting it.
    Raises OutputError when ``output`` cannot work for these inputs.
    """
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

    to_file = _check_output(inputs, output, codec, [video for video, _ in sources])
    targets = {}
    for video, root in sources:
        if to_file:
            targets[video] = output
        elif output is not None:
            targets[video] = output / video.relative_to(root).parent / default_name(video, style, codec)
        else:
            targets[video] = video.with_name(default_name(video, style, codec))

    outputs = {target.resolve() for target in targets.values()}
    taken: dict[Path, Path] = {}
    for video, target in targets.items():
        if video.resolve() in outputs:
            continue
        if (other := taken.setdefault(target.resolve(), video)) != video:
            jobs.append(Job(video, None, "failed", f"{video} would be written to {target}, the output of {other}."))
        else:
            jobs.append(Job(video, target))
    return jobs


def _check_output(inputs: list[Path], output: Path | None, codec: str, videos: list[Path]) -> bool:
    """Whether ``output`` names one output file (else a folder); raise OutputError when it cannot be used."""
    if output is None or output.is_dir():
        return False
    if output.suffix.lower() not in VIDEO_SUFFIXES:
        if output.exists():
            raise OutputError(f"{output} is neither a folder nor a video file, so it cannot be the output.")
        return False  # a folder to create
    if len(inputs) != 1 or inputs[0].is_dir():
        raise OutputError(f"{output} is a file name, but several inputs need an output folder.")
    if codec == "prores" and output.suffix.lower() != ".mov":
        raise OutputError(f"ProRes needs a .mov file, so {output} cannot hold it.")
    if videos and (output.resolve() == videos[0].resolve() or (output.exists() and output.samefile(videos[0]))):
        raise OutputError(f"The output {output} is the input itself; choose another output name.")
    return True


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
