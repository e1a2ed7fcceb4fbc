"""Which CPU runtime runs the generator: PyTorch, ONNX Runtime or OpenVINO, at which precision and shape.

Speed: each variant stylises the same chunk of frames (``--chunk``, as the
pipeline hands them over) at 360p, 720p and 1080p; variants are interleaved
over ``--rounds`` rounds so that a burst of load on the shared machine hits
them all, and the best round is reported (the least disturbed), with the CPU
seconds of this process per frame. A variant is ``runtime-precision-shape-mode``:
shape ``dyn`` compiles once for any input size, ``static`` once per size;
mode ``batch`` runs the chunk in one call, ``frames`` one frame per call,
``streams`` as many parallel requests as OpenVINO's throughput hint picks.
Set-up: seconds to export (PyTorch -> OpenVINO IR, -> ONNX) and to compile.
Accuracy: real frames of a few clips, scaled to each size, stylised by every
bundled style given; the 8-bit outputs are compared with PyTorch fp32's:
mean absolute difference per channel and the largest single difference,
in 8-bit levels (the bound is a mean of 1 level).
ONNX export without the ``onnx`` package: the TorchScript exporter needs it
only to merge onnxscript functions, which this network has none of, so that
step is skipped here.
Usage: ``python benchmarks/runtime_choice.py --media ../shared/media [--variants ...] [--skip-speed]``.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import time
from pathlib import Path

# isort: off
import stylecut  # noqa: F401 -- first: importing it switches OpenVINO's telemetry off (stylecut/offline.py)

# isort: on
import numpy as np
import onnxruntime as ort
import openvino as ov
import torch

from stylecut.frames import to_tensor
from stylecut.styles.registry import load_style, resolve_style

from media import SHARED_MEDIA, find_clip, prepare_clip, read_frames

SIZES = {"360p": 360, "720p": 720, "1080p": 1080}
SPEED_VARIANTS = [
    "torch-f32-dyn-batch",
    "torch-f32-dyn-frames",
    "ort-f32-dyn-batch",
    "ort-f32-dyn-frames",
    "ov-f32-dyn-batch",
    "ov-f32-dyn-frames",
    "ov-f32-static-batch",
    "ov-f32-static-frames",
    "ov-f32-static-streams",
    "ov-bf16-dyn-frames",
    "ov-bf16-static-batch",
    "ov-bf16-static-frames",
    "ov-bf16-static-streams",
]


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def onnx_bytes(generator: torch.nn.Module) -> bytes:
    from torch.onnx._internal.torchscript_exporter import utils as exporter

    exporter.onnx_proto_utils._add_onnxscript_fn = lambda model, _opsets: model  # see the module docstring
    buffer = io.BytesIO()
    torch.onnx.export(
        generator,
        (torch.rand(1, 3, 64, 64),),
        buffer,
        opset_version=18,
        dynamo=False,
        input_names=["frames"],
        output_names=["stylised"],
        dynamic_axes={"frames": {0: "n", 2: "h", 3: "w"}, "stylised": {0: "n", 2: "h", 3: "w"}},
    )
    return buffer.getvalue()


class Variants:
    """Builds and caches each variant's callable ``(N, 3, H, W) float32 ndarray -> ndarray``."""

    def __init__(self, generator: torch.nn.Module, threads: int) -> None:
        self.generator, self.threads = generator, threads
        self.core = ov.Core()
        self.setup: dict[str, float] = {}
        tick = time.perf_counter()
        self.ir = ov.convert_model(
            generator, example_input=torch.rand(1, 3, 64, 64), input=[ov.PartialShape([-1, 3, -1, -1])]
        )
        self.setup["openvino convert (PyTorch -> IR)"] = time.perf_counter() - tick
        self._cache: dict[tuple, object] = {}

    def _ov(self, precision: str, shape: tuple | None, hint: str):
        key = ("ov", precision, shape, hint)
        if key not in self._cache:
            model = self.ir.clone()
            if shape is not None:
                model.reshape({0: ov.PartialShape(list(shape))})
            config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": hint}
            if hint == "LATENCY":
                config["INFERENCE_NUM_THREADS"] = self.threads
            tick = time.perf_counter()
            compiled = self.core.compile_model(model, "CPU", config)
            self.setup[
                f"openvino compile {precision} {'x'.join(map(str, shape)) if shape else 'dynamic'} {hint}"
            ] = time.perf_counter() - tick
            self._cache[key] = compiled
        return self._cache[key]

    def release_static(self) -> None:
        """Drop the models compiled for one input shape (they hold that shape's buffers)."""
        self._cache = {key: value for key, value in self._cache.items() if key == "ort" or key[2] is None}

    def _ort(self):
        if "ort" not in self._cache:
            tick = time.perf_counter()
            data = onnx_bytes(self.generator)
            self.setup["onnx export"] = time.perf_counter() - tick
            options = ort.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = self.threads, 1
            tick = time.perf_counter()
            self._cache["ort"] = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
            self.setup["onnxruntime session"] = time.perf_counter() - tick
        return self._cache["ort"]

    def get(self, name: str, n: int, h: int, w: int):
        runtime, precision, shape_kind, mode = name.split("-")
        per_call = n if mode == "batch" else 1
        if runtime == "torch":

            def call(x):
                with torch.inference_mode():
                    return self.generator(torch.from_numpy(x)).numpy()
        elif runtime == "ort":
            session = self._ort()

            def call(x):
                return session.run(None, {"frames": x})[0]
        else:
            shape = None if shape_kind == "dyn" else (per_call, 3, h, w)
            compiled = self._ov(precision, shape, "THROUGHPUT" if mode == "streams" else "LATENCY")
            if mode == "streams":
                return self._streams(compiled)
            request = compiled.create_infer_request()

            def call(x):
                return request.infer({0: x}, share_inputs=True)[0]

        if mode == "batch":
            return call
        return lambda x: np.concatenate([call(x[i : i + 1]) for i in range(len(x))])

    @staticmethod
    def _streams(compiled):
        queue = ov.AsyncInferQueue(compiled)

        def run(x):
            out = [None] * len(x)

            def done(request, index):
                out[index] = request.get_output_tensor(0).data.copy()

            queue.set_callback(done)
            for i in range(len(x)):
                queue.start_async({0: x[i : i + 1]}, i)
            queue.wait_all()
            return np.concatenate(out)

        return run


def measure_speed(variants: Variants, names: list[str], sizes: list[str], chunk: int, rounds: int) -> dict:
    table: dict = {}
    for size in sizes:
        h = SIZES[size]
        w = h * 16 // 9
        x = np.random.default_rng(0).random((chunk, 3, h, w), dtype=np.float32)
        calls = {name: variants.get(name, chunk, h, w) for name in names}
        for call in calls.values():
            call(x)  # warm-up: first-inference allocations
        best = {name: (float("inf"), 0.0) for name in names}
        walls: dict[str, list[float]] = {name: [] for name in names}
        peak = {name: 0.0 for name in names}
        for _ in range(rounds):
            for name, call in calls.items():
                load = os.getloadavg()[0]
                reset_peak_rss()
                tick, cpu = time.perf_counter(), time.process_time()
                call(x)
                wall, used = time.perf_counter() - tick, time.process_time() - cpu
                peak[name] = max(peak[name], peak_rss_mb())
                walls[name].append(wall)
                if wall < best[name][0]:
                    best[name] = (wall, used)
        table[size] = {
            name: {
                "ms_per_frame_best": 1000 * best[name][0] / chunk,
                "cpu_ms_per_frame": 1000 * best[name][1] / chunk,
                "ms_per_frame_median": 1000 * float(np.median(walls[name])) / chunk,
                "peak_rss_mb": peak[name],
                "load": load,
            }
            for name in names
        }
        for name in names:
            r = table[size][name]
            print(
                f"  {size} {name}: {r['ms_per_frame_best']:.0f} ms/frame best, "
                f"{r['ms_per_frame_median']:.0f} median, "
                f"{r['cpu_ms_per_frame']:.0f} CPU ms/frame, peak RSS {r['peak_rss_mb']:.0f} MB",
                flush=True,
            )
        del calls
        variants.release_static()
        gc.collect()
    return table


def reset_peak_rss() -> None:
    """Start this process's VmHWM again from its current RSS (Linux: clear_refs 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_accuracy(
    styles: list[str], clips: list[Path], sizes: list[str], threads: int, frames: int, scratch: Path
) -> dict:
    """Mean |diff| per channel and max |diff| (8-bit levels) of each fast variant vs PyTorch fp32."""
    table: dict = {}
    for style in styles:
        generator, _ = load_style(resolve_style(style))
        variants = Variants(generator, threads)
        for size in sizes:
            for clip in clips:
                prepared = prepare_clip(clip, scratch / f"{clip.stem}-{size}.mp4", frames, SIZES[size])
                x = to_tensor(read_frames(prepared)).numpy()
                n, _, h, w = x.shape
                outputs = {
                    name: variants.get(name, n, h, w)(x)
                    for name in (
                        "torch-f32-dyn-batch",
                        "ov-f32-dyn-frames",
                        "ov-bf16-dyn-frames",
                        "ort-f32-dyn-frames",
                    )
                }
                reference = np.round(outputs.pop("torch-f32-dyn-batch") * 255)
                for name, out in outputs.items():
                    diff = np.abs(np.round(out * 255) - reference)
                    entry = {
                        "mean_per_channel": diff.mean(axis=(0, 2, 3)).tolist(),
                        "max": float(diff.max()),
                        "share_over_2_levels": float((diff > 2).mean()),
                    }
                    table.setdefault(style, {}).setdefault(size, {}).setdefault(clip.stem, {})[name] = entry
                    print(
                        f"  {style} {size} {clip.stem} {name}: "
                        f"mean/channel {np.round(entry['mean_per_channel'], 3).tolist()}, "
                        f"max {entry['max']:.0f}, >2 levels {100 * entry['share_over_2_levels']:.3f}%",
                        flush=True,
                    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=SHARED_MEDIA)
    parser.add_argument("--style", default="starry-night", help="style timed for speed")
    parser.add_argument("--accuracy-styles", default="starry-night,great-wave")
    parser.add_argument("--clips", default="cockatoo,bear,flower")
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--variants", default=",".join(SPEED_VARIANTS))
    parser.add_argument("--chunk", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--accuracy-frames", type=int, default=6)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sizes = [s for s in args.sizes.split(",") if s]
    results: dict = {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "threads": args.threads,
        "load_at_start": os.getloadavg(),
        "versions": {"torch": torch.__version__, "openvino": ov.__version__, "onnxruntime": ort.__version__},
    }
    print(f"{results['cpu']}, {results['cores']} cores, load {results['load_at_start'][0]:.1f}", flush=True)
    if not args.skip_speed:
        generator, _ = load_style(resolve_style(args.style))
        variants = Variants(generator, args.threads)
        results["speed"] = measure_speed(variants, args.variants.split(","), sizes, args.chunk, args.rounds)
        results["setup_seconds"] = variants.setup
        for step, seconds in variants.setup.items():
            print(f"  set-up {step}: {seconds:.2f} s")
    if not args.skip_accuracy:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="stylecut-runtime-") as scratch:
            clips = [find_clip(args.media, key) for key in args.clips.split(",")]
            results["accuracy"] = measure_accuracy(
                args.accuracy_styles.split(","),
                clips,
                sizes,
                args.threads,
                args.accuracy_frames,
                Path(scratch),
            )
    results["load_at_end"] = os.getloadavg()
    print(f"load at end {results['load_at_end'][0]:.1f}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
