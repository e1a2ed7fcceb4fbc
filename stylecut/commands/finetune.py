"""`stylecut finetune`: a user style from a style video, one or a few stills, or keyframe pairs; resumable.

Everything a user can get wrong (name, collisions, the references, an
unfinished run) is checked before any training, so bad input costs nothing
and leaves nothing behind. The style targets are frames sampled across the
reference clip and the stills; the content is the user's media or the small
set that ships in stylecut/data/content. Training starts from --base, by
default the bundled style already closest to the reference
(``stylecut.training.base_choice``), and follows the training recipe's
defaults (``stylecut.training``: its three phases, pre-training, adversarial
and fine-tune, are what the progress bar shows; the bundled styles' configs
change some of them, the adversarial term off among them). Without --steps, a time
budget (--minutes, DEFAULT_MINUTES by default, counted from the command's
start) sets the step count once the pace is known. The run lives in
``NAME/`` of the user's runs folder (checkpoint, log, a small preview every
--preview-every steps; the checkpoint goes once the style exists); the style
file is written last and atomically, so `stylecut styles` never lists a
half-made style.

With --pair ORIGINAL PAINTED (repeatable) the look is learned by example
instead: the generator is trained to turn each frame into its painted frame
(``stylecut.training.pairs``), at the working size `apply` will run it at.

Either way the generator paints at the bundled styles' working side. For a
reference look a second phase trains the style's revision network
(models/revision.py) on the new, frozen generator
(``stylecut.training.revision_trainer``, the painting's texture at the size it
is shown): the last REVISION_SHARE of a time budget, starting from the base
style's revision (else from the plain sum of draft and detail, so a short
phase is never worse than none). It keeps its own checkpoint in
``NAME/revision/``, whose presence tells --resume that the generator's phase
is over. A pair look has no revision network: its generator has the whole
budget, and apply restores the footage's detail with the plain sum
(WITHOUT_REVISION says why).
"""

from __future__ import annotations

import json
import math
import shlex
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path

import torch

from stylecut.device import select_device
from stylecut.errors import Interrupted, MediaError, StylecutError, UsageError
from stylecut.models.generator import Generator
from stylecut.models.loss_network import lite0_loss_network
from stylecut.models.revision import Revision, RevisionConfig
from stylecut.progress import FinetuneProgress
from stylecut.quality import STYLE_DISTANCE_BLOCKS
from stylecut.sigterm import stopped_by_sigterm
from stylecut.styles.names import NAME_RULE, is_valid_name
from stylecut.styles.registry import (
    STYLE_SUFFIX,
    bundled_styles,
    load_style_networks,
    resolve_style,
    user_styles,
)
from stylecut.training.base_choice import choose_base
from stylecut.training.config import (
    FINETUNE_CROP,
    FINETUNE_PREVIEW_EVERY,
    FINETUNE_WORKING_SIDE,
    PAIR_CROP,
    TrainConfig,
)
from stylecut.training.data import expand_media, load_media, read_image, read_video_frames
from stylecut.training.pairs import PairTrainer, read_pair
from stylecut.training.preview import contact_sheet
from stylecut.training.revision_trainer import RevisionTrainConfig, RevisionTrainer
from stylecut.training.trainer import CHECKPOINT, LOG, DamagedCheckpoint, Trainer, checkpoint_config
from stylecut.user_folders import check_writable_folder, runs_folder, styles_folder
from stylecut.video.tempfiles import check_writable

FRESH_BASE = "none"  # --base none: a freshly initialised generator
BASE_CHOICE_SIDE = 256
# Enough frames to cover a shot's range of colours and textures; Gram targets and
# discriminator crops both come from them, and decoding stays a second or two.
STYLE_FRAMES = 20
MIN_STYLE_FRAMES = 2
DEFAULT_MINUTES = 10.0  # without --steps or --minutes: a look in ten minutes, end to end
MAX_STEPS = 100_000
# Kept from a time budget for writing the style after the last step: a few seconds on an idle machine,
# half a minute on a loaded one.
FINISH_SECONDS = 30.0
PREVIEW_HEIGHT = 160  # the run folder's previews are small: a glance, not the final sheet
DEFAULT_CONTENT = "data/content"
# A face, an interior with an object, and an outdoor scene: what editors' footage is made of.
DEFAULT_PREVIEW = ("clip_1.jpg", "gift.jpg", "valley_morning.jpg")
PREVIEW_EXAMPLES = 3
FIXED_FIELDS = ("name", "style", "content", "description", "paired")
# The revision phase of a reference look: the last fifth of a time budget (two minutes of the default ten:
# about 150 of the bundled recipe's steps).
REVISION_SHARE = 0.2
REVISION_DIR = "revision"  # in the run folder; once it exists, the generator's phase is over
REVISION_FOOTAGE_SIDE = 1920  # the content is read at most this long: 1080p's long side
# Full-size pictures take memory (read and drafted at 720p and 1080p, about 110 MB each): at most this many, from
# files spread over the content, frames spread over each clip.
REVISION_PICTURES = 12
# Keyframe pairs: the bundled styles' working side, so a pair style runs at the size they do; no texture
# statistics, no motion pairs (the stability term runs on shifted patches), no adversarial term. The L1
# term alone: with the Lite0 feature term as well (content_weight 8, blocks 2-7), two minutes of
# training left the graphic treatment of benchmarks/keyframe.py at 0.73 of the input's colour error
# instead of 0.51 (the loss network is a quarter of a step's time, and its term pulls towards texture,
# not colour); the painterly one scored 0.53 either way (feature weight 1). Batch 2 of PAIR_CROP px: as many pixels a step as 4 of 128 px, more context each (0.45).
# From scratch: starting from udnie's weights scored the same (0.45 and 0.44 after two minutes) and
# would carry another painting's strokes into the frames the pair does not cover.
PAIR_BASE = FRESH_BASE
PAIR_SETTINGS = {
    "paired": True,
    "auto_texture_weight": False,
    "motion_pairs": 0,
    "adversarial_weight": 0.0,
    "content_weight": 0.0,
    "batch": 2,
}
# Recorded in a pair style's metadata. Trained on the painted frame's fine band (docs/measurements.md, "Custom
# styles from `finetune`"), a revision flattened the look (Laplacian 0.56 -> 0.23 of the input's, edges kept
# 0.19 -> 0.13) and drew none of the treatment's lines, for the same colour error.
WITHOUT_REVISION = (
    "keyframe pairs: a revision network trained on the painted frame flattened the look and drew none of its "
    "lines, so the footage's detail is restored by the plain sum"
)


@dataclass
class FinetuneRequest:
    """The command's options, as given."""

    name: str
    style_video: Path | None = None
    style_images: list[Path] = field(default_factory=list)
    pairs: list[tuple[Path, Path]] = field(default_factory=list)  # (frame, the same frame painted)
    base: str | None = None
    content: list[Path] = field(default_factory=list)
    steps: int | None = None  # None: as many as `minutes` allows
    minutes: float | None = None  # None: DEFAULT_MINUTES, unless `steps` is given
    size: int | None = None  # the crop; None: FINETUNE_CROP, PAIR_CROP for pairs
    preview_every: int = FINETUNE_PREVIEW_EVERY
    resume: bool = False
    overwrite: bool = False
    device: str = "auto"
    # TrainConfig fields to override (a hidden option, for tests and experiments).
    overrides: dict = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)  # when the command started: the budget's origin


def check_name(name: str, overwrite: bool) -> Path:
    """The style file NAME will be written to, or one sentence on why it cannot be."""
    if not is_valid_name(name) or name == FRESH_BASE:
        raise UsageError(f"'{name}' is not a usable style name: use {NAME_RULE}, and not '{FRESH_BASE}'.")
    if any(entry.name == name for entry in bundled_styles()):
        raise UsageError(
            f"'{name}' is the name of a bundled style, which is never replaced; choose another name."
        )
    target = styles_folder() / f"{name}{STYLE_SUFFIX}"
    # Another file that carries the name would make both unusable (registry.py).
    claimed = [entry.path for entry in user_styles() if entry.name == name and entry.path != target]
    if claimed:
        raise UsageError(
            f"The style file {claimed[0]} already carries the name '{name}'; choose another name."
        )
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
    """Frames sampled across a style video, or one sentence on why there are not enough."""
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


def load_base(base: str) -> tuple[str, Generator | None, Revision | None]:
    """(name to report, generator, revision network) of the --base given; None means a fresh generator, or
    a base without a revision."""
    if base == FRESH_BASE:
        return FRESH_BASE, None, None
    entry = resolve_style(base)
    generator, revision, _ = load_style_networks(entry)
    return entry.name, generator, revision


def closest_base(frames: list[torch.Tensor]) -> tuple[str, Generator | None, Revision | None, str]:
    """The default base: the bundled style closest to the reference, else a fresh generator, and why."""
    candidates = {entry.name: load_style_networks(entry)[:2] for entry in bundled_styles()}
    examples = [read_image(default_content() / name, BASE_CHOICE_SIDE) for name in DEFAULT_PREVIEW]
    net = lite0_loss_network(STYLE_DISTANCE_BLOCKS)
    choice = choose_base(net, frames, examples, {name: nets[0] for name, nets in candidates.items()})
    if choice.name is None:
        return (
            FRESH_BASE,
            None,
            None,
            f"no bundled style is closer to the reference than plain footage ({choice.describe()})",
        )
    return (
        choice.name,
        *candidates[choice.name],
        f"the bundled style closest to the reference ({choice.describe()})",
    )


def reference_frames(request: FinetuneRequest, max_side: int) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The style video's frames and the stills, and the frame previews show first.

    The preview frame is the middle of the style video, else the first still.
    """
    video = style_frames(request.style_video, max_side) if request.style_video is not None else []
    stills = load_media(request.style_images, max_side, STYLE_FRAMES)
    frames = video + stills
    if not frames:
        raise MediaError("No usable style image or video frame was found in the --style-image files.")
    return frames, video[len(video) // 2] if video else stills[0]


def planned_steps(request: FinetuneRequest) -> tuple[int, float | None]:
    """The step count to plan for and the time budget in minutes (None: none).

    --steps alone trains exactly that many steps; --minutes (by default
    DEFAULT_MINUTES, when neither is given) trains as many as fit, at most
    --steps.
    """
    if request.steps is not None and request.minutes is None:
        return request.steps, None
    minutes = DEFAULT_MINUTES if request.minutes is None else request.minutes
    return request.steps or MAX_STEPS, minutes


def references(request: FinetuneRequest) -> list[Path]:
    """The images or video the look comes from: for pairs, the painted frames."""
    painted = [b for _, b in request.pairs]
    return [p for p in (request.style_video, *request.style_images, *painted) if p is not None]


def pair_frames(request: FinetuneRequest) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The painted frames of the pairs, each checked against its frame, and the one previews show first."""
    painted = [read_pair(original, treated)[1] for original, treated in request.pairs]
    return painted, painted[0]


def build_config(request: FinetuneRequest, base: Generator | None) -> TrainConfig:
    unknown = set(request.overrides) - set(TrainConfig.__dataclass_fields__)
    revision = request.overrides.get("revision", {})
    unknown |= {f"revision.{k}" for k in set(revision) - set(RevisionTrainConfig.__dataclass_fields__)}
    fixed = set(request.overrides) & set(FIXED_FIELDS)
    if request.pairs and "revision" in request.overrides:
        fixed.add("revision")  # a pair style trains no revision network
    if unknown or fixed:
        raise UsageError(f"--train-config cannot set {', '.join(sorted(unknown | fixed))}.")
    style = references(request)
    content = [a for a, _ in request.pairs] or request.content or [default_content()]
    learned = "learned from the painted frame" if request.pairs else "fine-tuned from"
    config = TrainConfig(
        name=request.name,
        style=[str(p.resolve()) for p in style],
        content=[str(p.resolve()) for p in content],
        description=f"{learned} {style[0].name}",
        steps=planned_steps(request)[0],
        crop=request.size or (PAIR_CROP if request.pairs else FINETUNE_CROP),
        frames_per_video=STYLE_FRAMES,
        working_side=FINETUNE_WORKING_SIDE,
    )
    settings = PAIR_SETTINGS if request.pairs else {}
    config = TrainConfig.from_dict({**asdict(config), **settings, **request.overrides})
    if config.working_side is None and not request.pairs:
        raise UsageError(
            "--train-config cannot unset working_side: the revision network needs a draft to revise."
        )
    if base is not None:
        config = replace(config, generator=base.config.to_dict())
    return config


def recipe(request: FinetuneRequest, base_name: str, steps: int, crop: int) -> str:
    """The command that made the style (with the steps it trained), with file names only.

    Paths mean nothing on another machine.
    """
    args = ["stylecut", "finetune"]
    if request.style_video is not None:
        args += ["--style-video", request.style_video.name]
    args += ["--name", request.name, "--base", base_name]
    for path in request.style_images:
        args += ["--style-image", path.name]
    for original, painted in request.pairs:
        args += ["--pair", original.name, painted.name]
    for path in request.content:
        args += ["--content", path.name]
    args += ["--steps", str(steps), "--size", str(crop)]
    if request.overrides:
        args += ["--train-config", json.dumps(request.overrides, sort_keys=True)]
    return shlex.join(args)


def preview_examples(request: FinetuneRequest, trainer: Trainer) -> list[torch.Tensor]:
    if not request.content and not request.pairs:
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
    trainer: Trainer,
    reviser: RevisionTrainer | None,
    checked: Plan,
    request: FinetuneRequest,
    examples: list[torch.Tensor],
) -> None:
    """NAME.png, then NAME.safetensors atomically: the style is listed only once it is complete; ``reviser``
    None: a style without a revision network."""
    target = checked.target
    metrics = {
        **final_losses(checked.run_dir, trainer.step),
        "training_seconds": round(trainer.elapsed, 1),
        "seconds_per_step": round(trainer.elapsed / max(trainer.step, 1), 3),
        "texture_share": round(trainer.texture_share, 3),
    }
    if reviser is None:
        revision, about_revision = None, {"without_revision": WITHOUT_REVISION}
    else:
        start = checked.base_name if checked.base_revision is not None else "none"
        revision = reviser.final_revision()
        about_revision = {"revision_training": reviser.recipe_metadata("stylecut finetune", start=start)}
    preview = target.with_suffix(".png")
    pending = target.with_name(f".{target.stem}.preview.tmp.png")
    try:
        contact_sheet(trainer.final_generator(), checked.style_frame, examples, pending)
        trainer.save_style(
            target,
            recipe(request, checked.base_name, trainer.step, trainer.config.crop),
            metrics,
            revision,
            base=checked.base_name,
            **about_revision,
        )
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
    base_revision: Revision | None
    base_reason: str
    style_frames: list[torch.Tensor]
    style_frame: torch.Tensor  # the one previews show first
    minutes: float | None  # the time budget, end to end; None: train exactly config.steps


def plan(request: FinetuneRequest) -> Plan:
    """Check everything a user can get wrong, cheapest first; nothing is written until all passed."""
    if request.pairs and (request.style_video is not None or request.style_images or request.content):
        raise UsageError(
            "--pair teaches the look by example and cannot be combined with --style-video, --style-image or --content."
        )
    if request.style_video is None and not request.style_images and not request.pairs:
        raise UsageError(
            "Give the look to learn: a style video (--style-video), one or more stills (--style-image), "
            "or frames and their painted versions (--pair)."
        )
    target = check_name(request.name, request.overwrite)
    run_dir = runs_folder() / request.name
    for folder in (target.parent, run_dir):
        check_writable_folder(folder)  # now, not after the base has been chosen
    saved = unfinished_run(run_dir, request.name, request.resume, request.overwrite)
    for path in [*request.style_images, *request.content, *(p for pair in request.pairs for p in pair)]:
        expand_media([path])  # a missing file is named now, not after the loss network has loaded
    default_base = PAIR_BASE if request.pairs else None
    asked = request.base or default_base
    base_name, base, base_revision = load_base(asked) if asked is not None else (FRESH_BASE, None, None)
    config = build_config(request, base)
    if request.pairs:
        frames, shown = pair_frames(request)
    else:
        frames, shown = reference_frames(request, config.style_max_side)
    why = "as asked" if request.base is not None else "the default for keyframe pairs"
    if asked is None:
        base_name, base, base_revision, why = closest_base(frames)
        config = build_config(request, base)
    if saved is not None and not config.resumes(saved):
        raise UsageError(
            f"The run '{request.name}' was started with other settings; run the same command with --resume, or use --overwrite to start over."
        )
    minutes = planned_steps(request)[1]
    return Plan(
        target,
        run_dir,
        config,
        saved is not None,
        base_name,
        base,
        base_revision,
        why,
        frames,
        shown,
        minutes,
    )


def start_trainer(checked: Plan, device: torch.device) -> Trainer:
    """A Trainer from the base generator, or from the run's checkpoint when resuming."""
    if not checked.resume and checked.run_dir.exists():
        shutil.rmtree(checked.run_dir)  # an old log or previews would mix with the new run's
    # Fail now, not after minutes of training, when the style or its run cannot be written.
    check_writable(checked.run_dir / CHECKPOINT)
    check_writable(checked.target)
    trainer_class = PairTrainer if checked.config.paired else Trainer
    trainer = trainer_class(
        checked.config, checked.run_dir, device, base=None if checked.resume else checked.base
    )
    if checked.resume:
        try:
            trainer.resume()
        except DamagedCheckpoint as exc:
            raise _damaged(exc) from exc
    return trainer


@contextmanager
def keeping_the_checkpoint(run_dir: Path, position: Callable[[], str]) -> Iterator[None]:
    """Ctrl-C keeps the checkpoint and says how to resume; a diverged step says to start over.
    ``position`` says where the run stood."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(
            f"Interrupted at {position()}; the checkpoint is kept in {run_dir}: "
            "run the same command with --resume to continue.",
            terminated=stopped_by_sigterm(),
        ) from None
    except FloatingPointError as exc:
        raise StylecutError(
            f"Training diverged (a loss became infinite or NaN) at {position()}; start over with --overwrite."
        ) from exc


def train(
    trainer: Trainer,
    checked: Plan,
    progress: FinetuneProgress,
    preview_every: int,
    examples: list[torch.Tensor],
    deadline: float | None,
) -> None:
    """Run to the configured steps or the deadline."""

    def on_step(step: int, total: int, values: dict[str, float]) -> None:
        progress.update(step, total if total < MAX_STEPS else None, values, trainer.config.phase(step - 1))
        if step % preview_every == 0:
            path = checked.run_dir / f"preview_{step:06d}.png"
            contact_sheet(trainer.ema, checked.style_frame, examples, path, height=PREVIEW_HEIGHT)

    with (
        progress,
        keeping_the_checkpoint(checked.run_dir, lambda: f"step {trainer.step} of {trainer.config.steps}"),
    ):
        progress.start(trainer.step, trainer.config.phase(trainer.step))
        trainer.run(on_step, deadline)


def revision_recipe(config: TrainConfig, start: Revision | None) -> RevisionTrainConfig:
    """The bundled styles' revision recipe, for the finetune's own content, starting from ``start``."""
    architecture = (start.config if start is not None else RevisionConfig()).to_dict()
    settings = {"revision": architecture, "content": config.content, "scaled_drafts": True}
    return RevisionTrainConfig.from_dict({**settings, **config.revision})


def start_reviser(trainer: Trainer, checked: Plan, request: FinetuneRequest) -> RevisionTrainer:
    """The revision phase's trainer on the final generator, from its checkpoint when there is one."""
    config = trainer.config
    recipe = revision_recipe(config, checked.base_revision)
    run_dir = checked.run_dir / REVISION_DIR
    run_dir.mkdir(parents=True, exist_ok=True)  # from here on, --resume goes on with the revision
    side = config.working_side
    files = expand_media(Path(p) for p in config.content)
    files = files[:: math.ceil(len(files) / REVISION_PICTURES)]
    footage = load_media(files, REVISION_FOOTAGE_SIDE, max(1, REVISION_PICTURES // len(files)))
    # The painting at the size it is shown at the largest delivery side, where it has the pixels.
    shown = round(config.style_max_side * max(recipe.delivery_sides) / side)
    paintings = reference_frames(request, shown)[0]
    reviser = RevisionTrainer(
        recipe,
        trainer.final_generator(),
        footage,
        paintings,
        config.style_max_side,
        side,
        run_dir,
        checked.base_revision,
    )
    try:
        reviser.resume()
    except DamagedCheckpoint as exc:
        raise _damaged(exc) from exc
    return reviser


def revise(
    trainer: Trainer, checked: Plan, request: FinetuneRequest, deadline: float | None
) -> RevisionTrainer:
    """The revision phase: trained to its recipe's steps or the deadline, previews at 100% on the way."""
    reviser = start_reviser(trainer, checked, request)
    origin = (
        f"the revision of '{checked.base_name}'" if checked.base_revision is not None else "the plain sum"
    )
    progress = FinetuneProgress(
        f"{request.name} revision", None if deadline is not None else reviser.config.steps
    )
    if not reviser.trainable:
        progress.note(
            f"No picture is large enough to teach the revision network the full-size detail; it stays {origin}."
        )
        return reviser
    progress.note(
        f"Revision phase: the full-size detail, starting from {origin}; a 100% preview every "
        f"{request.preview_every} steps in {reviser.run_dir}."
    )

    def on_step(step: int, total: int, values: dict[str, float]) -> None:
        progress.update(step, total, values, "revision")
        if step % request.preview_every == 0:
            reviser.preview(reviser.run_dir / f"preview_{step:06d}.png")

    with (
        progress,
        keeping_the_checkpoint(checked.run_dir, lambda: f"step {reviser.step} of the revision phase"),
    ):
        progress.start(reviser.step, "revision")
        reviser.run(on_step, deadline)
    return reviser


def run_finetune(request: FinetuneRequest) -> Path:
    """Train and write the style; returns the style file's path."""
    started = request.started
    device = select_device(request.device)
    checked = plan(request)
    progress = FinetuneProgress(request.name, None if checked.minutes is not None else checked.config.steps)
    origin = "a freshly initialised generator" if checked.base is None else f"the style '{checked.base_name}'"
    sources = ", ".join(p.name for p in references(request))
    progress.note(f"Starting from {origin}: {checked.base_reason}.")
    if request.pairs:
        progress.note(f"{len(request.pairs)} keyframe pair(s), painted frames {sources}.")
    else:
        progress.note(f"{len(checked.style_frames)} style frames from {sources}.")
    trainer = start_trainer(checked, device)
    revised = not request.pairs  # a pair look has no revision network (WITHOUT_REVISION)
    revising = checked.resume and (checked.run_dir / REVISION_DIR).exists()
    if not request.pairs:
        progress.note(
            f"A colour transfer alone explains {1 - trainer.texture_share:.0%} of the reference's look; "
            f"its texture term weighs {trainer.texture_share:.2f} of the recipe's."
        )
    if revising:
        progress.note(
            f"Resuming '{request.name}' in its revision phase (the generator's {trainer.step} steps are done)."
        )
    elif checked.resume:
        of = f" of {checked.config.steps}" if checked.minutes is None else ""
        progress.note(f"Resuming '{request.name}' at step {trainer.step}{of}.")
    deadline = generator_deadline = None
    if checked.minutes is not None:
        deadline = started + checked.minutes * 60 - FINISH_SECONDS
        generator_deadline = deadline - (REVISION_SHARE * checked.minutes * 60 if revised else 0.0)
        last = f", the last {REVISION_SHARE:.0%} for the revision network" if revised else ""
        progress.note(
            f"Training for as many steps as fit in {checked.minutes:g} minutes{last} (--steps or --minutes to change)."
        )
    progress.note(f"A preview every {request.preview_every} steps: {checked.run_dir / 'preview_NNNNNN.png'}")
    examples = preview_examples(request, trainer)
    if not revising:
        train(trainer, checked, progress, request.preview_every, examples, generator_deadline)
    reviser = revise(trainer, checked, request, deadline) if revised else None
    write_style(trainer, reviser, checked, request, examples)
    # The style is complete: the checkpoints are no longer needed, the logs and previews stay for reference.
    (checked.run_dir / CHECKPOINT).unlink(missing_ok=True)
    done = f"{trainer.step} steps"
    if reviser is not None:
        (reviser.run_dir / CHECKPOINT).unlink(missing_ok=True)
        done += f" and {reviser.step} of the revision"
    progress.note(
        f"Wrote the style '{request.name}' to {checked.target} ({done}, {time.monotonic() - started:.0f} s); "
        f"use it with: stylecut apply --style {request.name} CLIP"
    )
    return checked.target
