"""Hostile and damaged style files: nothing from a file reaches a path unchecked or builds unchecked.

Each file here is written the way an attacker or a broken disk would, with
safetensors directly (save_style writes only good files). A style file is
refused with one sentence (StyleError, exit 2); a damaged file among the
user styles is listed with why and never stops the tool; listing styles
and the help never import torch.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import safetensors.torch
import torch
from safetensors.torch import save_file

from stylecut.errors import StyleError
from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.styles import registry, style_file
from stylecut.styles.metadata import FORMAT, MAX_WIDTH, MAX_WORKING_SIDE, MIN_WORKING_SIDE, read_metadata
from stylecut.styles.names import is_valid_name
from stylecut.styles.style_file import load_generator

from cli_support import STYLECUT, assert_one_sentence, make_style, run_cli

FAST = ("--preset", "ultrafast", "--quiet")
TINY = GeneratorConfig(widths=(8, 16, 16), residual_blocks=1)
HOSTILE_NAME = "/../../elsewhere/pwn"


def tiny_weights(config: GeneratorConfig = TINY) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {key: value.contiguous() for key, value in Generator(config).state_dict().items()}


def document(**changes: object) -> dict:
    """A good style's metadata with ``changes`` applied (a value of None drops the key)."""
    doc = {
        "name": "tiny",
        "description": "a test style",
        "style_image": "painting.jpg",
        "architecture": TINY.to_dict(),
    }
    doc.update(changes)
    return {key: value for key, value in doc.items() if value is not None}


def write_style(path: Path, metadata: dict | str, weights: dict[str, torch.Tensor] | None = None) -> Path:
    """A style file with exactly this metadata (a str is stored as it is, JSON or not) and these weights."""
    text = metadata if isinstance(metadata, str) else json.dumps(metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = tiny_weights() if weights is None else weights
    save_file(tensors, str(path), metadata={"format": FORMAT, "stylecut": text})
    return path


def files_under(folder: Path) -> set[Path]:
    """Every path below ``folder`` except the test's STYLECUT_HOME, where stylecut keeps its runtime cache."""
    return {path for path in folder.rglob("*") if "stylecut-home" not in path.relative_to(folder).parts}


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ink", "sintel-look", "v2_warm", "a" * 64])
def test_usable_names(name):
    assert is_valid_name(name)


@pytest.mark.parametrize(
    "name", ["", "Ink", "a b", "../x", "/x", "x/y", ".", "..", "-x", "x--y", "x\n", "a" * 65, 7, None]
)
def test_unusable_names(name):
    assert not is_valid_name(name)


def test_a_hostile_name_cannot_write_outside_the_output_folder(make_clip, stylecut_home, tmp_path):
    source = tmp_path / "in" / "clip.mp4"
    source.parent.mkdir()
    shutil.copy(make_clip(frames=3), source)
    style = write_style(tmp_path / "hostile.safetensors", document(name=HOSTILE_NAME))
    (tmp_path / "elsewhere").mkdir()  # where the name points: writable, so only the check stops it
    outdir = tmp_path / "outdir"
    before = files_under(tmp_path)

    result = run_cli("apply", source, "--style", style, "-o", f"{outdir}/", *FAST)

    assert result.exit_code == 0, result.stderr
    # The file's own stem names the output, since the name inside it cannot be used.
    assert files_under(tmp_path) - before == {outdir, outdir / "clip.hostile.mp4"}


def test_a_hostile_name_beside_the_input_uses_the_file_name(make_clip, stylecut_home, tmp_path):
    source = tmp_path / "clip.mp4"
    shutil.copy(make_clip(frames=3), source)
    style = write_style(tmp_path / "styles" / "hostile.safetensors", document(name=HOSTILE_NAME))
    before = files_under(tmp_path)

    result = run_cli("apply", source, "--style", style, "--json", *FAST)

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["style"] == "hostile"
    assert files_under(tmp_path) - before == {tmp_path / "clip.hostile.mp4"}


def test_a_file_whose_name_and_stem_are_both_unusable_is_refused(make_clip, stylecut_home, tmp_path):
    style = write_style(tmp_path / "My Look.safetensors", document(name=HOSTILE_NAME))
    before = files_under(tmp_path)

    result = run_cli("apply", make_clip(frames=3), "--style", style, *FAST)

    assert result.exit_code == 2
    assert_one_sentence(result.stderr, "My Look.safetensors", "rename")
    assert files_under(tmp_path) == before


def test_a_user_style_with_a_hostile_name_is_known_by_its_file_name(stylecut_home):
    write_style(stylecut_home / "styles" / "mine.safetensors", document(name=HOSTILE_NAME))
    entry = registry.resolve_style("mine")
    assert (entry.name, entry.problem) == ("mine", None)
    assert all(entry.name != HOSTILE_NAME for entry in registry.list_styles())


# --- metadata -------------------------------------------------------------------------------


def _arch(**changes: object) -> dict:
    return {key: value for key, value in {**TINY.to_dict(), **changes}.items() if value is not None}


def test_architectures_up_to_the_bounds_are_accepted(tmp_path):
    widest = _arch(widths=[MAX_WIDTH] * 4, residual_blocks=16, stem_kernel=9)
    path = write_style(tmp_path / "wide.safetensors", document(architecture=widest))
    assert read_metadata(path)["architecture"] == widest


@pytest.mark.parametrize("side", [None, MIN_WORKING_SIDE, 480, MAX_WORKING_SIDE])
def test_working_sides_within_the_bounds_are_accepted(tmp_path, side):
    path = write_style(tmp_path / "sized.safetensors", document(working_side=side))
    assert read_metadata(path)["working_side"] == side


def test_a_safetensors_file_that_is_not_a_style_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file(tiny_weights(), str(path), metadata={"format": "pt"})
    with pytest.raises(StyleError, match="not a stylecut style file"):
        load_generator(path)


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        (document(name=None), "no 'name'"),
        (document(architecture=None), "no 'architecture'"),
        (document(style_image=None), "no 'style_image'"),
        (document(architecture=_arch(widths=None)), "no 'architecture.widths'"),
        (document(architecture=_arch(residual_blocks=-1)), "residual_blocks"),
        (document(architecture=_arch(widths=[8, -16, 16])), "widths"),
        (document(architecture=_arch(widths=[20000, 20000, 20000])), "widths"),
        (document(architecture=_arch(widths=[16, 32, MAX_WIDTH + 1])), "widths"),
        (document(architecture=_arch(widths=[])), "widths"),
        (document(architecture=_arch(widths=[8] * 50)), "widths"),
        (document(architecture=_arch(widths="8,16,16")), "widths"),
        (document(architecture=_arch(residual_blocks=10**9)), "residual_blocks"),
        (document(architecture=_arch(residual_blocks=True)), "residual_blocks"),
        (document(architecture=_arch(residual_blocks=1.5)), "residual_blocks"),
        (document(architecture=_arch(stem_kernel=4)), "stem_kernel"),
        (document(architecture=_arch(stem_kernel=0)), "stem_kernel"),
        (document(architecture=_arch(depth=3)), "does not know"),
        (document(architecture=[8, 16, 16]), "architecture"),
        (document(description=["x"]), "description"),
        (document(description="x" * 100_000), "description"),
        (document(description="bell\x07 and \x1b[2J escape"), "description"),
        (document(style_image=12), "style_image"),
        (document(working_side=64), "working_side"),
        (document(working_side=100_000), "working_side"),
        (document(working_side="480"), "working_side"),
        (document(working_side=480.5), "working_side"),
    ],
)
def test_damaged_metadata_is_refused_before_building_anything(tmp_path, monkeypatch, metadata, problem):
    path = write_style(tmp_path / "bad.safetensors", metadata)

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("a generator was built from metadata that should have been refused")

    monkeypatch.setattr(style_file, "Generator", no_build)
    with pytest.raises(StyleError, match=problem) as refused:
        load_generator(path)
    message = str(refused.value)
    assert str(path) in message and message.endswith(".") and "\n" not in message


# --- weights --------------------------------------------------------------------------------


def _with(weights: dict[str, torch.Tensor], key: str, value: torch.Tensor) -> dict[str, torch.Tensor]:
    return {**weights, key: value}


def _weights_case(case: str) -> dict[str, torch.Tensor]:
    good = tiny_weights()
    first = next(iter(good))
    if case == "wider-than-declared":
        return tiny_weights(GeneratorConfig(widths=(8, 16, 32), residual_blocks=1))
    if case == "missing-tensor":
        return {key: value for key, value in good.items() if key != first}
    if case == "extra-tensor":
        return _with(good, "payload", torch.zeros(1000))
    if case == "wrong-shape":
        return _with(good, first, torch.zeros(good[first].numel() + 1))
    if case == "float64":
        return _with(good, first, good[first].double())
    if case == "nan":
        return _with(good, first, torch.full_like(good[first], math.nan))
    if case == "inf":
        return _with(good, first, torch.full_like(good[first], math.inf))
    raise ValueError(case)


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("wider-than-declared", "do not fit its architecture"),
        ("missing-tensor", "do not fit its architecture"),
        ("extra-tensor", "do not fit its architecture"),
        ("wrong-shape", "do not fit its architecture"),
        ("float64", "do not fit its architecture"),
        ("nan", "NaN or infinite"),
        ("inf", "NaN or infinite"),
    ],
)
def test_weights_that_do_not_match_or_are_not_finite_are_refused(tmp_path, case, problem):
    path = write_style(tmp_path / "bad.safetensors", document(), _weights_case(case))
    with pytest.raises(StyleError, match=problem):
        load_generator(path)


def test_shapes_are_checked_from_the_header_before_loading_weights(tmp_path, monkeypatch):
    path = write_style(tmp_path / "wide.safetensors", document(), _weights_case("wider-than-declared"))

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("weights were loaded before their shapes were checked")

    monkeypatch.setattr(safetensors.torch, "load_file", no_load)
    with pytest.raises(StyleError, match="do not fit"):
        load_generator(path)


def test_bad_weights_by_path_through_the_cli_are_one_sentence(make_clip, stylecut_home, tmp_path):
    path = write_style(tmp_path / "nan.safetensors", document(), _weights_case("nan"))
    result = run_cli("apply", make_clip(frames=3), "--style", path, *FAST)
    assert result.exit_code == 2
    assert_one_sentence(result.stderr, "nan.safetensors", "NaN")


# --- damaged files among the user styles ----------------------------------------------------


@pytest.fixture
def damaged_home(stylecut_home: Path, tmp_path: Path) -> dict[str, str]:
    """A user style folder with one good style and three damaged files; returns {stem: why}."""
    folder = stylecut_home / "styles"
    make_style(folder / "good.safetensors", "good")
    write_style(folder / "bad-json.safetensors", "{not json")
    data = (folder / "good.safetensors").read_bytes()
    (folder / "truncated.safetensors").write_bytes(data[: len(data) // 2])
    (folder / "text.safetensors").write_text("this is not a style file\n")
    return {
        "bad-json": "not valid JSON",
        "truncated": "not a complete safetensors file",
        "text": "not a complete safetensors file",
    }


def test_styles_lists_damaged_user_files_with_why(damaged_home, stylecut_home):
    result = run_cli("styles", "--json")

    assert result.exit_code == 0, result.stderr
    entries = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert entries["good"]["problem"] is None
    for stem, why in damaged_home.items():
        assert why in entries[stem]["problem"], entries[stem]
        assert entries[stem]["path"] == str(stylecut_home / "styles" / f"{stem}.safetensors")
    assert all(entry["problem"] is None for entry in entries.values() if entry["origin"] == "bundled")

    table = run_cli("styles")
    assert table.exit_code == 0, table.stderr
    assert "good" in table.stdout and all(stem in table.stdout for stem in damaged_home)
    assert "damaged" in table.stdout


def test_a_damaged_user_file_does_not_stop_apply(damaged_home, make_clip, tmp_path):
    source = tmp_path / "clip.mp4"
    shutil.copy(make_clip(frames=3), source)
    bundled = registry.bundled_styles()
    style = bundled[0].name if bundled else "good"

    result = run_cli("apply", source, "--style", style, *FAST)

    assert result.exit_code == 0, result.stderr
    assert (tmp_path / f"clip.{style}.mp4").exists()


@pytest.mark.parametrize("stem", ["bad-json", "truncated", "text"])
def test_asking_for_a_damaged_user_style_is_one_sentence(damaged_home, stylecut_home, make_clip, stem):
    for style in (stem, stylecut_home / "styles" / f"{stem}.safetensors"):
        result = run_cli("apply", make_clip(frames=3), "--style", style, *FAST)
        assert result.exit_code == 2
        assert_one_sentence(result.stderr, f"{stem}.safetensors", damaged_home[stem])


# --- no torch for what runs no network ------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["styles"], ["styles", "--json"], ["styles", "--help"]], ids=" ".join
)
def test_listing_styles_and_help_do_not_import_torch(damaged_home, stylecut_home, args):
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(STYLECUT), *args],
        env={**os.environ, "STYLECUT_HOME": str(stylecut_home)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    imported = {line.rsplit("|", 1)[-1].strip() for line in lines}
    assert "stylecut.cli" in imported
    assert not {"torch", "torchvision", "decord", "cv2"} & imported, sorted(imported)
    if args in (["styles"], ["styles", "--json"]):
        assert "good" in proc.stdout and "bad-json" in proc.stdout


def test_checking_a_bundled_style_does_not_import_torchs_compiler():
    # The check builds the network on the meta device; arithmetic there imports torch._dynamo, seconds of
    # start-up for every command that applies a style.
    script = (
        "import sys\n"
        "from stylecut.styles import registry\n"
        "for entry in registry.bundled_styles():\n"
        "    registry.load_style(entry)\n"
        "print(sorted(m for m in sys.modules if m.startswith('torch._dynamo')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
