"""A style file's header: its format, and the checks on everything read from it, without torch.

A style is one ``.safetensors`` file. Its header (JSON, read without loading
any tensor) holds ``format`` (:data:`FORMAT`) and, under the key
``stylecut``, a JSON object: name, description, the style image's file
name, the generator's architecture, optionally the working side (the
short side in pixels the generator runs at, whatever the clip's size),
optionally the revision network's architecture (models/revision.py), and fields stylecut only stores (recipe, training, metrics). Listing styles reads nothing but headers, so
it needs no torch.

The file itself (header read, atomic write, weights checks) is a checked
weights file (weights_file.py). Everything in it is untrusted: a style given by path has no checksum.
Every field stylecut acts on is checked against the bounds below before
anything is built from it, and the name is checked like ``finetune
--name`` (names.py) before it can reach a path. Each refusal is one
sentence (StyleError) naming the file.
"""

from __future__ import annotations

from pathlib import Path

from stylecut.errors import StyleError
from stylecut.styles.names import NAME_RULE, is_valid_name
from stylecut.weights_file import WeightsKind, read_document

FORMAT = "stylecut-style/1"
STYLE_FILE = WeightsKind(
    FORMAT,
    StyleError,
    "is a damaged style file",
    "stylecut style",
    "architecture",
    foreign="is not a stylecut style file",
)
REQUIRED_KEYS = ("name", "architecture", "style_image")
ARCHITECTURE_KEYS = ("widths", "residual_blocks", "stem_kernel")
OPTIONAL_ARCHITECTURE_KEYS = ("antialias",)  # absent in files made before it: False
# Bounds on the generator a file may declare: at least twice what the shipped styles use (widths
# 16/32/64, 5 residual blocks, a 5x5 stem) and as wide as Johnson et al.'s network; together they keep
# the weights under 30 MB and a layer's activations at 1080p under 300 MB.
MAX_DEPTH = 4
MAX_WIDTH = 128
MAX_RESIDUAL_BLOCKS = 16
MAX_STEM_KERNEL = 9
MAX_TEXT = 1000  # characters in a description or the style image's file name
# The short side a style runs at (optional; without it, at the clip's size): from a sixteenth of a 4K
# frame's short side to all of it.
MIN_WORKING_SIDE, MAX_WORKING_SIDE = 128, 2160
# The revision network a file may declare (optional): it runs on every pixel of the output, so these
# bounds (four times the shipped width, dilations that keep its view under 40 px) also bound its cost.
REVISION_PREFIX = "revision."  # its tensors' names in the file
REVISION_KEYS = ("width", "dilation")
MAX_REVISION_WIDTH = 32
MAX_REVISION_DILATION = 8


def _damaged(path: Path, why: str) -> StyleError:
    return STYLE_FILE.refuse(path, why)


def read_metadata(path: Path) -> dict:
    """The file's checked metadata, or one sentence on why it cannot be used.

    ``name`` is the name stylecut knows the style by: the one inside the file
    when it is usable, else the file's own stem (which is what ``finetune``
    names the file anyway); when neither is usable the file is refused.
    """
    document = read_document(path, STYLE_FILE)
    for key in REQUIRED_KEYS:
        if key not in document:
            raise _damaged(path, f"its metadata has no '{key}'")
    for key in ("description", "style_image"):
        document[key] = _text(path, key, document.get(key, ""))
    document["architecture"] = _architecture(path, document["architecture"])
    document["working_side"] = _working_side(path, document.get("working_side"))
    document["revision"] = _revision(path, document.get("revision"))
    document["name"] = _usable_name(path, document["name"])
    return document


def _text(path: Path, key: str, value: object) -> str:
    # Shown in a terminal: control characters could rewrite what the user sees.
    if not (isinstance(value, str) and len(value) <= MAX_TEXT and value.isprintable()):
        raise _damaged(path, f"its {key} is not printable text of at most {MAX_TEXT} characters")
    return value


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _working_side(path: Path, value: object) -> int | None:
    """The short side in pixels the style's generator runs at, or None (the clip's own size)."""
    if value is None or _whole(value, MIN_WORKING_SIDE, MAX_WORKING_SIDE):
        return value
    why = f"a whole number of pixels from {MIN_WORKING_SIDE} to {MAX_WORKING_SIDE}"
    raise _damaged(path, f"its working_side must be {why}")


def _revision(path: Path, value: object) -> dict | None:
    """The revision network's architecture as plain numbers within bounds, or None (the style has none)."""
    if value is None:
        return None
    if not (isinstance(value, dict) and set(value) == set(REVISION_KEYS)):
        raise _damaged(path, f"its revision must be a JSON object of {' and '.join(REVISION_KEYS)}")
    if not (
        _whole(value["width"], 1, MAX_REVISION_WIDTH) and _whole(value["dilation"], 1, MAX_REVISION_DILATION)
    ):
        why = f"a width from 1 to {MAX_REVISION_WIDTH} and a dilation from 1 to {MAX_REVISION_DILATION}"
        raise _damaged(path, f"its revision must have {why}")
    return {key: value[key] for key in REVISION_KEYS}


def _architecture(path: Path, value: object) -> dict:
    """The architecture as plain numbers within bounds; a generator is built only from this."""
    if not isinstance(value, dict):
        raise _damaged(path, "its architecture is not a JSON object")
    for key in ARCHITECTURE_KEYS:
        if key not in value:
            raise _damaged(path, f"its metadata has no 'architecture.{key}'")
    # A newer stylecut's file, or not stylecut's at all:
    if set(value) - {*ARCHITECTURE_KEYS, *OPTIONAL_ARCHITECTURE_KEYS}:
        raise _damaged(path, "its architecture has fields this version of stylecut does not know")
    widths = value["widths"]
    if not (
        isinstance(widths, list)
        and 1 <= len(widths) <= MAX_DEPTH
        and all(_whole(width, 1, MAX_WIDTH) for width in widths)
    ):
        why = f"1 to {MAX_DEPTH} channel counts from 1 to {MAX_WIDTH}"
        raise _damaged(path, f"its architecture's widths must be {why}")
    if not _whole(value["residual_blocks"], 0, MAX_RESIDUAL_BLOCKS):
        why = f"a whole number from 0 to {MAX_RESIDUAL_BLOCKS}"
        raise _damaged(path, f"its architecture's residual_blocks must be {why}")
    kernel = value["stem_kernel"]
    if not (_whole(kernel, 1, MAX_STEM_KERNEL) and kernel % 2 == 1):
        why = f"an odd whole number from 1 to {MAX_STEM_KERNEL}"
        raise _damaged(path, f"its architecture's stem_kernel must be {why}")
    if not isinstance(value.get("antialias", False), bool):
        raise _damaged(path, "its architecture's antialias must be true or false")
    return {key: value[key] for key in (*ARCHITECTURE_KEYS, *OPTIONAL_ARCHITECTURE_KEYS) if key in value}


def _usable_name(path: Path, name: object) -> str:
    if is_valid_name(name):
        return name
    if is_valid_name(path.stem):
        return path.stem
    raise StyleError(
        f"{path} has no usable style name, inside it or as its file name: rename the file to {NAME_RULE}."
    )
