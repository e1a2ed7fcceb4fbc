"""torchvision's RAFT (Teed & Deng, ECCV 2020) behind the flow interface.

Weights come, in this order, from a local file given by the user (a
torchvision RAFT state dict, ``.pth`` loaded with ``weights_only=True`` or
``.safetensors``; small or large is read off the keys), from the torch hub
cache where torchvision's weights API keeps its downloads, or, only when the
caller allows it, from a download through that API. Preprocessing is the
weights' own ``transforms()`` (RGB scaled to [-1, 1]). RAFT needs sides that
are multiples of 8 and, because its correlation pyramid halves the 1/8
feature map three more times, at least 128 px; :func:`pad_for_raft` pads
with replicated borders (which keeps the flow of the real pixels unchanged)
and :func:`unpad` crops the result back.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.models import WeightsEnum
from torchvision.models.optical_flow import (
    RAFT,
    Raft_Large_Weights,
    Raft_Small_Weights,
    raft_large,
    raft_small,
)

from stylecut.errors import UsageError
from stylecut.flow.scaling import WORKING_SIZE, flow_at_max_side

VARIANTS: dict[str, tuple[Callable[..., RAFT], WeightsEnum]] = {
    "raft_small": (raft_small, Raft_Small_Weights.DEFAULT),
    "raft_large": (raft_large, Raft_Large_Weights.DEFAULT),
}

Padding = tuple[int, int, int, int]


def pad_for_raft(images: Tensor, multiple: int = 8, min_side: int = 128) -> tuple[Tensor, Padding]:
    """Replicate-pad ``(N, C, H, W)`` to sides that are multiples of ``multiple`` and >= ``min_side``.

    Returns the padded images and ``(left, right, top, bottom)`` for :func:`unpad`.
    """
    h, w = images.shape[-2:]

    def target(side: int) -> int:
        return max(-(-side // multiple) * multiple, -(-min_side // multiple) * multiple)

    extra_h, extra_w = target(h) - h, target(w) - w
    pads = (extra_w // 2, extra_w - extra_w // 2, extra_h // 2, extra_h - extra_h // 2)
    if not any(pads):
        return images, pads
    return F.pad(images, pads, mode="replicate"), pads


def unpad(x: Tensor, pads: Padding) -> Tensor:
    """Undo :func:`pad_for_raft` on a tensor of the padded size."""
    left, right, top, bottom = pads
    h, w = x.shape[-2:]
    return x[..., top : h - bottom, left : w - right]


class RAFTFlow:
    """RAFT flow ``a -> b`` for batched RGB frames; see module docstring."""

    def __init__(
        self,
        model: RAFT,
        name: str,
        weights: WeightsEnum,
        num_flow_updates: int = 12,
        max_side: int = WORKING_SIZE,
        device: torch.device | str = "cpu",
    ) -> None:
        self.name = name
        self.max_side = max_side
        self.num_flow_updates = num_flow_updates
        self.device = torch.device(device)
        self._model = model.to(self.device).eval()
        self._transforms = weights.transforms()
        # The pyramid needs a 1/8 feature map of at least 2 * 2**(levels-1) cells.
        self._min_side = 16 * 2 ** (model.corr_block.num_levels - 1)

    def __call__(self, a: Tensor, b: Tensor) -> Tensor:
        with torch.inference_mode():
            return flow_at_max_side(self._padded, a, b, self.max_side)

    def _padded(self, a: Tensor, b: Tensor) -> Tensor:
        a_in, b_in = self._transforms(a.to(self.device), b.to(self.device))
        a_in, pads = pad_for_raft(a_in, min_side=self._min_side)
        b_in, _ = pad_for_raft(b_in, min_side=self._min_side)
        flow = self._model(a_in, b_in, num_flow_updates=self.num_flow_updates)[-1]
        return unpad(flow, pads).to(a.device)


def checkpoint_path(weights: WeightsEnum) -> Path:
    """Where torchvision's weights API caches ``weights``."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name


def cached_checkpoint(weights: WeightsEnum) -> Path | None:
    """:func:`checkpoint_path` if the file is there."""
    path = checkpoint_path(weights)
    return path if path.is_file() else None


def can_reach(url: str, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to ``url``'s host opens within ``timeout`` seconds.

    Runs in a daemon thread because name resolution ignores socket timeouts
    and can block for much longer on a machine without network.
    """
    host = urlparse(url).hostname or ""
    result: list[bool] = []

    def connect() -> None:
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def load_torchvision_raft(
    variant: str, device: torch.device | str, max_side: int, num_flow_updates: int = 12
) -> RAFTFlow:
    """RAFT with torchvision's official weights (from the cache, else downloaded).

    Raises StylecutError when the download fails or the cached file is damaged.
    """
    builder, weights = VARIANTS[variant]
    try:
        model = builder(weights=weights, progress=False)
    except Exception as err:  # network errors, truncated or corrupt checkpoints
        raise UsageError(
            f"Could not load torchvision's {variant} weights ({type(err).__name__}); "
            f"delete {checkpoint_path(weights)} if it exists to retry, or pass --raft-weights."
        ) from err
    return RAFTFlow(model, variant, weights, num_flow_updates, max_side, device)


def load_raft_file(
    path: Path, device: torch.device | str, max_side: int, num_flow_updates: int = 12
) -> RAFTFlow:
    """RAFT from a local torchvision state dict; raises StylecutError if unusable."""
    if not path.is_file():
        raise UsageError(f"RAFT weights file {path} does not exist.")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
        # The mask predictor (convex upsampling) exists only in raft_large.
        variant = "raft_large" if any(k.startswith("mask_predictor.") for k in state) else "raft_small"
        builder, weights = VARIANTS[variant]
        model = builder(weights=None)
        model.load_state_dict(state)
    except Exception as err:  # any unreadable or mismatched file is the user's to fix
        raise UsageError(
            f"RAFT weights file {path} is not a torchvision raft_small/raft_large state dict ({type(err).__name__})."
        ) from err
    return RAFTFlow(model, variant, weights, num_flow_updates, max_side, device)
