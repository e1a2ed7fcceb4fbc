import numpy as np
import torch

from stylecut.frames import from_unit, shrink, to_pixels, to_tensor, unit_pixels


def test_every_level_survives_the_round_trip_through_a_tensor():
    pixels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=-1)
    frames = to_tensor(pixels)
    assert frames.shape == (1, 3, 16, 16) and frames.dtype == torch.float32
    assert frames.min() == 0 and frames.max() == 1
    back = to_pixels(frames)
    assert back.dtype == np.uint8 and np.array_equal(back, pixels)
    assert np.array_equal(from_unit(unit_pixels(pixels)), pixels)


def test_out_of_range_values_are_clamped():
    assert np.array_equal(to_pixels(torch.tensor([-0.5, 1.5, 0.5]).view(3, 1, 1)), [[[0, 255, 128]]])
    assert np.array_equal(from_unit(np.array([-0.5, 1.5])), [0, 255])


def test_the_shrink_averages_the_pixels_it_covers_instead_of_sampling_a_few():
    noise = torch.rand(1, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    # Plain bilinear at an eighth keeps a quarter of the pixels and the noise's spread (std 0.15 here).
    assert shrink(noise, (8, 8)).std() < 0.05
