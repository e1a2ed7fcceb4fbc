"""Flicker reduction, sharpness, cut detection and speed of the temporal fuser on real footage.

The fuser is measured apart from any style: the "stylisation" is a fixed
colour transform of each frame plus independent per-frame noise blotches of
a few pixels, a controlled stand-in for a style network's flicker
(``run_all.py`` measures the fuser on a real style's output). Frames come
through stylecut's frame reader; flow comes from DIS on the input frames.
Reported per clip: E_warp (Lai et al.) of the noisy per-frame stylisation and
of the fused one, their ratio; on the noise-free stylisation, the
fused/per-frame sharpness ratio (``stylecut.quality.sharpness``: smear) and
the mean deviation from the per-frame stylisation (ghosts from flow errors);
the mean trust of consecutive frames and of cuts between clips; and the wall
and CPU time of one fuser step at 360p and 720p. Run:
``python benchmarks/temporal_fuser.py [--media DIR] [--config strength=0.6,scale=4 ...]``.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from stylecut.flow.dis import DISFlow
from stylecut.flow.metrics import warping_error
from stylecut.flow.warp import occlusion_mask, random_smooth_flow, warp
from stylecut.frames import to_tensor
from stylecut.quality import sharpness
from stylecut.temporal.fuser import TemporalFuser
from stylecut.video.decode import FrameReader

from media import SHARED_MEDIA

CLIPS = [
    "cotracker_davis_bear_854x480.mp4",
    "imageio_cockatoo_1280x720_20fps.mp4",
    "mdn_cc0_flower_960x540.mp4",
    "intel_car-detection_768x432_12.5fps.mp4",
    "mmflow_sintel_demo_1024x436_10fps_mpeg4.mp4",
    "decord_flipping_a_pancake_426x240.mkv",
]


def read_frames(path: Path, count: int, width: int = 640) -> torch.Tensor:
    """The first ``count`` frames, resized to ``width`` px wide, as ``(T, 3, H, W)`` RGB in [0, 1]."""
    reader = FrameReader(path)
    frames = reader.read(range(min(count, len(reader))))
    height = round(frames.shape[1] * width / frames.shape[2] / 2) * 2
    resized = np.stack([cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA) for frame in frames])
    return to_tensor(resized)


def stylise(frames: torch.Tensor) -> torch.Tensor:
    return frames.clamp(0, 1).pow(0.8).flip(1)


def blotches(shape: torch.Size, cell: int, amplitude: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t, c, h, w = shape
    coarse = torch.randn(t, c, -(-h // cell), -(-w // cell), generator=g)
    return amplitude * F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)


def run_fuser(fuser: TemporalFuser, frames, stylised, to_prev, from_prev) -> tuple[torch.Tensor, list[float]]:
    """The whole clip fused in one chunk, and the mean trust of every frame with history."""
    fuser.reset()
    fused = fuser.fuse_chunk(frames, stylised, to_prev, from_prev, frames[:-1])
    return fused, [trust.item() for trust in fuser.chunk_trust if trust is not None]


def step_time(fuser: TemporalFuser, h: int, w: int, repeats: int = 20) -> tuple[float, float]:
    """Median wall and CPU (process_time) milliseconds of one step with history."""
    g = torch.Generator().manual_seed(0)
    flow = random_smooth_flow(1, h, w, 8.0, generator=g)
    prev = torch.rand(1, 3, h, w, generator=g)
    frame = warp(prev, flow)
    fuser.reset()
    fuser.step(prev, prev, None, None, None)
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        fuser.step(frame, frame, flow, -flow, prev)
        wall.append((time.perf_counter() - start_wall) * 1000.0)
        cpu.append((time.process_time() - start_cpu) * 1000.0)
    return statistics.median(wall), statistics.median(cpu)


def parse_config(text: str) -> dict[str, float]:
    pairs = (item.split("=") for item in text.split(",") if item)
    return {k: (int(v) if k == "scale" else float(v)) for k, v in pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--config", action="append", default=[], help="e.g. strength=0.6,scale=4")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--preset", default="medium", help="DIS preset for the flow")
    parser.add_argument("--no-timing", dest="timing", action="store_false")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    configs = [parse_config(c) for c in args.config] or [{}]

    dis = DISFlow(args.preset)
    clips = {}
    for name in CLIPS:
        frames = read_frames(args.media / "clips" / name, args.frames)
        to_prev, from_prev = dis(frames[1:], frames[:-1]), dis(frames[:-1], frames[1:])
        clips[name] = (frames, to_prev, from_prev, occlusion_mask(to_prev, from_prev))

    with torch.inference_mode():
        for config in configs:
            fuser = TemporalFuser(**config)
            print(f"TemporalFuser({config or 'defaults'})")
            ratios = {8: [], 16: []}
            for i, (name, (frames, to_prev, from_prev, masks)) in enumerate(clips.items()):
                clean = stylise(frames)
                fused_clean, trusts = run_fuser(fuser, frames, clean, to_prev, from_prev)
                sharpness_ratio = statistics.mean(sharpness(fused_clean)) / statistics.mean(sharpness(clean))
                line = [
                    f"  {name[:28]:28s} E_warp input {warping_error(frames, to_prev, masks):.4f}",
                    f"sharp {sharpness_ratio:.3f}",
                    f"dev {(fused_clean - clean).abs().mean():.4f}",
                    f"trust {min(trusts):.2f}-{max(trusts):.2f}",
                ]
                for cell in ratios:
                    noisy = (clean + blotches(clean.shape, cell, 0.06, seed=i)).clamp(0, 1)
                    fused, _ = run_fuser(fuser, frames, noisy, to_prev, from_prev)
                    raw_e, fused_e = (
                        warping_error(noisy, to_prev, masks),
                        warping_error(fused, to_prev, masks),
                    )
                    ratios[cell].append(fused_e / raw_e)
                    line.append(f"{cell}px noise E_warp {raw_e:.4f}->{fused_e:.4f} ({fused_e / raw_e:.2f})")
                print(", ".join(line))
            for cell, values in ratios.items():
                print(f"  mean E_warp ratio with {cell}px blotches: {statistics.mean(values):.3f}")

            cut_trusts = []
            firsts = [F.interpolate(c[0][:1], size=(352, 640), mode="area") for c in clips.values()]
            for a, b in itertools.permutations(firsts, 2):
                zero = torch.zeros(1, 2, 352, 640)
                fuser.reset()
                fuser.step(a, a, None, None, None)
                fuser.step(b, b, dis(b, a), dis(a, b), a)
                cut_trusts.append(fuser.last_trust.item())
                fuser.reset()
                fuser.step(a, a, None, None, None)
                fuser.step(b, b, zero, zero, a)
                cut_trusts.append(fuser.last_trust.item())
            print(
                f"  cuts between clips: mean trust max {max(cut_trusts):.3f}, mean {statistics.mean(cut_trusts):.3f}"
            )
            for h, w in [(360, 640), (720, 1280)] if args.timing else []:
                wall, cpu = step_time(fuser, h, w)
                print(f"  step {w}x{h}: median {wall:.1f} ms wall, {cpu:.1f} ms CPU")


if __name__ == "__main__":
    main()
