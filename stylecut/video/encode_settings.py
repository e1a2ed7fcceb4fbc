"""How the stylised video is compressed: the settings, their defaults and their choice lists.

Kept apart from ``encode`` (which imports numpy and ffmpeg-python) so the CLI
can read the choices and defaults without slowing ``--help``.
"""

from __future__ import annotations

from dataclasses import dataclass

from stylecut.errors import UsageError

# "h264" (libx264), "h265" (libx265, tagged hvc1), "prores" (prores_ks HQ, .mov only)
CODECS = ("h264", "h265", "prores")
# x264's and x265's speed presets (the same names), fastest first.
PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)


@dataclass(frozen=True)
class EncodeSettings:
    """How the stylised video is compressed."""

    codec: str = "h264"  # one of CODECS
    crf: int = 18  # h264/h265 quality; ProRes is fixed-quality and ignores it
    preset: str = "medium"  # one of PRESETS: h264/h265 speed/size trade-off; ProRes ignores it

    def __post_init__(self) -> None:
        if self.codec not in CODECS:
            raise UsageError(f"Unknown codec {self.codec!r}: choose {_one_of(CODECS)}.")
        if self.preset not in PRESETS:
            raise UsageError(f"Unknown preset {self.preset!r}: choose {_one_of(PRESETS)}.")


def _one_of(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + f" or {names[-1]}"
