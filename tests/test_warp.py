"""Warping, occlusion masks and random smooth flows (stylecut.flow.warp)."""

from __future__ import annotations

import pytest
import torch

from stylecut.flow.warp import in_frame_mask, occlusion_mask, random_smooth_flow, warp

from flow_synthetic import constant_flow

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
def test_zero_flow_is_identity(mode: str) -> None:
    image = torch.rand(2, 3, 17, 23)
    out = warp(image, torch.zeros(2, 2, 17, 23), mode=mode)
    torch.testing.assert_close(out, image, atol=1e-5, rtol=0)


def test_integer_translation_is_exact_in_the_interior() -> None:
    image = torch.rand(1, 3, 30, 40)
    out = warp(image, constant_flow(1, 30, 40, 3.0, -2.0))
    # out(x, y) = image(x + 3, y - 2) wherever that lies inside the image.
    torch.testing.assert_close(out[..., 2:, :-3], image[..., :-2, 3:], atol=1e-5, rtol=0)


def test_subpixel_translation_of_a_ramp_is_exact() -> None:
    # Bilinear interpolation reproduces affine images exactly.
    ys, xs = torch.meshgrid(torch.arange(20.0), torch.arange(30.0), indexing="ij")
    ramp = (0.02 * xs + 0.03 * ys).expand(1, 1, 20, 30)
    out = warp(ramp, constant_flow(1, 20, 30, 0.3, -0.7))
    expected = 0.02 * (xs + 0.3) + 0.03 * (ys - 0.7)
    torch.testing.assert_close(out[0, 0, 1:, :-1], expected[1:, :-1], atol=1e-5, rtol=0)


def _moving_square(h: int = 40, w: int = 60, x0: int = 20, y0: int = 14, side: int = 12, dx: int = 5):
    """Flows of a square moving right by ``dx`` over a static background, frame a -> b."""
    flow_ab = torch.zeros(1, 2, h, w)
    flow_ab[0, 0, y0 : y0 + side, x0 : x0 + side] = dx
    flow_ba = torch.zeros(1, 2, h, w)
    flow_ba[0, 0, y0 : y0 + side, x0 + dx : x0 + dx + side] = -dx
    return flow_ab, flow_ba, (x0, y0, side, dx)


def test_occlusion_mask_marks_disoccluded_band_of_moving_square() -> None:
    flow_ab, flow_ba, (x0, y0, side, dx) = _moving_square()
    # On b's grid: the background revealed behind the square has no match in a.
    mask = occlusion_mask(flow_ba, flow_ab)[0, 0]
    assert mask.shape == (40, 60)
    assert mask[y0 : y0 + side, x0 : x0 + dx].eq(0).all()
    assert mask[:, :10].eq(1).all() and mask[:, -10:].eq(1).all()
    assert mask[y0 + 2 : y0 + side - 2, x0 + dx + 2 : x0 + dx + side - 2].eq(1).all()
    # On a's grid: the background the square is about to cover.
    mask_a = occlusion_mask(flow_ab, flow_ba)[0, 0]
    assert mask_a[y0 : y0 + side, x0 + side : x0 + side + dx].eq(0).all()


def test_occlusion_mask_flags_pixels_that_leave_the_frame() -> None:
    flow = constant_flow(1, 20, 30, 4.0, 0.0)
    mask = occlusion_mask(flow, -flow)[0, 0]
    assert mask[:, -4:].eq(0).all()
    assert mask[:, :-4].eq(1).all()
    assert torch.equal(in_frame_mask(flow)[0, 0], mask)


def test_occlusion_mask_on_a_coarse_grid_keeps_frame_pixel_thresholds() -> None:
    flow_ab, flow_ba, (x0, y0, side, dx) = _moving_square(h=64, w=96, x0=32, y0=24, side=16, dx=8)
    coarse = torch.nn.functional.avg_pool2d
    mask = occlusion_mask(coarse(flow_ba, 4), coarse(flow_ab, 4), stride=4)[0, 0]
    assert mask.shape == (16, 24)
    assert mask[y0 // 4 : (y0 + side) // 4, x0 // 4 : (x0 + dx) // 4].eq(0).all()
    assert mask[:, :5].eq(1).all() and mask[:, -5:].eq(1).all()


def test_random_smooth_flow_is_bounded_smooth_and_seeded() -> None:
    flow = random_smooth_flow(4, 48, 64, 6.0, generator=torch.Generator().manual_seed(1))
    assert flow.shape == (4, 2, 48, 64)
    longest = flow.norm(dim=1).amax(dim=(1, 2))
    assert (longest <= 6.0 + 1e-4).all() and (longest >= 1.5 - 1e-4).all()
    # Smooth: per pixel the field changes by under 10% of max_disp, its slope by under 2%.
    for dim in (-1, -2):
        assert flow.diff(dim=dim).abs().max() < 0.6
        assert flow.diff(dim=dim).diff(dim=dim).abs().max() < 0.12
    again = random_smooth_flow(4, 48, 64, 6.0, generator=torch.Generator().manual_seed(1))
    assert torch.equal(flow, again)
