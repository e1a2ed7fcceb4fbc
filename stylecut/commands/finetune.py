"""`stylecut finetune`: a user style from a short style video (and images), resumable.

Everything a user can get wrong (name, collisions, the style video, an
unfinished run) is checked before any training, so bad input costs nothing
and leaves nothing behind. The style targets are frames sampled across the
reference clip; the content is the user's media or the small set that ships
in stylecut/data/content. Training starts from a base style's generator and
follows the recipe of the bundled styles (``stylecut.training``: its three
phases, pre-training, adversarial and fine-tune, are what the progress bar
shows). The run lives in ``<user dir>/../runs/NAME`` (checkpoint, log,
optional previews; the checkpoint goes once the style exists); the style file
is written last and atomically, so `stylecut styles` never lists a half-made
style.
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path

import torch

from stylecut.device import select_device
from stylecut.errors import Interrupted, MediaError, StylecutError, UsageError
from stylecut.models.generator import Generator
from stylecut.progress import FinetuneProgress
from stylecut.styles.names import NAME_RULE, is_valid_name
from stylecut.styles.registry import STYLE_SUFFIX, bundled_styles, load_style, resolve_style, user_dir
from stylecut.training.config import TrainConfig
from stylecut.training.data import expand_media, read_image, read_video_frames
from stylecut.training.preview import contact_sheet
from stylecut.training.trainer import CHECKPOINT, LOG, DamagedCheckpoint, Trainer, checkpoint_config
from stylecut.video.tempfiles import check_writable

FRESH_BASE = "none"  # --base none: a freshly initialised generator
# Enough frames to cover a shot's range of colours and textures; Gram targets and
# discriminator crops both come from them, and decoding stays a second or two.
STYLE_FRAMES = 20
MIN_STYLE_FRAMES = 2
DEFAULT_CONTENT = "data/content"
# A face, an interior with an object, and an outdoor scene: what editors' footage is made of.
DEFAULT_PREVIEW = ("clip_1.jpg", "gift.jpg", "valley_morning.jpg")
PREVIEW_EXAMPLES = 3
FIXED_FIELDS = ("name", "style", "content", "description")


@dataclass
class FinetuneRequest:
    """The command's options, as given."""

    style_video: Path
    name: str
    style_images: list[Path] = field(default_factory=list)
    base: str | None = None
    content: list[Path] = field(default_factory=list)
    steps: int = TrainConfig.steps  # the recipe's defaults
    size: int = TrainConfig.crop
    preview_every: int | None = None
    resume: bool = False
    overwrite: bool = False
    device: str = "auto"
    # TrainConfig fields to override (a hidden option, for tests and experiments).
    overrides: dict = field(default_factory=dict)


def runs_dir() -> Path:
    return user_dir().parent / "runs"


def check_name(name: str, overwrite: bool) -> Path:
    """The style file NAME will be written to, or one sentence on why it cannot be."""
    if not is_valid_name(name) or name == FRESH_BASE:
        raise UsageError(f"'{name}' is not a usable style name: use {NAME_RULE}, and not '{FRESH_BASE}'.")
    if any(entry.name == name for entry in bundled_styles()):
        raise UsageError(
            f"'{name}' is the name of a bundled style, which is never replaced; choose another name."
        )
    target = user_dir() / f"{name}{STYLE_SUFFIX}"
    if target.exists() and not overwrite:
        raise UsageError(
            f"A style named '{name}' already exists ({target}); use --overwrite to replace it or choose another name."
        )
    return target


def unfinished_run(run_dir: Path, name: str, resume: bool, overwrite: bool) -> TrainConfig | None:
    """The settings of the run to resume, or None to start afresh.

    Without --overwrite an unfinished run is never dropped; with it (and no
    --resume) the run starts afresh, even when the old checkpoint is damaged.
    """
    if overwrite and not resume:
        return None
    try:
        saved = checkpoint_config(run_dir)
    except DamagedCheckpoint as exc:
        raise _damaged(exc) from exc
    if resume and saved is None:
        raise UsageError(f"There is no unfinished run named '{name}' to resume (looked in {run_dir}).")
    if not resume and saved is not None:
        raise UsageError(
            f"An unfinished run named '{name}' exists in {run_dir}; add --resume to continue it or --overwrite to start over."
        )
    return saved


def _damaged(exc: DamagedCheckpoint) -> StylecutError:
    return StylecutError(
        f"The checkpoint {exc.path} is damaged: {exc.reason}; use --overwrite to start the run over."
    )


def style_frames(path: Path, max_side: int) -> list[torch.Tensor]:
    """Frames sampled across the style video, or one sentence on why there are not enough."""
    if not path.is_file():
        raise MediaError(f"The style video {path} does not exist.")
    frames = read_video_frames(path, STYLE_FRAMES, max_side)
    if len(frames) < MIN_STYLE_FRAMES:
        raise MediaError(
            f"The style video {path} is too short: {len(frames)} frame(s) could be decoded and at least {MIN_STYLE_FRAMES} are needed."
        )
    return frames


def default_content() -> Path:
    return Path(str(resources.files("stylecut") / DEFAULT_CONTENT))


def load_base(base: str | None) -> tuple[str, Generator | None]:
    """(name to report, generator); None means a fresh generator."""
    if base is None:
        bundled = bundled_styles()
        if not bundled:
            return FRESH_BASE, None
        base = bundled[0].name
    if base == FRESH_BASE:
        return FRESH_BASE, None
    entry = resolve_style(base)
    generator, _ = load_style(entry)
    return entry.name, generator


def build_config(request: FinetuneRequest, base: Generator | None) -> TrainConfig:
    unknown = set(request.overrides) - set(TrainConfig.__dataclass_fields__)
    fixed = set(request.overrides) & set(FIXED_FIELDS)
    if unknown or fixed:
        raise UsageError(f"--train-config cannot set {', '.join(sorted(unknown | fixed))}.")
    content = request.content or [default_content()]
    config = TrainConfig(
        name=request.name,
        style=[str(p.resolve()) for p in (request.style_video, *request.style_images)],
        content=[str(p.resolve()) for p in content],
        description=f"fine-tuned from {request.style_video.name}",
        steps=request.steps,
        crop=request.size,
        frames_per_video=STYLE_FRAMES,
    )
    config = TrainConfig.from_dict({**asdict(config), **request.overrides})
    if base is not None:
        config = replace(config, generator=base.config.to_dict())
    return config


def recipe(request: FinetuneRequest, base_name: str) -> str:
    """The command that made the style, with file names only (paths mean nothing on another machine)."""
    args = [
        "stylecut",
        "finetune",
        "--style-video",
        request.style_video.name,
        "--name",
        request.name,
        "--base",
        base_name,
    ]
    for path in request.style_images:
        args += ["--style-image", path.name]
    for path in request.content:
        args += ["--content", path.name]
    args += ["--steps", str(request.steps), "--size", str(request.size)]
    if request.overrides:
        args += ["--train-config", json.dumps(request.overrides, sort_keys=True)]
    return shlex.join(args)


def preview_examples(request: FinetuneRequest, trainer: Trainer) -> list[torch.Tensor]:
    if not request.content:
        return [
            read_image(default_content() / name, trainer.config.content_max_side) for name in DEFAULT_PREVIEW
        ]
    images = trainer.content.images
    picks = sorted({round(i * (len(images) - 1) / (PREVIEW_EXAMPLES - 1)) for i in range(PREVIEW_EXAMPLES)})
    return [images[i] for i in picks]


def final_losses(run_dir: Path, steps: int) -> dict[str, float]:
    """Each loss term averaged over the last tenth of the run: one step alone is too noisy to report."""
    lines = (run_dir / LOG).read_text().splitlines()
    records = [json.loads(line) for line in lines[-max(1, steps // 10) :]]
    keys = sorted({k for r in records for k in r} - {"step", "seconds"})
    return {k: round(sum(r[k] for r in records if k in r) / sum(k in r for r in records), 5) for k in keys}


def write_style(
    trainer: Trainer, checked: Plan, request: FinetuneRequest, examples: list[torch.Tensor]
) -> None:
    """NAME.png, then NAME.safetensors atomically: the style is listed only once it is complete."""
    target = checked.target
    metrics = {
        **final_losses(checked.run_dir, trainer.step),
        "training_seconds": round(trainer.elapsed, 1),
        "seconds_per_step": round(trainer.elapsed / max(trainer.step, 1), 3),
    }
    preview = target.with_suffix(".png")
    pending = target.with_name(f".{target.stem}.preview.tmp.png")
    try:
        contact_sheet(trainer.final_generator(), checked.style_frame, examples, pending)
        trainer.save_style(target, recipe(request, checked.base_name), metrics, base=checked.base_name)
        pending.replace(preview)
    finally:
        pending.unlink(missing_ok=True)


@dataclass
class Plan:
    """What a checked request resolves to, before anything is trained or written."""

    target: Path
    run_dir: Path
    config: TrainConfig
    resume: bool
    base_name: str
    base: Generator | None
    style_frames: list[torch.Tensor]

    @property
    def style_frame(self) -> torch.Tensor:
        """The style frame previews show first: the middle of the style video."""
        return self.style_frames[len(self.style_frames) // 2]


def plan(request: FinetuneRequest) -> Plan:
    """Check everything a user can get wrong, cheapest first; nothing is written until all passed."""
    target = check_name(request.name, request.overwrite)
    run_dir = runs_dir() / request.name
    saved = unfinished_run(run_dir, request.name, request.resume, request.overwrite)
    for path in [*request.style_images, *request.content]:
        expand_media([path])  # a missing file is named now, not after the loss network has loaded
    base_name, base = load_base(request.base)
    config = build_config(request, base)
    frames = style_frames(request.style_video, config.style_max_side)
    if saved is not None and not config.resumes(saved):
        raise UsageError(
            f"The run '{request.name}' was started with other settings; run the same command with --resume, or use --overwrite to start over."
        )
    return Plan(target, run_dir, config, saved is not None, base_name, base, frames)


def start_trainer(checked: Plan, device: torch.device) -> Trainer:
    """A Trainer from the base generator, or from the run's checkpoint when resuming."""
    if not checked.resume and checked.run_dir.exists():
        shutil.rmtree(checked.run_dir)  # an old log or previews would mix with the new run's
    # Fail now, not after minutes of training, when the style or its run cannot be written.
    check_writable(checked.run_dir / CHECKPOINT)
    check_writable(checked.target)
    trainer = Trainer(checked.config, checked.run_dir, device, base=None if checked.resume else checked.base)
    if checked.resume:
        try:
            trainer.resume()
        except DamagedCheckpoint as exc:
            raise _damaged(exc) from exc
    return trainer


def train(
    trainer: Trainer,
    checked: Plan,
    progress: FinetuneProgress,
    preview_every: int | None,
    examples: list[torch.Tensor],
) -> None:
    """Run to the configured steps; Ctrl-C keeps the checkpoint and says how to resume."""
    config = checked.config

    def on_step(step: int, total: int, values: dict[str, float]) -> None:
        progress.update(step, values, config.phase(step - 1))
        if preview_every and step % preview_every == 0:
            contact_sheet(
                trainer.ema, checked.style_frame, examples, checked.run_dir / f"preview_{step:06d}.png"
            )

    with progress:
        progress.start(trainer.step, config.phase(trainer.step))
        try:
            trainer.run(on_step)
        except KeyboardInterrupt:
            raise Interrupted(
                f"Interrupted at step {trainer.step} of {config.steps}; the checkpoint is kept in {checked.run_dir}: "
                "run the same command with --resume to continue."
            ) from None
        except FloatingPointError as exc:
            raise StylecutError(
                f"Training diverged (a loss became infinite or NaN) at step {trainer.step}; start over with --overwrite."
            ) from exc


def run_finetune(request: FinetuneRequest) -> Path:
    """Train and write the style; returns the style file's path."""
    started = time.perf_counter()
    device = select_device(request.device)
    checked = plan(request)
    progress = FinetuneProgress(request.name, checked.config.steps)
    origin = "a freshly initialised generator" if checked.base is None else f"the style '{checked.base_name}'"
    progress.note(
        f"Starting from {origin}; {len(checked.style_frames)} style frames from {request.style_video.name}."
    )
    trainer = start_trainer(checked, device)
    if checked.resume:
        progress.note(f"Resuming '{request.name}' at step {trainer.step} of {checked.config.steps}.")
    examples = preview_examples(request, trainer)
    train(trainer, checked, progress, request.preview_every, examples)
    write_style(trainer, checked, request, examples)
    # The style is complete: the checkpoint is no longer needed, the log and previews stay for reference.
    (checked.run_dir / CHECKPOINT).unlink(missing_ok=True)
    progress.note(
        f"Wrote the style '{request.name}' to {checked.target} ({trainer.step} steps, {time.perf_counter() - started:.0f} s); "
        f"use it with: stylecut apply --style {request.name} CLIP"
    )
    return checked.target
