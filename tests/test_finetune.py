"""`stylecut finetune` end to end, in a tiny configuration on synthetic media.

A tiny generator (widths 8/16/16, one residual block), 64 px crops, batch 2
and four steps keep each run to seconds on a CPU; torch runs on one thread
because the test machine's cores are shared and OpenMP threads that wait
for each other on a busy machine are many times slower. The style video is
a lavfi test clip and the content a drawn image, both made by the test.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from PIL import Image, ImageDraw

from stylecut import cli
from stylecut.commands import finetune
from stylecut.models.generator import Generator
from stylecut.styles.registry import StyleEntry
from stylecut.styles.style_file import load_generator
from stylecut.training import losses
from stylecut.training.base_choice import BaseChoice
from stylecut.training.config import TrainConfig
from stylecut.training.trainer import (
    CHECKPOINT,
    LOG,
    ChangedSettings,
    DamagedCheckpoint,
    Trainer,
    checkpoint_config,
)

import media
from cli_support import assert_one_sentence, make_style, run_cli, signal_when
from finetune_support import (
    STEPS,
    TINY,
    TINY_GENERATOR,
    ctrl_c_after_two_steps,
    finetune_args,
    log_steps,
)

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def style_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 96 px wide: on a CPU whose row alignment is 64 px, decord pads its rows (see test_frame_reader.py).
    return media.make_clip(tmp_path_factory.mktemp("style"), "reference", size="96x96", frames=12)


@pytest.fixture(scope="module")
def content_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    image = Image.new("RGB", (120, 90), (70, 110, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 50, 110, 85), fill=(90, 140, 60))
    draw.ellipse((40, 10, 80, 50), fill=(230, 200, 170), outline=(40, 30, 20), width=3)
    path = tmp_path_factory.mktemp("content") / "scene.png"
    image.save(path)
    return path


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory, style_clip: Path, content_image: Path
) -> Iterator[Path]:
    """One finished tiny finetune named 'tiny-look' in its own STYLECUT_HOME."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYLECUT_HOME", str(home))
        result = run_cli(*finetune_args(style_clip, content_image, "tiny-look", "--preview-every", 2))
        assert result.exit_code == 0, result.stderr
        yield home


def test_finetune_trains_a_style_with_finite_losses_and_new_weights(trained):
    run_dir = trained / "runs" / "tiny-look"
    records = [json.loads(line) for line in (run_dir / LOG).read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, STEPS + 1))
    assert all(math.isfinite(v) for r in records for v in r.values())
    assert "adv_g" in records[-1] and "adv_g" not in records[0]  # pre-training first, adversarial later
    assert sorted(p.name for p in run_dir.glob("preview_*.png")) == [
        "preview_000002.png",
        "preview_000004.png",
    ]
    assert Image.open(run_dir / "preview_000002.png").size[1] == finetune.PREVIEW_HEIGHT
    assert not (run_dir / CHECKPOINT).exists()

    generator, metadata = load_generator(trained / "styles" / "tiny-look.safetensors")
    torch.manual_seed(0)  # the Trainer's seed: these are the weights training started from
    initial = Generator(TINY_GENERATOR).state_dict()
    trained_weights = generator.state_dict()
    assert all(torch.isfinite(v).all() for v in trained_weights.values())
    assert any(not torch.equal(initial[k], trained_weights[k]) for k in initial)

    assert metadata["name"] == "tiny-look" and metadata["style_image"] == "reference.mp4"
    assert metadata["description"] == "fine-tuned from reference.mp4" and metadata["base"] == "none"
    assert metadata["recipe"].startswith(
        "stylecut finetune --style-video reference.mp4 --name tiny-look --base none"
    )
    assert metadata["training"]["steps"] == STEPS
    assert {"style", "content", "adv_g", "training_seconds"} <= set(metadata["metrics"])
    assert Image.open(trained / "styles" / "tiny-look.png").size[1] == 360


def test_the_new_style_is_listed_and_applies_to_a_clip(trained, make_clip, tmp_path, monkeypatch):
    monkeypatch.setenv("STYLECUT_HOME", str(trained))
    listed = run_cli("styles", "--json")
    assert [s["name"] for s in json.loads(listed.stdout) if s["origin"] == "user"] == ["tiny-look"]

    target = tmp_path / "out.mp4"
    applied = run_cli(
        "apply", make_clip(frames=4), "--style", "tiny-look", "-o", target, "--preset", "ultrafast"
    )
    assert applied.exit_code == 0, applied.stderr
    assert target.exists()


def test_an_existing_style_is_kept_without_overwrite(trained, style_clip, content_image, monkeypatch):
    monkeypatch.setenv("STYLECUT_HOME", str(trained))
    before = (trained / "styles" / "tiny-look.safetensors").read_bytes()
    result = run_cli(*finetune_args(style_clip, content_image, "tiny-look"))
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, "tiny-look", "--overwrite")
    assert (trained / "styles" / "tiny-look.safetensors").read_bytes() == before


def test_interrupted_run_resumes_from_its_checkpoint(stylecut_home, style_clip, content_image, monkeypatch):
    real_step = ctrl_c_after_two_steps(monkeypatch)
    args = finetune_args(style_clip, content_image, "resumed")
    stopped = run_cli(*args)
    assert stopped.exit_code == 130
    assert_one_sentence(stopped.stderr, "step 2 of 4", "--resume")
    run_dir = stylecut_home / "runs" / "resumed"
    assert torch.load(run_dir / CHECKPOINT, weights_only=True)["step"] == 2
    assert not list((stylecut_home / "styles").iterdir())  # no half-made style

    refused = run_cli(*args)
    assert refused.exit_code == 2
    assert_one_sentence(refused.stderr, "unfinished run", "--resume")
    changed = run_cli(*args, "--size", 96, "--resume")
    assert changed.exit_code == 2
    assert_one_sentence(changed.stderr, "other settings", "--overwrite")

    monkeypatch.setattr(Trainer, "train_step", real_step)
    resumed = run_cli(*args, "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert "at step 2 of 4" in resumed.stderr
    assert log_steps(run_dir) == [1, 2, 3, 4]  # continued at step 3, not from 0
    _, metadata = load_generator(stylecut_home / "styles" / "resumed.safetensors")
    assert metadata["training"]["steps"] == STEPS


def test_a_bundled_style_name_is_never_taken(stylecut_home, style_clip, content_image, monkeypatch):
    bundled = StyleEntry("starry-night", Path("starry-night.safetensors"), "bundled", "", "starry.jpg")
    monkeypatch.setattr(finetune, "bundled_styles", lambda: [bundled])
    result = run_cli(*finetune_args(style_clip, content_image, "starry-night", "--overwrite"))
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, "starry-night", "bundled")


def test_without_base_the_closest_bundled_style_is_chosen_and_said(
    stylecut_home, style_clip, content_image, monkeypatch
):
    chosen = {}

    def choose(net, references, examples, candidates):
        chosen["candidates"] = sorted(candidates)
        return BaseChoice("second", {"input": 2.0, "first": 1.5, "second": 1.0})

    paths = {
        name: make_style(stylecut_home.parent / f"{name}.safetensors", name) for name in ("first", "second")
    }
    entries = [StyleEntry(name, path, "bundled", "", "x.jpg") for name, path in paths.items()]
    monkeypatch.setattr(finetune, "bundled_styles", lambda: entries)
    monkeypatch.setattr(finetune, "choose_base", choose)
    args = finetune_args(style_clip, content_image, "auto-base")
    del args[args.index("--base") : args.index("--base") + 2]
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    assert chosen["candidates"] == ["first", "second"]
    assert "Starting from the style 'second': the bundled style closest to the reference" in result.stderr
    _, metadata = load_generator(stylecut_home / "styles" / "auto-base.safetensors")
    assert metadata["base"] == "second" and "--base second" in metadata["recipe"]

    monkeypatch.setattr(finetune, "choose_base", lambda *a: BaseChoice(None, {"input": 1.0, "first": 1.5}))
    name, generator, revision, why = finetune.closest_base([torch.rand(3, 64, 64)])
    assert (name, generator, revision) == ("none", None, None) and "no bundled style is closer" in why


def test_a_still_alone_makes_a_loadable_style(stylecut_home, content_image):
    args = finetune_args(content_image, content_image, "from-a-still")
    args[args.index("--style-video")] = "--style-image"
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    generator, metadata = load_generator(stylecut_home / "styles" / "from-a-still.safetensors")
    assert generator(torch.rand(1, 3, 40, 56)).shape == (1, 3, 40, 56)
    assert metadata["style_image"] == "scene.png" and "--style-video" not in metadata["recipe"]


def test_no_reference_at_all_is_a_usage_error(stylecut_home, style_clip, content_image):
    args = finetune_args(style_clip, content_image, "no-look")
    del args[args.index("--style-video") : args.index("--style-video") + 2]
    result = run_cli(*args)
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, "--style-video", "--style-image")


def test_a_time_budget_counts_from_the_command_start_and_still_writes_a_style(
    stylecut_home, style_clip, content_image, monkeypatch
):
    # The command's clock says it started three hours ago (as if loading had taken that long): the hour's
    # budget is spent before the first step ends, so it trains one step and writes the style. No real time
    # is measured, so a loaded machine cannot change the outcome.
    earlier = SimpleNamespace(monotonic=lambda: time.monotonic() - 3 * 3600)
    monkeypatch.setattr(cli, "time", earlier)
    args = finetune_args(style_clip, content_image, "in-time", "--minutes", 60)
    del args[args.index("--steps") : args.index("--steps") + 2]

    result = run_cli(*args)

    assert result.exit_code == 0, result.stderr
    assert "as many steps as fit in 60 minutes" in result.stderr
    _, metadata = load_generator(stylecut_home / "styles" / "in-time.safetensors")
    assert metadata["training"]["steps"] == 1 and "--steps 1" in metadata["recipe"]


def test_the_trainer_ends_by_its_deadline_with_a_shortened_schedule(
    tmp_path, style_clip, content_image, monkeypatch
):
    # A clock that moves one second per step makes the pace, and so the plan, exact on any machine.
    clock = [0.0]
    real_step = Trainer.train_step

    def one_second_step(self: Trainer) -> dict[str, float]:
        clock[0] += 1.0
        return real_step(self)

    monkeypatch.setattr(Trainer, "train_step", one_second_step)
    trainer = Trainer(tiny_config(style_clip, content_image, steps=100_000), tmp_path / "run")
    totals = []
    trainer.run(lambda step, total, values: totals.append(total), deadline=20.0, clock=lambda: clock[0])
    assert clock[0] == trainer.step == trainer.config.steps == 20
    assert totals == [100_000] * 3 + [20] * 17  # planned once the warm-up steps had shown the pace
    assert trainer.config.phase(trainer.step - 1) == "fine-tune"


def test_the_plan_grows_back_in_pre_training_when_steps_get_faster(
    tmp_path, style_clip, content_image, monkeypatch
):
    # Six slow steps (2 s: another job held the CPU), then fast ones (0.5 s); no adversarial phase, so
    # pre-training lasts until the fine-tune phase at 80% of the steps.
    clock = [0.0]
    phases = []

    def step(self: Trainer) -> dict[str, float]:
        clock[0] += 2.0 if self.step < 6 else 0.5
        phases.append(self.config.phase(self.step))
        return {"total": 0.0}

    monkeypatch.setattr(Trainer, "train_step", step)
    config = tiny_config(style_clip, content_image, steps=100_000, adversarial_weight=0.0)
    trainer = Trainer(config, tmp_path / "run")
    totals = []
    trainer.run(lambda step, total, values: totals.append(total), deadline=30.0, clock=lambda: clock[0])
    assert totals[3] == 15  # the slow pace's plan
    assert trainer.step == trainer.config.steps > 20 and clock[0] <= 30.0
    assert max(totals[3:]) == trainer.step and len(set(totals[3:])) > 1
    assert phases == sorted(phases, key=["pre-train", "fine-tune"].index)  # the phases kept their order


def corrupt_copy(clip: Path, folder: Path) -> Path:
    """The clip with the middle of its frame data zeroed: it opens, but its frames do not decode."""
    data = bytearray(clip.read_bytes())
    data[len(data) // 4 : len(data) // 2] = bytes(len(data) // 2 - len(data) // 4)
    path = folder / "corrupt.mp4"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("case", "names"),
    [
        ("bad-name", ("'Sintel Look'", "lower-case")),
        ("reserved-name", ("'none'",)),
        ("missing-video", ("missing.mp4", "does not exist")),
        ("one-frame", ("one.mp4", "too short")),
        ("not-a-video", ("scene.png", "not a readable video")),
        ("corrupt-video", ("corrupt.mp4", "cannot be decoded")),
        ("missing-content", ("nowhere", "does not exist")),
        ("unknown-base", ("'impressionist'",)),
        ("nothing-to-resume", ("no unfinished run",)),
    ],
)
def test_bad_input_is_one_sentence_and_leaves_nothing(
    case, names, stylecut_home, style_clip, content_image, tmp_path
):
    name, video, extra = "good-name", style_clip, []
    if case == "bad-name":
        name = "Sintel Look"
    elif case == "reserved-name":
        name = "none"
    elif case == "missing-video":
        video = tmp_path / "missing.mp4"
    elif case == "one-frame":
        video = media.make_clip(tmp_path, "one", frames=1)
    elif case == "not-a-video":
        video = content_image
    elif case == "corrupt-video":
        video = corrupt_copy(style_clip, tmp_path)
    elif case == "missing-content":
        extra = ["--content", tmp_path / "nowhere"]
    elif case == "unknown-base":
        extra = ["--base", "impressionist"]
    elif case == "nothing-to-resume":
        extra = ["--resume"]
    result = run_cli(*finetune_args(video, content_image, name, *extra))
    # Exit codes follow the error's type: a bad option or name is a usage error, a bad input file a failed input.
    usage = case in ("bad-name", "reserved-name", "unknown-base", "nothing-to-resume")
    assert result.exit_code == (2 if usage else 1), result.stderr
    assert_one_sentence(result.stderr, *names)
    assert not stylecut_home.exists() or not any(stylecut_home.rglob("*"))


@pytest.mark.parametrize("option", [("--steps", 0), ("--size", 32), ("--size", 4096), ("--preview-every", 0)])
def test_nonsense_sizes_and_steps_are_usage_errors(option, stylecut_home, style_clip, content_image):
    result = run_cli(*finetune_args(style_clip, content_image, "good-name"), *option)
    assert result.exit_code == 2
    assert option[0] in result.stderr


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_real_stop_keeps_the_checkpoint(tmp_path, style_clip, content_image, sig, code):
    home = tmp_path / "home"
    args = finetune_args(style_clip, content_image, "stopped")
    args[args.index("--steps") + 1] = 10_000

    # The first progress line comes after the first step, whose checkpoint is then on disk.
    exit_code, _, stderr = signal_when(args, "stopped: step", sig, home, env={"OMP_NUM_THREADS": "1"})

    assert exit_code == code, stderr
    assert_one_sentence(stderr, "Interrupted at step", "--resume")
    assert torch.load(home / "runs" / "stopped" / CHECKPOINT, weights_only=True)["step"] >= 1
    assert not list((home / "styles").iterdir())


def test_the_schedule_pretrains_then_adds_the_adversarial_term_then_anneals():
    config = TrainConfig(name="x", style=[], content=[], steps=100, lr=1e-3, adversarial_start=0.3)
    phases = ["pre-train"] * 2 + ["adversarial"] * 2 + ["fine-tune"] * 2
    assert [config.phase(s) for s in (0, 29, 30, 79, 80, 99)] == phases
    assert [config.generator_lr(s) for s in (0, 80, 90, 100)] == pytest.approx([1e-3, 1e-3, 5.5e-4, 1e-4])


@pytest.mark.parametrize("width", [24, 48, 66, 72, 96, 98, 130, 144])
def test_a_style_video_of_any_width_is_read(make_clip, width):
    clip = make_clip(size=f"{width}x{width}", frames=12)
    frames = finetune.style_frames(clip, max_side=512)
    assert len(frames) == 10 and all(f.shape == (3, width, width) for f in frames)


def damage(path: Path, how: str) -> None:
    if how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "garbage":
        path.write_bytes(os.urandom(4096))
    else:  # a valid torch file holding something else than a checkpoint
        torch.save({"step": 2}, path)


@pytest.mark.parametrize("how", ["truncated", "garbage", "foreign"])
def test_a_damaged_checkpoint_is_one_sentence_and_overwrite_starts_afresh(
    how, stylecut_home, style_clip, content_image, monkeypatch
):
    real_step = ctrl_c_after_two_steps(monkeypatch)
    args = finetune_args(style_clip, content_image, "damaged")
    assert run_cli(*args).exit_code == 130
    monkeypatch.setattr(Trainer, "train_step", real_step)
    checkpoint = stylecut_home / "runs" / "damaged" / CHECKPOINT
    damage(checkpoint, how)

    for flags in ([], ["--resume"]):
        result = run_cli(*args, *flags)
        assert result.exit_code == 1
        assert_one_sentence(result.stderr, str(checkpoint), "damaged", "--overwrite")
    fresh = run_cli(*args, "--overwrite")
    assert fresh.exit_code == 0, fresh.stderr
    assert log_steps(checkpoint.parent) == [1, 2, 3, 4]
    assert (stylecut_home / "styles" / "damaged.safetensors").exists()


def test_a_checkpoint_is_loaded_without_running_its_code(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    torch.save({"config": Payload()}, tmp_path / CHECKPOINT)
    with pytest.raises(DamagedCheckpoint):
        checkpoint_config(tmp_path)
    assert not marker.exists()


def tiny_config(style_clip: Path, content_image: Path, **fields: object) -> TrainConfig:
    files = {"style": [str(style_clip)], "content": [str(content_image)]}
    return TrainConfig.from_dict(
        {**json.loads(TINY), **files, "name": "tiny", "steps": 10, "crop": 64, **fields}
    )


def test_the_trainer_follows_the_learning_rate_schedule(tmp_path, style_clip, content_image, monkeypatch):
    config = tiny_config(style_clip, content_image)
    rates = []

    def record(self: Trainer) -> dict[str, float]:
        rates.append(self.opt_g.param_groups[0]["lr"])
        return {"total": 0.0}

    monkeypatch.setattr(Trainer, "train_step", record)
    Trainer(config, tmp_path / "run").run()
    assert rates == pytest.approx([config.generator_lr(step) for step in range(10)])
    assert rates[-1] < rates[0] == config.lr


def test_a_diverging_step_stops_before_the_weights_move(tmp_path, style_clip, content_image, monkeypatch):
    calls = []

    def infinite_on_the_third_step(rgb: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return rgb.mean() * (math.inf if len(calls) == 3 else 1.0)

    monkeypatch.setattr(losses, "total_variation", infinite_on_the_third_step)
    trainer = Trainer(tiny_config(style_clip, content_image), tmp_path / "run")
    with pytest.raises(FloatingPointError, match="step 3"):
        trainer.run()
    saved = torch.load(tmp_path / "run" / CHECKPOINT, weights_only=True)
    assert saved["step"] == 2
    assert all(torch.isfinite(w).all() for w in saved["generator"].values())


def test_the_trainer_resumes_only_under_its_own_settings(tmp_path, style_clip, content_image):
    config = tiny_config(style_clip, content_image)
    first = Trainer(config, tmp_path)
    first.step = 3
    first.save_checkpoint()

    longer = Trainer(replace(config, steps=20), tmp_path)
    longer.resume()
    assert longer.step == 3
    with pytest.raises(ChangedSettings):
        Trainer(replace(config, style_weight=1.0), tmp_path).resume()


def test_a_working_side_trains_on_content_at_that_side_with_the_content_videos_motion(
    tmp_path, style_clip, content_image, make_clip
):
    painting = tmp_path / "painting.png"
    Image.new("RGB", (96, 96), (200, 120, 40)).save(painting)
    content_clip = make_clip(size="160x128", frames=12)
    config = tiny_config(
        painting, content_image, content=[str(content_image), str(content_clip)], working_side=72
    )
    trainer = Trainer(config, tmp_path / "run")
    assert max(min(image.shape[-2:]) for image in trainer.content.images) == 72
    assert trainer.motion is not None  # a style given by an image: the motion of the content's clip
    assert min(trainer.motion.pairs[0][0].shape[-2:]) == 72
    assert trainer.style_metadata("recipe", {})["working_side"] == 72


@pytest.mark.parametrize("kind", ["file", "read-only"])
def test_a_home_that_cannot_be_written_is_refused_before_any_training(
    kind, tmp_path, style_clip, content_image, monkeypatch, request
):
    if kind == "file":
        home = tmp_path / "home"
        home.write_text("not a folder")
    else:
        home = request.getfixturevalue("read_only_folder")
    monkeypatch.setenv("STYLECUT_HOME", str(home))

    def no_base_choice(*args: object) -> None:
        raise AssertionError("the base was chosen before the home was found unwritable")

    monkeypatch.setattr(finetune, "closest_base", no_base_choice)
    args = finetune_args(style_clip, content_image, "good-name")
    del args[args.index("--base") : args.index("--base") + 2]  # the default base: the slow choice
    result = run_cli(*args)
    assert result.exit_code == 2  # the output cannot be written: a usage error, as for apply's -o
    assert_one_sentence(result.stderr, str(home), "STYLECUT_HOME")
