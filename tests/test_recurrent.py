"""The recurrent temporal stage (stylecut.temporal.recurrent), its weights file and its trainer.

Frames are a 1/f texture panned by exact sub-pixel phase shifts (no
interpolation blur of their own) with known flow; the "stylisation" is a
fixed colour transform, plus per-frame blotches standing in for a style
network's flicker where a test needs flicker. The stage runs with its
initial weights (it starts as an anchor-carrying fuser) unless a test trains it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from test_temporal import blotch_noise, stylise

from stylecut.errors import UsageError
from stylecut.flow.metrics import warping_error
from stylecut.flow.warp import occlusion_mask
from stylecut.quality import sharpness
from stylecut.temporal.recurrent import ConvGRUCell, RecurrentConfig, RecurrentTemporal
from stylecut.temporal.recurrent_arrays import load_recurrent_arrays
from stylecut.temporal.recurrent_file import FORMAT, bundled_recurrent, load_recurrent, save_recurrent
from stylecut.temporal.registration import AnchorRegistration
from stylecut.training.temporal_data import save_window
from stylecut.training.temporal_trainer import TemporalTrainConfig, TemporalTrainer, checkpoint_config
from stylecut.weights_file import sha256_of

import media
from flow_synthetic import constant_flow, shift, texture

pytestmark = pytest.mark.usefixtures("single_thread")

SIZE = 64


def pan(frames: int, size: int = SIZE, step: tuple[float, float] = (0.37, 0.21), seed: int = 0):
    """A sub-pixel pan: frames, and flows t -> t-1 / t-1 -> t (None for frame 0)."""
    base = texture(size, size, seed)
    clip = [shift(base, step[0] * t, step[1] * t) for t in range(frames)]
    back = constant_flow(1, size, size, -step[0], -step[1])
    return clip, [None] + [back] * (frames - 1), [None] + [-back] * (frames - 1)


def run(stage: RecurrentTemporal, clip, stylised, to_prev, from_prev) -> list[torch.Tensor]:
    stage.reset()
    with torch.no_grad():
        return [
            stage.step(f, s, a, b, clip[t - 1] if t else None)
            for t, (f, s, a, b) in enumerate(zip(clip, stylised, to_prev, from_prev))
        ]


def make_stage(**config) -> RecurrentTemporal:
    torch.manual_seed(0)
    return RecurrentTemporal(RecurrentConfig(**config)).eval()


def test_cell_keeps_the_hidden_state_shape() -> None:
    cell = ConvGRUCell(in_ch=5, hidden=7)
    h = torch.zeros(2, 7, 9, 11)
    assert cell(torch.rand(2, 5, 9, 11), h).shape == h.shape


@pytest.mark.parametrize("size", [(64, 64), (50, 70)])
def test_state_shapes_on_the_coarse_grid(size: tuple[int, int]) -> None:
    stage = make_stage(scale=4, hidden=6)
    h, w = size
    frame = texture(h, w)
    zero = torch.zeros(1, 2, h, w)
    stage.step(frame, stylise(frame), None, None, None)
    out = stage.step(frame, stylise(frame), zero, zero, frame)
    coarse = (-(-h // 4), -(-w // 4))
    state = stage._state
    assert out.shape == (1, 3, h, w)
    assert state.anchor.shape == (1, 3, h, w)
    assert state.displacement.shape == (1, 2, *coarse)
    assert state.valid.shape == (1, 1, *coarse)
    assert state.hidden.shape == (1, 6, -(-coarse[0] // 2), -(-coarse[1] // 2))


def test_first_frame_is_its_stylisation_and_the_output_is_finite() -> None:
    clip, to_prev, from_prev = pan(6)
    stylised = [(stylise(f) + blotch_noise(t)[..., :SIZE, :SIZE]).clamp(0, 1) for t, f in enumerate(clip)]
    out = run(make_stage(), clip, stylised, to_prev, from_prev)
    torch.testing.assert_close(out[0], stylised[0])
    assert all(o.shape == (1, 3, SIZE, SIZE) and torch.isfinite(o).all() for o in out)
    assert all(o.min() >= 0 and o.max() <= 1 for o in out)


@pytest.mark.parametrize("size", [(2, 2), (1, 9), (5, 2)])
def test_frames_smaller_than_a_cell_stay_finite(size: tuple[int, int]) -> None:
    stage = make_stage()
    frames = [texture(*size, seed=t) for t in range(4)]
    zero = torch.zeros(1, 2, *size)
    out = run(stage, frames, [stylise(f) for f in frames], [None] + [zero] * 3, [None] + [zero] * 3)
    assert all(o.shape == (1, 3, *size) and torch.isfinite(o).all() for o in out)


def test_scene_cut_starts_afresh_from_the_new_stylisation() -> None:
    clip, to_prev, from_prev = pan(6)
    stage = make_stage()
    run(stage, clip, [stylise(f) for f in clip], to_prev, from_prev)
    assert stage.last_trust.item() > 0.5
    other = texture(SIZE, SIZE, seed=7)
    zero = torch.zeros(1, 2, SIZE, SIZE)  # what a flow method may well return across a cut
    with torch.no_grad():
        out = stage.step(other, stylise(other), zero, zero, clip[-1])
    assert stage.last_trust.item() < stage.config.cut_threshold
    torch.testing.assert_close(out, stylise(other))
    assert not stage._state.hidden.any() and not stage._state.displacement.any()
    torch.testing.assert_close(stage._state.anchor, stylise(other))


def test_cuts_reset_only_the_samples_they_happen_in() -> None:
    clip, to_prev, from_prev = pan(4)
    stage = make_stage()
    both = [torch.cat([f, f]) for f in clip]
    flows = [None if f is None else torch.cat([f, f]) for f in to_prev]
    with torch.no_grad():
        for t in range(4):
            stage.step(both[t], stylise(both[t]), flows[t], None if flows[t] is None else -flows[t], None)
        other = torch.cat([shift(clip[0], 0.37 * 4, 0.21 * 4), texture(SIZE, SIZE, seed=9)])
        out = stage.step(other, stylise(other), flows[1], -flows[1], None)
    assert stage.last_trust[0] > 0.5 > stage.last_trust[1]
    torch.testing.assert_close(out[1], stylise(other)[1])
    assert stage._state.displacement[0].abs().mean() > 1.0  # sample 0 kept its anchor


def test_steadies_a_flickering_pan_and_stays_sharp_to_frame_100() -> None:
    clip, to_prev, from_prev = pan(100, step=(0.23, 0.11))
    clean = [stylise(f) for f in clip]
    flicker = [s + blotch_noise(t)[..., :SIZE, :SIZE] for t, s in enumerate(clean)]
    stage = make_stage()
    flows = torch.cat(to_prev[1:])
    masks = occlusion_mask(flows, torch.cat(from_prev[1:]))
    steadied = warping_error(torch.cat(run(stage, clip, flicker, to_prev, from_prev)), flows, masks)
    assert steadied <= 0.5 * warping_error(torch.cat(flicker), flows, masks)
    out = run(stage, clip, clean, to_prev, from_prev)
    kept = [sharpness(o)[0] / sharpness(s)[0] for o, s in zip(out, clean)]
    first, last = sum(kept[1:11]) / 10, sum(kept[-10:]) / 10
    assert last >= 0.9 * first and last >= 0.5


@pytest.mark.parametrize("blend", [0.3, 0.0])
def test_a_drifting_chain_of_flows_is_pulled_back_onto_the_anchor(blend: float) -> None:
    # Every flow 0.08 px short of the true motion, as DIS's errors, tied to the content, add up on a pan:
    # composed alone the chain is a pixel off after 12 frames; registered against the anchor's own
    # frame it stays within a fraction of one.
    step = (0.9, 0.4)
    size = 96
    clip, _, _ = pan(13, size=size, step=step)
    biased = constant_flow(1, size, size, -(step[0] - 0.08), -(step[1] - 0.08))
    to_prev, from_prev = [None] + [biased] * 12, [None] + [-biased] * 12
    stage = make_stage(registration_blend=blend)
    run(stage, clip, [stylise(f) for f in clip], to_prev, from_prev)
    truth = torch.tensor([-step[0] * 12, -step[1] * 12]).view(1, 2, 1, 1)
    error = (stage._state.displacement - truth)[..., 2:-2, 2:-2].norm(dim=1).mean().item()
    assert error < 0.3 if blend else error > 1.0


@pytest.mark.parametrize("size", [(96, 96), (48, 640)])  # DIS at the frame's size; on frames shrunk to 512 px
def test_registration_converges_on_the_anchor_s_true_position(size: tuple[int, int]) -> None:
    h, w = size
    registration = AnchorRegistration(RecurrentConfig(scale=4))
    frame = texture(h, w).numpy()
    anchor_frame = shift(texture(h, w), 2.0, 1.0).numpy()  # frame(p) = anchor_frame(p + (2, 1))
    displacement = np.empty((1, 2, h // 4, w // 4), np.float32)
    displacement[:, 0], displacement[:, 1] = 2.6, 0.5
    grays = registration.grays(frame), registration.grays(anchor_frame)
    for _ in range(15):
        displacement = registration.register(*grays, displacement, (h, w))
    inner = displacement[0, :, 2:-2, 2:-2]
    assert np.abs(inner[0] - 2.0).mean() < 0.1 and np.abs(inner[1] - 1.0).mean() < 0.1


def test_a_registration_further_off_than_the_gate_is_not_taken() -> None:
    registration = AnchorRegistration(RecurrentConfig(registration_gate=1.0))
    frame = texture(96, 96).numpy()
    anchor_frame = shift(texture(96, 96), 2.0, 1.0).numpy()  # the anchor sits 2 px right, 1 px down
    wrong = np.full((1, 2, 24, 24), 6.0, np.float32)  # 4-5 px off: DIS corrects it by more than the gate
    grays = registration.grays(frame), registration.grays(anchor_frame)
    np.testing.assert_array_equal(registration.register(*grays, wrong, (96, 96)), wrong)


@pytest.mark.parametrize(("zoom", "kept"), [(1.0, True), (1.05, True), (1.2, False), (0.8, True)])
def test_a_camera_closing_in_drops_the_anchor_where_it_would_be_enlarged(zoom: float, kept: bool) -> None:
    # Sampling the anchor at c + (p - c) / zoom shows it enlarged ``zoom`` times (limit 1.12 by default).
    registration = AnchorRegistration(RecurrentConfig(scale=4))
    ys, xs = np.mgrid[0:30, 0:40].astype(np.float32) * 4 + 1.5  # cell centres in frame pixels
    centre = np.array([80.0, 60.0], np.float32).reshape(2, 1, 1)
    points = np.stack([xs, ys])
    displacement = (centre + (points - centre) / zoom - points)[None] + 3.0  # and a pan of 3 px
    assert (registration.magnification_ok(displacement) == (1.0 if kept else 0.0)).all()


@pytest.mark.parametrize("sharpening", [0.19, 1.0])
def test_detail_holds_when_the_anchor_is_replaced_every_frame(sharpening: float) -> None:
    # The worst case for compounding: every output is resampled (and sharpened) from the last one.
    # With the default gain or one five times too strong, the servo holds the detail near the
    # stylisation's (without it, 20x the detail after these 100 frames at the default gain).
    clip, to_prev, from_prev = pan(100, step=(0.23, 0.11))
    clean = [stylise(f) for f in clip]
    stage = make_stage(sharpening=sharpening)
    stage.forced_refresh = 1.0
    out = run(stage, clip, clean, to_prev, from_prev)
    last = [sharpness(o)[0] / sharpness(s)[0] for o, s in zip(out, clean)]
    assert 0.5 <= sum(last[-10:]) / 10 <= 1.5


def test_a_colour_correction_does_not_compound_from_anchor_to_anchor() -> None:
    # A network that asks for the same small colour correction every frame: the output must stay that
    # far from the stylisation, however often the anchor is replaced (a refresh used to keep the
    # corrected output as the next anchor, so each refresh added the correction once more: a drift).
    clip, to_prev, from_prev = pan(30)
    clean = [stylise(f) * 0.5 + 0.25 for f in clip]  # away from 0 and 1, so nothing clamps
    stage = make_stage()
    with torch.no_grad():
        stage.net.head.weight.zero_()
        stage.net.head.bias.copy_(torch.tensor([6.0, 0.2, 0.0, -0.2]))
    stage.forced_refresh = 1.0
    out = run(stage, clip, clean, to_prev, from_prev)
    shift = stage.config.correction_limit * float(np.tanh(0.2))
    for o, s in zip(out[1:], clean[1:]):
        drift = (o - s).mean(dim=(0, 2, 3))
        torch.testing.assert_close(
            drift, torch.tensor([shift, 0.0, -shift], dtype=drift.dtype), atol=0.01, rtol=0
        )


def occluded_pan(frames: int):
    """``pan()`` whose backward flow is wrong at frame 1 in a block (px 16-40, a seventh of the frame).

    The forward-backward check fails there once, so the anchor is lost in the block for good, while
    the flows after it hold; the stylisation flickers (per-frame blotches), as a style network's does.
    """
    clip, to_prev, from_prev = pan(frames)
    from_prev[1] = from_prev[1].clone()
    from_prev[1][..., 16:40, 16:40] += 5.0
    stylised = [stylise(f) + blotch_noise(t)[..., :SIZE, :SIZE] for t, f in enumerate(clip)]
    return clip, stylised, to_prev, from_prev


def test_a_cell_that_lost_the_anchor_to_an_occlusion_takes_the_previous_output() -> None:
    # The subject's own motion drops the anchor in cells the flow once failed in; until the next refresh
    # they showed the stylisation, flickering as much as frame by frame. Now they carry the previous
    # output along the last flow, which holds: inside the block the output flickers a sixth as much
    # (before: as much).
    clip, stylised, to_prev, from_prev = occluded_pan(6)
    stage = make_stage()
    out = run(stage, clip, stylised, to_prev, from_prev)
    assert not stage._state.valid[..., 6:8, 6:8].any()  # still lost: no refresh in between
    inside = torch.zeros(1, 1, SIZE, SIZE)
    inside[..., 22:34, 22:34] = 1.0
    flows, masks = torch.cat(to_prev[2:]), inside.expand(4, 1, SIZE, SIZE)
    steadied = warping_error(torch.cat(out[1:]), flows, masks)
    assert steadied < 0.3 * warping_error(torch.cat(stylised[1:]), flows, masks)  # before: 1.0x


def test_the_light_stage_takes_the_previous_output_as_the_pytorch_stage_does() -> None:
    path, sha256 = bundled_recurrent()
    clip, stylised, to_prev, from_prev = occluded_pan(6)
    expected = run(load_recurrent(path, sha256)[0], clip, stylised, to_prev, from_prev)
    light = load_recurrent_arrays(path, sha256, threads=1)
    light.reset()
    for t, (f, s, a, b) in enumerate(zip(clip, stylised, to_prev, from_prev)):
        got = light.step(
            *(None if x is None else x.numpy() for x in (f, s, a, b, clip[t - 1] if t else None))
        )
        assert np.abs(got - expected[t].numpy()).max() < 1e-3
    assert not light._state.valid[..., 6:8, 6:8].any()


def test_fuse_chunk_is_step_by_step() -> None:
    clip, to_prev, from_prev = pan(5)
    stylised = [stylise(f) + blotch_noise(t)[..., :SIZE, :SIZE] for t, f in enumerate(clip)]
    expected = run(make_stage(), clip, stylised, to_prev, from_prev)
    stage = make_stage()
    with torch.no_grad():
        first = stage.fuse_chunk(
            torch.cat(clip[:3]),
            torch.cat(stylised[:3]),
            torch.cat(to_prev[1:3]),
            torch.cat(from_prev[1:3]),
            torch.cat(clip[:2]),
        )
        rest = stage.fuse_chunk(
            torch.cat(clip[3:]),
            torch.cat(stylised[3:]),
            torch.cat(to_prev[3:]),
            torch.cat(from_prev[3:]),
            torch.cat(clip[2:4]),
        )
    torch.testing.assert_close(torch.cat([first, rest]), torch.cat(expected))
    assert len(stage.chunk_trust) == 2


def test_weights_round_trip_with_checksum(tmp_path: Path) -> None:
    stage = make_stage(hidden=8)
    sha = save_recurrent(tmp_path / "t.safetensors", stage, {"recipe": "test"})
    loaded, meta = load_recurrent(tmp_path / "t.safetensors", expected_sha256=sha)
    assert loaded.config == stage.config and meta["recipe"] == "test"
    for a, b in zip(loaded.net.state_dict().values(), stage.net.state_dict().values()):
        torch.testing.assert_close(a, b)
    with pytest.raises(UsageError, match="checksum"):
        load_recurrent(tmp_path / "t.safetensors", expected_sha256="0" * 64)


def test_the_shipped_weights_load_with_their_checksum() -> None:
    path, sha256 = bundled_recurrent()
    stage, meta = load_recurrent(path, expected_sha256=sha256)
    assert sha256_of(path) == sha256 and isinstance(stage, RecurrentTemporal)
    assert meta["recipe"].startswith("training/configs/") and meta["training"]["chosen_step"] >= 0


def test_the_network_in_autocast_leaves_the_frame_path_in_fp32() -> None:
    # On CUDA the network runs in fp16 autocast, as the generator does; bfloat16, the CPU's autocast
    # type, takes the same path here. Flows, sampling and the carried state must stay fp32.
    clip, to_prev, from_prev = pan(8)
    stylised = [(stylise(f) + blotch_noise(t)[..., :SIZE, :SIZE]).clamp(0, 1) for t, f in enumerate(clip)]
    stage, _ = load_recurrent(*bundled_recurrent())
    full = run(stage, clip, stylised, to_prev, from_prev)
    stage.autocast = torch.bfloat16
    low = run(stage, clip, stylised, to_prev, from_prev)
    assert all(o.dtype == torch.float32 for o in low)
    assert stage._state.hidden.dtype == stage._state.displacement.dtype == torch.float32
    assert max(float((a - b).abs().max()) for a, b in zip(low, full)) < 0.02


def _rewrite(path: Path, tensors: dict | None = None, document: dict | None = None) -> None:
    with safe_open(str(path), framework="pt") as handle:
        original = {k: handle.get_tensor(k) for k in handle.keys()}
        header = json.loads(handle.metadata()["stylecut"])
    save_file(
        tensors or original,
        str(path),
        metadata={"format": FORMAT, "stylecut": json.dumps(document or header)},
    )


@pytest.mark.parametrize(
    "damage, message",
    [
        ("nan", "NaN"),
        ("config", "config"),
        ("shape", "do not fit"),
        ("foreign", "no stylecut temporal network"),
    ],
)
def test_damaged_weights_are_refused(tmp_path: Path, damage: str, message: str) -> None:
    path = tmp_path / "t.safetensors"
    stage = make_stage()
    save_recurrent(path, stage, {})
    state = {k: v.clone() for k, v in stage.net.state_dict().items()}
    if damage == "nan":
        state["head.bias"][0] = float("nan")
        _rewrite(path, tensors=state)
    elif damage == "config":
        _rewrite(path, document={"config": {**stage.config.to_dict(), "hidden": 10_000}})
    elif damage == "shape":
        _rewrite(path, document={"config": {**stage.config.to_dict(), "hidden": 8}})
    else:
        save_file(state, str(path))
    with pytest.raises(UsageError, match=message):
        load_recurrent(path)


def _synthetic_window(path: Path, frames: int = 6, seed: int = 0) -> None:
    """A cached window of a flickering sub-pixel pan with exact flows (see temporal_data for the layout)."""
    step = (0.6, 0.3)
    clip, _, _ = pan(frames, step=step, seed=seed)
    stylised = [(stylise(f) + blotch_noise(t)[..., :SIZE, :SIZE]).clamp(0, 1) for t, f in enumerate(clip)]
    n = frames - 1
    to_prev = constant_flow(n, SIZE, SIZE, -step[0], -step[1])
    to_first = torch.cat([constant_flow(1, SIZE, SIZE, -step[0] * t, -step[1] * t) for t in range(1, frames)])

    def quantise(x: torch.Tensor) -> torch.Tensor:
        return x.clamp(0, 1).mul(255).round().to(torch.uint8)

    save_window(
        path,
        {
            "frames": quantise(torch.cat(clip)),
            "stylised": quantise(torch.cat(stylised)),
            "to_prev": to_prev.half(),
            "from_prev": (-to_prev).half(),
            "to_first": to_first.half(),
            "from_first": (-to_first).half(),
        },
    )


def test_a_few_training_steps_lower_the_loss_and_resume(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    _synthetic_window(cache / "train-pan.safetensors")
    _synthetic_window(cache / "val-pan.safetensors", seed=1)
    config = TemporalTrainConfig(
        crop=SIZE,
        batch=1,
        steps=12,
        lr=3e-3,
        final_lr=1.0,
        checkpoint_every=6,
        eval_every=6,
        stage=RecurrentConfig(hidden=8, features=8).to_dict(),
    )
    trainer = TemporalTrainer(config, tmp_path / "run", cache)
    batch = trainer.sample()

    def total() -> float:
        with torch.no_grad():
            return float(sum(trainer.losses(batch)[0].values()))

    before = total()
    trainer.run()
    assert total() < before
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(13)) and "short_ratio" in log[-1]["validation"]

    # The best validated network is kept for export (the last one when validation never improved on it).
    best = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    assert best["step"] in (0, 6, 12) and trainer.best_score == best["score"]
    assert checkpoint_config(tmp_path / "run") == config
    resumed = TemporalTrainer(config, tmp_path / "run", cache)
    resumed.load_checkpoint()
    assert resumed.step == 12
    for a, b in zip(resumed.stage.net.state_dict().values(), trainer.stage.net.state_dict().values()):
        torch.testing.assert_close(a, b)


def test_a_cached_window_reads_back_as_crops_with_its_flows(tmp_path: Path) -> None:
    import random

    from stylecut.flow.dis import DISFlow
    from stylecut.models.generator import Generator, GeneratorConfig
    from stylecut.training.temporal_data import build_window, read_crop

    clip, _, _ = pan(4, step=(1.5, 0.0))
    generator = Generator(GeneratorConfig(widths=(8, 16, 16), residual_blocks=1)).eval()
    window = build_window(torch.cat(clip), generator, DISFlow(max_side=1 << 30))
    save_window(tmp_path / "w.safetensors", window)
    window = read_crop(tmp_path / "w.safetensors", 32, random.Random(1))
    assert window["frames"].shape == window["stylised"].shape == (4, 3, 32, 32)
    assert all(window[k].shape == (3, 2, 32, 32) for k in ("to_prev", "from_prev", "to_first", "from_first"))
    # The pan moves content right by 1.5 px a frame (the crop may be flipped): |flow to frame 0| grows with t.
    speed = window["to_first"][:, 0].abs().mean(dim=(1, 2))
    assert 1.0 < speed[0] < 2.0 and 3.5 < speed[2] < 5.5


@pytest.mark.parametrize("width", [24, 96])  # decord pads these rows on a 32- or 64-px alignment
def test_the_trainer_reads_clip_windows_as_ffmpeg_decodes_them(make_clip, width: int) -> None:
    from stylecut.training.temporal_data import WindowSpec, read_clip_window

    clip = make_clip(size=f"{width}x32", frames=8)
    reference = media.decode_reference(clip)
    window = read_clip_window(WindowSpec(str(clip), "clip", "s", start=1, step=2), 3)
    expected = torch.from_numpy(reference[[1, 3, 5]]).permute(0, 3, 1, 2).float() / 255
    assert torch.equal(window, expected)


def _ramp_photo(path: Path, size: tuple[int, int] = (120, 160)) -> None:
    """A photo whose brightness rises left to right: a mirrored edge would show as a fall."""
    import cv2

    ramp = np.linspace(20, 235, size[1], dtype=np.float32)
    cv2.imwrite(str(path), np.repeat(np.tile(ramp, (size[0], 1))[..., None], 3, axis=2).astype(np.uint8))


def test_a_fast_camera_pan_over_a_small_photo_stays_on_the_photo(tmp_path: Path) -> None:
    from stylecut.training.temporal_data import WindowSpec, synthesise_photo_window

    _ramp_photo(tmp_path / "ramp.png")
    for seed in range(4):
        spec = WindowSpec(str(tmp_path / "ramp.png"), "photo", "s", seed=seed)
        frames = synthesise_photo_window(spec, 12, (48, 80), pan_speed=24.0, zoom_speed=0.015)
        assert frames.shape == (12, 3, 48, 80)
        # Column means (over rows and channels) rise across every frame: the window never leaves the photo.
        columns = frames.mean(dim=(1, 2))
        assert (columns[:, 4:] - columns[:, :-4]).min() > 0, seed
        # And it moves: the fastest of these pans shifts the picture by pixels a frame.
        if seed == 0:
            assert (columns[-1] - columns[0]).abs().mean() > 0.02


def test_camera_moves_over_validation_photos_validate_and_never_train(tmp_path: Path) -> None:
    from stylecut.training.temporal_trainer import VALIDATION_PREFIX, plan_windows

    for name in ("a", "b", "c"):
        _ramp_photo(tmp_path / f"{name}.png")
    config = TemporalTrainConfig(
        photos=[str(tmp_path / "a.png"), str(tmp_path / "b.png")],
        validation_photos=[str(tmp_path / "c.png")],
        styles=["x", "y", "z"],
        validation_length=20,
    )
    planned = plan_windows(config)
    validating = [(spec, length) for prefix, spec, length in planned if prefix == VALIDATION_PREFIX]
    training = [spec for prefix, spec, _ in planned if prefix != VALIDATION_PREFIX]
    assert {Path(s.source).name for s in training} == {"a.png", "b.png"}
    assert [(Path(s.source).name, s.style, length) for s, length in validating] == [
        ("c.png", "x", 20),
        ("c.png", "y", 20),
    ]


def test_training_can_start_from_a_weights_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    _synthetic_window(cache / "train-pan.safetensors")
    trained = make_stage(hidden=8, features=8)
    with torch.no_grad():
        for parameter in trained.net.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))
    save_recurrent(tmp_path / "start.safetensors", trained, {})
    stage = RecurrentConfig(hidden=8, features=8).to_dict()
    fresh = TemporalTrainer(TemporalTrainConfig(stage=stage), tmp_path / "a", cache)
    started = TemporalTrainer(
        TemporalTrainConfig(stage=stage, init=str(tmp_path / "start.safetensors")), tmp_path / "b", cache
    )
    for mine, theirs in zip(started.stage.net.state_dict().values(), trained.net.state_dict().values()):
        torch.testing.assert_close(mine, theirs)
    assert any(
        not torch.equal(a, b)
        for a, b in zip(started.stage.net.state_dict().values(), fresh.stage.net.state_dict().values())
    )
