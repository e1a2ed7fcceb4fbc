"""Optical flow, warping and occlusion for temporally consistent stylisation.

``warp``/``occlusion_mask`` move images and masks between frames,
``create_flow_estimator`` picks a flow backend (one of ``KINDS``: torchvision
RAFT or OpenCV DIS), ``warping_error`` measures temporal consistency; see the
submodules for conventions. The names below are imported on first use, so
reading ``KINDS`` (the command line's choices) does not import torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

KINDS = ("auto", "raft", "dis")

_EXPORTS = {
    "FlowEstimator": "stylecut.flow.estimators",
    "create_flow_estimator": "stylecut.flow.estimators",
    "warping_error": "stylecut.flow.metrics",
    "in_frame_mask": "stylecut.flow.warp",
    "occlusion_mask": "stylecut.flow.warp",
    "random_smooth_flow": "stylecut.flow.warp",
    "warp": "stylecut.flow.warp",
}

__all__ = [
    "KINDS",
    "FlowEstimator",
    "create_flow_estimator",
    "in_frame_mask",
    "occlusion_mask",
    "random_smooth_flow",
    "warp",
    "warping_error",
]

if TYPE_CHECKING:
    from stylecut.flow.estimators import FlowEstimator, create_flow_estimator
    from stylecut.flow.metrics import warping_error
    from stylecut.flow.warp import in_frame_mask, occlusion_mask, random_smooth_flow, warp


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
