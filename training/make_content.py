"""Render the default content set of `stylecut finetune` into stylecut/data/content/.

When an editor gives no `--content`, finetune trains on these images. They
are made here from material the project may ship: frames of our own example
clip (examples/grace_hopper_pan.mp4) and matplotlib's sample data (the
public-domain Grace Hopper photograph, a clip-art gift box, two elevation
maps), plus a small ray-cast scene of lit spheres. Together they give the
generator faces, fabric, terrain, smooth shading, hard edges and highlights
to learn on. Twelve JPEGs, at most 384 px on the longer side. Deterministic:
re-run with `python training/make_content.py` (needs matplotlib).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LightSource
from PIL import Image, ImageFilter

from stylecut.frames import from_unit
from stylecut.training.data import read_video_frames

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "stylecut" / "data" / "content"
SAMPLES = Path(matplotlib.get_data_path()) / "sample_data"
SIDE = 384
QUALITY = 88
FAR = 1e6  # ray length that stands for "hits nothing" (finite, so the shading maths stays NaN-free)


def _from_unit(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray(from_unit(rgb))


def clip_frames() -> list[Image.Image]:
    """Four frames across the example clip's push-in: wide on the uniform to close on the face."""
    frames = read_video_frames(ROOT / "examples" / "grace_hopper_pan.mp4", 4, SIDE)
    return [_from_unit(frame.permute(1, 2, 0).numpy()) for frame in frames]


def portrait_crops() -> list[Image.Image]:
    """The whole photograph, the face, and the medals and sleeve, each at another scale."""
    photo = Image.open(SAMPLES / "grace_hopper.jpg").convert("RGB")
    boxes = [(0, 0, 512, 600), (120, 40, 400, 250), (60, 330, 500, 600)]
    return [photo.crop(box) for box in boxes]


def gift_still_life() -> Image.Image:
    """The gift box on a table against a wall, with a soft contact shadow."""
    width, height = SIDE, 288
    y = np.linspace(0, 1, height)[:, None, None]
    wall = np.array([0.86, 0.80, 0.70]) * (0.75 + 0.25 * y / 0.62)
    table = np.array([0.55, 0.36, 0.22]) * (0.7 + 0.3 * (y - 0.62) / 0.38)
    scene = np.where(y < 0.62, wall, table) * np.ones((1, width, 1))
    shadow = Image.new("L", (width, height), 0)
    shadow.paste(255, (150, 235, 330, 258))
    darkening = np.asarray(shadow.filter(ImageFilter.GaussianBlur(12)), dtype=float)[..., None] / 255
    image = _from_unit(scene * (1 - 0.45 * darkening))
    box = (
        Image.open(SAMPLES / "Minduka_Present_Blue_Pack.png")
        .convert("RGBA")
        .resize((176, 176), Image.Resampling.LANCZOS)
    )
    image.paste(box, (150, 82), box)
    return image


def terrain_views() -> list[Image.Image]:
    """Hill-shaded elevation maps, the only outdoor scenes: a fault valley in two lights, a coast."""
    elevation = np.load(SAMPLES / "jacksboro_fault_dem.npz")["elevation"]
    morning = LightSource(azdeg=315, altdeg=35).shade(
        elevation, cmap=colormaps["gist_earth"], vert_exag=0.05, blend_mode="soft"
    )
    evening = LightSource(azdeg=120, altdeg=15).shade(
        elevation[:200, 150:], cmap=colormaps["YlOrBr_r"], vert_exag=0.08, blend_mode="soft"
    )
    topo = np.load(SAMPLES / "topobathy.npz")["topo"].astype(float)
    coast = LightSource(azdeg=200, altdeg=40).shade(
        topo, cmap=colormaps["terrain"], vert_exag=0.02, blend_mode="overlay"
    )
    # The coast map is tiny (120x91): bring it up to size so it is not all blur after cropping.
    coast_image = _from_unit(coast[..., :3]).resize(
        (SIDE, round(SIDE * topo.shape[0] / topo.shape[1])), Image.Resampling.BICUBIC
    )
    return [
        _from_unit(morning[..., :3]),
        _from_unit(evening[..., :3]).resize((SIDE, 306), Image.Resampling.BICUBIC),
        coast_image,
    ]


def sphere_scene() -> Image.Image:
    """Three lit, glossy spheres on a checkered floor: smooth gradients, hard edges, highlights."""
    width, height = SIDE, 288
    ys, xs = np.mgrid[0:height, 0:width].astype(float)
    ray = np.stack([(xs - width / 2) / height, -(ys - height / 2) / height, np.ones_like(xs)], -1)
    ray /= np.linalg.norm(ray, axis=-1, keepdims=True)
    light = np.array([-0.5, 0.8, -0.4]) / np.linalg.norm([-0.5, 0.8, -0.4])
    sky = np.array([0.55, 0.70, 0.92]) * (1 - 0.4 * ray[..., 1:2])
    # The floor is the plane y = -1 seen from the origin; a checker shows its perspective.
    t_floor = np.where(ray[..., 1] < -1e-3, -1 / np.minimum(ray[..., 1], -1e-3), FAR)
    hit = ray * t_floor[..., None]
    checker = (np.floor(hit[..., 0]) + np.floor(hit[..., 2])) % 2
    floor = np.where(checker[..., None] > 0, [0.85, 0.85, 0.8], [0.3, 0.32, 0.35]) * np.exp(
        -t_floor[..., None] / 25
    )
    image = np.where((t_floor < FAR)[..., None], floor, sky)
    depth = t_floor
    for centre, radius, colour in (
        ([-1.3, -0.4, 5.0], 0.6, [0.85, 0.2, 0.15]),
        ([0.2, -0.1, 6.0], 0.9, [0.2, 0.6, 0.3]),
        ([1.6, -0.5, 4.6], 0.5, [0.95, 0.8, 0.2]),
    ):
        centre = np.array(centre)
        b = ray @ centre
        disc = b**2 - (centre @ centre - radius**2)
        t = np.where(disc > 0, b - np.sqrt(np.maximum(disc, 0)), FAR)
        closer = t < depth
        normal = (ray * t[..., None] - centre) / radius
        diffuse = np.clip(normal @ light, 0, 1)[..., None]
        reflected = 2 * (normal @ light)[..., None] * normal - light
        specular = np.clip(-(reflected * ray).sum(-1), 0, 1)[..., None] ** 40
        shade = np.array(colour) * (0.2 + 0.8 * diffuse) + 0.6 * specular
        image = np.where(closer[..., None], shade, image)
        depth = np.where(closer, t, depth)
    return _from_unit(image)


def fit(image: Image.Image) -> Image.Image:
    scale = SIDE / max(image.size)
    if scale >= 1:
        return image
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)


def main() -> None:
    named = {f"clip_{i}": image for i, image in enumerate(clip_frames())}
    named |= dict(zip(("portrait_full", "portrait_face", "portrait_uniform"), portrait_crops()))
    named |= dict(zip(("valley_morning", "valley_evening", "coast"), terrain_views()))
    named |= {"gift": gift_still_life(), "spheres": sphere_scene()}
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.jpg"):
        old.unlink()
    for name, image in named.items():
        fit(image).save(OUT / f"{name}.jpg", quality=QUALITY, optimize=True)
    total = sum(p.stat().st_size for p in OUT.glob("*.jpg"))
    print(f"{len(named)} images, {total / 1e6:.2f} MB in {OUT}")


if __name__ == "__main__":
    main()
