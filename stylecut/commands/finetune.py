"""`stylecut finetune`: a user style from a short style video (and images), resumable.

Everything a user can get wrong (name, collisions, the style video, an
unfinished run) is checked before any training, so bad input costs nothing
and leaves nothing behind. The style targets are frames sampled across the
reference clip; the content is the user's media or the small set that ships
in stylecut/data/content. Training starts from a base style's generator and
runs three phases: pre-training without the adversarial term (until the
Trainer's `adversarial_start`), adversarial training, and a fine-tune phase
where the generator's learning rate anneals so the last steps settle rather
than jump. The run lives in ``<user dir>/../runs/NAME`` (checkpoint, log,
optional previews; the checkpoint goes once the style exists); the style file
is written last and atomically, so `stylecut styles` never lists a half-made
style.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path

import torch

from stylecut.progress import FinetuneProgress
from stylecut.device import select_device
from stylecut.errors import Interrupted, MediaError, StylecutError, UsageError
from stylecut.models.generator import Generator
from stylecut.styles.registry import STYLE_SUFFIX, bundled_styles, load_style, resolve_style, user_dir
from stylecut.styles.style_file import save_style
from stylecut.training.data import expand_media, read_image, read_video_frames
from stylecut.training.export import style_metadata
from stylecut.training.preview import contact_sheet
from stylecut.training.trainer import CHECKPOINT, LOG, Trainer, TrainConfig, checkpoint_config
from stylecut.video.tempfiles import check_writable

NAME_PATTERN = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
MAX_NAME_LENGTH = 64
FRESH_BASE = "none"  # --base none: a freshly initialised generator
# Enough frames to cover a shot's range of colours and textures; Gram targets and
# discriminator crops both come from them, and decoding stays a second or two.
STYLE_FRAMES = 20
MIN_STYLE_FRAMES = 2
FINE_TUNE_START = 0.8  # fraction of the steps after which the learning rate anneals
FINE_TUNE_FINAL_LR = 0.1  # ... linearly down to this fraction of the configured rate
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
    steps: int = 300
    size: int = 192
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
    if len(name) > MAX_NAME_LENGTH or not NAME_PATTERN.fullmatch(name) or name == FRESH_BASE:
        raise UsageError(
            f"'{name}' is not a usable style name: use lower-case letters and digits joined by single dashes or "
            f"underscores (like 'sintel-look'), at most {MAX_NAME_LENGTH} characters, and not '{FRESH_BASE}'."
        )
    if any(entry.name == name for entry in bundled_styles()):
        raise UsageError(f"'{name}' is the name of a bundled style, which is never replaced; choose another name.")
    target = user_dir() / f"{name}{STYLE_SUFFIX}"
    if target.exists() and not overwrite:
        raise UsageError(f"A style named '{name}' already exists ({target}); use --overwrite to replace it or choose another name.")
    return target


def prepare_run_dir(name: str, resume: bool, overwrite: bool) -> Path:
    """The run folder; refuses to drop an unfinished run without --overwrite."""
    run_dir = runs_dir() / name
    saved = checkpoint_config(run_dir)
    if resume:
        if saved is None:
            raise UsageError(f"There is no unfinished run named '{name}' to resume (looked in {run_dir}).")
        return run_dir
    if saved is not None and not overwrite:
        raise UsageError(
            f"An unfinished run named '{name}' exists in {run_dir}; add --resume to continue it or --overwrite to start over."
        )
    return run_dir


def style_frames(path: Path, max_side: int) -> list[torch.Tensor]:
    """Frames sampled across the style video, or one sentence on why there are not enough."""
    if not path.is_file():
        raise MediaError(f"The style video {path} does not exist.")
    import decord  # only ever after torch: decord first loads NVBLAS, and torch's CPU matmuls then crash

    try:
        frames = read_video_frames(path, STYLE_FRAMES, max_side)
    except decord.DECORDError as exc:
        raise MediaError(f"The style video {path} is corrupt or truncated: some of its frames cannot be decoded.") from exc
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
    args = ["stylecut", "finetune", "--style-video", request.style_video.name, "--name", request.name, "--base", base_name]
    for path in request.style_images:
        args += ["--style-image", path.name]
    for path in request.content:
        args += ["--content", path.name]
    args += ["--steps", str(request.steps), "--size", str(request.size)]
    if request.overrides:
        args += ["--train-config", json.dumps(request.overrides, sort_keys=True)]
    return shlex.join(args)


def phase(config: TrainConfig, step: int) -> str:
    """The phase step number `step` (counted from 0) belongs to."""
    if step >= FINE_TUNE_START * config.steps:
        return "fine-tune"
    return "adversarial" if step >= config.adversarial_start * config.steps and config.adversarial_weight > 0 else "pre-train"


def apply_schedule(trainer: Trainer) -> None:
    """Set the generator's learning rate for the coming step: constant, then annealed in the fine-tune phase."""
    cfg = trainer.config
    annealed = max(0.0, (trainer.step / max(cfg.steps, 1) - FINE_TUNE_START) / (1 - FINE_TUNE_START))
    for group in trainer.opt_g.param_groups:
        group["lr"] = cfg.lr * (1 - (1 - FINE_TUNE_FINAL_LR) * annealed)


def preview_examples(request: FinetuneRequest, trainer: Trainer) -> list[torch.Tensor]:
    if not request.content:
        return [read_image(default_content() / name, trainer.config.content_max_side) for name in DEFAULT_PREVIEW]
    images = trainer.content.images
    picks = sorted({round(i * (len(images) - 1) / (PREVIEW_EXAMPLES - 1)) for i in range(PREVIEW_EXAMPLES)})
    return [images[i] for i in picks]


def final_losses(run_dir: Path, steps: int) -> dict[str, float]:
    """Each loss term averaged over the last tenth of the run: one step alone is too noisy to report."""
    lines = (run_dir / LOG).read_text().splitlines()
    records = [json.loads(line) for line in lines[-max(1, steps // 10) :]]
    keys = sorted({k for r in records for k in r} - {"step", "seconds"})
    return {k: round(sum(r[k] for r in records if k in r) / sum(k in r for r in records), 5) for k in keys}


def write_style(trainer: Trainer, target: Path, style_frame: torch.Tensor, examples: list[torch.Tensor], metadata: dict) -> None:
    """NAME.png, then NAME.safetensors atomically: the style is listed only once it is complete."""
    generator = trainer.ema.cpu().eval()
    preview = target.with_suffix(".png")
    pending = target.with_name(f".{target.stem}.preview.tmp.png")
    try:
        contact_sheet(generator, style_frame, examples, pending)
        save_style(target, generator, metadata)
        pending.replace(preview)
    finally:
        pending.unlink(missing_ok=True)


@dataclass
class Plan:
    """What a checked request resolves to, before anything is trained or written."""

    target: Path
    run_dir: Path
    config: TrainConfig
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
    run_dir = prepare_run_dir(request.name, request.resume, request.overwrite)
    for path in [*request.style_images, *request.content]:
        expand_media([path])  # a missing file is named now, not after the loss network has loaded
    base_name, base = load_base(request.base)
    config = build_config(request, base)
    frames = style_frames(request.style_video, config.style_max_side)
    if request.resume and replace(checkpoint_config(run_dir), steps=config.steps) != config:
        raise UsageError(
            f"The run '{request.name}' was started with other settings; run the same command with --resume, or use --overwrite to start over."
        )
    return Plan(target, run_dir, config, base_name, base, frames)


def start_trainer(request: FinetuneRequest, checked: Plan, device: torch.device) -> Trainer:
    """A Trainer from the base generator, or from the run's checkpoint on --resume."""
    if not request.resume and checked.run_dir.exists():
        shutil.rmtree(checked.run_dir)  # an old log or previews would mix with the new run's
    # Fail now, not after minutes of training, when the style or its run cannot be written.
    check_writable(checked.run_dir / CHECKPOINT)
    check_writable(checked.target)
    import decord  # after torch, see style_frames

    try:
        trainer = Trainer(checked.config, checked.run_dir, device, base=None if request.resume else checked.base)
    except decord.DECORDError as exc:
        raise MediaError("A content video is corrupt or truncated: some of its frames cannot be decoded; leave it out of --content.") from exc
    if request.resume:
        trainer.load_checkpoint()
    return trainer


def train(trainer: Trainer, checked: Plan, progress: FinetuneProgress, preview_every: int | None, examples: list[torch.Tensor]) -> None:
    """Run to the configured steps with the phase schedule; Ctrl-C keeps the checkpoint and says how to resume."""
    config = checked.config

    def on_step(step: int, total: int, values: dict[str, float]) -> None:
        apply_schedule(trainer)
        progress.update(step, values, phase(config, step - 1))
        if preview_every and step % preview_every == 0:
            contact_sheet(trainer.ema, checked.style_frame, examples, checked.run_dir / f"preview_{step:06d}.png")

    with progress:
        apply_schedule(trainer)
        progress.start(trainer.step, phase(config, trainer.step))
        try:
            trainer.run(on_step)
        except KeyboardInterrupt:
            raise Interrupted(
                f"Interrupted at step {trainer.step} of {config.steps}; the checkpoint is kept in {checked.run_dir}: "
                "run the same command with --resume to continue."
            ) from None
        except FloatingPointError as exc:
            raise StylecutError(f"Training diverged (a loss became infinite or NaN) at step {trainer.step}; start over with --overwrite.") from exc


def run_finetune(request: FinetuneRequest) -> Path:
    """Train and write the style; returns the style file's path."""
    started = time.perf_counter()
    device = select_device(request.device)
    checked = plan(request)
    progress = FinetuneProgress(request.name, checked.config.steps)
    origin = "a freshly initialised generator" if checked.base is None else f"the style '{checked.base_name}'"
    progress.note(f"Starting from {origin}; {len(checked.style_frames)} style frames from {request.style_video.name}.")
    trainer = start_trainer(request, checked, device)
    if request.resume:
        progress.note(f"Resuming '{request.name}' at step {trainer.step} of {checked.config.steps}.")
    examples = preview_examples(request, trainer)
    train(trainer, checked, progress, request.preview_every, examples)

    metrics = {**final_losses(checked.run_dir, trainer.step), "training_seconds": round(trainer.elapsed, 1), "seconds_per_step": round(trainer.elapsed / max(trainer.step, 1), 3)}
    metadata = {**style_metadata(trainer, recipe(request, checked.base_name), metrics), "base": checked.base_name}
    write_style(trainer, checked.target, checked.style_frame, examples, metadata)
    # The style is complete: the checkpoint is no longer needed, the log and previews stay for reference.
    (checked.run_dir / CHECKPOINT).unlink(missing_ok=True)
    progress.note(
        f"Wrote the style '{request.name}' to {checked.target} ({trainer.step} steps, {time.perf_counter() - started:.0f} s); "
        f"use it with: stylecut apply --style {request.name} CLIP"
    )
    return checked.target
