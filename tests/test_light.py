"""The light path (no PyTorch): numpy frame work equal to the tensor one, and the same frames as PyTorch.

The bound is the issue's: per channel, at most 1/255 apart on average and 3/255 at any pixel, against the
PyTorch path (``--runtime torch``), for every bundled style, on real footage: a cut of the repository's
example clip (a camera push-in on a portrait), made by the test itself.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from stylecut import frame_arrays, weights_file
from stylecut.flow import warp, warp_arrays
from stylecut.frames import shrink, to_pixels, to_tensor
from stylecut.models.revision import Revision, RevisionConfig
from stylecut.pipeline import array_frames, detail
from stylecut.pipeline.controls import Controls
from stylecut.pipeline.light import create_light_styliser
from stylecut.pipeline.options import ApplyOptions
from stylecut.pipeline.stylise import create_styliser
from stylecut.styles.registry import bundled_styles, load_style, load_style_networks
from stylecut.video.probe import probe

import media
from cli_support import run_cli, run_without_torch
from media import run_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
FRAMES = 6


def random_frames(*shape: int) -> np.ndarray:
    return np.random.default_rng(sum(shape)).random(shape, dtype=np.float32)


@pytest.mark.parametrize(
    ("source", "target"), [((360, 640), (180, 320)), ((97, 131), (41, 57)), ((48, 64), (60, 70))]
)
def test_shrink_is_pytorchs_antialiased_bilinear(source, target):
    frames = random_frames(2, 3, *source)
    expected = shrink(torch.from_numpy(frames), target).numpy()
    assert np.abs(frame_arrays.shrink(frames, target) - expected).max() < 1e-5


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_pixels_convert_as_on_the_torch_path(dtype):
    pixels = (random_frames(2, 9, 11, 3) * np.iinfo(dtype).max).astype(dtype)
    unit = frame_arrays.to_unit(pixels)
    assert np.array_equal(unit, to_tensor(pixels).numpy())
    assert np.array_equal(
        frame_arrays.to_pixels(unit * 1.1 - 0.05, dtype),
        to_pixels(torch.from_numpy(unit * 1.1 - 0.05), dtype),
    )


@pytest.mark.parametrize("revised_side", [None, 90, 60])  # no revision; revised at the frame's size; below it
def test_detail_is_restored_as_on_the_torch_path(monkeypatch, revised_side):
    frame = random_frames(1, 3, 90, 160)
    small = shrink(torch.from_numpy(frame), (36, 64))
    stylised = torch.from_numpy(random_frames(1, 3, 36, 64))
    revision = None
    if revised_side is not None:
        for module in (detail, array_frames):
            monkeypatch.setattr(module, "REVISION_MAX_SIDE", revised_side)
        torch.manual_seed(0)
        revision = Revision(RevisionConfig(width=4, dilation=2)).eval()
        for parameter in revision.parameters():
            torch.nn.init.normal_(parameter, std=0.2)
    with torch.inference_mode():
        expected = detail.with_detail(stylised, torch.from_numpy(frame), small, revision)
        on_arrays = None if revision is None else (lambda *x: revision(*map(torch.from_numpy, x)).numpy())
        got = array_frames.with_detail(
            stylised[0].numpy(), frame[0].transpose(1, 2, 0), small[0].numpy(), on_arrays
        )
    assert np.abs(got - expected[0].permute(1, 2, 0).numpy()).max() < 1e-4


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_warping_is_pytorchs_grid_sample(mode):
    image = random_frames(1, 5, 37, 53)
    flow = (random_frames(1, 2, 37, 53) - 0.5) * 12  # some samples leave the frame
    expected = warp.warp(torch.from_numpy(image), torch.from_numpy(flow), mode).numpy()
    assert np.abs(warp_arrays.warp(image, flow, mode) - expected).max() < 1e-4


def test_padding_is_the_tensor_padding():
    frames = random_frames(1, 3, 5, 7)
    for mode in ("reflect", "replicate"):
        expected = F.pad(torch.from_numpy(frames), (2, 3, 1, 4), mode=mode).numpy()
        assert np.array_equal(array_frames.ArrayFrames.pad(frames, (2, 3, 1, 4), mode), expected)


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames 40 on of the example clip (640x360, a camera push-in on a portrait)."""
    path = tmp_path_factory.mktemp("footage") / "push-in.mp4"
    example = ROOT / "examples" / "grace_hopper_pan.mp4"
    run_ffmpeg("-i", str(example), "-vf", "trim=start_frame=40", "-frames:v", str(FRAMES), "-an", str(path))
    return path


def stylised(styliser, path: Path) -> np.ndarray:
    return np.concatenate([frames for _, frames in styliser.stylise_range(probe(path), 0, FRAMES)])


@pytest.mark.parametrize("entry", bundled_styles(), ids=lambda entry: entry.name)
def test_the_light_path_gives_pytorchs_frames_for_every_bundled_style(footage, entry):
    generator, revision, metadata = load_style_networks(entry)
    # The temporal stage on: at the clip's size, and at a smaller working size (the detail path, through the
    # style's revision network) with half the strength; and frame by frame.
    for options in (
        ApplyOptions(threads=1),
        ApplyOptions(threads=1, controls=Controls(strength=0.5, scale=0.6)),
        ApplyOptions(threads=1, temporal=None),
    ):
        light, _ = create_light_styliser(entry, options)
        reference, _ = create_styliser(
            generator,
            replace(options, runtime="torch", device="cpu"),
            working_side=metadata["working_side"],
            revision=revision,
        )
        difference = np.abs(stylised(light, footage).astype(int) - stylised(reference, footage))
        assert difference.reshape(-1, 3).mean(axis=0).max() <= 1.0, options
        assert difference.max() <= 3, options


def test_deep_footage_keeps_its_bits_and_pytorchs_frames(tmp_path):
    clip = media.make_deep_clip(tmp_path, luma="200+3*X+2*Y+60*sin(X/9+N)", size="160x96", frames=4)
    entry = next(entry for entry in bundled_styles() if entry.name == "udnie")
    generator, metadata = load_style(entry)
    options = ApplyOptions(threads=1)
    light, _ = create_light_styliser(entry, options)
    reference, _ = create_styliser(
        generator, replace(options, runtime="torch", device="cpu"), working_side=metadata["working_side"]
    )
    frames = np.concatenate([frames for _, frames in light.stylise_range(probe(clip), 0, 4)])
    expected = np.concatenate([frames for _, frames in reference.stylise_range(probe(clip), 0, 4)])
    assert frames.dtype == np.uint16
    difference = np.abs(frames.astype(int) - expected) / 257  # in 8-bit levels
    assert difference.reshape(-1, 3).mean(axis=0).max() <= 1.0 and difference.max() <= 3


def test_a_style_file_is_hashed_once_for_its_networks(monkeypatch):
    entry = next(entry for entry in bundled_styles() if entry.name == "starry-night")
    hashed, sha256_of = [], weights_file.sha256_of
    monkeypatch.setattr(weights_file, "sha256_of", lambda path: hashed.append(path) or sha256_of(path))
    _, notices = create_light_styliser(entry, ApplyOptions(threads=1))
    assert hashed.count(entry.path) == 1 and len(hashed) == 2  # the style file and the temporal network's
    assert notices[0].startswith("Temporal module: the recurrent network")


@pytest.mark.parametrize(
    ("temporal", "threads"), [("recurrent", 1), (None, 2)], ids=["temporal", "no-temporal"]
)
def test_the_networks_run_on_one_thread_each_beside_the_temporal_stage(temporal, threads):
    """With the temporal stage, the pipeline's stages share the cores and each network takes one thread;
    frame by frame, the generator takes all that --threads gives."""
    entry = next(entry for entry in bundled_styles() if entry.name == "starry-night")
    styliser, _ = create_light_styliser(entry, ApplyOptions(threads=2, temporal=temporal))
    networks = [styliser.generator.network, styliser.work.revision.network]
    networks += [styliser.temporal.network] if temporal else []
    assert [network.compiled.get_property("INFERENCE_NUM_THREADS") for network in networks] == [
        threads
    ] * len(networks)


# Frame by frame, with the temporal stage, and at half the working size: the detail path, through the
# style's revision network.
@pytest.mark.parametrize("options", [[], ["--no-temporal"], ["--scale", "0.5"]])
def test_apply_runs_without_pytorch(make_clip, tmp_path, options):
    clip = make_clip(size="96x64", frames=6)
    target = tmp_path / "out.mp4"
    result = run_without_torch(
        "apply", clip, "--style", "starry-night", *options, "-o", target, "-q", home=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert probe(target).frame_count == 6


def test_a_style_made_where_pytorch_is_applies_without_it(make_clip, tiny_style, tmp_path):
    """tiny_style is written by save_style, as finetune writes its styles."""
    clip = make_clip(size="96x64", frames=4)
    target = tmp_path / "out.mp4"
    result = run_without_torch("apply", clip, "--style", tiny_style, "-o", target, "-q", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert probe(target).frame_count == 4


def test_the_fixed_fuser_without_pytorch_names_its_extra(make_clip, tmp_path):
    clip = make_clip(size="96x64", frames=6)
    target = tmp_path / "o.mp4"
    result = run_without_torch(
        "apply", clip, "--style", "starry-night", "--temporal", "fuser", "-o", target, home=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith("install it with pip install 'stylecut[torch]'.")
    assert not target.exists()


def test_preview_without_pytorch_draws_the_sheet_pytorch_draws(footage, tmp_path):
    light, full = tmp_path / "light.png", tmp_path / "full.png"
    result = run_without_torch("preview", footage, "--styles", "udnie,great-wave", "-o", light, home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert run_cli("preview", footage, "--styles", "udnie,great-wave", "-o", full).exit_code == 0
    difference = np.abs(np.asarray(Image.open(light), int) - np.asarray(Image.open(full)))
    assert difference.mean() <= 1.0 and difference.max() <= 3
