"""Whether the full-size output keeps the temporal stage's steadiness once the revision has repainted it.

The stage steadies the working-size draft; at 720p and above the revision network then repaints the
enlarged draft with the footage's fine lightness, frame by frame. This runs `stylecut apply` as a user
does (the first ``--frames`` of a clip, with the temporal stage and with ``--no-temporal``) and scores
both outputs with ``temporal.clip_consistency`` (flow and mask from the input frames) at full size and
taken down to the draft's size: temporal over frame by frame, short- and long-term E_warp and detail.

    python benchmarks/fullsize_steadiness.py --clip cockatoo --style starry-night
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from temporal import clip_consistency, evaluation_flow

from media import SHARED_MEDIA, find_clip, prepare_clip, read_frames

DRAFT_SIZE = (854, 480)


def ratios(variants: dict[str, np.ndarray]) -> dict[str, float]:
    """Temporal over frame by frame: short- and long-term E_warp, and the mean detail ratio."""
    scores = clip_consistency(variants, evaluation_flow())
    ratio = {
        gap: float(np.mean(scores[gap]["temporal"]) / np.mean(scores[gap]["no-temporal"]))
        for gap in ("short", "long")
    }
    return {**ratio, "detail": float(np.mean(scores["sharpness_ratio"]["temporal"]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA)
    parser.add_argument("--clip", default="cockatoo")
    parser.add_argument("--style", default="starry-night")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        clip = prepare_clip(find_clip(args.media, args.clip), Path(scratch) / "in.mp4", args.frames)
        outputs = {"input": read_frames(clip)}
        for name, extra in (("no-temporal", ["--no-temporal"]), ("temporal", [])):
            out = Path(scratch) / f"{name}.mp4"
            command = [
                str(Path(sys.executable).parent / "stylecut"),
                "apply",
                str(clip),
                "--style",
                args.style,
            ]
            command += ["-o", str(out), "-q", "--threads", str(args.threads), "--crf", "12", *extra]
            subprocess.run(command, check=True)
            outputs[name] = read_frames(out)
    small = {
        k: np.stack([cv2.resize(f, DRAFT_SIZE, interpolation=cv2.INTER_AREA) for f in v])
        for k, v in outputs.items()
    }
    result = {"full size": ratios(outputs), "draft size": ratios(small)}
    print(
        args.clip,
        args.style,
        json.dumps({k: {m: round(v, 3) for m, v in r.items()} for k, r in result.items()}),
    )


if __name__ == "__main__":
    main()
