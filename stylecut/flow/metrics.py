"""Temporal-consistency measure: the warping error of Lai et al. (ECCV 2018).

``E_warp = mean_t  sum_p M_t(p) |O_t(p) - warp(O_{t-1}, F_t)(p)|^2 / sum_p M_t(p)``
where ``F_t`` is the flow from frame t to frame t-1 and ``M_t`` the occlusion
mask, both computed on the INPUT frames, so that a method cannot lower its own
score by changing the motion. Lower is steadier; blur and ghosting lower it
too, so always read it next to a sharpness or fidelity measure.
"""

from __future__ import annotations

from torch import Tensor

from stylecut.flow.warp import warp


def warping_error(outputs: Tensor, flows_to_prev: Tensor, masks: Tensor) -> float:
    """E_warp of a sequence.

    ``outputs`` is ``(T, C, H, W)``; ``flows_to_prev[i]`` and ``masks[i]``
    (``(T-1, 2, H, W)`` and ``(T-1, 1, H, W)``) belong to the pair
    (frame i+1 -> frame i).
    """
    diff = (outputs[1:] - warp(outputs[:-1], flows_to_prev)).square().sum(dim=1, keepdim=True)
    per_pair = (diff * masks).sum(dim=(1, 2, 3)) / masks.sum(dim=(1, 2, 3)).clamp_min(1.0)
    return per_pair.mean().item()
