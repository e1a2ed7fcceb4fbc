"""Helpers for tests that run the real `stylecut` command: in-process (CliRunner) or as a subprocess.

In-process runs share one torch import, so most tests use them; subprocess
runs give real exit codes, real stderr and real signals, for the few tests
that are about exactly that.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import torch
from typer.testing import CliRunner, Result

from stylecut.cli import app
from stylecut.models.generator import Generator, GeneratorConfig
from stylecut.styles.style_file import save_style
from stylecut.video.probe import VideoInfo, probe

STYLECUT = Path(sys.executable).with_name("stylecut")
HANG = 600  # seconds: only a hung command takes this long, however loaded the machine


def make_style(path: Path, name: str) -> Path:
    torch.manual_seed(0)
    generator = Generator(GeneratorConfig(widths=(8, 16, 16), residual_blocks=1))
    save_style(
        path,
        generator,
        {"name": name, "style_image": f"{name}.png", "description": "random weights for tests"},
    )
    return path


def run_cli(*args: object) -> Result:
    """`stylecut ARGS` in this process; stdout and stderr are kept apart."""
    return CliRunner().invoke(app, [str(arg) for arg in args])


def cli_command(*args: object) -> list[str]:
    return [str(STYLECUT), *(str(arg) for arg in args)]


def run_stylecut(*args: object, home: Path) -> subprocess.CompletedProcess[str]:
    """`stylecut ARGS` as a subprocess with STYLECUT_HOME set to ``home``."""
    env = {**os.environ, "STYLECUT_HOME": str(home)}
    return subprocess.run(
        cli_command(*args), capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL
    )


# `stylecut` as on an install without the torch or train extras: importing PyTorch fails.
_WITHOUT_TORCH = (
    "import sys; sys.modules.update(torch=None, torchvision=None); "
    "from stylecut.cli import main; sys.argv[0] = 'stylecut'; main()"
)


def run_without_torch(*args: object, home: Path) -> subprocess.CompletedProcess[str]:
    """`stylecut ARGS` as a subprocess (STYLECUT_HOME ``home``) in which PyTorch cannot be imported."""
    env = {**os.environ, "STYLECUT_HOME": str(home)}
    command = [sys.executable, "-c", _WITHOUT_TORCH, *(str(arg) for arg in args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)


def signal_when(
    args: list[object], ready: str, sig: int, home: Path, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Start `stylecut ARGS`, send ``sig`` as soon as a line of its stderr holds ``ready``, and return its
    exit code, stdout and stderr.

    It runs in a session of its own, signalled as a whole like a terminal's Ctrl-C (its ffmpeg children,
    in their own process groups, are not reached). The signal follows the line: no clock is involved.
    """
    env = {**os.environ, **(env or {}), "STYLECUT_HOME": str(home)}
    proc = subprocess.Popen(
        cli_command(*args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if ready in line:
                os.killpg(proc.pid, sig)
                break
        stdout, stderr = proc.communicate(timeout=HANG)
    finally:
        proc.kill()
    return proc.returncode, stdout, "".join(seen) + stderr


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_same_timing(source: VideoInfo, output: Path) -> VideoInfo:
    """The editor's contract for one output: frames, exact rate, duration, display size, upright, audio present."""
    out = probe(output)
    assert out.frame_count == source.frame_count
    assert out.fps == source.fps and isinstance(out.fps, Fraction)
    assert abs(out.duration - source.duration) <= 1 / source.fps
    assert (out.display_width, out.display_height) == (source.display_width, source.display_height)
    assert out.rotation == 0
    assert out.has_audio == source.has_audio
    return out


def assert_one_sentence(stderr: str, *names: str) -> str:
    """stderr holds no traceback and exactly one failure line, naming every one of ``names``."""
    assert "Traceback" not in stderr, stderr
    failures = [line for line in stderr.splitlines() if line.startswith(("failed:", "stylecut:"))]
    assert len(failures) == 1, stderr
    line = failures[0]
    assert line.endswith(".") and all(name in line for name in names), line
    return line
