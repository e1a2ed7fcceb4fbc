"""The generator's architecture, without torch: what a style file declares, and what the light path reads.

:class:`GeneratorConfig` is stored with every set of weights, so a style file rebuilds its own network
(generator.py), and the light path knows the exported network's smallest input from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GeneratorConfig:
    """Hyper-parameters that fully define a generator's shape."""

    widths: tuple[int, ...] = (16, 32, 64)
    residual_blocks: int = 5
    stem_kernel: int = 5
    # Blur before every strided convolution and bilinear (not nearest) upsampling. Without them the
    # output of an input shifted by 3 px differed from the shifted output 15x more than for a shift by
    # 8 px, the stride of the bottleneck: a texture printed on the network's own grid (the diagonal hatch
    # of the earlier styles). False in files made before it.
    antialias: bool = True

    @property
    def min_side(self) -> int:
        """The smallest height or width the network takes: its reflection padding needs 2 px at the bottom."""
        return max(2 ** len(self.widths) + 1, self.stem_kernel // 2 + 1)

    def to_dict(self) -> dict:
        return {
            "widths": list(self.widths),
            "residual_blocks": self.residual_blocks,
            "stem_kernel": self.stem_kernel,
            "antialias": self.antialias,
        }

    @classmethod
    def from_dict(cls, data: dict) -> GeneratorConfig:
        return cls(
            widths=tuple(int(w) for w in data["widths"]),
            residual_blocks=int(data["residual_blocks"]),
            stem_kernel=int(data["stem_kernel"]),
            antialias=bool(data.get("antialias", False)),
        )
