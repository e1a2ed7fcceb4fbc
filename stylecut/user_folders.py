"""The user's folders: where their styles, training runs and caches live.

With ``STYLECUT_HOME`` set, everything lives under it: ``styles/``,
``runs/`` and ``cache/``. Without it, styles and runs live in the platform's
user data folder (``~/.local/share/stylecut`` on Linux) and the cache in its
user cache folder (``~/.cache/stylecut``), which may be cleared at any time.
Every command and training script asks here, so they all agree.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs

from stylecut.errors import OutputError

APP = "stylecut"
HOME_VARIABLE = "STYLECUT_HOME"


def home() -> Path | None:
    """The folder ``STYLECUT_HOME`` names, or None when it is unset or empty."""
    value = os.environ.get(HOME_VARIABLE)
    return Path(value) if value else None


def data_folder() -> Path:
    """The folder that holds what the user made (styles and runs)."""
    return home() or Path(platformdirs.user_data_dir(APP))


def styles_folder() -> Path:
    return data_folder() / "styles"


def runs_folder() -> Path:
    return data_folder() / "runs"


def cache_folder() -> Path:
    """What can be rebuilt at any time (exported runtimes)."""
    chosen = home()
    return chosen / "cache" if chosen else Path(platformdirs.user_cache_dir(APP))


def check_writable_folder(folder: Path) -> None:
    """Fail in one sentence, writing nothing and making no folder, when ``folder`` could not be written.

    The probe is an unnamed temporary file in the nearest folder that exists
    (a read-only mount, missing permissions, or a file where a folder should be).
    """
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        why = f"{existing} is a file, not a folder"
    else:
        try:
            with tempfile.TemporaryFile(dir=existing):
                return
        except OSError as exc:
            why = f"{existing} cannot be written: {exc.strerror or exc}"
    raise OutputError(f"Cannot write to {folder} ({why}); set {HOME_VARIABLE} to a folder you can write.")
