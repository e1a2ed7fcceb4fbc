"""Export the bundled networks for the light runtime, into their own files; only the exports change.

    python training/export_networks.py

For each style in weights/manifest.json, and the temporal network: load it (checking its sha256), rewrite
the file with the same weights, bit for bit, its metadata and its network exported to OpenVINO IR
(``stylecut.runtime.export``, checked against PyTorch there), and enter the new sha256 in the manifest.
Rerun it after a change of the exporter or of a network's code; finetune and the training scripts export
the files they write themselves.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path

from remeasure_styles import same_bits
from safetensors.torch import load_file

from stylecut.styles.registry import MANIFEST
from stylecut.styles.style_file import load_networks, save_style
from stylecut.temporal.recurrent_file import MANIFEST_KEY, load_recurrent, save_recurrent
from stylecut.training.export import update_manifest
from stylecut.weights_file import EXPORTED

ROOT = Path(__file__).resolve().parent.parent


def _weights(path: Path) -> dict:
    return {key: value for key, value in load_file(str(path)).items() if not key.startswith(EXPORTED)}


def _rewrite(path: Path, save: Callable[[], str]) -> str:
    """``save()`` rewrites ``path``; returns its sha256 once the weights are found unchanged."""
    before = _weights(path)
    sha256 = save()
    if not same_bits(before, _weights(path)):
        raise SystemExit(f"{path}: the weights changed on rewriting; restore it from git.")
    return sha256


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=ROOT / "weights")
    args = parser.parse_args()
    manifest_path = args.weights / MANIFEST
    for entry in json.loads(manifest_path.read_text())["styles"]:
        path = args.weights / entry["file"]
        generator, revision, metadata = load_networks(path, entry["sha256"])
        sha256 = _rewrite(path, lambda: save_style(path, generator, metadata, revision))  # noqa: B023 - called at once
        load_networks(path, sha256)
        update_manifest(manifest_path, {**entry, "sha256": sha256})
        print(entry["name"], sha256)
    manifest = json.loads(manifest_path.read_text())
    entry = manifest[MANIFEST_KEY]
    path = args.weights / entry["file"]
    stage, document = load_recurrent(path, entry["sha256"])
    metadata = {key: value for key, value in document.items() if key != "config"}
    entry["sha256"] = _rewrite(path, lambda: save_recurrent(path, stage, metadata))
    load_recurrent(path, entry["sha256"])
    tmp = manifest_path.with_name(f".{MANIFEST}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, manifest_path)
    print(path.stem, entry["sha256"])


if __name__ == "__main__":
    main()
