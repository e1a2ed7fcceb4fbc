"""Turn a finished training run into a style: weights, metadata, metrics, preview.

Bundled styles are also entered in weights/manifest.json with their sha256;
user styles (finetune) are self-describing files in the user style folder.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from stylecut.flow.dis import DISFlow
from stylecut.frames import to_tensor
from stylecut.models.features import style_grams
from stylecut.models.generator import Generator
from stylecut.models.loss_network import lite0_loss_network
from stylecut.quality import (
    CONTENT_BLOCK,
    STYLE_DISTANCE_BLOCKS,
    content_distance,
    style_distance,
    temporal_error,
)
from stylecut.styles.registry import MANIFEST
from stylecut.training.data import load_media, read_video_frames
from stylecut.training.preview import contact_sheet
from stylecut.training.trainer import Trainer
from stylecut.video.decode import FrameReader

MEASURE_SIDE = 480


@torch.no_grad()
def measure(
    generator: Generator,
    style_images: list[torch.Tensor],
    examples: list[torch.Tensor],
    motion: list[torch.Tensor],
) -> dict:
    """Style and content distances on `examples`, temporal error on the consecutive frames `motion`, speed at 720p."""
    generator = generator.eval()
    net = lite0_loss_network((*STYLE_DISTANCE_BLOCKS, CONTENT_BLOCK))
    target = style_grams(net, style_images)
    outputs = [generator(x[None])[0] for x in examples]
    inputs_distance = sum(style_distance(net, x[None], target) for x in examples) / len(examples)
    outputs_distance = sum(style_distance(net, y[None], target) for y in outputs) / len(outputs)
    content = sum(content_distance(net, y[None], x[None]) for x, y in zip(examples, outputs)) / len(examples)

    frames = torch.stack(motion)
    stylised = torch.cat([generator(frames[i : i + 4]) for i in range(0, len(frames), 4)])
    flow = DISFlow()
    frame = torch.rand(1, 3, 720, 1280)
    generator(frame)
    started = time.perf_counter()
    for _ in range(3):
        generator(frame)
    return {
        "style_distance": round(outputs_distance, 4),
        "style_distance_of_input": round(inputs_distance, 4),
        "style_ratio": round(outputs_distance / inputs_distance, 4),
        "content_distance": round(content, 4),
        "temporal_error_per_frame": round(temporal_error(stylised, frames, flow), 6),
        "temporal_error_of_input": round(temporal_error(frames, frames, flow), 6),
        "seconds_per_frame_720p_cpu": round((time.perf_counter() - started) / 3, 3),
    }


def _fit(image: torch.Tensor, side: int) -> torch.Tensor:
    scale = side / max(image.shape[-2:])
    return F.interpolate(image[None], scale_factor=scale, mode="area" if scale < 1 else "bilinear")[0]


def evaluation_media(media: Path) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Held-out stills (a photo and frames of people and animals) and a run of consecutive frames with motion."""
    examples = [
        _fit(x, MEASURE_SIDE) for x in load_media([media / "photos" / "photo_pytorch_amber.jpg"], 1080, 1)
    ]
    for clip in (
        "cotracker_davis_bear_854x480.mp4",
        "decord_flipping_a_pancake_426x240.mkv",
        "mmaction2_test_320x240_xvid_mp3.avi",
    ):
        examples += [_fit(x, MEASURE_SIDE) for x in read_video_frames(media / "clips" / clip, 1, 1280)]
    motion = _consecutive_frames(media / "clips" / "cotracker_davis_bear_854x480.mp4", 16)
    return examples, motion


def _consecutive_frames(path: Path, count: int) -> list[torch.Tensor]:
    reader = FrameReader(path)
    start = len(reader) // 3
    frames = reader.read(range(start, start + count))
    return [_fit(to_tensor(f), MEASURE_SIDE) for f in frames]


def export_style(trainer: Trainer, weights_dir: Path, recipe: str, media: Path) -> dict:
    """Write weights_dir/NAME.safetensors and NAME.png and enter the style in the manifest."""
    cfg = trainer.config
    style_images = load_media([Path(p) for p in cfg.style], cfg.style_max_side, cfg.frames_per_video)
    examples, motion = evaluation_media(media)
    generator = trainer.final_generator()
    metrics = measure(generator, style_images, examples, motion)
    path = weights_dir / f"{cfg.name}.safetensors"
    sha256 = trainer.save_style(path, recipe, metrics)
    contact_sheet(generator, style_images[0], examples[:3], path.with_suffix(".png"))
    entry = {
        "name": cfg.name,
        "file": path.name,
        "sha256": sha256,
        "style_image": Path(cfg.style[0]).name,
        "description": cfg.description,
        "preview": path.with_suffix(".png").name,
        "metrics": metrics,
        "training_seconds": round(trainer.elapsed, 1),
        "steps": trainer.step,
        "recipe": recipe,
    }
    _update_manifest(weights_dir / MANIFEST, entry)
    return entry


def _update_manifest(path: Path, entry: dict) -> None:
    manifest = json.loads(path.read_text()) if path.exists() else {"styles": []}
    manifest["styles"] = sorted(
        [s for s in manifest["styles"] if s["name"] != entry["name"]] + [entry], key=lambda s: s["name"]
    )
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, path)
