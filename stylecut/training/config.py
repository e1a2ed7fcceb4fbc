"""The training recipe's settings, shared by the bundled styles and `stylecut finetune`.

:class:`TrainConfig` holds everything a run depends on, with the recipe's
defaults; it is stored in every checkpoint and in the exported style. A run
has three phases: pre-training without the adversarial term (the first
``adversarial_start`` of the steps), adversarial training, and from
``fine_tune_start`` a fine-tune phase in which the generator's learning rate
anneals linearly to ``fine_tune_final_lr`` times ``lr``, so the last steps
settle rather than jump. Steps are counted from 0. This module imports no
torch, so the command line can read the defaults without loading it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# finetune's crop: smaller than the recipe's default of 192 px (the bundled styles' configs set 160), so a
# time budget fits about twice the steps of 192 px crops (the pilots in docs/looks.md ran at 128 px).
FINETUNE_CROP = 128
FINETUNE_PREVIEW_EVERY = 50  # steps between the small previews written to the run folder
PAIR_CROP = 192  # finetune --pair's patches (benchmarks/keyframe.py: closer to the painting than 128 px)
# finetune's styles run as the bundled ones do: the generator at this short side, then (a reference look's)
# revision network repaints the enlarged draft at the clip's size.
FINETUNE_WORKING_SIDE = 480


def _default_generator() -> dict:
    from stylecut.models.generator import GeneratorConfig  # imports torch: only when a config is built

    return GeneratorConfig().to_dict()


@dataclass
class TrainConfig:
    """Everything a run depends on; stored in checkpoints and in the exported style."""

    name: str
    style: list[str]
    content: list[str]
    description: str = ""
    generator: dict = field(default_factory=_default_generator)
    steps: int = 300
    batch: int = 4
    crop: int = 192
    lr: float = 2e-3
    fine_tune_start: float = 0.8  # fraction of the steps after which the generator's learning rate anneals
    fine_tune_final_lr: float = 0.1  # ... linearly down to this fraction of `lr`
    content_max_side: int = 640
    content_scale: tuple[float, float] = (0.4, 1.0)
    # The short side, in pixels, that `apply` runs the generator at, whatever the clip's size, so strokes
    # keep their size relative to the frame; content is trained at that size (then content_scale). None:
    # the generator runs at the clip's own size and content is read at content_max_side.
    working_side: int | None = None
    style_max_side: int = 512
    frames_per_video: int = 12
    # Block 0 (half resolution) printed a regular cross-hatch over everything; strokes come from 2-10.
    style_layers: dict[str, float] = field(default_factory=lambda: {"2": 1.0, "4": 1.0, "7": 1.0, "10": 1.0})
    # Block 4 (an eighth of the resolution) keeps outlines and faces; block 7 alone let them dissolve.
    content_layers: dict[str, float] = field(default_factory=lambda: {"4": 0.5, "7": 1.0})
    # Style and content are relative errors (losses.py); at style 10 to content 1, as in an optimisation
    # (Gatys) test, a feed-forward generator dissolved faces and animals; at 4 to 4 people still dissolved
    # into a soft reference (docs/looks.md).
    style_weight: float = 4.0
    auto_texture_weight: bool = True  # style_weight times the share of the look colour does not explain
    content_weight: float = 8.0
    colour_weight: float = 20.0
    tv_weight: float = 0.5
    temporal_weight: float = 20.0
    temporal_max_disp: float = 6.0
    # Gupta et al. (2017): a generator that amplifies tiny input changes flickers; the still-image temporal
    # term adds this much sensor-like noise to the moved frame, so the output must not follow it.
    stability_noise: float = 0.02
    # Consecutive frame pairs per video for the temporal term (0: none): of the style videos, or, for a
    # style given by images, of the content videos.
    motion_pairs: int = 8
    adversarial_weight: float = 0.05
    adversarial_start: float = 0.3
    d_lr: float = 2e-4
    ema_decay: float = 0.98
    jitter: float = 0.15
    seed: int = 0
    checkpoint_every: int = 25
    # Keyframe pairs (training/pairs.py): content[i] is a frame and style[i] the same frame painted; the
    # generator learns the mapping by supervision, with an L1 term of this weight beside the feature term.
    paired: bool = False
    pixel_weight: float = 10.0
    # `finetune`'s revision phase: changes to its recipe (RevisionTrainConfig's fields; for tests and
    # experiments).
    revision: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        if "content_scale" in values:
            values["content_scale"] = tuple(values["content_scale"])
        return cls(**values)

    def adversarial(self, step: int) -> bool:
        """Whether step `step` trains with the adversarial term."""
        return self.adversarial_weight > 0 and step >= self.adversarial_start * self.steps

    def phase(self, step: int) -> str:
        """The phase step `step` belongs to: "pre-train", "adversarial" or "fine-tune"."""
        if step >= self.fine_tune_start * self.steps:
            return "fine-tune"
        return "adversarial" if self.adversarial(step) else "pre-train"

    def generator_lr(self, step: int) -> float:
        """The generator's learning rate for step `step`: `lr`, annealed linearly in the fine-tune phase."""
        if self.phase(step) != "fine-tune" or self.fine_tune_start >= 1:
            return self.lr
        annealed = (step / self.steps - self.fine_tune_start) / (1 - self.fine_tune_start)
        return self.lr * (1 - (1 - self.fine_tune_final_lr) * annealed)

    def resumes(self, saved: TrainConfig) -> bool:
        """Whether a run started with `saved` may go on under this config: only its step count may change."""
        return replace(saved, steps=self.steps) == self
