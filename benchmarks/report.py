"""Turn the raw benchmark results into summary figures, target verdicts and REPORT.md.

``summarise`` reduces the per-frame numbers to per-clip means and to the
means over clips that the issue's targets are stated in (E_warp ratios are
averaged per clip, so a clip with large motion does not outweigh the
others); ``write_report`` renders tables from them. Every number in the
markdown comes from results.json, which is written beside it.
"""

from __future__ import annotations

from pathlib import Path
from statistics import mean, median

from apply_run import STAGES

VARIANTS = ("input", "no-temporal", "temporal")
NETWORKS = ("lite0", "lite2")
SPEED_TARGET_FPS = 2.0
EWARP_VS_FRAME_BY_FRAME = 0.5
EWARP_VS_INPUT = 1.5
STYLE_TOLERANCE = 0.10
SHARPNESS_KEPT = 0.95  # the design notes ask for "as sharp as frame by frame"; the 5% allowance is ours


def _temporal_summary(per_clip: dict) -> dict:
    clips = {}
    for clip, result in per_clip.items():
        row = {}
        for span in ("short", "long"):
            means = {v: mean(result[span][v]) for v in VARIANTS}
            row[span] = {
                **means,
                "coverage": mean(result[span]["coverage"]),
                "temporal/no-temporal": means["temporal"] / means["no-temporal"],
                "temporal/input": means["temporal"] / means["input"],
            }
        ratio = result["sharpness_ratio"]["temporal"]
        row["sharpness"] = {"ratio": mean(ratio), "ratio_last10": mean(ratio[-10:])}
        # How much more fine detail the style paints than the footage holds: E_warp scales with it.
        row["detail_vs_input"] = mean(result["sharpness"]["no-temporal"]) / mean(result["sharpness"]["input"])
        clips[clip] = row
    overall = {
        span: {key: mean(c[span][key] for c in clips.values()) for key in clips[next(iter(clips))][span]}
        for span in ("short", "long")
    }
    overall["sharpness"] = {
        key: mean(c["sharpness"][key] for c in clips.values()) for key in ("ratio", "ratio_last10")
    }
    # A median: footage with almost no fine detail (a static camera's blur) makes this ratio explode.
    overall["detail_vs_input"] = median(c["detail_vs_input"] for c in clips.values())
    return {"clips": clips, "mean": overall}


def _fidelity_summary(per_clip: dict) -> dict:
    style = {
        net: {v: mean(c["style"][v][net] for c in per_clip.values()) for v in VARIANTS} for net in NETWORKS
    }
    content = {
        net: {v: mean(c["content"][v][net] for c in per_clip.values()) for v in VARIANTS[1:]}
        for net in NETWORKS
    }
    change = {net: style[net]["temporal"] / style[net]["no-temporal"] - 1 for net in NETWORKS}
    return {"style": style, "content": content, "temporal_style_change": change}


def _replay_summary(results: dict) -> dict:
    """Per replayed fuser setting, means over clips of its E_warp ratios, sharpness ratio and style change."""
    first = next(iter(results["temporal"].values()))
    labels = [key for key in first["short"] if key not in ("frames", "coverage", *VARIANTS)]
    table = {}
    for name in [*labels, "temporal"]:
        per_clip = []
        for clip, result in results["temporal"].items():
            style = results["fidelity"][clip]["style"]
            row = {
                f"{span} {base}": mean(result[span][name]) / mean(result[span][base])
                for span in ("short", "long")
                for base in ("no-temporal", "input")
            }
            row["sharpness"] = mean(result["sharpness_ratio"][name])
            row |= {f"style {net}": style[name][net] / style["no-temporal"][net] - 1 for net in NETWORKS}
            per_clip.append(row)
        table[name] = {key: mean(row[key] for row in per_clip) for key in per_clip[0]}
    return table


def _speed_summary(speed: dict) -> dict:
    table = {}
    for size, variants in speed.items():
        for variant, run in variants.items():
            table[f"{size} {variant}"] = {
                "frames": run["frames"],
                "fps": run["fps"],
                "pipeline_fps": run["frames"] / run["pipeline_seconds"],
                "startup": run["startup"],
                "ms_per_frame": {stage: 1000 * run["stages"][stage] / run["frames"] for stage in STAGES},
                "cpu_per_frame": run["cpu"] / run["frames"],
                "max_rss_mb": run["max_rss_mb"],
                "load": run["load"],
            }
    return table


def _verdict(
    name: str, target: str, measured: float | None, limit: float, higher_is_better: bool, shown: str
) -> dict:
    if measured is None:
        return {
            "name": name,
            "target": target,
            "measured": None,
            "met": None,
            "margin": "not measured in this run",
        }
    met = measured >= limit if higher_is_better else measured <= limit
    factor = limit / measured if higher_is_better else measured / limit
    margin = "met" if met else f"missed: {factor:.2f}x off the target"
    return {
        "name": name,
        "target": target,
        "measured": measured,
        "shown": shown,
        "met": met,
        "margin": margin,
    }


def _targets(summary: dict) -> list[dict]:
    speed = summary["speed"].get("720p temporal")
    fps = speed["fps"] if speed else None
    short = summary["temporal"]["mean"]["short"]
    change = summary["fidelity"]["temporal_style_change"]
    worst_change = max(abs(c) for c in change.values())
    sharpness = summary["temporal"]["mean"]["sharpness"]["ratio"]
    return [
        _verdict(
            "720p speed",
            f">= {SPEED_TARGET_FPS} frames/s, whole command, temporal on",
            fps,
            SPEED_TARGET_FPS,
            True,
            f"{fps:.2f} frames/s" if fps else "-",
        ),
        _verdict(
            "E_warp vs frame by frame",
            f"temporal <= {EWARP_VS_FRAME_BY_FRAME} x no-temporal",
            short["temporal/no-temporal"],
            EWARP_VS_FRAME_BY_FRAME,
            False,
            f"{short['temporal/no-temporal']:.2f} x",
        ),
        _verdict(
            "E_warp vs input",
            f"temporal <= {EWARP_VS_INPUT} x input",
            short["temporal/input"],
            EWARP_VS_INPUT,
            False,
            f"{short['temporal/input']:.2f} x",
        ),
        _verdict(
            "style kept",
            f"|Gram distance temporal / no-temporal - 1| <= {STYLE_TOLERANCE:.0%} (Lite0 and Lite2)",
            worst_change,
            STYLE_TOLERANCE,
            False,
            ", ".join(f"{net} {c:+.1%}" for net, c in change.items()),
        ),
        _verdict(
            "sharpness kept",
            f"temporal >= {SHARPNESS_KEPT} x no-temporal (Laplacian variance; design notes, threshold ours)",
            sharpness,
            SHARPNESS_KEPT,
            True,
            f"{sharpness:.2f} x",
        ),
    ]


def summarise(results: dict) -> dict:
    summary = {
        "temporal": _temporal_summary(results["temporal"]),
        "fidelity": _fidelity_summary(results["fidelity"]),
        "speed": _speed_summary(results["speed"]),
        "replays": _replay_summary(results),
    }
    summary["targets"] = _targets(summary)
    return summary


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _targets_section(summary: dict) -> str:
    rows = [
        [
            t["name"],
            t["target"],
            t.get("shown", "-"),
            {True: "**met**", False: "**missed**", None: "-"}[t["met"]],
            t["margin"],
        ]
        for t in summary["targets"]
    ]
    return "## Targets (issue 5, and the design notes' sharpness)\n\n" + _table(
        ["", "target", "measured", "verdict", "margin"], rows
    )


def _temporal_section(results: dict, summary: dict) -> str:
    gap = next(iter(results["temporal"].values()))["long_gap"]
    rows = []
    for clip, row in [*summary["temporal"]["clips"].items(), ("**mean**", summary["temporal"]["mean"])]:
        for span in ("short", "long"):
            r = row[span]
            rows.append(
                [
                    clip if span == "short" else "",
                    "t-1" if span == "short" else f"t-{gap}",
                    f"{r['input']:.4f}",
                    f"{r['no-temporal']:.4f}",
                    f"{r['temporal']:.4f}",
                    f"{r['temporal/no-temporal']:.2f}",
                    f"{r['temporal/input']:.2f}",
                    f"{r['coverage']:.0%}",
                ]
            )
        sharp = row["sharpness"]
        rows[-2] += [f"{sharp['ratio']:.3f} / {sharp['ratio_last10']:.3f}", f"{row['detail_vs_input']:.1f}"]
        rows[-1] += ["", ""]
    header = [
        "clip",
        "pair",
        "E_warp input",
        "no-temporal",
        "temporal",
        "temporal / no-temporal",
        "temporal / input",
        "mask coverage",
        "sharpness temporal / no-temporal (all / last 10)",
        "fine detail no-temporal / input (median for the mean row)",
    ]
    meta = results["meta"]
    return (
        "## Temporal consistency\n\n"
        f"E_warp (Lai et al. 2018; squared RGB error in [0, 1] summed over channels, masked mean, then mean over pairs) of the "
        f"first {meta['options']['frames']} frames of each clip. Flow and non-occlusion mask from the input frames: "
        f"{meta['evaluation_flow']}; forward-backward and motion-boundary tests (`stylecut.flow.occlusion_mask`). "
        f"Long-term pairs are {gap} frames apart (one pair in {meta['options']['long_stride']}). Sharpness: variance of the "
        "Laplacian, temporal output over frame-by-frame output (1.0 = as sharp). Fine detail: the same variance, "
        "frame-by-frame output over input: E_warp grows with it for the same flow error.\n\n"
        + _table(header, rows)
        + "\n\n![E_warp per frame and sharpness ratio](consistency.png)\n\n"
        f"Frames of `{meta['options']['strip_clip']}`: input, `--no-temporal`, temporal; the last column is the centre of the "
        "last frame in native pixels at 2x.\n\n![frame strip](strip.png)\n\n"
        + _replay_section(results, summary)
    )


def _replay_section(results: dict, summary: dict) -> str:
    pipeline = results["meta"]["pipeline_fuser"]
    rows = []
    for name, r in summary["replays"].items():
        shown = {
            "temporal": "**real temporal output** (`apply`)",
            pipeline: f"`{name}` (replay of the pipeline's settings)",
        }.get(name, f"`{name}` (replay)")
        rows.append(
            [
                shown,
                *(
                    f"{r[f'{span} {base}']:.2f}"
                    for span in ("short", "long")
                    for base in ("no-temporal", "input")
                ),
                f"{r['sharpness']:.3f}",
                *(f"{r[f'style {net}']:+.1%}" for net in NETWORKS),
            ]
        )
    header = [
        "temporal fusion",
        "E_warp t-1 / no-temporal",
        "t-1 / input",
        "E_warp long / no-temporal",
        "long / input",
        "sharpness / no-temporal",
        "style lite0 vs no-temporal",
        "style lite2 vs no-temporal",
    ]
    return (
        "### What other fuser settings would do\n\n"
        "The `--no-temporal` output replayed through `TemporalFuser` with the pipeline's flow backend and other settings "
        "(`benchmarks/fuser_replay.py`), scored like the real outputs; means over the clips of per-clip ratios. The "
        "replay of the pipeline's own settings next to the real temporal output shows how faithful the replay is.\n\n"
        + _table(header, rows)
    )


def _fidelity_section(results: dict, summary: dict) -> str:
    rows = []
    per_clip = {
        clip: {"style": c["style"], "content": c["content"]} for clip, c in results["fidelity"].items()
    }
    means = {
        "style": {v: {n: summary["fidelity"]["style"][n][v] for n in NETWORKS} for v in VARIANTS},
        "content": {v: {n: summary["fidelity"]["content"][n][v] for n in NETWORKS} for v in VARIANTS[1:]},
    }
    for clip, c in [*per_clip.items(), ("**mean**", means)]:
        for net in NETWORKS:
            rows.append(
                [
                    clip if net == "lite0" else "",
                    net,
                    *(f"{c['style'][v][net]:.3f}" for v in VARIANTS),
                    f"{c['style']['temporal'][net] / c['style']['no-temporal'][net] - 1:+.1%}",
                    *(f"{c['content'][v][net]:.3f}" for v in VARIANTS[1:]),
                ]
            )
    header = [
        "clip",
        "network",
        "style input",
        "style no-temporal",
        "style temporal",
        "temporal vs no-temporal",
        "content no-temporal",
        "content temporal",
    ]
    painting = results["meta"]["style"]["painting"]
    text = (
        "## Style and content fidelity\n\n"
        f"Training-block Gram distance to `{painting}` (`stylecut.quality.gram_distance`: relative Gram "
        "error, mean over blocks; lower = closer to the painting; not the `style_distance` of "
        "weights/manifest.json, which also counts Lite0 block 0) in "
        "EfficientNet-Lite0 (blocks 2, 4, 7, 10: what the styles were trained against) and EfficientNet-Lite2 (blocks 3, 6, 10, 14 "
        "at the same strides: never seen in training); content distance = relative feature error to the input frame "
        "(Lite0 block 7, Lite2 block 10; 0 = same structure). Every "
        f"{results['meta']['options']['fidelity_every']}th frame, at the size it was stylised at; painting at 512 px (as in training).\n\n"
        + _table(header, rows)
    )
    return text + "\n\n" + _calibration_section(results["calibration"])


def _calibration_section(calibration: dict) -> str:
    title = "### Calibration on the VGG Udnie reference\n\n"
    if "missing" in calibration:
        return title + f"Not measured: {calibration['missing']}"
    rows = []
    for name in ("photo", "vgg-reference", "stylecut"):
        style, moved = calibration["gram_distance"][name], calibration["relative_to_photo"][name]
        content = calibration["content_distance"].get(name)
        rows.append(
            [
                name
                if name != "stylecut"
                else f"stylecut `{calibration['style']}` ({calibration['origin']})",
                *(f"{style[n]:.3f} ({moved[n]:.2f} x photo)" for n in NETWORKS),
                *((f"{content[n]:.3f}" for n in NETWORKS) if content else ("-", "-")),
            ]
        )
    return (
        title
        + "`photo_pytorch_amber.jpg`, its stylisation by the VGG16-trained Johnson network of pytorch/examples "
        "(`vgg_johnson_amber-udnie.jpg`) and by stylecut's style at the same 1080 px, scored against "
        "`style_pytorch_udnie.jpg`. A style should move the photo at least as far towards the painting as the reference "
        "does (a smaller 'x photo') while keeping a comparable content distance.\n\n"
        + _table(
            ["image", "Gram distance lite0", "Gram distance lite2", "content lite0", "content lite2"], rows
        )
    )


def _speed_section(results: dict, summary: dict) -> str:
    rows = []
    for key, r in summary["speed"].items():
        stages = r["ms_per_frame"]
        rows.append(
            [
                key,
                str(r["frames"]),
                f"{r['fps']:.2f}",
                f"{r['pipeline_fps']:.2f}",
                f"{r['startup']:.1f}",
                *(f"{stages[s]:.0f}" for s in STAGES),
                f"{r['cpu_per_frame']:.2f}",
                f"{r['max_rss_mb']:.0f}",
                f"{r['load']:.1f}",
            ]
        )
    header = [
        "run",
        "frames",
        "frames/s (whole command)",
        "frames/s (pipeline)",
        "start-up s",
        *(f"{s} ms/frame" for s in STAGES),
        "CPU s/frame",
        "peak RSS MB",
        "load avg before",
    ]
    imports = results["imports"]
    flow = next((r["flow"] for v in results["speed"].values() for r in v.values() if r["flow"]), None)
    meta = results["meta"]
    return (
        "## Speed\n\n"
        f"`stylecut apply` on the first {meta['options']['speed_frames']} frames of `{meta['options']['speed_clip']}` scaled to each "
        f"height (the Johnson et al. baseline: its first {meta['options']['johnson_frames']} frames, same command with the "
        "network swapped, `--no-temporal`). Whole command = wall time of the process, start-up included; pipeline = inside "
        "`ClipStyliser.run` (decode runs ahead in a thread and ffmpeg encodes in its own process, so stages overlap "
        "and their sum can differ from the pipeline time). CPU: the command and the ffmpeg processes it ran (`wait4`). Peak "
        "RSS: the stylecut process's VmHWM (the ffmpeg encoder, a separate process, not included). "
        f"The temporal runs' flow: {flow}\n\n"
        + _table(header, rows)
        + f"\n\nImporting what `apply` imports costs {imports['wall']:.1f} s wall ({imports['cpu']:.1f} s CPU) and "
        f"{imports['max_rss_mb']:.0f} MB RSS by itself: the PyTorch build here (`{meta['machine']['torch']}`) is a CUDA build, "
        "which loads its CUDA libraries even for a CPU run.\n\n"
        "**Machine.** "
        f"{meta['machine']['cpus']} CPU cores, PyTorch with {meta['machine']['torch_threads']} threads, shared with model "
        f"training jobs that have priority: 1-min load average {meta['load_at_start'][0]:.1f} at the start of the run and "
        f"{meta['load_at_end'][0]:.1f} at the end (2.0 would be both cores busy). Wall-clock figures are therefore lower "
        "than on an idle machine by a factor that varies between runs; CPU seconds per frame are the steadier figure, "
        "but threads waiting on each other under contention inflate them too.\n\n"
        "**CUDA.** `--device cuda` (not measured: no GPU here) moves the generator (in fp16 autocast), the temporal "
        "fusion and the RAFT flow (when its weights are present) to the GPU; decode (decord, CPU), DIS flow (OpenCV, "
        "CPU), the uint8 conversions, the host-device copies, x264 encoding and remux stay on the CPU. So a GPU takes "
        "away the generator and temporal columns (and the Johnson baseline's generator column, which is where its extra "
        "cost is) but not the decode, DIS flow, encode and start-up columns, which then bound the command's speed; "
        "with RAFT on the GPU the flow column moves too."
    )


def _speed_remedy(results: dict, summary: dict) -> str:
    r = summary["speed"]["720p temporal"]
    ms = r["ms_per_frame"]
    per_frame = 1000 / r["pipeline_fps"]
    imports = results["imports"]
    return (
        f"**720p speed ({r['fps']:.2f} frames/s, {SPEED_TARGET_FPS / r['fps']:.1f}x short).** {r['startup']:.0f} s of start-up "
        f"for {r['frames']} frames, then {per_frame:.0f} ms per frame inside the pipeline: generator {ms['generator']:.0f} ms, "
        f"flow {ms['flow']:.0f}, temporal {ms['temporal']:.0f}, encode {ms['encode']:.0f}, decode {ms['decode']:.0f}. The "
        f"command used {r['cpu_per_frame']:.2f} CPU-seconds per frame (start-up included); two cores supply at most 2 "
        f"CPU-seconds per second, so this amount of work cannot exceed {2 / r['cpu_per_frame']:.2f} frames/s on this "
        "CPU even when idle (CPU time is somewhat inflated by threads waiting on each other under contention). "
        "So the work per frame has to shrink:\n\n"
        "- The generator is the largest stage. Its cost is proportional to the pixels it runs on: processing at a "
        "lower resolution and upscaling (`--max-side`, which exists; a default such as 960 px for CPU runs) or a "
        "narrower generator distilled from the shipped one cut it directly.\n"
        f"- Start-up: importing the libraries alone takes {imports['wall']:.0f} s and {imports['max_rss_mb']:.0f} MB here. "
        "A CPU-only PyTorch build on machines without a GPU, and importing torchvision (only needed for RAFT) lazily, "
        "would remove most of it; across a batch of clips it is paid once.\n"
        f"- Fusion costs {ms['temporal']:.0f} ms per frame ({ms['temporal'] / ms['generator']:.0%} of the generator) with "
        f"`{results['meta']['pipeline_fuser']}`; its warps and occlusion tests run on 1/scale^2 of the pixels, so the "
        "fuser's `scale` trades this cost against E_warp (replay table).\n"
        "- Flow and fusion run after the generator on the same thread; DIS (OpenCV releases the GIL) could run in the "
        "decode thread for the next chunk while the generator works."
    )


def _meets_all(r: dict) -> bool:
    """Whether a replayed fuser setting meets both E_warp targets, the style tolerance and the sharpness."""
    return (
        r["short no-temporal"] <= EWARP_VS_FRAME_BY_FRAME
        and r["short input"] <= EWARP_VS_INPUT
        and max(abs(r[f"style {net}"]) for net in NETWORKS) <= STYLE_TOLERANCE
        and r["sharpness"] >= SHARPNESS_KEPT
    )


def _detail_range(summary: dict) -> str:
    clips = summary["temporal"]["clips"]
    low, high = (
        min(clips, key=lambda c: clips[c]["detail_vs_input"]),
        max(clips, key=lambda c: clips[c]["detail_vs_input"]),
    )
    return (
        f"{clips[low]['detail_vs_input']:.1f}x on {low} with E_warp {clips[low]['short']['temporal/input']:.1f}x the input's, "
        f"{clips[high]['detail_vs_input']:.0f}x on {high} with {clips[high]['short']['temporal/input']:.1f}x"
    )


def _fusion_remedy(results: dict, summary: dict) -> str:
    mean_all = summary["temporal"]["mean"]
    short, sharp = mean_all["short"], mean_all["sharpness"]
    change = summary["fidelity"]["temporal_style_change"]
    replays = {name: r for name, r in summary["replays"].items() if name != "temporal"}
    good = [f"`{name}`" for name, r in replays.items() if _meets_all(r)]
    closest = min(summary["replays"].items(), key=lambda item: item[1]["short input"])
    closest_name = "the real temporal output" if closest[0] == "temporal" else f"`{closest[0]}`"
    return (
        f"**Temporal fusion.** With the pipeline's settings (`{results['meta']['pipeline_fuser']}`) the temporal output's "
        f"E_warp is {short['temporal/no-temporal']:.2f}x the frame-by-frame output's and {short['temporal/input']:.1f}x the "
        f"input's, at {sharp['ratio']:.2f} of the frame-by-frame sharpness ({sharp['ratio_last10']:.2f} over the last 10 "
        f"frames{', so smear still accumulates' if sharp['ratio_last10'] < sharp['ratio'] - 0.02 else ''}) "
        f"and a Gram distance changed by {change['lite0']:+.0%} (Lite0) / {change['lite2']:+.0%} (Lite2). "
        + (
            f"Replayed settings meeting all four conditions: {', '.join(good)}. "
            if good
            else "None of the replayed settings meets all four conditions (both E_warp targets, the style within 10%, 95% of "
            "the sharpness); the table above shows the trade-off. "
        )
        + f"The lowest E_warp relative to the input, {closest[1]['short input']:.1f}x ({closest_name}), comes with "
        f"{closest[1]['sharpness']:.2f} of the sharpness and a style change of {closest[1]['style lite0']:+.0%} (Lite0). "
        f"The stylised frames carry {mean_all['detail_vs_input']:.1f}x the input's fine detail (median over clips; "
        f"{_detail_range(summary)}), and "
        "the same sub-pixel flow or resampling error costs E_warp in proportion to it, so a filter after the generator "
        "reaches the input's level by averaging or resampling that detail away, which is what lowers the sharpness and "
        "moves the style. What would close the gap without blur is a generator that is stable by itself:\n\n"
        "- train the temporal term on real motion (consecutive frames of the training clips with DIS flow and occlusion "
        "masks) and with more weight, and select checkpoints on this benchmark's E_warp, sharpness and style together;\n"
        "- or make the generator recurrent: feed it the warped previous output (masked) as extra input channels, as "
        "Ruder et al. and ReCoNet do, so that it redraws strokes where they were instead of having them filtered "
        "afterwards;\n"
        "- until then, choose the fuser on this table rather than on E_warp alone: a lower E_warp bought with lost "
        "sharpness is blur, not consistency."
    )


def _closing_section(results: dict, summary: dict) -> str:
    verdicts = {t["name"]: t["met"] for t in summary["targets"]}
    parts = []
    if verdicts["720p speed"] is False:
        parts.append(_speed_remedy(results, summary))
    if False in (
        verdicts["E_warp vs frame by frame"],
        verdicts["E_warp vs input"],
        verdicts["style kept"],
        verdicts["sharpness kept"],
    ):
        parts.append(_fusion_remedy(results, summary))
    return "## What would close the misses\n\n" + (
        "\n\n".join(parts) if parts else "Every target measured was met."
    )


def write_report(results: dict, path: Path) -> None:
    """Render REPORT.md from the results (with ``results["summary"]`` from :func:`summarise`)."""
    summary, meta = results["summary"], results["meta"]
    style = meta["style"]
    head = (
        "# stylecut benchmarks\n\n"
        f"Generated {meta['date']} on commit `{meta['commit']}` by `python benchmarks/run_all.py` "
        f"(options in results.json) in {meta['seconds']['total'] / 60:.1f} min. Style: `{style['name']}` ({style['origin']}; "
        f"{style['description'] or 'no description'}), painting `{style['painting']}`. Clips: "
        f"{', '.join(results['temporal'])}. Raw numbers: [results.json](results.json)."
    )
    sections = [
        head,
        _targets_section(summary),
        _temporal_section(results, summary),
        _fidelity_section(results, summary),
        _speed_section(results, summary),
        _closing_section(results, summary),
    ]
    path.write_text("\n\n".join(sections) + "\n")
