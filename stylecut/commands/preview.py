"""`stylecut preview`: a contact sheet of a clip in several styles, to choose a look before a long run.

A few frames spread across the clip (the middles of equal parts, so neither a fade-in nor a fade-out) are
read once and scaled to the sheet's row height; every style stylises them there, with the pixel controls
of `apply` (strength, keep colours), frame by frame without the temporal module. The sheet has a header
line, then one labelled row per style below a row of the original frames.

Stroke size: strokes are a fixed number of pixels at the size a network runs at. A style with a working
size (every bundled one) is stylised at that size, as `apply` does, and scaled to the row height, so its
row shows `apply`'s look. A style without one (an older file) is stylised at the row height rather than at
the clip's size, which shows the strokes of `apply --scale ROW/CLIP HEIGHT`; the header then says which
scale that is. A clip smaller than the row height is stylised at its own size.

Every style is found before any frame is read (an unknown name is a usage error); a user style that is
damaged is skipped with a notice when all styles are asked for. The sheet is written under a temporary
name and renamed; an existing file is replaced only with ``overwrite``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from stylecut.device import select_device
from stylecut.errors import OutputError, UsageError
from stylecut.frame_arrays import shrink, to_pixels, to_unit
from stylecut.pipeline.controls import Controls, generator_at_strength, working_size
from stylecut.pipeline.light import light_generator, runs_light
from stylecut.pipeline.pixel_controls import finish
from stylecut.styles.registry import StyleEntry, list_styles, load_style, resolve_style
from stylecut.video.decode import FrameReader, seek_notice
from stylecut.video.probe import VideoInfo, probe
from stylecut.video.tempfiles import check_writable, temp_path, write_error

SHEET_SUFFIXES = (".png", ".jpg", ".jpeg")
HEADER_HEIGHT = 28  # px, above the first row
GAP = 4  # px between tiles and rows
FONT_SIZE = 16
JPEG_QUALITY = 90  # for a .jpg sheet: textures are what the sheet is for
ORIGINAL = "original"


@dataclass(frozen=True)
class PreviewRequest:
    """The command's options, as given."""

    clip: Path
    styles: Sequence[str] | None = None  # names or style files; None: every installed style
    output: Path | None = None  # default: CLIP.preview.png beside the clip
    frames: int = 3
    height: int = 360
    controls: Controls = field(default_factory=Controls)
    device: str = "auto"
    overwrite: bool = False


def sample_indices(frame_count: int, count: int) -> list[int]:
    """``count`` frame indices (fewer for a shorter clip), each the middle of one of ``count`` equal parts."""
    return sorted({int((part + 0.5) * frame_count / count) for part in range(count)})


def sheet_target(request: PreviewRequest) -> Path:
    target = request.output or request.clip.with_name(f"{request.clip.stem}.preview.png")
    if target.suffix.lower() not in SHEET_SUFFIXES:
        raise OutputError(f"The contact sheet is an image: give -o a .png or .jpg name, not {target.name}.")
    if target.exists() and not request.overwrite:
        raise OutputError(f"{target} exists (use --overwrite to replace it).")
    check_writable(target)
    return target


def chosen_styles(names: Sequence[str] | None, note: Callable[[str], None]) -> list[StyleEntry]:
    """The styles asked for, in order and once each, or every usable installed one."""
    if names is not None:
        if not names:
            raise UsageError("--styles names no style; give names separated by commas.")
        return [resolve_style(name) for name in dict.fromkeys(names)]
    installed = list_styles()
    for entry in installed:
        if entry.problem is not None:
            note(f"skipped {entry.name}: {entry.problem}")
    usable = [entry for entry in installed if entry.problem is None]
    if not usable:
        raise UsageError("No style is installed: make one with `stylecut finetune` or name a style file.")
    return usable


def tile_size(info: VideoInfo, height: int) -> tuple[int, int]:
    """(height, width) of a tile: the clip's display size scaled to ``height`` rows, never enlarged."""
    rows = min(height, info.display_height)
    return rows, max(1, round(info.display_width * rows / info.display_height))


def _resize(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if frames.shape[1:3] == size:
        return frames
    resized = shrink(frames.transpose(0, 3, 1, 2).astype(np.float32), size)
    return np.clip(np.rint(resized), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


Network = Callable[[np.ndarray], np.ndarray]  # (N, 3, H, W) float32 in [0, 1] -> the same


def stylise_frames(
    network: Network, frames: np.ndarray, controls: Controls, source: np.ndarray | None = None
) -> np.ndarray:
    """``(n, h, w, 3)`` uint8 frames through one style's ``network`` (at the strength's feature gain)
    and the pixel controls, at their own size.

    With ``source`` (the same frames at another size: the style's working size), the network runs on it
    and its output is scaled to the frames' size before the pixel controls.
    """
    stylised = to_pixels(network(to_unit(frames if source is None else source)))
    stylised = _resize(stylised, frames.shape[1:3])
    return finish(stylised, frames, controls)


def _style_network(entry: StyleEntry, strength: float, device: str) -> tuple[Network, dict]:
    """The style's generator at ``strength`` as a numpy network, and the style's metadata: its export on
    OpenVINO on the light path, else the PyTorch module on ``device``."""
    if runs_light():
        return light_generator(entry, strength, threads=None)
    import torch

    generator, metadata = load_style(entry)
    where = select_device(device)
    module = generator_at_strength(generator, strength).to(where).eval()

    @torch.inference_mode()
    def network(frames: np.ndarray) -> np.ndarray:
        return module(torch.from_numpy(frames).to(where)).float().cpu().numpy()

    return network, metadata


def compose_sheet(header: str, rows: Sequence[tuple[str, np.ndarray]]) -> Image.Image:
    """A white sheet: ``header`` on top, then per row its label and its ``(n, h, w, 3)`` uint8 tiles."""
    count, height, width = rows[0][1].shape[:3]
    font = ImageFont.load_default(size=FONT_SIZE)
    label_width = round(max(font.getlength(label) for label, _ in rows)) + 3 * GAP
    sheet = Image.new(
        "RGB", (label_width + count * (width + GAP), HEADER_HEIGHT + len(rows) * (height + GAP)), "white"
    )
    draw = ImageDraw.Draw(sheet)
    draw.text((GAP, (HEADER_HEIGHT - FONT_SIZE) // 2), header, fill="black", font=font)
    for row, (label, tiles) in enumerate(rows):
        top = HEADER_HEIGHT + row * (height + GAP)
        draw.text((GAP, top + (height - FONT_SIZE) // 2), label, fill="black", font=font)
        for column, tile in enumerate(tiles):
            sheet.paste(Image.fromarray(tile), (label_width + column * (width + GAP), top))
    return sheet


def _save(sheet: Image.Image, target: Path) -> None:
    """Write under a temporary name beside ``target``, then rename: no half-written sheet under its name."""
    temporary = temp_path(target, "sheet")
    try:
        sheet.save(temporary, quality=JPEG_QUALITY)  # PNG ignores the quality
        os.replace(temporary, target)
    except OSError as exc:
        raise write_error(target, exc) from exc
    finally:
        temporary.unlink(missing_ok=True)


def run_preview(request: PreviewRequest, note: Callable[[str], None]) -> Path:
    """Write the contact sheet and return its path; ``note`` receives one line per style and notices."""
    info = probe(request.clip)
    target = sheet_target(request)
    styles = chosen_styles(request.styles, note)

    indices = sample_indices(info.frame_count, request.frames)
    size = tile_size(info, request.height)
    full = FrameReader(info.path).read(indices)
    if notice := seek_notice(info.path):
        note(notice)
    originals = _resize(full, size)
    rows = [(ORIGINAL, originals)]
    at_row_height = False  # whether a style without a working size ran at the row height
    for entry in styles:
        started = time.perf_counter()
        network, metadata = _style_network(entry, request.controls.strength, request.device)
        side = metadata["working_side"]
        at_row_height |= side is None
        height, width = full.shape[1:3]
        source = None if side is None else _resize(full, working_size(width, height, working_side=side))
        rows.append((entry.name, stylise_frames(network, originals, request.controls, source)))
        note(f"{entry.name}: {time.perf_counter() - started:.1f} s")

    _save(compose_sheet(_header(request, info, indices, size, at_row_height), rows), target)
    return target


def _header(
    request: PreviewRequest, info: VideoInfo, indices: Sequence[int], size: tuple[int, int], scaled: bool
) -> str:
    """What the sheet shows; ``scaled``: a style without a working size ran at the row height, which is
    the stroke size of an ``apply --scale`` below 1 (styles with one run at their working size, as apply)."""
    frames = ", ".join(str(index + 1) for index in indices)
    controls = request.controls
    options = [f"--scale {size[0] / info.display_height:.2g}"] if scaled else []
    if controls.strength != 1.0:
        options.append(f"--strength {controls.strength:g}")
    if controls.keep_colours:
        options.append("--keep-colours")
    return (
        f"{request.clip.name}: frames {frames} of {info.frame_count} at {size[1]}x{size[0]},"
        f" as {' '.join(['apply', *options])}"
    )
