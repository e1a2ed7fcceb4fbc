"""The temporal fuser (stylecut.temporal.fuser) on synthetic clips with exact flow.

Frames are a 1/f texture panned by subpixel amounts (exact phase shifts, so
the input itself carries no interpolation blur); the "stylisation" is a
fixed colour transform of the frame, optionally with independent per-frame
noise standing in for a style network's flicker.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from stylecut.flow.metrics import warping_error
from stylecut.flow.warp import occlusion_mask
from stylecut.quality import sharpness
from stylecut.temporal.fuser import TemporalFuser

from flow_synthetic import constant_flow, shift, texture

SIZE = 128

pytestmark = pytest.mark.usefixtures("single_thread")


def stylise(frame: torch.Tensor) -> torch.Tensor:
    """A deterministic stand-in for the generator: gamma and a channel swap."""
    return frame.clamp(0, 1).pow(0.8).flip(1)


def panning_clip(frames: int, seed: int = 0):
    """Frames panned by subpixel steps and the exact flows t->t-1 and t-1->t (None for t=0)."""
    base = texture(SIZE, SIZE, seed)
    g = torch.Generator().manual_seed(seed + 1)
    steps = 0.2 + 0.6 * torch.rand(frames, 2, generator=g)
    offsets = steps.cumsum(0)
    clip = [shift(base, float(x), float(y)) for x, y in offsets]
    to_prev = [None] + [constant_flow(1, SIZE, SIZE, -float(x), -float(y)) for x, y in steps[1:]]
    from_prev = [None] + [-f for f in to_prev[1:]]
    return clip, to_prev, from_prev


def fuse(clip, stylised, to_prev, from_prev, fuser: TemporalFuser | None = None) -> list[torch.Tensor]:
    """The whole clip fused in one chunk (``to_prev``/``from_prev`` hold None for the first frame)."""
    fuser = fuser or TemporalFuser()
    flows = torch.cat(to_prev[1:]), torch.cat(from_prev[1:])
    return list(fuser.fuse_chunk(torch.cat(clip), torch.cat(stylised), *flows, torch.cat(clip[:-1])).split(1))


def blotch_noise(t: int, amplitude: float = 0.06, cell: int = 8) -> torch.Tensor:
    """Independent per frame, spatially correlated over ~``cell`` px like style-network flicker."""
    g = torch.Generator().manual_seed(1000 + t)
    coarse = torch.randn(1, 3, SIZE // cell, SIZE // cell, generator=g)
    return amplitude * F.interpolate(coarse, size=(SIZE, SIZE), mode="bicubic", align_corners=True)


def test_scene_cut_resets_to_the_new_stylisation() -> None:
    clip, to_prev, from_prev = panning_clip(6)
    fuser = TemporalFuser()
    fuse(clip, [stylise(f) for f in clip], to_prev, from_prev, fuser)
    other = texture(SIZE, SIZE, seed=7)
    zero = torch.zeros(1, 2, SIZE, SIZE)  # what a flow method may well return across a cut
    out = fuser.step(other, stylise(other), zero, zero, clip[-1])
    torch.testing.assert_close(out, stylise(other), atol=1e-6, rtol=0)
    # ... and the history now is the new shot: a static next frame stays put.
    again = fuser.step(other, stylise(other), zero, zero, other)
    torch.testing.assert_close(again, stylise(other), atol=1e-5, rtol=0)


def test_no_runaway_smear_over_a_long_subpixel_pan() -> None:
    # Carrying the previous output costs some fine detail to resampling (the price of
    # strokes that stick to the scene); the fresh stylisation let in by the photometric
    # check must stop that loss from growing with the length of the shot.
    clip, to_prev, from_prev = panning_clip(60)
    stylised = [stylise(f) for f in clip]
    out = fuse(clip, stylised, to_prev, from_prev)
    kept = [sharpness(o)[0] / sharpness(s)[0] for o, s in zip(out, stylised)]
    middle, end = sum(kept[20:40]) / 20, sum(kept[40:]) / 20
    assert end >= 0.6
    assert end >= 0.9 * middle


def test_reduces_flicker_at_least_twofold() -> None:
    clip, to_prev, from_prev = panning_clip(40)
    flicker = [stylise(f) + blotch_noise(t) for t, f in enumerate(clip)]
    out = fuse(clip, flicker, to_prev, from_prev)
    flows = torch.cat(to_prev[1:])
    masks = occlusion_mask(flows, torch.cat(from_prev[1:]))
    fused_error = warping_error(torch.cat(out), flows, masks)
    raw_error = warping_error(torch.cat(flicker), flows, masks)
    assert fused_error <= 0.5 * raw_error


@pytest.mark.parametrize("size, full_inputs", [((SIZE, SIZE), True), ((50, 70), False)])
def test_static_frames_stay_equal_to_the_stylisation(size: tuple[int, int], full_inputs: bool) -> None:
    # (50, 70) is not a multiple of the fusion scale and omits the optional
    # backward flow and previous frame.
    frames = texture(*size, seed=5).expand(30, -1, -1, -1)
    zero = torch.zeros(29, 2, *size)
    out = TemporalFuser().fuse_chunk(
        frames, stylise(frames), zero, zero if full_inputs else None, frames[1:] if full_inputs else None
    )
    # Only float32 rounding of the sampling grid (about 1e-4 px): 1/40 of an 8-bit level.
    torch.testing.assert_close(out, stylise(frames), atol=1e-4, rtol=0)


def test_chunks_continue_the_clip() -> None:
    # The pipeline fuses a clip chunk by chunk: the history carries over from one chunk to the next.
    clip, to_prev, from_prev = panning_clip(10)
    flicker = [stylise(f) + blotch_noise(t) for t, f in enumerate(clip)]
    whole = torch.cat(fuse(clip, flicker, to_prev, from_prev))
    fuser = TemporalFuser()
    clip, flicker = torch.cat(clip), torch.cat(flicker)
    to_prev, from_prev = torch.cat(to_prev[1:]), torch.cat(from_prev[1:])
    first = fuser.fuse_chunk(clip[:4], flicker[:4], to_prev[:3], from_prev[:3], clip[:3])
    rest = fuser.fuse_chunk(clip[4:], flicker[4:], to_prev[3:], from_prev[3:], clip[3:-1])
    torch.testing.assert_close(torch.cat([first, rest]), whole, atol=1e-6, rtol=0)
    assert fuser.chunk_trust[0] is not None and len(fuser.chunk_trust) == 6


def test_disoccluded_background_takes_the_new_stylisation() -> None:
    # A textured square slides right over a static textured background; the
    # stylisation's colours drift every frame, so any history dragged into the
    # freshly revealed background would show as a ghost.
    background, square = texture(SIZE, SIZE, seed=1), texture(SIZE, SIZE, seed=2)
    x0, y0, side, dx = 24, 40, 40, 6
    clip, to_prev, from_prev = [], [], []
    for t in range(8):
        left = x0 + dx * t
        frame = background.clone()
        frame[..., y0 : y0 + side, left : left + side] = square[..., y0 : y0 + side, x0 : x0 + side]
        clip.append(frame)
        back, fwd = torch.zeros(1, 2, SIZE, SIZE), torch.zeros(1, 2, SIZE, SIZE)
        back[:, 0, y0 : y0 + side, left : left + side] = -dx
        fwd[:, 0, y0 : y0 + side, left - dx : left - dx + side] = dx
        to_prev.append(back if t else None)
        from_prev.append(fwd if t else None)
    stylised = [stylise(f) + 0.05 * t for t, f in enumerate(clip)]
    out = fuse(clip, stylised, to_prev, from_prev)
    left = x0 + dx * 7
    revealed = (..., slice(y0, y0 + side), slice(left - dx, left))
    torch.testing.assert_close(out[-1][revealed], stylised[-1][revealed].clamp(0, 1), atol=1e-6, rtol=0)
    # Elsewhere the history is used: the drift is damped away from the edges.
    far = (..., slice(4, 20), slice(4, SIZE - 4))
    assert (out[-1][far] - stylised[-1][far]).abs().mean() > 0.02
