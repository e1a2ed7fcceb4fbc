"""The quality measures (stylecut.quality, stylecut.models.features) have the properties they promise."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from stylecut.models.features import gram, style_grams
from stylecut.models.loss_network import lite0_loss_network
from stylecut.quality import STYLE_DISTANCE_BLOCKS, gram_distance, sharpness, style_distance

from flow_synthetic import texture

pytestmark = pytest.mark.usefixtures("single_thread")


def test_a_gram_matrix_does_not_depend_on_the_image_size():
    features = torch.rand(1, 8, 5, 7)
    tiled = features.repeat(1, 1, 2, 3)  # the same statistics over six times the area
    torch.testing.assert_close(gram(tiled), gram(features))


@pytest.fixture(scope="module")
def net():
    return lite0_loss_network(STYLE_DISTANCE_BLOCKS)


def test_an_image_is_at_style_distance_zero_from_itself_and_not_from_another(net):
    painting, photo = texture(64, 64, seed=1)[0], texture(64, 64, seed=2)[0].flip(0)
    target = style_grams(net, [painting])
    assert style_distance(net, painting[None], target) == pytest.approx(0, abs=1e-9)
    assert style_distance(net, photo[None], target) > 0.01
    features = net(photo[None])
    assert gram_distance(features, target, (2, 4)) != gram_distance(features, target, STYLE_DISTANCE_BLOCKS)


def test_style_targets_average_the_images_grams(net):
    a, b = texture(48, 48, seed=3)[0], texture(64, 32, seed=4)[0]
    both = style_grams(net, [a, b], layers=[4])
    torch.testing.assert_close(both[4], (style_grams(net, [a])[4] + style_grams(net, [b])[4]) / 2)


def test_blur_lowers_sharpness_frame_by_frame():
    frames = torch.cat([texture(48, 48, seed=5), torch.full((1, 3, 48, 48), 0.5)])
    blurred = F.avg_pool2d(frames, 3, stride=1, padding=1, count_include_pad=False)
    sharp, soft = sharpness(frames), sharpness(blurred)
    assert len(sharp) == 2 and sharp[1] == 0.0
    assert soft[0] < 0.5 * sharp[0]
