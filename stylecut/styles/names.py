"""The rule for style names, which become parts of file names.

A style's name ends up in output file names (``clip.NAME.mp4``) and in the
user style folder (``NAME.safetensors``), so only names that cannot reach
another folder, hide a file or be read as an option are usable: lower-case
letters and digits in runs joined by single dashes or underscores. The same
rule holds for a name the user types (``finetune --name``) and a name read
from a style file.
"""

from __future__ import annotations

import re
from typing import TypeGuard

NAME_PATTERN = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
MAX_NAME_LENGTH = 64
NAME_RULE = (
    "lower-case letters and digits joined by single dashes or underscores (like 'sintel-look'), "
    f"at most {MAX_NAME_LENGTH} characters"
)


def is_valid_name(name: object) -> TypeGuard[str]:
    """Whether ``name`` may be used as a style's name (and so inside a file name)."""
    return isinstance(name, str) and len(name) <= MAX_NAME_LENGTH and NAME_PATTERN.fullmatch(name) is not None
