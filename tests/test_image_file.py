"""Still images of every mode read as the RGB a viewer shows (image_file.py), not as Pillow's clipped convert."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylecut.errors import MediaError
from stylecut.training.data import _to_tensor, read_image

from cli_support import assert_one_sentence, run_cli

WIDE = 1 << 12  # no shrinking: every pixel is compared


def read(path: Path) -> np.ndarray:
    """What training sees of the file: (H, W, 3) floats."""
    return read_image(path, WIDE).permute(1, 2, 0).numpy()


def grey_ramp(scale: float) -> np.ndarray:
    """Four greys, black to white, on a scale whose white is ``scale``."""
    return np.array([[0.0, 0.25, 0.5, 1.0]] * 2) * scale


def assert_grey_ramp(rgb: np.ndarray) -> None:
    expected = np.repeat(grey_ramp(1.0)[..., None], 3, axis=2)
    assert np.abs(rgb - expected).max() < 1e-3, rgb[0]


def test_16_bit_greyscale_png_keeps_its_tones(tmp_path: Path) -> None:
    path = tmp_path / "grey16.png"
    Image.fromarray(grey_ramp(65535).astype(np.uint16)).save(path)
    assert Image.open(path).mode.startswith("I")
    assert_grey_ramp(read(path))  # Pillow's convert("RGB") reads every tone above 255 as white


def test_32_bit_integer_greyscale_keeps_its_tones(tmp_path: Path) -> None:
    path = tmp_path / "grey32.tif"
    Image.fromarray(grey_ramp(65535).astype(np.int32), mode="I").save(path)
    assert Image.open(path).mode == "I"
    assert_grey_ramp(read(path))


@pytest.mark.parametrize("white", [1.0, 255.0])
def test_floating_point_greyscale_keeps_its_tones(tmp_path: Path, white: float) -> None:
    path = tmp_path / "float.tif"
    Image.fromarray(grey_ramp(white).astype(np.float32), mode="F").save(path)
    assert Image.open(path).mode == "F"
    assert_grey_ramp(read(path))


def test_greyscale_with_alpha_shows_white_where_transparent(tmp_path: Path) -> None:
    path = tmp_path / "la.png"
    grey = np.full((2, 2), 51, np.uint8)
    alpha = np.array([[255, 0], [255, 0]], np.uint8)
    Image.fromarray(np.stack([grey, alpha], axis=2), mode="LA").save(path)
    rgb = read(path)
    assert np.allclose(rgb[:, 0], 0.2, atol=1e-3) and np.allclose(rgb[:, 1], 1.0)


def test_rgba_is_composited_over_white(tmp_path: Path) -> None:
    path = tmp_path / "rgba.png"
    Image.new("RGBA", (2, 2), (255, 0, 0, 128)).save(path)
    half = 128 / 255
    assert np.allclose(read(path), [1.0, 1 - half, 1 - half], atol=1e-3)


def test_palette_with_a_transparent_colour_shows_white_there(tmp_path: Path) -> None:
    path = tmp_path / "palette.png"
    image = Image.fromarray(np.array([[0, 1], [0, 1]], np.uint8), mode="P")
    image.putpalette([255, 0, 0, 0, 0, 255])
    image.save(path, transparency=0)
    assert Image.open(path).mode == "P"
    rgb = read(path)
    assert np.allclose(rgb[:, 0], 1.0) and np.allclose(rgb[:, 1], [0.0, 0.0, 1.0])


def test_opaque_palette_reads_its_colours(tmp_path: Path) -> None:
    path = tmp_path / "palette.gif"
    image = Image.fromarray(np.array([[0, 1]], np.uint8), mode="P")
    image.putpalette([255, 128, 0, 0, 64, 255])
    image.save(path)
    assert np.allclose(read(path)[0], [[1.0, 128 / 255, 0.0], [0.0, 64 / 255, 1.0]], atol=1e-3)


def test_cmyk_reads_as_its_rgb(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.tif"
    Image.new("CMYK", (2, 2), (255, 0, 0, 0)).save(path)  # pure cyan
    assert np.allclose(read(path), [0.0, 1.0, 1.0])


def test_8_bit_rgb_and_greyscale_are_unchanged(tmp_path: Path) -> None:
    pixels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 14
    Image.fromarray(pixels).save(tmp_path / "rgb.png")
    Image.fromarray(pixels[..., 0]).save(tmp_path / "grey.png")
    assert torch.equal(
        read_image(tmp_path / "rgb.png", WIDE), torch.from_numpy(pixels).permute(2, 0, 1) / 255
    )
    assert np.allclose(read(tmp_path / "grey.png"), np.repeat(pixels[..., :1], 3, axis=2) / 255)


def test_a_file_that_is_not_an_image_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "noise.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(MediaError, match="not a readable image"):
        read_image(path, WIDE)


def bomb_png(path: Path, side: int = 100_000) -> Path:
    """A tiny PNG whose header claims ``side`` x ``side`` pixels (10 gigapixels): a decompression bomb."""
    buffer = path.with_suffix(".small.png")
    Image.new("RGB", (1, 1)).save(buffer)
    data = bytearray(buffer.read_bytes())
    header = b"IHDR" + struct.pack(">II", side, side) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    path.write_bytes(bytes(data))
    return path


def test_a_decompression_bomb_is_refused_in_one_sentence(tmp_path: Path, stylecut_home: Path) -> None:
    bomb = bomb_png(tmp_path / "bomb.png")
    result = run_cli(
        "finetune", "--style-image", bomb, "--name", "bomb", "--base", "none", "--steps", 1, "--device", "cpu"
    )
    assert result.exit_code == 1, result.stderr  # a bad input, as the README's exit codes say
    assert_one_sentence(result.stderr, "bomb.png", "too large")
    assert not stylecut_home.exists() or not any(stylecut_home.rglob("*"))


def test_training_frames_of_any_pixel_depth_read_on_their_own_scale() -> None:
    ramp = np.linspace(0, 1, 12, dtype=np.float32).reshape(2, 2, 3)
    for pixels in (np.rint(ramp * 255).astype(np.uint8), np.rint(ramp * 65535).astype(np.uint16), ramp):
        assert torch.allclose(_to_tensor(pixels, 64), torch.from_numpy(ramp).permute(2, 0, 1), atol=1 / 255)
