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
import stat
from dataclasses import dataclass, field
from pathlib import Path

from stylecut.errors import OutputError, StylecutError
from stylecut.media_types import VIDEO_SUFFIXES
from stylecut.video.tempfiles import check_name_length
from stylecut.video.time_range import ClipRange

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
    stages: dict[str, float] = field(default_factory=dict)  # wall seconds per stage, for the stages it ran
    clip_range: ClipRange | None = None  # the frames of the clip that `apply --from/--to` renders

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
            "stages": {stage: round(seconds, 4) for stage, seconds in self.stages.items()},
            "range": self.clip_range.to_json() if self.clip_range else None,
        }


def find_videos(folder: Path, recursive: bool) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    return sorted(
        p
        for p in folder.glob(pattern)
        if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")
    )


def output_suffix(source: Path, codec: str) -> str:
    if codec == "prores":
        return ".mov"
    return source.suffix.lower() if source.suffix.lower() in KEEP_SUFFIXES else DEFAULT_SUFFIX


def default_name(source: Path, style: str, codec: str, range_tag: str = "") -> str:
    """`clip.mp4` -> `clip.<style>.mp4`, `clip.<style><range_tag>.mp4` for a time range (`.10s-20s`):
    beside the input, never the input itself."""
    return f"{source.stem}.{style}{range_tag}{output_suffix(source, codec)}"


def plan_jobs(
    inputs: list[Path],
    output: Path | None,
    style: str,
    codec: str,
    recursive: bool,
    overwrite: bool = False,
    range_tag: str = "",
) -> list[Job]:
    """One job per video found; inputs that are missing or hold no video become failed jobs.

    No output is ever one of the inputs. A video found in a folder that is
    another job's output (a re-run over a folder finds the outputs of the
    first run beside their inputs) is left out. A video named on the command
    line always gets its job; a job whose output would be such a video is
    skipped like any existing output, and fails rather than replace it with
    ``overwrite``. A second video mapping to an output already taken fails
    instead of overwriting it, and so does an output name too long for its
    file system. Default names carry ``range_tag`` (:func:`default_name`). Raises OutputError when
    ``output`` cannot work for these inputs.
    """
    jobs: list[Job] = []
    # Each video with the folder it was found under (for relative output paths); named: given as a file.
    sources: dict[Path, Path] = {}
    named: set[Path] = set()
    for item in inputs:
        if _is_dir(item):
            videos = find_videos(item, recursive)
            if not videos:
                jobs.append(Job(item, None, "failed", f"{item} holds no video files."))
            for video in videos:
                sources.setdefault(video, item)
        elif _exists(item):
            sources[item] = item.parent
            named.add(item.resolve())
        else:
            jobs.append(Job(item, None, "failed", f"{item} does not exist."))

    to_file = _check_output(inputs, output, codec, list(sources))
    targets = {}
    for video, root in sources.items():
        if to_file:
            targets[video] = output
        elif output is not None:
            targets[video] = (
                output / video.relative_to(root).parent / default_name(video, style, codec, range_tag)
            )
        else:
            targets[video] = video.with_name(default_name(video, style, codec, range_tag))

    outputs = {target.resolve() for target in targets.values()}
    taken: dict[Path, Path] = {}
    for video, target in targets.items():
        if video.resolve() in outputs and video.resolve() not in named:
            continue
        if target.resolve() in named:
            jobs.append(_input_as_output(video, target, overwrite))
        elif (other := taken.setdefault(target.resolve(), video)) != video:
            jobs.append(
                Job(video, None, "failed", f"{video} would be written to {target}, the output of {other}.")
            )
        else:
            jobs.append(_checked_job(video, target))
    return jobs


def _input_as_output(video: Path, target: Path, overwrite: bool) -> Job:
    """The job of ``video`` whose output ``target`` is also an input of the run: never replaced."""
    if overwrite:
        message = (
            f"{video} would be written to {target}, which is also an input and is never replaced; "
            f"leave {target.name} out of the inputs to render {video.name} again."
        )
        return Job(video, target, "failed", message)
    return Job(video, target, "skipped", f"{target} exists and is also an input, so it is never replaced.")


def _checked_job(video: Path, target: Path) -> Job:
    try:
        check_name_length(target)
    except OutputError as exc:
        return Job(video, target, "failed", f"The output of {video.name} cannot be written: {exc}")
    return Job(video, target)


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.stat().st_mode)
    except OSError:  # missing, or a name too long to exist
        return False


def _exists(path: Path) -> bool:
    try:
        path.stat()
    except OSError:
        return False
    return True


def _check_output(inputs: list[Path], output: Path | None, codec: str, videos: list[Path]) -> bool:
    """Whether ``output`` names one output file (else a folder); raise OutputError when it cannot be used."""
    if output is None:
        return False
    check_name_length(output)
    if output.is_dir():
        return False
    if output.suffix.lower() not in VIDEO_SUFFIXES:
        if output.exists():
            raise OutputError(f"{output} is neither a folder nor a video file, so it cannot be the output.")
        return False  # a folder to create
    if len(inputs) != 1 or _is_dir(inputs[0]):
        raise OutputError(f"{output} is a file name, but several inputs need an output folder.")
    if codec == "prores" and output.suffix.lower() != ".mov":
        raise OutputError(f"ProRes needs a .mov file, so {output} cannot hold it.")
    if videos and (
        output.resolve() == videos[0].resolve() or (output.exists() and output.samefile(videos[0]))
    ):
        raise OutputError(f"The output {output} is the input itself; choose another output name.")
    return True


def describe_failure(source: Path, exc: Exception) -> str:
    """The one sentence a failed job reports."""
    if isinstance(exc, StylecutError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"Disk full while writing the output for {source}."
    if isinstance(exc, OSError):
        return f"Could not process {source}: {exc.strerror or exc}."
    return f"Could not process {source}: unexpected {type(exc).__name__}: {exc}."
