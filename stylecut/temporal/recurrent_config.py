"""The recurrent temporal stage's configuration and constants, without torch: its file declares them, and
both the PyTorch stage (recurrent.py) and the light path's (recurrent_arrays.py) run by them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

# Network inputs on the coarse grid: frame, stylisation, anchor - stylisation, previous output - stylisation,
# warped previous frame - frame, warped anchor frame - frame (3 each), anchor validity, occlusion mask,
# sub-pixel phase of D in x and y.
INPUT_CHANNELS = 22
# Outputs: anchor weight (logit), colour correction (3, tanh).
OUTPUT_CHANNELS = 4
SCALES = (1, 2, 4, 8)
# How fast (an exponent per frame) and how far the servo may scale the sharpening.
SERVO_RATE = 0.3
SERVO_MAX = 2.0
MAX_WIDTH = 64


@dataclass(frozen=True)
class RecurrentConfig:
    """Architecture (``scale``, ``features``, ``hidden``) and run-time rules; stored with the weights."""

    scale: int = 4
    features: int = 16
    hidden: int = 24
    correction_limit: float = 0.25  # largest colour correction, in [0, 1] RGB units
    # Sharpening gain at a half-pixel phase, before the servo: about what one bicubic resampling of a
    # stylisation costs (measured on DAVIS bear with starry-night).
    sharpening: float = 0.19
    refresh_coverage: float = 0.8
    cut_threshold: float = 0.25
    photometric_tolerance: float = 0.05
    sample_mode: str = "bicubic"
    # registration.py: the share of DIS's correction to the anchor taken each frame, the largest
    # correction taken (frame pixels), and the most an anchor may be enlarged before a cell drops it.
    registration_blend: float = 0.3
    registration_gate: float = 1.0
    max_magnification: float = 1.12

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RecurrentConfig:
        """A config from untrusted JSON; ValueError names the first field out of bounds."""
        if not isinstance(data, dict) or set(data) - {f.name for f in fields(cls)}:
            raise ValueError("unknown fields")
        config = cls(**data)
        checks = {
            "scale": config.scale in SCALES,
            "features": _whole(config.features, 1, MAX_WIDTH),
            "hidden": _whole(config.hidden, 1, MAX_WIDTH),
            "correction_limit": _number(config.correction_limit, 0.0, 1.0),
            "sharpening": _number(config.sharpening, 0.0, 2.0),
            "refresh_coverage": _number(config.refresh_coverage, 0.0, 1.0),
            "cut_threshold": _number(config.cut_threshold, 0.0, 1.0),
            "photometric_tolerance": _number(config.photometric_tolerance, 1e-3, 1.0),
            "sample_mode": config.sample_mode in ("bilinear", "bicubic"),
            "registration_blend": _number(config.registration_blend, 0.0, 1.0),
            "registration_gate": _number(config.registration_gate, 0.0, 64.0),
            "max_magnification": _number(config.max_magnification, 1.0, 16.0),
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(name)
        return config


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _number(value: object, low: float, high: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high
