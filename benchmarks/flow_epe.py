"""Accuracy and speed of the flow backends on ground-truth pairs and real footage.

Reports the end-point error (mean and median of ``|flow - gt|`` in pixels,
over the pixels the dataset marks valid) of each DIS preset, and RAFT when
weights are available, on Sintel alley_1 and FlyingChairs pairs, also over
the pixels that pass the forward-backward occlusion test (those the temporal
fuser actually uses) with their share, plus the
time per pair at 640x360 and 1280x720 on frames of a real clip. Data is read
from a media folder (``--media``, default ../shared/media beside the repository) and never
copied. Run: ``python benchmarks/flow_epe.py [--media DIR] [--raft-weights F]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from stylecut.flow.dis import PRESETS, DISFlow
from stylecut.flow.estimators import create_flow_estimator
from stylecut.flow.scaling import WORKING_SIZE
from stylecut.flow.warp import occlusion_mask
from stylecut.frames import to_tensor
from stylecut.video.decode import FrameReader

from media import SHARED_MEDIA


def read_flo(path: Path) -> np.ndarray:
    """Middlebury .flo file -> ``(H, W, 2)`` float32."""
    with path.open("rb") as fh:
        if np.fromfile(fh, np.float32, 1)[0] != 202021.25:
            raise ValueError(f"{path} is not a .flo file")
        w, h = np.fromfile(fh, np.int32, 2)
        return np.fromfile(fh, np.float32, 2 * w * h).reshape(h, w, 2)


def read_rgb(path: Path) -> torch.Tensor:
    """Image file -> ``(1, 3, H, W)`` float RGB in [0, 1]."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return to_tensor(bgr[..., ::-1].copy())[None]


def timed(fn, repeats: int = 5) -> tuple[object, float, float]:
    """Result of ``fn()`` and its median wall and CPU times in ms (after a warm-up).

    On a shared machine the CPU time (process_time) is the steadier figure:
    wall time also counts the slices other jobs take.
    """
    result = fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    return result, statistics.median(wall) * 1000.0, statistics.median(cpu) * 1000.0


def pairs(media: Path) -> list[tuple[str, Path, Path, Path, Path | None]]:
    """(name, frame a, frame b, ground truth, invalid-pixel mask or None)."""
    d = media / "flow"
    return [
        (
            "sintel_alley1",
            d / "flow_sintel_alley1_clean_frame_0002.png",
            d / "flow_sintel_alley1_clean_frame_0003.png",
            d / "flow_sintel_alley1_clean_gt_0002_to_0003.flo",
            d / "flow_sintel_alley1_clean_invalid_0002.png",
        ),
        (
            "flyingchairs_0",
            d / "flow_flyingchairs_0000000_img0.ppm",
            d / "flow_flyingchairs_0000000_img1.ppm",
            d / "flow_flyingchairs_0000000_gt.flo",
            None,
        ),
    ]


def epe_table(estimators: dict[str, object], media: Path) -> None:
    for name, path_a, path_b, path_gt, path_invalid in pairs(media):
        a, b = read_rgb(path_a), read_rgb(path_b)
        gt = torch.from_numpy(read_flo(path_gt)).permute(2, 0, 1)[None]
        valid = torch.ones(gt.shape[-2:], dtype=torch.bool)
        if path_invalid is not None:
            valid = torch.from_numpy(cv2.imread(str(path_invalid), cv2.IMREAD_GRAYSCALE) == 0)
        print(f"{name} {a.shape[-1]}x{a.shape[-2]}, |gt| mean {gt.norm(dim=1)[0][valid].mean():.2f} px")
        for label, estimator in estimators.items():
            with torch.inference_mode():
                flow, wall, cpu = timed(lambda e=estimator, a=a, b=b: e(a, b), repeats=3)
                kept = occlusion_mask(flow, estimator(b, a))[0, 0].bool() & valid
            error = (flow - gt).norm(dim=1)[0]
            epe = error[valid]
            print(
                f"  {label:28s} EPE mean {epe.mean():6.3f} median {epe.median():6.3f}"
                f"  | consistent {kept.sum() / valid.sum():4.0%}: EPE mean {error[kept].mean():6.3f}"
                f"  | {wall:6.1f} ms ({cpu:.1f} CPU)"
            )


def speed_table(estimators: dict[str, object], media: Path) -> None:
    frames = FrameReader(media / "clips" / "imageio_cockatoo_1280x720_20fps.mp4").read([0, 1])
    for w, h in [(640, 360), (1280, 720)]:
        resized = (cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in frames)
        a, b = (to_tensor(f)[None] for f in resized)
        for label, estimator in estimators.items():
            with torch.inference_mode():
                _, wall, cpu = timed(lambda e=estimator, a=a, b=b: e(a, b))
            print(f"  {w}x{h} {label:28s} {wall:6.1f} ms/pair ({cpu:.1f} CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA)
    parser.add_argument("--raft-weights", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch and OpenCV threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)

    estimators: dict[str, object] = {}
    for preset in PRESETS:
        estimators[f"dis-{preset} full-res"] = DISFlow(preset, max_side=1 << 16)
        estimators[f"dis-{preset} max_side={WORKING_SIZE}"] = DISFlow(preset, max_side=WORKING_SIZE)
    flow, notice = create_flow_estimator("auto", raft_weights=args.raft_weights)
    print(notice)
    if not flow.name.startswith("dis"):
        estimators[f"{flow.name} max_side={WORKING_SIZE}"] = flow
    epe_table(estimators, args.media)
    speed_table({k: v for k, v in estimators.items() if k.endswith(f"max_side={WORKING_SIZE}")}, args.media)


if __name__ == "__main__":
    main()
