"""The revision network: it starts as the linear detail restoration, travels in its style file, apply paints
with it on either runtime, and its trainer checkpoints and resumes."""

from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from stylecut.errors import StyleError, UsageError
from stylecut.frames import shrink
from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.models.revision import Revision, RevisionConfig
from stylecut.pipeline import detail
from stylecut.pipeline.detail import with_detail
from stylecut.styles.style_file import load_generator, load_networks, save_style
from stylecut.training import losses
from stylecut.training.data import read_image
from stylecut.training.revision_trainer import RevisionTrainConfig, RevisionTrainer

from cli_support import run_cli
from media import decode_reference

TINY = GeneratorConfig(widths=(8, 16, 16), residual_blocks=1)
SMALL = RevisionConfig(width=4, dilation=2)
META = {"name": "tiny", "style_image": "painting.jpg", "description": "a test style", "working_side": 128}


def _trained(seed: int = 1) -> Revision:
    """A revision whose last layer is no longer zero, as after training."""
    torch.manual_seed(seed)
    revision = Revision(SMALL)
    for parameter in revision.parameters():
        nn.init.normal_(parameter, std=0.2)
    return revision.eval()


def _save(path, revision=None):
    torch.manual_seed(0)
    generator = Generator(TINY)
    save_style(path, generator, META, revision)
    return generator


def test_a_fresh_revision_is_the_linear_detail():
    frames = torch.rand(1, 3, 48, 64)
    small = shrink(frames, (24, 32))
    stylised = torch.rand(1, 3, 24, 32)
    expected = with_detail(stylised, frames, small)
    assert torch.allclose(with_detail(stylised, frames, small, Revision(SMALL)), expected, atol=1e-6)
    assert not torch.allclose(with_detail(stylised, frames, small, _trained()), expected, atol=1e-2)


def test_the_revision_runs_at_most_at_its_largest_size(monkeypatch):
    monkeypatch.setattr(detail, "REVISION_MAX_SIDE", 32)
    seen = []

    def revision(draft, band):
        seen.append((tuple(draft.shape[-2:]), tuple(band.shape[-2:])))
        return _trained()(draft, band)

    frames = torch.rand(1, 3, 48, 64)
    small = shrink(frames, (24, 32))
    out = with_detail(torch.rand(1, 3, 24, 32), frames, small, revision)
    assert seen == [((32, 43), (32, 43))]
    assert out.shape == frames.shape and 0 <= out.min() and out.max() <= 1


def test_the_revision_travels_in_the_style_file(tmp_path):
    revision = _trained()
    generator = _save(tmp_path / "tiny.safetensors", revision)
    loaded_generator, loaded, metadata = load_networks(tmp_path / "tiny.safetensors")
    assert metadata["revision"] == SMALL.to_dict()
    draft, band = torch.rand(1, 3, 40, 40), torch.rand(1, 1, 40, 40) - 0.5
    with torch.no_grad():
        assert torch.equal(loaded(draft, band), revision(draft, band))
        x = torch.rand(1, 3, 32, 32)
        assert torch.equal(loaded_generator(x), generator.eval()(x))
    assert load_generator(tmp_path / "tiny.safetensors")[1]["revision"] == SMALL.to_dict()


def test_a_style_without_a_revision_has_none(tmp_path):
    _save(tmp_path / "tiny.safetensors")
    assert load_networks(tmp_path / "tiny.safetensors")[1] is None


@pytest.mark.parametrize(
    ("declared", "problem"),
    [
        (RevisionConfig(width=8, dilation=2), "weights do not fit"),  # tensors of width 4
        (RevisionConfig(width=1000, dilation=2), "its revision must have a width from 1 to 32"),
    ],
)
def test_a_revision_that_does_not_fit_its_declaration_is_refused(tmp_path, declared, problem):
    revision = _trained()
    revision.config = declared
    _save(tmp_path / "tiny.safetensors", revision)
    with pytest.raises(StyleError, match=problem):
        load_networks(tmp_path / "tiny.safetensors")


def test_apply_paints_with_the_revision_on_either_runtime(tmp_path, make_clip, stylecut_home):
    clip = make_clip(size="320x240", frames=3)
    plain, revised = tmp_path / "plain.safetensors", tmp_path / "revised.safetensors"
    _save(plain)
    _save(revised, _trained())
    outputs = {}
    for style, runtime in [(plain, "torch"), (revised, "torch"), (revised, "openvino")]:
        out = tmp_path / f"{style.stem}-{runtime}.mp4"
        args = ["apply", clip, "--style", style, "-o", out, "--runtime", runtime, "--no-temporal"]
        result = run_cli(*args, "--preset", "ultrafast", "--crf", "0")
        assert result.exit_code == 0, result.stderr
        outputs[style.stem, runtime] = decode_reference(out).astype(np.int16)
    change = np.abs(outputs["revised", "torch"] - outputs["plain", "torch"]).mean()
    assert change > 5  # levels: the revision repaints the picture
    assert (
        np.abs(outputs["revised", "openvino"] - outputs["revised", "torch"]).max() <= 3
    )  # levels, through 4:2:0


@pytest.fixture(scope="module")
def revision_media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("revision-media")
    photo = np.random.default_rng(0).integers(0, 256, (600, 800, 3), dtype=np.uint8)
    photo = cv2.GaussianBlur(photo, (0, 0), 3)
    cv2.imwrite(str(folder / "photo.png"), photo)
    cv2.imwrite(str(folder / "painting.png"), np.ascontiguousarray(photo[:200, :300, ::-1]))
    return folder


def _trainer(folder, run_dir, **changes):
    torch.manual_seed(0)
    config = RevisionTrainConfig(
        content=[str(folder / "photo.png")],
        steps=3,
        batch=1,
        crop=64,
        checkpoint_every=2,
        adversarial_start=0.0,
    )
    config = replace(config, revision=SMALL.to_dict(), **changes)
    footage, painting = (read_image(folder / name, 4096) for name in ("photo.png", "painting.png"))
    return RevisionTrainer(config, Generator(TINY), [footage], [painting], 512, 128, run_dir)


def test_the_trainer_checkpoints_and_resumes(revision_media, tmp_path):
    run = tmp_path / "run"
    first = _trainer(revision_media, run)
    first.run()
    assert first.step == 3
    lines = (run / "log.jsonl").read_text().splitlines()
    assert len(lines) == 3 and '"adv_g"' in lines[0]
    changed = _trainer(revision_media, run, style_weight=1.0)
    with pytest.raises(UsageError, match="other settings"):
        changed.resume()
    longer = _trainer(revision_media, run, steps=4)
    longer.resume()
    assert longer.step == 3
    for mine, theirs in zip(longer.revision.parameters(), first.revision.parameters(), strict=True):
        assert torch.equal(mine, theirs)
    longer.run()
    assert longer.step == 4 and len((run / "log.jsonl").read_text().splitlines()) == 4


def test_a_diverged_step_moves_no_weight(revision_media, tmp_path, monkeypatch):
    trainer = _trainer(revision_media, tmp_path / "run")
    before = [p.clone() for p in trainer.revision.parameters()]
    monkeypatch.setattr(losses, "style_loss", lambda *_: torch.tensor(float("inf")))
    with pytest.raises(FloatingPointError, match="diverged at step 1"):
        trainer.train_step()
    for mine, old in zip(trainer.revision.parameters(), before, strict=True):
        assert torch.equal(mine, old)
