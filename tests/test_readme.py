"""CI runs exactly the README's two Quickstart commands; keep the three places in step."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```bash\n")[1:]
    return [block.split("```", 1)[0].strip() for block in blocks]


def test_quickstart_is_two_commands():
    commands = _quickstart_commands()
    assert len(commands) == 2
    assert "pip install" in commands[0] and "stylecut apply examples/" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_commands_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for command in _quickstart_commands():
        assert command in ci


def test_the_bundled_example_and_its_style_exist():
    first = _quickstart_commands()[0]
    example = first.split("stylecut apply ", 1)[1].split()[0]
    assert (ROOT / example).is_file()
    style = first.split("--style ", 1)[1].split()[0]
    manifest = (ROOT / "weights" / "manifest.json").read_text()
    assert f'"name": "{style}"' in manifest
