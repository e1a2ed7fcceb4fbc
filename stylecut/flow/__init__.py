"""Optical flow, warping and occlusion for temporally consistent stylisation.

``warp``/``occlusion_mask`` move images and masks between frames,
``create_flow_estimator`` picks a flow backend (torchvision RAFT or OpenCV
DIS), ``warping_error`` measures temporal consistency; see the submodules for
conventions.
"""

from stylecut.flow.estimators import FlowEstimator, create_flow_estimator
from stylecut.flow.metrics import warping_error
from stylecut.flow.warp import in_frame_mask, occlusion_mask, random_smooth_flow, warp

__all__ = [
    "FlowEstimator",
    "create_flow_estimator",
    "in_frame_mask",
    "occlusion_mask",
    "random_smooth_flow",
    "warp",
    "warping_error",
]
