"""The `stylecut` command line: apply, styles, finetune.

Heavy imports (torch, decord) happen inside the commands so `--help` and
`--version` answer at once. Every command runs through :func:`_run`, which
turns a StylecutError into one sentence on stderr and the error class's exit
code (see errors.py), and Ctrl-C into exit 130.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Optional

import typer
from typer import _click as click
from typer.core import TyperCommand

from stylecut import __version__
from stylecut.errors import EXIT_INTERRUPTED, EXIT_USAGE, StylecutError, UsageError

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


class _ApplyCommand(TyperCommand):
    """`apply`, whose `--ray` may stand alone (a local runtime) or take an address: typer has no
    optional option values, so a bare `--ray` becomes `--ray=local` before parsing."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _bare_ray_flag(args))


def _bare_ray_flag(args: list[str]) -> list[str]:
    """`--ray` not followed by a Ray address (an input path, another option, nothing) means `--ray=local`."""
    from stylecut.pipeline.cluster import LOCAL, is_ray_address

    rewritten = list(args)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--ray" and (i + 1 == len(args) or not is_ray_address(args[i + 1])):
            rewritten[i] = f"--ray={LOCAL}"
    return rewritten


@app.command(cls=_ApplyCommand)
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
    ray: Annotated[Optional[str], typer.Option(
        "--ray", metavar="[ADDRESS]", show_default=False,
        help="Run on Ray (pip install 'stylecut\\[ray]'): alone, a local runtime on this machine; with auto, "
        "ray://HOST:PORT or HOST:PORT, that cluster. Inputs and outputs must be on storage every node sees "
        "at the same path.",
    )] = None,
    segment_seconds: Annotated[Optional[float], typer.Option(
        "--segment-seconds", min=1.0, show_default=False,
        help="With --ray: split clips longer than 1.5x this into segments of about this length, "
        "stylised in parallel (default 30).",
    )] = None,
    workers: Annotated[Optional[int], typer.Option(
        "--workers", min=1, show_default=False,
        help="With --ray: how many clips or segments are stylised at once. "
        "Default: one per CPU of the cluster (one per GPU where it has GPUs).",
    )] = None,
) -> None:
    """Stylise clips, or every clip in folders."""

    def command() -> int:
        from stylecut.commands.apply import run_apply
        from stylecut.pipeline.cluster import DEFAULT_SEGMENT_SECONDS, ClusterOptions, is_ray_address
        from stylecut.pipeline.stylise import ApplyOptions
        from stylecut.video.encode import EncodeSettings

        cluster = None
        if ray is None and (segment_seconds is not None or workers is not None):
            raise UsageError("--segment-seconds and --workers only apply with --ray.")
        if ray is not None:
            if not is_ray_address(ray):
                raise UsageError(
                    f"--ray {ray} is not a Ray address: give auto, ray://HOST:PORT or HOST:PORT, "
                    "or --ray alone for a local runtime."
                )
            cluster = ClusterOptions(ray, workers, segment_seconds or DEFAULT_SEGMENT_SECONDS)

        options = ApplyOptions(
            temporal=not no_temporal,
            flow=flow.value,
            raft_weights=raft_weights,
            device=device.value,
            max_side=max_side,
            encode=EncodeSettings(codec=codec.value, crf=crf, preset=preset),
        )
        return run_apply(
            inputs, style, output, options, recursive=recursive, overwrite=overwrite, quiet=quiet,
            json_report=json_report, cluster=cluster,
        )

    _run(command, "Interrupted: finished outputs are kept, no partial file is left, and the same command resumes the batch.")


@app.command()
def styles(
    json_out: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List installed styles: bundled ones and your own."""
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

    table = Table("name", "origin", "description", "trained on")
    for entry in entries:
        table.add_row(entry.name, entry.origin, entry.description, entry.style_image)
    Console().print(table)


@app.command()
def finetune(
    style_video: Annotated[Path, typer.Option("--style-video", help="A short clip with the look you want; frames sampled across it are the style targets.", show_default=False)],
    name: Annotated[str, typer.Option("--name", help="The new style's name (lower-case, dashes), as `apply --style` will know it.", show_default=False)],
    style_image: Annotated[Optional[list[Path]], typer.Option("--style-image", help="More style targets: stills with the same look (repeatable).", show_default=False)] = None,
    base: Annotated[Optional[str], typer.Option("--base", help="Start from this style's generator (a name or a style file; 'none': from scratch). Default: the first bundled style, else from scratch.", show_default=False)] = None,
    content: Annotated[Optional[list[Path]], typer.Option("--content", help="Your own clips, photos or folders to learn on (repeatable); best when they resemble the footage you will stylise. Default: a small built-in set.", show_default=False)] = None,
    steps: Annotated[int, typer.Option("--steps", min=1, max=100_000, help="Training steps (about 1-2 s each on a 2-core CPU).")] = 300,
    size: Annotated[int, typer.Option("--size", min=64, max=512, help="Training crop size in pixels (larger is slower).")] = 192,
    preview_every: Annotated[Optional[int], typer.Option("--preview-every", min=1, help="Also write a preview into the run folder every K steps.", show_default=False)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the interrupted run of this name from its last checkpoint.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace your existing style of this name (and discard an unfinished run).")] = False,
    device: Annotated[DeviceChoice, typer.Option("--device", help="Where training runs.")] = DeviceChoice.auto,
    train_config: Annotated[Optional[str], typer.Option("--train-config", hidden=True, help="JSON object of TrainConfig fields to override (tests, experiments).")] = None,
) -> None:
    """Make your own style from a short clip with the look you want (and optional stills)."""
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
            steps=steps, size=size, preview_every=preview_every, resume=resume, overwrite=overwrite,
            device=device.value, overrides=overrides,
        )
        run_finetune(request)

    _run(command, "Interrupted; no style was written.")


def main() -> None:
    app()
