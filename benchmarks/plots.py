"""The report's figures: E_warp and sharpness per frame, and a strip of frames to look at.

The curves show, per clip, the short-term and long-term E_warp of the input,
the frame-by-frame output and the temporal output, and the temporal output's
sharpness relative to the frame-by-frame one (a slow slide below 1 would be
smear accumulating through the recursion). The strip puts input,
``--no-temporal`` and temporal frames in rows, each row ending in the centre
of its last frame in native pixels magnified 2x, to judge fine detail.
Images are kept small (palette PNG when a full-colour one would pass
~900 kB) because the report is committed.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on a batch machine
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image, ImageDraw

COLOURS = {"input": "0.5", "no-temporal": "tab:red", "temporal": "tab:blue"}
MAX_PNG_BYTES = 900_000


def plot_consistency(per_clip: dict[str, dict], path: Path) -> None:
    """One row per clip: short-term E_warp, long-term E_warp, sharpness ratio temporal / no-temporal."""
    fig, axes = plt.subplots(len(per_clip), 3, figsize=(12, 2.4 * len(per_clip)), squeeze=False)
    for row, (clip, result) in zip(axes, per_clip.items()):
        for ax, key in zip(row[:2], ("short", "long")):
            series = result[key]
            for name, colour in COLOURS.items():
                ax.plot(series["frames"], series[name], color=colour, label=name, lw=1.2)
            ax.set_yscale("log")
            gap = 1 if key == "short" else result["long_gap"]
            ax.set_title(f"{clip}: E_warp, frames {gap} apart", fontsize=9)
        ratio = result["sharpness_ratio"]["temporal"]
        row[2].plot(range(len(ratio)), ratio, color=COLOURS["temporal"], lw=1.2)
        row[2].axhline(1.0, color="0.5", lw=0.8, ls="--")
        row[2].set_title(f"{clip}: sharpness temporal / no-temporal", fontsize=9)
        for ax in row:
            ax.tick_params(labelsize=7)
            ax.set_xlabel("frame", fontsize=7)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def plot_tradeoff(clips: dict[str, dict[str, dict]], path: Path, targets: tuple[float, float, float]) -> None:
    """E_warp against sharpness, both relative to the per-frame output: one point per clip and variant.

    ``clips`` maps "clip style" to ``{variant: row}`` rows of
    benchmarks/temporal_recurrent.py (one marker shape per clip); ``targets`` are the short- and
    long-term E_warp ratios to stay under and the sharpness to stay above,
    drawn as the corner of the region a variant should reach.
    """
    short_target, long_target, sharpness_target = targets
    variants = sorted({name for rows in clips.values() for name in rows})
    colours = dict(zip(variants, plt.get_cmap("tab10").colors))
    footage = sorted({key.split()[0] for key in clips})
    markers = dict(zip(footage, "o^sDvP*Xhp"))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, span, target in zip(axes, ("short", "long"), (short_target, long_target)):
        for key, rows in clips.items():
            for name, row in rows.items():
                point = (row["sharpness_last10"], row[f"{span}/no-temporal"])
                ax.scatter(*point, color=colours[name], marker=markers[key.split()[0]], s=18)
        ax.axvline(sharpness_target, color="0.5", lw=0.8, ls="--")
        ax.axhline(target, color="0.5", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_xlabel("sharpness of the last 10 frames / per-frame", fontsize=8)
        ax.set_ylabel(f"{span}-term E_warp / per-frame", fontsize=8)
        ax.set_title(f"{span}-term: the target is the lower right of the dashed lines", fontsize=9)
        ax.tick_params(labelsize=7)
    handles = [plt.Line2D([], [], color=colours[name], marker="o", ls="", label=name) for name in variants]
    handles += [plt.Line2D([], [], color="0.3", marker=markers[clip], ls="", label=clip) for clip in footage]
    axes[0].legend(handles=handles, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def _label(tile: Image.Image, text: str) -> Image.Image:
    draw = ImageDraw.Draw(tile)
    draw.rectangle((0, 0, 7 * len(text) + 8, 16), fill=(0, 0, 0))
    draw.text((4, 2), text, fill=(255, 255, 255))
    return tile


def frame_strip(rows: dict[str, np.ndarray], indices: list[int], path: Path, tile_width: int = 256) -> None:
    """Rows of ``(T, H, W, 3)`` uint8 frames at ``indices``, each row ending in its last frame's centre at 2x."""
    tiles = []
    for name, frames in rows.items():
        h, w = frames.shape[1:3]
        size = (tile_width, round(h * tile_width / w))
        row = [
            _label(Image.fromarray(frames[i]).resize(size, Image.LANCZOS), f"{name} #{i}") for i in indices
        ]
        # Native pixels magnified 2x: the downscaled tiles hide the fine detail that smear would remove.
        crop_w, crop_h = size[0] // 2, size[1] // 2
        left, top = (w - crop_w) // 2, (h - crop_h) // 2
        crop = Image.fromarray(frames[indices[-1]][top : top + crop_h, left : left + crop_w]).resize(
            size, Image.NEAREST
        )
        row.append(_label(crop, f"{name} #{indices[-1]} centre 2x"))
        tiles.append(row)
    width, height = tiles[0][0].size
    sheet = Image.new("RGB", (width * len(tiles[0]), height * len(tiles)))
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            sheet.paste(tile, (c * width, r * height))
    _save_small(sheet, path)


def _save_small(image: Image.Image, path: Path) -> None:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    if buffer.tell() > MAX_PNG_BYTES:
        buffer = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG).save(
            buffer, "PNG", optimize=True
        )
    path.write_bytes(buffer.getvalue())
