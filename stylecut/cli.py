"""The `stylecut` command line: apply, preview, styles, finetune.

Heavy imports (torch, decord) happen inside the commands so `--help` and
`--version` answer at once; option defaults and choice lists are read from
the modules that own them. Every command runs through :func:`_run`, which
turns a StylecutError into one sentence on stderr and the error class's exit
code (see errors.py), Ctrl-C into exit 130 and SIGTERM (see sigterm.py) into exit
143, each with the command's sentence on what was kept, also where a native
library's import turned the interrupt into an error; with ``--json`` the same
error also goes to stdout as a JSON object, as do the command line's own
usage errors.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from stylecut import __version__
from stylecut.device import DEVICES
from stylecut.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, Interrupted, StylecutError
from stylecut.extras import TRAIN, check_inference_extras, require_torch
from stylecut.flow import KINDS
from stylecut.pipeline.controls import Controls
from stylecut.pipeline.options import ApplyOptions
from stylecut.pipeline.ray.options import DEFAULT_SEGMENT_SECONDS, LOCAL, is_ray_address
from stylecut.runtime import RUNTIMES
from stylecut.sigterm import sigterm_as_interrupt, stopped_by_sigterm
from stylecut.temporal import KINDS as TEMPORAL_KINDS
from stylecut.training.config import FINETUNE_CROP, FINETUNE_PREVIEW_EVERY, PAIR_CROP
from stylecut.video.encode_settings import CODECS, PRESETS, EncodeSettings

JSON_FLAG = "--json"
# The usage error (bad, unknown or missing option) of the click that typer runs on: its own copy since 0.2x.
_ClickUsageError = typer.BadParameter.__base__


class _Commands(TyperGroup):
    """Typer's command group; with ``--json`` a usage error (a bad option) is also a JSON object on stdout."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        ctx.meta["json"] = JSON_FLAG in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _ClickUsageError as exc:
            if ctx.meta.get("json"):
                _print_json_error(exc.format_message(), exc.exit_code)
            raise


app = typer.Typer(
    cls=_Commands,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Offline video style transfer for editors.",
)

FlowChoice = Enum("FlowChoice", {kind: kind for kind in KINDS}, type=str)
DeviceChoice = Enum("DeviceChoice", {device: device for device in DEVICES}, type=str)
CodecChoice = Enum("CodecChoice", {codec: codec for codec in CODECS}, type=str)


PresetChoice = Enum("PresetChoice", {name: name for name in PRESETS}, type=str)
RuntimeChoice = Enum("RuntimeChoice", {name: name for name in RUNTIMES}, type=str)
TemporalChoice = Enum("TemporalChoice", {kind: kind for kind in TEMPORAL_KINDS}, type=str)


def _print_json_error(message: str, code: int) -> None:
    typer.echo(json.dumps({"error": message, "exit_code": code}, indent=2))


def _fail(message: str, code: int, json_errors: bool = False) -> typer.Exit:
    if json_errors:
        _print_json_error(message, code)
    typer.echo(f"stylecut: {message}", err=True)
    return typer.Exit(code)


def _run(command: Callable[[], int | None], interrupted: str, json_errors: bool = False) -> None:
    """Run a command's body; map its errors to one sentence and their exit code (and JSON with ``json_errors``).

    ``interrupted`` is the sentence for Ctrl-C and SIGTERM, starting with "Interrupted".
    """
    try:
        with sigterm_as_interrupt():
            code = command() or 0
    except KeyboardInterrupt:
        raise _stopped(interrupted, json_errors) from None
    except Exception as exc:
        if _raised_by_interrupt(exc):
            raise _stopped(interrupted, json_errors) from None
        if not isinstance(exc, StylecutError):
            raise
        raise _fail(str(exc), exc.exit_code, json_errors) from None
    raise typer.Exit(code)


def _stopped(interrupted: str, json_errors: bool) -> typer.Exit:
    if stopped_by_sigterm():
        stopped = interrupted.replace("Interrupted", "Stopped by SIGTERM", 1)
        return _fail(stopped, EXIT_TERMINATED, json_errors)
    return _fail(interrupted, EXIT_INTERRUPTED, json_errors)


def _raised_by_interrupt(exc: Exception) -> bool:
    """Whether ``exc`` comes of a Ctrl-C or SIGTERM that came while a native library was imported.

    The initialisation of a native module (OpenVINO's, which pybind11 builds) turns the KeyboardInterrupt
    raised inside it into ``ImportError('initialization failed')`` from it, and the code that catches an
    ImportError to name a missing extra raises its own error while handling that one. A command's own
    Interrupted already carries its sentence.
    """
    if isinstance(exc, Interrupted):
        return False
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stylecut {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Turn clips into stylised clips that drop straight into an editing timeline."""


class _ApplyCommand(TyperCommand):
    """`apply`, whose `--ray` may stand alone (a local runtime) or take an address: typer has no
    optional option values, so a bare `--ray` becomes `--ray=local` before parsing."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        rewritten = list(args)
        for i, arg in enumerate(args):
            if arg == "--":
                break
            if arg == "--ray" and (i + 1 == len(args) or not is_ray_address(args[i + 1])):
                rewritten[i] = f"--ray={LOCAL}"
        return super().parse_args(ctx, rewritten)


@app.command(cls=_ApplyCommand)
def apply(
    inputs: Annotated[
        list[Path], typer.Argument(help="Video files and/or folders of videos.", show_default=False)
    ],
    style: Annotated[
        str,
        typer.Option(
            "--style",
            "-s",
            help="An installed style's name (see `stylecut styles`) or a path to a style file.",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Output file (one input) or folder. Default: beside each input, as NAME.STYLE.EXT.",
        ),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Also take videos in subfolders of input folders.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace existing outputs (otherwise they are skipped, so a re-run resumes a batch); an input is never replaced.",
        ),
    ] = False,
    temporal: Annotated[
        TemporalChoice,
        typer.Option(
            "--temporal",
            help="The temporal module: the trained recurrent network, or the fixed fuser (for comparison).",
        ),
    ] = TemporalChoice(ApplyOptions.temporal),
    no_temporal: Annotated[
        bool,
        typer.Option(
            "--no-temporal", help="Stylise frame by frame, without the temporal module (for comparison)."
        ),
    ] = False,
    flow: Annotated[
        FlowChoice,
        typer.Option("--flow", help="Optical flow: RAFT when its weights are available, else OpenCV DIS."),
    ] = FlowChoice(ApplyOptions.flow),
    raft_weights: Annotated[
        Path | None,
        typer.Option(
            "--raft-weights",
            exists=True,
            dir_okay=False,
            help="A local RAFT weights file (torchvision format).",
        ),
    ] = ApplyOptions.raft_weights,
    device: Annotated[
        DeviceChoice,
        typer.Option(
            "--device", help="Where the networks run (cuda is untested: it has never run on a GPU)."
        ),
    ] = DeviceChoice(ApplyOptions.device),
    runtime: Annotated[
        RuntimeChoice,
        typer.Option(
            "--runtime", help="What runs the generator on a CPU: OpenVINO when installed (auto), or PyTorch."
        ),
    ] = RuntimeChoice(ApplyOptions.runtime),
    max_side: Annotated[
        int | None,
        typer.Option(
            "--max-side",
            min=64,
            help=(
                "Stylise at most at this many pixels on the longer side (after --scale), then scale back"
                " (faster; bigger strokes). Default: no cap."
            ),
        ),
    ] = ApplyOptions.max_side,
    strength: Annotated[
        float,
        typer.Option(
            "--strength", help="How much of the style, from 0 (the input unchanged) to 1 (all of it)."
        ),
    ] = Controls.strength,
    keep_colours: Annotated[
        bool,
        typer.Option(
            "--keep-colours",
            help="Keep the footage's colours and exposure; take only the style's lightness texture.",
        ),
    ] = Controls.keep_colours,
    scale: Annotated[
        float,
        typer.Option(
            "--scale",
            help=(
                "Stylise at this multiple of the style's working size (0.1 to 2; the working size is the style's"
                " working side as the short side, or the clip's size where that is smaller or the style has none):"
                " lower gives bigger strokes and a faster run, higher finer strokes; --max-side then caps the"
                " longer side."
            ),
        ),
    ] = Controls.scale,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            min=1,
            help="CPU threads for the networks and the optical flow (fewer lets several jobs share a machine). Default, and most: all cores; with --ray, each task's CPUs (default 1). Without PyTorch and with the temporal stage, each network runs on one thread, beside the pipeline's other stages.",
            show_default=False,
        ),
    ] = ApplyOptions.threads,
    crf: Annotated[
        int, typer.Option("--crf", min=0, max=51, help="Quality for H.264/H.265 (lower is better).")
    ] = EncodeSettings.crf,
    preset: Annotated[PresetChoice, typer.Option("--preset", help="x264/x265 speed preset.")] = PresetChoice(
        EncodeSettings.preset
    ),
    codec: Annotated[
        CodecChoice, typer.Option("--codec", help="Output codec: H.264, H.265 or ProRes 422 HQ (.mov).")
    ] = CodecChoice(EncodeSettings.codec),
    cfr: Annotated[
        bool,
        typer.Option(
            "--cfr",
            help="Convert variable-frame-rate clips to the nearest standard constant rate (repeating or dropping frames, in sync with the audio). Default: keep every frame at its own time.",
        ),
    ] = ApplyOptions.cfr,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="TIME",
            show_default=False,
            help="Render only from this time of each clip: seconds (12.5), HH:MM:SS.mmm or timecode HH:MM:SS:FF"
            " (HH:MM:SS;FF drop-frame), counted from the clip's first frame. The output starts at the first"
            " frame shown at or after it, with the audio cut to match and the source's timecode there.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="TIME",
            show_default=False,
            help="Render only up to this time (the frame shown at it is left out); as --from.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    json_report: Annotated[
        bool,
        typer.Option(
            JSON_FLAG,
            help="Print a machine-readable report on stdout (an error object if the command fails).",
        ),
    ] = False,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="[ADDRESS]",
            show_default=False,
            help="Run on Ray (pip install 'stylecut\\[ray]'): alone, a local runtime on this machine; with auto,"
            " ray://HOST:PORT or HOST:PORT, that cluster. Inputs and outputs must be on storage every node"
            " sees at the same path.",
        ),
    ] = None,
    segment_seconds: Annotated[
        float | None,
        typer.Option(
            "--segment-seconds",
            min=1.0,
            show_default=False,
            help="With --ray: split clips longer than 1.5x this into segments of about this length,"
            f" stylised in parallel (default {DEFAULT_SEGMENT_SECONDS:g}).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            show_default=False,
            help="With --ray: how many clips or segments are stylised at once. Default: one per CPU of the"
            " cluster (or per GPU where it has GPUs).",
        ),
    ] = None,
) -> None:
    """Stylise clips, or every clip in folders."""

    def command() -> int:
        check_inference_extras(device.value, runtime.value, flow.value, raft_weights)
        from stylecut.commands.apply import ApplyRequest, run_apply

        request = ApplyRequest(
            inputs=inputs,
            style=style,
            output=output,
            recursive=recursive,
            overwrite=overwrite,
            temporal=None if no_temporal else temporal.value,
            flow=flow.value,
            raft_weights=raft_weights,
            device=device.value,
            runtime=runtime.value,
            max_side=max_side,
            threads=threads,
            strength=strength,
            keep_colours=keep_colours,
            scale=scale,
            cfr=cfr,
            crf=crf,
            preset=preset.value,
            codec=codec.value,
            quiet=quiet,
            json_report=json_report,
            ray=ray,
            segment_seconds=segment_seconds,
            workers=workers,
            start=start,
            end=end,
        )
        return run_apply(request)

    interrupted = "Interrupted: finished outputs are kept, no partial file is left, and the same command resumes the batch."
    _run(command, interrupted, json_errors=json_report)


@app.command()
def styles(
    json_out: Annotated[bool, typer.Option(JSON_FLAG, help="Print a JSON list.")] = False,
) -> None:
    """List installed styles: bundled ones and your own (a damaged file is listed with why)."""
    from stylecut.styles.registry import list_styles
    from stylecut.user_folders import styles_folder

    entries = list_styles()
    if json_out:
        typer.echo(json.dumps([entry.to_json() for entry in entries], indent=2))
        return
    if not entries:
        typer.echo(
            f"No style is installed. Make one with `stylecut finetune`; user styles live in {styles_folder()}."
        )
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
def preview(
    clip: Annotated[Path, typer.Argument(help="The clip to preview.", show_default=False)],
    styles: Annotated[
        str | None,
        typer.Option(
            "--styles",
            show_default=False,
            help=(
                "Styles to show, separated by commas (names or style files). Default: every installed style."
            ),
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            show_default=False,
            help=("The sheet (.png or .jpg). Default: beside the clip, as NAME.preview.png."),
        ),
    ] = None,
    frames: Annotated[
        int, typer.Option("--frames", min=1, max=12, help="Frames spread across the clip.")
    ] = 3,
    height: Annotated[
        int,
        typer.Option("--height", min=64, max=2160, help="Row height in pixels: the size the styles run at."),
    ] = 360,
    strength: Annotated[
        float, typer.Option("--strength", help="As for apply: how much of the style, 0 to 1.")
    ] = 1.0,
    keep_colours: Annotated[
        bool, typer.Option("--keep-colours", help="As for apply: keep the clip's colours.")
    ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing sheet.")] = False,
    device: Annotated[
        DeviceChoice,
        typer.Option(
            "--device", help="Where the networks run (cuda is untested: it has never run on a GPU)."
        ),
    ] = DeviceChoice.auto,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the sheet's path.")] = False,
) -> None:
    """A contact sheet of a few frames of a clip in every style (or the listed ones), to choose a look."""

    def command() -> None:
        check_inference_extras(device.value)
        from stylecut.commands.preview import PreviewRequest, run_preview

        names = None if styles is None else [name.strip() for name in styles.split(",") if name.strip()]
        request = PreviewRequest(
            clip=clip,
            styles=names,
            output=output,
            frames=frames,
            height=height,
            controls=Controls(strength=strength, keep_colours=keep_colours),
            device=device.value,
            overwrite=overwrite,
        )
        note = (lambda message: None) if quiet else (lambda message: typer.echo(message, err=True))
        # As the bytes the file system holds: a name that is not UTF-8 cannot be printed as text.
        typer.echo(os.fsencode(run_preview(request, note)) + b"\n", nl=False)

    _run(command, "Interrupted; no sheet was written.")


class _FinetuneCommand(TyperCommand):
    """`finetune`, whose `--pair` takes two images: typer has no repeatable two-value options, so
    `--pair A B` becomes `--pair A --pair B` before parsing and the command groups the values in twos."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        rewritten: list[str] = []
        rest = iter(args)
        for arg in rest:
            rewritten.append(arg)
            if arg == "--":
                rewritten += rest
            elif arg == "--pair":
                values = [v for v in (next(rest, None), next(rest, None)) if v is not None]
                if len(values) == 2 and not values[1].startswith("-"):
                    values.insert(1, "--pair")
                rewritten += values
        return super().parse_args(ctx, rewritten)


@app.command(cls=_FinetuneCommand)
def finetune(
    name: Annotated[
        str,
        typer.Option(
            "--name",
            help="The new style's name (lower-case, dashes), as `apply --style` will know it.",
            show_default=False,
        ),
    ],
    style_video: Annotated[
        Path | None,
        typer.Option(
            "--style-video",
            help="A short clip with the look you want; frames sampled across it are the style targets.",
            show_default=False,
        ),
    ] = None,
    style_image: Annotated[
        list[Path] | None,
        typer.Option(
            "--style-image",
            help="Stills with the look (a painting, a film still, a grade; repeatable), with or instead of --style-video.",
            show_default=False,
        ),
    ] = None,
    pair: Annotated[
        list[Path] | None,
        typer.Option(
            "--pair",
            metavar="ORIGINAL PAINTED",
            help="A frame of your shot and the same frame painted or treated by you, same size (repeatable): the look is learned from these instead of a reference.",
            show_default=False,
        ),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="Start from this style's generator (a name or a style file; 'none': from scratch). Default: the bundled style closest to the reference, else from scratch (from scratch for --pair).",
            show_default=False,
        ),
    ] = None,
    content: Annotated[
        list[Path] | None,
        typer.Option(
            "--content",
            help="Your own clips, photos or folders to learn on (repeatable); best when they resemble the footage you will stylise. Default: a small built-in set.",
            show_default=False,
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(
            "--steps",
            min=1,
            max=100_000,
            help="The generator's training steps (about 0.65 CPU-seconds each); alone, exactly that many (then, for a reference look, the revision network's 400); with --minutes, at most that many.",
            show_default=False,
        ),
    ] = None,
    minutes: Annotated[
        float | None,
        typer.Option(
            "--minutes",
            min=0.1,
            max=10_000,
            help="Time budget for the whole command (for a reference look, its last fifth for the revision network): as many steps as fit (more steps, a stronger look). Default: 10, unless --steps is given.",
            show_default=False,
        ),
    ] = None,
    size: Annotated[
        int | None,
        typer.Option(
            "--size",
            min=64,
            max=512,
            help=f"Training crop size in pixels (larger is slower). Default: {FINETUNE_CROP}, {PAIR_CROP} for --pair.",
            show_default=False,
        ),
    ] = None,
    preview_every: Annotated[
        int,
        typer.Option(
            "--preview-every", min=1, help="Write a small preview into the run folder every K steps."
        ),
    ] = FINETUNE_PREVIEW_EVERY,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue the interrupted run of this name from its last checkpoint."),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite", help="Replace your existing style of this name (and discard an unfinished run)."
        ),
    ] = False,
    device: Annotated[
        DeviceChoice,
        typer.Option("--device", help="Where training runs (cuda is untested: it has never run on a GPU)."),
    ] = DeviceChoice.auto,
    train_config: Annotated[
        str | None,
        typer.Option(
            "--train-config",
            hidden=True,
            help="JSON object of TrainConfig fields to override (tests, experiments).",
        ),
    ] = None,
) -> None:
    """Make your own style from a short clip with the look you want (and optional stills), or from frames you painted."""
    started = time.monotonic()  # a time budget counts from here: importing torch and loading are inside it
    try:
        overrides = json.loads(train_config) if train_config else {}
    except json.JSONDecodeError:
        overrides = None
    if not isinstance(overrides, dict):
        raise _fail("--train-config must be a JSON object.", EXIT_USAGE)
    pairs = pair or []
    if len(pairs) % 2:
        raise _fail("--pair takes two images: the frame, then the same frame painted.", EXIT_USAGE)

    def command() -> None:
        require_torch("stylecut finetune", TRAIN)
        from stylecut.commands.finetune import FinetuneRequest, run_finetune

        request = FinetuneRequest(
            style_video=style_video,
            name=name,
            style_images=style_image or [],
            pairs=list(zip(pairs[::2], pairs[1::2])),
            base=base,
            content=content or [],
            steps=steps,
            minutes=minutes,
            size=size,
            preview_every=preview_every,
            resume=resume,
            overwrite=overwrite,
            device=device.value,
            overrides=overrides,
            started=started,
        )
        run_finetune(request)

    _run(command, "Interrupted; no style was written.")


def main() -> None:
    app()
