"""Without PyTorch (no train or torch extra), what needs it says in one sentence which extra to install."""

import pytest

from cli_support import run_without_torch


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["finetune", "--name", "mine", "--style-video", "look.mp4"], "train"),
        (["apply", "clip.mp4", "--style", "starry-night", "--device", "cuda"], "torch"),
        (["apply", "clip.mp4", "--style", "starry-night", "--runtime", "torch"], "torch"),
        (["apply", "clip.mp4", "--style", "starry-night", "--flow", "raft"], "torch"),
        (["preview", "clip.mp4", "--device", "cuda"], "torch"),
    ],
)
def test_a_command_that_needs_pytorch_names_its_extra(tmp_path, args, extra):
    result = run_without_torch(*args, home=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"install it with pip install 'stylecut[{extra}]'." in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_styles_lists_without_pytorch(tmp_path):
    result = run_without_torch("styles", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"name": "starry-night"' in result.stdout
