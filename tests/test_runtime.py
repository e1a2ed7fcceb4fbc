"""The generator's CPU runtime: OpenVINO matches PyTorch, is cached per style, and falls back to PyTorch.

A tiny random style and tiny lavfi clips keep every test fast; the bound is
the product's: mean absolute difference at most 1/255 per channel against
PyTorch fp32.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from stylecut.errors import UsageError
from stylecut.runtime.cache import cache_root
from stylecut.runtime.runner import TorchRunner, create_runner
from stylecut.styles.style_file import load_generator
from stylecut.video.decode import iter_frames
from stylecut.video.probe import probe
from stylecut.weights_file import sha256_of

from cli_support import run_cli
from media import decode_reference

openvino = pytest.importorskip("openvino")
CPU = torch.device("cpu")
FAST = ("--preset", "ultrafast")


def frames_of(clip: Path) -> torch.Tensor:
    chunk = np.concatenate(list(iter_frames(probe(clip), chunk_size=8)))
    return torch.from_numpy(chunk).permute(0, 3, 1, 2).float().div(255)


def level_difference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|a - b| in 8-bit levels, after both are quantised as the encoder receives them."""
    return ((a.clamp(0, 1) * 255).round() - (b.clamp(0, 1) * 255).round()).abs()


def conversions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts PyTorch -> OpenVINO conversions from now on."""
    calls: list[int] = []
    convert = openvino.convert_model

    def counted(*args, **kwargs):
        calls.append(1)
        return convert(*args, **kwargs)

    monkeypatch.setattr(openvino, "convert_model", counted)
    return calls


def only_entry() -> Path:
    entries = [path for path in cache_root().glob("*/*") if path.is_dir()]
    assert len(entries) == 1, entries
    return entries[0]


def test_openvino_gives_pytorchs_frames_within_the_bound(make_clip, tiny_style, stylecut_home):
    generator, _ = load_generator(tiny_style)
    frames = frames_of(
        make_clip(size="95x63", frames=6)
    )  # odd sizes: the encoder and decoder must round-trip them

    fast, notice = create_runner(generator, CPU, "auto", threads=1, cache_key=sha256_of(tiny_style))
    reference = TorchRunner(generator, CPU)(frames)
    out = fast(frames)

    assert notice is None and not isinstance(fast, TorchRunner)
    assert out.shape == reference.shape == frames.shape and out.dtype == torch.float32
    difference = level_difference(out, reference)
    assert difference.mean(dim=(0, 2, 3)).max() <= 1.0
    assert difference.max() <= 1.0  # fp32 on both sides: at most a rounding step apart


def test_whole_command_gives_the_same_frames_with_either_runtime(
    make_clip, tiny_style, stylecut_home, tmp_path
):
    source = make_clip(size="64x48", frames=8)
    outputs = {}
    for runtime in ("torch", "openvino"):
        outputs[runtime] = tmp_path / f"{runtime}.mov"
        result = run_cli(
            "apply",
            source,
            "--style",
            tiny_style,
            "-o",
            outputs[runtime],
            "--runtime",
            runtime,
            "--codec",
            "prores",
            *FAST,
        )
        assert result.exit_code == 0, result.stderr
        assert "PyTorch" not in result.stderr  # no fallback notice
    torch_frames, fast_frames = (decode_reference(path).astype(np.int16) for path in outputs.values())
    difference = np.abs(torch_frames - fast_frames)
    assert difference.mean(axis=(0, 1, 2)).max() <= 1.0


def test_the_exported_model_is_cached_and_reused(tiny_style, stylecut_home, monkeypatch):
    generator, _ = load_generator(tiny_style)
    key = sha256_of(tiny_style)
    calls = conversions(monkeypatch)

    create_runner(generator, CPU, "openvino", cache_key=key)
    entry = only_entry()
    assert entry.parent.name == key and entry.name.startswith(
        f"openvino-{openvino.__version__.split('-')[0]}-"
    )
    assert sorted(path.name for path in entry.iterdir()) == ["checksums.json", "model.bin", "model.xml"]
    create_runner(generator, CPU, "openvino", cache_key=key)

    assert len(calls) == 1
    assert not [path for path in entry.parent.iterdir() if path != entry]  # no temporary folder left behind


@pytest.fixture(scope="module")
def cached_home(tiny_style: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A STYLECUT_HOME holding the tiny style's cache entry, exported once for the tests that damage it."""
    home = tmp_path_factory.mktemp("cached-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYLECUT_HOME", str(home))
        create_runner(load_generator(tiny_style)[0], CPU, "openvino", cache_key=sha256_of(tiny_style))
    return home


@pytest.mark.parametrize(
    "damage", ["flip-weights", "huge-weights", "truncate-graph", "no-checksums", "garbage-checksums"]
)
def test_a_damaged_cache_entry_is_rebuilt(tiny_style, cached_home, stylecut_home, monkeypatch, damage):
    shutil.copytree(cached_home, stylecut_home)
    generator, _ = load_generator(tiny_style)
    key = sha256_of(tiny_style)
    entry = only_entry()
    if damage == "flip-weights":
        data = bytearray((entry / "model.bin").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (entry / "model.bin").write_bytes(bytes(data))
    elif damage == "huge-weights":
        os.truncate(entry / "model.bin", 1 << 40)  # 1 TiB, sparse: more than any memory holds
    elif damage == "truncate-graph":
        (entry / "model.xml").write_text((entry / "model.xml").read_text()[:200])
    elif damage == "no-checksums":
        (entry / "checksums.json").unlink()
    else:
        (entry / "checksums.json").write_text("{not json")
    calls = conversions(monkeypatch)

    runner, notice = create_runner(generator, CPU, "openvino", cache_key=key)

    assert len(calls) == 1 and notice is None
    frames = torch.rand(2, 3, 40, 56)
    assert level_difference(runner(frames), TorchRunner(generator, CPU)(frames)).max() <= 1.0
    checksums = json.loads((only_entry() / "checksums.json").read_text())
    assert set(checksums) == {"model.bin", "model.xml"}


def test_a_cache_that_cannot_be_written_is_skipped(tiny_style, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.write_text("a file where the cache folder would go")
    monkeypatch.setenv("STYLECUT_HOME", str(home))
    generator, _ = load_generator(tiny_style)

    runner, notice = create_runner(generator, CPU, "openvino", cache_key=sha256_of(tiny_style))

    assert notice is None and not isinstance(runner, TorchRunner)


def simulate_no_openvino(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openvino", None)  # `import openvino` now raises ImportError
    monkeypatch.delitem(sys.modules, "stylecut.runtime.openvino_runner", raising=False)


def test_without_openvino_apply_runs_on_pytorch_with_one_notice(
    make_clip, tiny_style, stylecut_home, tmp_path, monkeypatch
):
    simulate_no_openvino(monkeypatch)
    target = tmp_path / "out.mp4"

    result = run_cli("apply", make_clip(frames=4), "--style", tiny_style, "-o", target, *FAST)

    assert result.exit_code == 0, result.stderr
    assert target.exists()
    notices = [line for line in result.stderr.splitlines() if "OpenVINO" in line]
    assert notices == ["OpenVINO is not installed: the generator runs on PyTorch, which is slower on a CPU."]
    assert not cache_root().exists()


def test_without_openvino_an_explicit_request_is_a_usage_error(
    make_clip, tiny_style, stylecut_home, tmp_path, monkeypatch
):
    simulate_no_openvino(monkeypatch)
    target = tmp_path / "out.mp4"

    result = run_cli(
        "apply", make_clip(frames=4), "--style", tiny_style, "-o", target, "--runtime", "openvino"
    )

    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "stylecut: --runtime openvino was requested but OpenVINO is not installed; use --runtime torch."
    )
    assert not target.exists()


def test_a_failing_compile_falls_back_to_pytorch(tiny_style, stylecut_home, monkeypatch):
    import stylecut.runtime.openvino_runner as openvino_runner

    def broken(*args, **kwargs):
        raise RuntimeError("Exception from src/inference: unsupported operation\nmore detail")

    monkeypatch.setattr(openvino_runner, "compile_network", broken)
    generator, _ = load_generator(tiny_style)

    runner, notice = create_runner(generator, CPU, "auto", cache_key="k")
    assert isinstance(runner, TorchRunner)
    reason = "Exception from src/inference: unsupported operation"  # its first line only
    assert notice == f"OpenVINO could not run the generator ({reason}), so it runs on PyTorch."
    with pytest.raises(UsageError, match="use --runtime torch"):
        create_runner(generator, CPU, "openvino", cache_key="k")


def test_openvino_is_for_the_cpu_and_other_devices_keep_pytorch(tiny_style):
    generator, _ = load_generator(tiny_style)
    with pytest.raises(UsageError, match="--device cpu"):
        create_runner(generator, torch.device("cuda"), "openvino")
    runner, notice = create_runner(generator, CPU, "torch")
    assert isinstance(runner, TorchRunner) and notice is None
    meta = torch.device("meta")  # stands in for a GPU: any device but the CPU
    runner, notice = create_runner(generator, meta, "auto")
    assert isinstance(runner, TorchRunner) and runner.device == meta and notice is None


def test_openvino_runs_at_fp32_with_the_threads_asked_for(tiny_style, stylecut_home):
    generator, _ = load_generator(tiny_style)

    runner, _ = create_runner(generator, CPU, "openvino", threads=1, cache_key=sha256_of(tiny_style))

    assert runner.compiled.get_property("INFERENCE_PRECISION_HINT") == openvino.Type.f32  # not AMX's bf16
    assert runner.compiled.get_property("INFERENCE_NUM_THREADS") == 1


SIGNAL_AFTER_NETWORKS_WENT = """
import gc, os, signal, sys
import torch
from stylecut.runtime.openvino_runner import compile_network
first = compile_network(torch.nn.Conv2d(3, 3, 3), (3,), 1, None)
second = compile_network(torch.nn.Conv2d(3, 3, 1), (3,), 1, None)
del first  # out of the order they came in
gc.collect()
del second
gc.collect()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(7))
os.kill(os.getpid(), signal.SIGTERM)
"""


def test_a_signal_after_compiled_networks_went_is_handled():
    # OpenVINO's CPU plugin swaps the main thread's alternate signal stack (for AMX) per core and puts the
    # old one back when the core goes: with a core per network, gone out of order, a signal crashed.
    result = subprocess.run(
        [sys.executable, "-c", SIGNAL_AFTER_NETWORKS_WENT], capture_output=True, text=True
    )
    assert result.returncode == 7, result.stderr
