"""Nothing leaves the machine: every command, in every process it starts, stays off the network and
writes only into STYLECUT_HOME, its outputs and the system's temporary folder.

Each command runs as a subprocess with tests/network_guard on PYTHONPATH, whose sitecustomize records
every attempt to reach another host from every Python process (subprocesses and Ray workers included:
they inherit the environment), and with HOME an empty folder that must stay empty. The test machine may
have no network, where an attempt fails silently: the record is what catches it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import stylecut

from cli_support import cli_command, make_style
from finetune_support import finetune_args

GUARD = Path(__file__).with_name("network_guard")


def run_offline(tmp_path: Path, *args: object) -> subprocess.CompletedProcess[str]:
    """`stylecut ARGS` in ``tmp_path/work`` under the guard, with HOME ``tmp_path/home``."""
    tested = str(Path(stylecut.__file__).parent.parent)
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    env.update(
        HOME=str(tmp_path / "home"),
        STYLECUT_HOME=str(tmp_path / "stylecut-home"),
        STYLECUT_TEST_NETWORK_LOG=str(tmp_path / "network.log"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(GUARD), tested, os.environ.get("PYTHONPATH")])),
        OMP_NUM_THREADS="1",
    )
    return subprocess.run(
        cli_command(*args),
        cwd=tmp_path / "work",
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def test_every_command_stays_on_this_machine_and_writes_nothing_into_home(tmp_path, make_clip, tiny_style):
    for folder in ("home", "work", "stylecut-home"):
        (tmp_path / folder).mkdir()
    clip = make_clip(size="64x48", frames=6)
    make_style(tmp_path / "stylecut-home" / "styles" / "ink.safetensors", "ink")
    reference = make_clip(size="96x96", frames=12)
    content = make_clip(size="120x90", frames=1)

    commands = [
        # A fresh OpenVINO export: the runtime cache is empty.
        ("apply", clip, "--style", tiny_style, "-o", "out.mp4", "--runtime", "openvino"),
        ("preview", clip, "--styles", "ink", "-o", "sheet.png"),
        tuple(finetune_args(reference, content, "look")),
    ]
    if importlib.util.find_spec("ray"):  # the optional extra: its local runtime, workers included
        commands.append(("apply", clip, "--style", tiny_style, "-o", "ray.mp4", "--ray", "--threads", "1"))
    for args in commands:
        result = run_offline(tmp_path, *args)
        assert result.returncode == 0, (args[0], result.stderr)

    log = tmp_path / "network.log"
    assert not log.exists(), log.read_text()
    assert not list((tmp_path / "home").iterdir())
    assert {"out.mp4", "sheet.png", "ray.mp4"} >= {p.name for p in (tmp_path / "work").iterdir()}
