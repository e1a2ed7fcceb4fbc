"""Where styles live and how a name becomes a generator.

Bundled styles ship in the ``weights/`` folder (installed as the data
package ``stylecut_weights``) and are listed in its ``manifest.json`` with
their sha256, which is checked on every load. User styles, made by
``stylecut finetune``, live in the user's styles folder (user_folders.py).
``--style`` takes a name from either place or a path to a style file.

Finding and listing styles reads only the manifest and style files' headers,
so it needs no torch; torch is imported when a style is loaded. A user style
file that cannot be used is listed with ``problem`` saying why and refused
only when asked for: one damaged file never stops the tool.

A name means one style, because it names outputs (``clip.NAME.mp4``) and a
re-run skips the outputs its style already made: a user file whose name is
a bundled style's, and every file of a name two user files claim, is
refused, and so is a file given by path that carries an installed style's
name (unless it is that style's own file).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from stylecut.errors import StyleError
from stylecut.styles.metadata import read_metadata
from stylecut.user_folders import styles_folder

if TYPE_CHECKING:
    from stylecut.models.generator import Generator
    from stylecut.models.revision import Revision

MANIFEST = "manifest.json"
STYLE_SUFFIX = ".safetensors"


@dataclass(frozen=True)
class StyleEntry:
    name: str  # a usable name (names.py); for an entry with a problem, the name it claims or else the file's stem
    path: Path
    origin: str  # "bundled", "user" or "file"
    description: str
    style_image: str
    sha256: str | None = None
    preview: Path | None = None
    problem: str | None = None  # why the style cannot be used (one sentence); None when it can

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "path": str(self.path),
            "origin": self.origin,
            "description": self.description,
            "style_image": self.style_image,
            "sha256": self.sha256,
            "preview": str(self.preview) if self.preview else None,
            "problem": self.problem,
        }


def bundled_dir() -> Path:
    return Path(str(resources.files("stylecut_weights")))


def bundled_styles() -> list[StyleEntry]:
    manifest = bundled_dir() / MANIFEST
    if not manifest.exists():
        return []
    entries = []
    for item in json.loads(manifest.read_text())["styles"]:
        preview = bundled_dir() / item["preview"] if item.get("preview") else None
        entries.append(
            StyleEntry(
                item["name"],
                bundled_dir() / item["file"],
                "bundled",
                item["description"],
                item["style_image"],
                item["sha256"],
                preview,
            )
        )
    return entries


def _entry_from_file(path: Path, origin: str) -> StyleEntry:
    meta = read_metadata(path)
    preview = path.with_suffix(".png")
    return StyleEntry(
        meta["name"],
        path,
        origin,
        meta.get("description", ""),
        meta["style_image"],
        None,
        preview if preview.exists() else None,
    )


def user_styles() -> list[StyleEntry]:
    folder = styles_folder()
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.glob(f"*{STYLE_SUFFIX}")):
        try:
            entries.append(_entry_from_file(path, "user"))
        except StyleError as exc:
            entries.append(StyleEntry(path.stem, path, "user", "", "", problem=str(exc)))
    return _refuse_taken_names(entries)


def _refuse_taken_names(entries: list[StyleEntry]) -> list[StyleEntry]:
    """User entries, with a bundled style's name or a name another user file claims refused in each."""
    bundled = {entry.name for entry in bundled_styles()}
    claims = Counter(entry.name for entry in entries if entry.problem is None)
    checked = []
    for entry in entries:
        problem = entry.problem
        if problem is None and entry.name in bundled:
            problem = (
                f"{entry.path} carries the name of the bundled style '{entry.name}', which no other style "
                "may take: remove it from your styles."
            )
        elif problem is None and claims[entry.name] > 1:
            others = ", ".join(
                str(e.path) for e in entries if e.name == entry.name and e.problem is None and e is not entry
            )
            problem = (
                f"{entry.path} carries the name '{entry.name}', as {others} does, so neither is used: "
                "remove one of them."
            )
        checked.append(replace(entry, problem=problem))
    return checked


def list_styles() -> list[StyleEntry]:
    return bundled_styles() + user_styles()


def resolve_style(name_or_path: str) -> StyleEntry:
    """An installed style by name, or a style file by path; otherwise one clear sentence."""
    styles = list_styles()
    usable = [entry for entry in styles if entry.problem is None]
    for entry in usable:
        if entry.name == name_or_path:
            return entry
    for entry in styles:
        if entry.problem is not None and entry.name == name_or_path:
            raise StyleError(entry.problem)
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return _entry_by_path(path, styles)
    if not usable:
        raise StyleError(
            f"Unknown style '{name_or_path}': no style is installed (train one with `stylecut finetune`)."
        )
    known = ", ".join(entry.name for entry in usable)
    raise StyleError(f"Unknown style '{name_or_path}'; installed styles are: {known}.")


def _entry_by_path(path: Path, installed: list[StyleEntry]) -> StyleEntry:
    """A style file given by path; an installed style's own file is that style, checks included."""
    for entry in installed:
        if entry.path.resolve() == path.resolve():
            if entry.problem is not None:
                raise StyleError(entry.problem)
            return entry
    given = _entry_from_file(path, "file")
    for entry in installed:
        if entry.name == given.name:
            raise StyleError(
                f"{path} carries the name '{given.name}' of the {entry.origin} style at {entry.path}, "
                "so its outputs would pass for that style's: a style given by path may not take an installed name."
            )
    return given


def load_style(entry: StyleEntry) -> tuple[Generator, dict]:
    generator, _, metadata = load_style_networks(entry)
    return generator, metadata


def load_style_networks(entry: StyleEntry) -> tuple[Generator, Revision | None, dict]:
    """The style's generator, its revision network (None when it has none) and its metadata."""
    from stylecut.styles.style_file import load_networks  # torch, needed only once a network runs

    return load_networks(entry.path, expected_sha256=entry.sha256)
