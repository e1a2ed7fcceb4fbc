"""The `stylecut` command line: apply, styles, finetune.

Heavy imports (torch, decord) happen inside the commands so `--help` and
`--version` answer at once. Every command runs through :func:`_run`, which
turns a StylecutError into one sentence on stderr and the error class's exit
code (see errors.py), and Ctrl-C into exit 130.
"""

from __future__ import annotations

import json
import time
from enum import Enum
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Optional

import typer

from stylecut import __version__
from stylecut.errors import EXIT_INTERRUPTED, EXIT_USAGE, StylecutError
from stylecut.commands.finetune_progress import DEFAULT_PREVIEW_EVERY
from stylecut.training.config import FINETUNE_CROP

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help="Offline video style transfer for editors.")


class FlowChoice(str, Enum):
    auto = "auto"
    raft = "raft"
    dis = "dis"


class DeviceChoice(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class CodecChoice(str, Enum):
    h264 = "h264"
    h265 = "h265"
    prores = "prores"


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"stylecut: {message}", err=True)
    return typer.Exit(code)


def _run(command: Callable[[], int | None], interrupted: str) -> None:
    """Run a command's body; map its errors to one sentence and their exit code."""
    try:
        code = command() or 0
    except StylecutError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        raise _fail(interrupted, EXIT_INTERRUPTED) from None
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stylecut {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Turn clips into stylised clips that drop straight into an editing timeline."""


@app.command()
def apply(
    inputs: Annotated[list[Path], typer.Argument(help="Video files and/or folders of videos.", show_default=False)],
    style: Annotated[str, typer.Option("--style", "-s", help="An installed style's name (see `stylecut styles`) or a path to a style file.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Output file (one input) or folder. Default: beside each input, as NAME.STYLE.EXT.")] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also take videos in subfolders of input folders.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing outputs (otherwise they are skipped, so a re-run resumes a batch).")] = False,
    no_temporal: Annotated[bool, typer.Option("--no-temporal", help="Stylise frame by frame, without the temporal module (for comparison).")] = False,
    flow: Annotated[FlowChoice, typer.Option("--flow", help="Optical flow: RAFT when its weights are available, else OpenCV DIS.")] = FlowChoice.auto,
    raft_weights: Annotated[Optional[Path], typer.Option("--raft-weights", exists=True, dir_okay=False, help="A local RAFT weights file (torchvision format).")] = None,
    device: Annotated[DeviceChoice, typer.Option("--device", help="Where the networks run.")] = DeviceChoice.auto,
    max_side: Annotated[Optional[int], typer.Option("--max-side", min=64, help="Stylise at most at this many pixels on the longer side, then scale back (faster; bigger strokes). Default: the clip's own size.")] = None,
    crf: Annotated[int, typer.Option("--crf", min=0, max=51, help="Quality for H.264/H.265 (lower is better).")] = 18,
    preset: Annotated[str, typer.Option("--preset", help="x264/x265 speed preset.")] = "medium",
    codec: Annotated[CodecChoice, typer.Option("--codec", help="Output codec: H.264, H.265 or ProRes 422 HQ (.mov).")] = CodecChoice.h264,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    json_report: Annotated[bool, typer.Option("--json", help="Print a machine-readable report on stdout.")] = False,
) -> None:
    """Stylise clips, or every clip in folders."""

    def command() -> int:
        from stylecut.commands.apply import run_apply
        from stylecut.pipeline.stylise import ApplyOptions
        from stylecut.video.encode import EncodeSettings

        options = ApplyOptions(
            temporal=not no_temporal,
            flow=flow.value,
            raft_weights=raft_weights,
            device=device.value,
            max_side=max_side,
            encode=EncodeSettings(codec=codec.value, crf=crf, preset=preset),
        )
        return run_apply(inputs, style, output, options, recursive=recursive, overwrite=overwrite, quiet=quiet, json_report=json_report)

    _run(command, "Interrupted: finished outputs are kept, no partial file is left, and the same command resumes the batch.")


@app.command()
def styles(
    json_out: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List installed styles: bundled ones and your own (a damaged file is listed with why)."""
    from stylecut.styles.registry import list_styles, user_dir

    entries = list_styles()
    if json_out:
        typer.echo(json.dumps([entry.to_json() for entry in entries], indent=2))
        return
    if not entries:
        typer.echo(f"No style is installed. Make one with `stylecut finetune`; user styles live in {user_dir()}.")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table("name", "origin", "description", "trained on")
    for entry in entries:
        # Text, not markup: names and descriptions come from files and may hold brackets.
        if entry.problem is None:
            table.add_row(Text(entry.name), entry.origin, Text(entry.description), Text(entry.style_image))
        else:
            name = Text(f"{entry.name} (damaged)", style="red")
            table.add_row(name, entry.origin, Text(entry.problem, style="red"), "")
    Console().print(table)


@app.command()
def finetune(
    name: Annotated[str, typer.Option("--name", help="The new style's name (lower-case, dashes), as `apply --style` will know it.", show_default=False)],
    style_video: Annotated[Optional[Path], typer.Option("--style-video", help="A short clip with the look you want; frames sampled across it are the style targets.", show_default=False)] = None,
    style_image: Annotated[Optional[list[Path]], typer.Option("--style-image", help="Stills with the look (a painting, a film still, a grade; repeatable), with or instead of --style-video.", show_default=False)] = None,
    base: Annotated[Optional[str], typer.Option("--base", help="Start from this style's generator (a name or a style file; 'none': from scratch). Default: the bundled style closest to the reference, else from scratch.", show_default=False)] = None,
    content: Annotated[Optional[list[Path]], typer.Option("--content", help="Your own clips, photos or folders to learn on (repeatable); best when they resemble the footage you will stylise. Default: a small built-in set.", show_default=False)] = None,
    steps: Annotated[
        Optional[int],
        typer.Option("--steps", min=1, max=100_000, help="Training steps (about 1 CPU-second each); alone, exactly that many; with --minutes, at most that many.", show_default=False),
    ] = None,
    minutes: Annotated[
        Optional[float],
        typer.Option("--minutes", min=0.1, max=10_000, help="Time budget for the whole command: as many steps as fit (more steps, a stronger look). Default: 10, unless --steps is given.", show_default=False),
    ] = None,
    size: Annotated[
        int, typer.Option("--size", min=64, max=512, help="Training crop size in pixels (larger is slower).")
    ] = FINETUNE_CROP,
    preview_every: Annotated[int, typer.Option("--preview-every", min=1, help="Write a small preview into the run folder every K steps.")] = DEFAULT_PREVIEW_EVERY,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the interrupted run of this name from its last checkpoint.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace your existing style of this name (and discard an unfinished run).")] = False,
    device: Annotated[DeviceChoice, typer.Option("--device", help="Where training runs.")] = DeviceChoice.auto,
    train_config: Annotated[Optional[str], typer.Option("--train-config", hidden=True, help="JSON object of TrainConfig fields to override (tests, experiments).")] = None,
) -> None:
    """Make your own style from a short clip with the look you want (and optional stills)."""
    started = time.monotonic()  # a time budget counts from here: importing torch and loading are inside it
    try:
        overrides = json.loads(train_config) if train_config else {}
    except json.JSONDecodeError:
        overrides = None
    if not isinstance(overrides, dict):
        raise _fail("--train-config must be a JSON object.", EXIT_USAGE)

    def command() -> None:
        from stylecut.commands.finetune import FinetuneRequest, run_finetune

        request = FinetuneRequest(
            style_video=style_video, name=name, style_images=style_image or [], base=base, content=content or [],
            steps=steps, minutes=minutes, size=size, preview_every=preview_every, resume=resume, overwrite=overwrite,
            device=device.value, overrides=overrides, started=started,
        )
        run_finetune(request)

    _run(command, "Interrupted; no style was written.")


def main() -> None:
    app()
