"""The parts of a custom look: relative style loss, colour distribution, base choice, real motion pairs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stylecut.flow.warp import warp
from stylecut.models.features import gram
from stylecut.models.loss_network import lite0_loss_network
from stylecut.quality import STYLE_DISTANCE_BLOCKS
from stylecut.training import losses
from stylecut.training.base_choice import choose_base
from stylecut.training.colour import ReferenceColours, rgb_to_lab, texture_share
from stylecut.training.motion import MotionPairs


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_the_style_loss_weighs_every_block_alike_whatever_its_magnitude():
    torch.manual_seed(0)
    features = {0: torch.rand(2, 4, 8, 8) * 100, 1: torch.rand(2, 6, 4, 4) * 0.01}
    targets = {k: gram(f[:1])[0] for k, f in features.items()}
    weights = {0: 1.0, 1: 1.0}
    assert losses.style_loss({k: f[:1] for k, f in features.items()}, targets, weights) == pytest.approx(
        0, abs=1e-6
    )
    # The same relative change in either block costs the same, though their Grams differ by 10^8.
    small = {0: features[0][:1], 1: features[1][:1] * 1.1}
    large = {0: features[0][:1] * 1.1, 1: features[1][:1]}
    assert losses.style_loss(small, targets, weights) == pytest.approx(
        float(losses.style_loss(large, targets, weights))
    )


def test_lab_matches_the_standard_values():
    rgb = torch.tensor([[1.0, 1, 1], [1, 0, 0], [0, 0, 0]]).T[None, :, :, None]
    lab = rgb_to_lab(rgb)[0, :, :, 0].T * 100
    assert lab.flatten().tolist() == pytest.approx([100, 0, 0, 53.24, 80.09, 67.20, 0, 0, 0], abs=0.02)


def test_the_colour_term_is_zero_on_the_reference_and_pulls_towards_its_palette():
    torch.manual_seed(0)
    warm = torch.stack(
        [torch.rand(96, 96) * 0.3 + 0.6, torch.rand(96, 96) * 0.3 + 0.3, torch.rand(96, 96) * 0.2]
    )
    reference = ReferenceColours([warm])
    assert float(reference.loss(warm[None])) < 1e-4
    grey = torch.full((1, 3, 48, 48), 0.5, requires_grad=True)
    loss = reference.loss(grey)
    loss.backward()
    assert float(loss.detach()) > 0.01
    red, _, blue = (-grey.grad[0].mean((1, 2))).tolist()  # the descent direction per channel
    assert red > 0 > blue


class Gains(nn.Module):
    """A stand-in generator that scales each colour channel."""

    def __init__(self, gains: tuple[float, float, float]) -> None:
        super().__init__()
        self.gains = torch.tensor(gains).view(1, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gains


def test_the_base_is_the_candidate_closest_to_the_reference_or_none():
    torch.manual_seed(0)
    net = lite0_loss_network(STYLE_DISTANCE_BLOCKS)
    reference = [torch.rand(3, 96, 96) * torch.tensor([0.2, 0.4, 1.0]).view(3, 1, 1)]
    examples = [torch.rand(3, 64, 80), torch.rand(3, 72, 72)]
    candidates = {"blue": Gains((0.25, 0.45, 0.9)), "orange": Gains((1.0, 0.5, 0.1))}
    choice = choose_base(net, reference, examples, candidates)
    assert choice.name == "blue"
    assert choice.distances["blue"] < choice.distances["input"] and set(choice.distances) == {
        "input",
        "blue",
        "orange",
    }
    assert choose_base(net, reference, examples, {"orange": candidates["orange"]}).name is None


def test_motion_pairs_come_with_a_flow_that_lines_up_consecutive_frames(make_clip):
    clip = make_clip(size="128x96", frames=12)
    pairs = MotionPairs([clip], pairs_per_video=3, max_side=128, crop=64, seed=0)
    assert len(pairs) >= 1
    a, b, flow_ba, mask = pairs.sample(2)
    assert (
        a.shape == b.shape == (2, 3, 64, 64)
        and flow_ba.shape == (2, 2, 64, 64)
        and mask.shape == (2, 1, 64, 64)
    )
    assert 0 < float(mask.mean()) <= 1
    aligned = ((warp(a, flow_ba) - b).abs() * mask).sum() / mask.sum()
    unaligned = ((a - b).abs() * mask).sum() / mask.sum()
    assert aligned < unaligned


def test_the_texture_share_is_low_for_a_grade_and_high_for_a_texture():
    torch.manual_seed(0)
    net = lite0_loss_network((0, 2, 4))
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 96), torch.linspace(0, 1, 96), indexing="ij")
    scenes = [torch.stack([xx, yy, (xx + yy) / 2]) * s for s in (0.6, 0.9)]
    graded = [(x * torch.tensor([1.0, 0.7, 0.4]).view(3, 1, 1)) ** 0.6 for x in scenes]
    stripes = [
        (torch.sin(xx * 90) > 0).float().expand(3, -1, -1) * torch.tensor([0.9, 0.8, 0.2]).view(3, 1, 1)
    ]
    grade = texture_share(net, graded, scenes, (0, 2, 4))
    texture = texture_share(net, stripes, scenes, (0, 2, 4))
    assert grade < 0.5 < texture <= 1.0
