"""Turn a finished training run into a style: weights, metadata, metrics, preview.

Bundled styles are also entered in weights/manifest.json with their sha256;
user styles (finetune) are self-describing files in the user style folder.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import torch

from stylecut.flow.dis import DISFlow
from stylecut.models.features import style_grams
from stylecut.models.generator import Generator
from stylecut.models.loss_network import lite0_loss_network
from stylecut.pipeline.controls import working_size
from stylecut.quality import (
    CONTENT_BLOCK,
    STYLE_DISTANCE_BLOCKS,
    content_distance,
    style_distance,
    temporal_error,
)
from stylecut.runtime.runner import create_runner
from stylecut.styles.registry import MANIFEST
from stylecut.training.data import load_media, read_image, read_video_frames
from stylecut.training.preview import contact_sheet
from stylecut.training.trainer import Trainer

MEASURE_SIDE = 480
# Media the bundled styles never trained on (their configs train on all of the media folder's photos/ and
# clips/): consecutive frames from the optical-flow pairs in flow/, a real camera's (Middlebury
# RubberWhale), an animated film's (MPI-Sintel alley_1) and synthetic motion (FlyingChairs).
HELD_OUT_PAIRS = (
    ("flow_middlebury_rubberwhale_frame10.png", "flow_middlebury_rubberwhale_frame11.png"),
    ("flow_sintel_alley1_clean_frame_0002.png", "flow_sintel_alley1_clean_frame_0003.png"),
    ("flow_flyingchairs_0000000_img0.ppm", "flow_flyingchairs_0000000_img1.ppm"),
)
MEASURED_ON = (
    "held out of the bundled styles' training content: the first frame of each pair for style and"
    " content, each consecutive pair for the flicker, at 480 px on the longer side: "
    + ", ".join(f"{first} -> {second}" for first, second in HELD_OUT_PAIRS)
    + " (media folder, flow/)"
)
SPEED_FRAME = (1280, 720)  # width, height
SPEED_RUNS = 5


@torch.no_grad()
def measure(
    generator: Generator,
    style_images: list[torch.Tensor],
    examples: list[torch.Tensor],
    motion: list[torch.Tensor],
    working_side: int | None,
) -> dict:
    """Style and content distances on `examples`, the flicker on each run of consecutive frames in `motion`
    (averaged over the runs), and the generator's time for a 720p frame as apply runs it."""
    generator = generator.eval()
    net = lite0_loss_network((*STYLE_DISTANCE_BLOCKS, CONTENT_BLOCK))
    target = style_grams(net, style_images)
    outputs = [generator(x[None])[0] for x in examples]
    inputs_distance = sum(style_distance(net, x[None], target) for x in examples) / len(examples)
    outputs_distance = sum(style_distance(net, y[None], target) for y in outputs) / len(outputs)
    content = sum(content_distance(net, y[None], x[None]) for x, y in zip(examples, outputs)) / len(examples)
    flow = DISFlow()
    stylised = [torch.cat([generator(run[i : i + 4]) for i in range(0, len(run), 4)]) for run in motion]
    flicker = sum(temporal_error(y, x, flow) for x, y in zip(motion, stylised)) / len(motion)
    flicker_of_input = sum(temporal_error(x, x, flow) for x in motion) / len(motion)
    return {
        "measured_on": MEASURED_ON,
        "style_distance": round(outputs_distance, 4),
        "style_distance_of_input": round(inputs_distance, 4),
        "style_ratio": round(outputs_distance / inputs_distance, 4),
        "content_distance": round(content, 4),
        "temporal_error_per_frame": round(flicker, 6),
        "temporal_error_of_input": round(flicker_of_input, 6),
        **generator_speed(generator, working_side),
    }


def generator_speed(generator: Generator, working_side: int | None) -> dict:
    """The generator's time for a 720p frame as `apply` runs it by default: OpenVINO at fp32, at the style's
    working size, here on one thread. CPU seconds of this process (on one thread, the wall time on an idle
    core; a shared machine slows the wall clock, not this), the median of SPEED_RUNS after a first run."""
    import openvino

    height, width = working_size(*SPEED_FRAME, working_side=working_side)
    runner, _ = create_runner(generator, torch.device("cpu"), "openvino", threads=1)
    frame = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    runner(frame)
    seconds = []
    for _ in range(SPEED_RUNS):
        started = time.process_time()
        runner(frame)
        seconds.append(time.process_time() - started)
    version = openvino.__version__.split("-")[0]
    return {
        "generator_seconds_per_frame_720p": round(statistics.median(seconds), 3),
        "generator_timing": f"OpenVINO {version} fp32, 1 thread, CPU seconds at the working size {width}x{height}",
    }


def evaluation_media(media: Path) -> list[torch.Tensor]:
    """Stills out of finetune's default content: a photo and frames of people and animals. The bundled
    styles trained on them (see held_out_media), so their export shows them in the preview only."""
    examples = load_media([media / "photos" / "photo_pytorch_amber.jpg"], MEASURE_SIDE, 1)
    for clip in ("cotracker_davis_bear_854x480.mp4", "decord_flipping_a_pancake_426x240.mkv"):
        examples += read_video_frames(media / "clips" / clip, 1, MEASURE_SIDE)
    return examples


def held_out_media(media: Path) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The stills and the runs of consecutive frames (``(2, 3, H, W)`` each) of HELD_OUT_PAIRS, at 480 px."""
    runs = [
        torch.stack([read_image(media / "flow" / name, MEASURE_SIDE) for name in pair])
        for pair in HELD_OUT_PAIRS
    ]
    return [run[0] for run in runs], runs


def export_style(trainer: Trainer, weights_dir: Path, recipe: str, media: Path, **extra: object) -> dict:
    """Write weights_dir/NAME.safetensors (its metadata plus ``extra``) and NAME.png and enter the style in
    the manifest."""
    cfg = trainer.config
    style_images = load_media([Path(p) for p in cfg.style], cfg.style_max_side, cfg.frames_per_video)
    generator = trainer.final_generator()
    metrics = measure(generator, style_images, *held_out_media(media), cfg.working_side)
    path = weights_dir / f"{cfg.name}.safetensors"
    sha256 = trainer.save_style(path, recipe, metrics, **extra)
    contact_sheet(generator, style_images[0], evaluation_media(media), path.with_suffix(".png"))
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
    update_manifest(weights_dir / MANIFEST, entry)
    return entry


def update_manifest(path: Path, entry: dict) -> None:
    """Enter a style in the manifest at `path`, replacing the entry of its name; written atomically."""
    manifest = json.loads(path.read_text()) if path.exists() else {"styles": []}
    manifest["styles"] = sorted(
        [s for s in manifest["styles"] if s["name"] != entry["name"]] + [entry], key=lambda s: s["name"]
    )
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, path)
