"""What would close an E_warp miss: the temporal fuser replayed with other settings on the real output.

The ``--no-temporal`` output of a clip is the generator's per-frame
stylisation. Feeding it, frame by frame, through ``TemporalFuser`` with the
pipeline's own flow backend (``create_flow_estimator("auto")``, as `apply`
builds it) reproduces what `apply --temporal fuser` would write for other
fuser settings, without re-running the generator. The pipeline's
default settings are replayed too: their scores next to the real temporal
output's show how faithful the replay is (it skips one H.264 round trip).
The replays are then scored exactly like the real outputs.
"""

from __future__ import annotations

import numpy as np
import torch

from stylecut.flow import create_flow_estimator
from stylecut.frames import to_pixels, to_tensor
from stylecut.temporal.fuser import TemporalFuser


def parse_settings(text: str) -> dict[str, float]:
    """ "strength=0.8,scale=2" -> keyword arguments of ``TemporalFuser``."""
    pairs = (item.split("=") for item in text.split(",") if item)
    return {key: int(value) if key == "scale" else float(value) for key, value in pairs}


def label(settings: dict[str, float]) -> str:
    return "fuser " + " ".join(f"{key}={value}" for key, value in settings.items())


def pipeline_settings() -> str:
    """The settings `apply --temporal fuser` fuses with (``TemporalFuser()``), in ``parse_settings`` form."""
    fuser = TemporalFuser()
    return f"strength={fuser.strength},scale={fuser.scale}"


@torch.inference_mode()
def replay(
    inputs: np.ndarray, stylised: np.ndarray, settings: list[dict[str, float]]
) -> dict[str, np.ndarray]:
    """``{label: (T, H, W, 3) uint8}``: ``stylised`` fused with each setting, with flow from ``inputs``."""
    flow, _ = create_flow_estimator("auto", "cpu")
    frames = to_tensor(inputs)
    # One flow pass serves every setting; both directions, as ClipStyliser computes them.
    to_prev = torch.cat([flow(frames[t : t + 1], frames[t - 1 : t]) for t in range(1, len(frames))])
    from_prev = torch.cat([flow(frames[t - 1 : t], frames[t : t + 1]) for t in range(1, len(frames))])
    results = {}
    for setting in settings:
        fuser = TemporalFuser(**setting)
        fused = fuser.fuse_chunk(frames, to_tensor(stylised), to_prev, from_prev, frames[:-1])
        results[label(setting)] = to_pixels(fused)
    return results
