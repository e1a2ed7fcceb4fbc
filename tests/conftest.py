"""Shared fixtures: tiny synthetic clips (see tests/media.py), a tiny random style, an empty STYLECUT_HOME,
a tiny disk, a read-only folder, and one torch thread for the modules that ask for it."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

import media
from cli_support import make_style


def pytest_configure(config: pytest.Config) -> None:
    # A shell starts a background job (`pytest ... &`, as a CI runner may) with Ctrl-C ignored, and every
    # command the tests start would inherit that, so the Ctrl-C tests would signal commands deaf to it. A
    # signal this process handles is back to its default in a child, as in a terminal's foreground job.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def make_clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``make_clip(size=..., fps=..., frames=..., audio=..., rotation=..., container=...)`` -> path.

    Clips are cached per parameter set for the session; tests must not modify them.
    """
    cache: dict[tuple, Path] = {}

    def factory(**params: object) -> Path:
        key = tuple(sorted(params.items()))
        if key not in cache:
            folder = tmp_path_factory.mktemp("clip")
            cache[key] = media.make_clip(folder, **params)
        return cache[key]

    return factory


@pytest.fixture(scope="session")
def tiny_style(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A style file holding a tiny randomly initialised generator (fast on a CPU)."""
    return make_style(tmp_path_factory.mktemp("style") / "tiny.safetensors", "tiny")


@pytest.fixture
def stylecut_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty STYLECUT_HOME, so the user's own styles never leak into a test."""
    home = tmp_path / "stylecut-home"
    monkeypatch.setenv("STYLECUT_HOME", str(home))
    return home


def _mount_tmpfs(folder: Path, options: str) -> bool:
    """Mount an empty tmpfs with ``options`` on ``folder``; False where this user may not (root only)."""
    command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)]
    return subprocess.run(command, capture_output=True).returncode == 0


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 48 KB file system of its own, to fill up (a tmpfs: root only, else the test is skipped)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if not _mount_tmpfs(mount, "size=48k"):
        pytest.skip("needs root to mount a tiny tmpfs")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """An empty folder nobody can write into: a read-only tmpfs for root (who writes through permissions),
    a folder without write permission for anyone else."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    mounted = os.geteuid() == 0 and _mount_tmpfs(folder, "ro,size=16k")
    if not mounted:
        if os.geteuid() == 0:
            pytest.skip("root writes into any folder it cannot mount read-only")
        folder.chmod(0o555)
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture(scope="module")
def single_thread() -> Iterator[None]:
    """Torch on one thread for a whole module (``pytestmark = pytest.mark.usefixtures("single_thread")``):
    the tensors of these tests are tiny, and on a busy CPU torch's thread barriers made the suite 3x
    (some tests 20x) slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads the user's styles or writes into the user's cache; `stylecut_home` narrows this per test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYLECUT_HOME", str(tmp_path_factory.mktemp("session-home")))
        yield
