"""Flow backends and backend selection (stylecut.flow); never touches the network."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torchvision.models.optical_flow import Raft_Small_Weights, raft_small

import stylecut.flow.raft as raft
from stylecut.errors import StylecutError
from stylecut.flow import create_flow_estimator
from stylecut.flow.dis import DISFlow
from stylecut.flow.estimators import consecutive_flows
from stylecut.flow.raft import RAFTFlow, pad_for_raft, unpad
from stylecut.flow.scaling import flow_at_max_side

from flow_synthetic import shift, texture

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty torch hub cache, and any download attempt fails the test."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    monkeypatch.setattr(raft, "can_reach", lambda url: False)
    return tmp_path


def _translated_pair(h: int, w: int, dx: float, dy: float) -> tuple[torch.Tensor, torch.Tensor]:
    a = texture(h, w, seed=3)
    return a, shift(a, dx, dy)


@pytest.mark.parametrize("max_side, size", [(4096, (96, 128)), (96, (192, 256))])
def test_dis_recovers_a_subpixel_translation(max_side: int, size: tuple[int, int]) -> None:
    # max_side=96 on 192x256 exercises the reduced-resolution path (scale 3/8).
    a, b = _translated_pair(*size, dx=3.5, dy=-2.25)
    flow = DISFlow(max_side=max_side)(a, b)
    assert flow.shape == (1, 2, *size)
    interior = flow[0, :, 16:-16, 16:-16].flatten(1)
    assert (interior[0].median() - 3.5).abs() < 0.5
    assert (interior[1].median() + 2.25).abs() < 0.5


def test_reduced_resolution_rescales_vectors_per_axis() -> None:
    seen: list[tuple[int, ...]] = []

    def one_pixel_right_and_down(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(a.shape))
        return torch.ones(a.shape[0], 2, *a.shape[-2:])

    flow = flow_at_max_side(
        one_pixel_right_and_down, torch.rand(2, 3, 90, 160), torch.rand(2, 3, 90, 160), 64
    )
    assert seen == [(2, 3, 36, 64)]
    assert flow.shape == (2, 2, 90, 160)
    torch.testing.assert_close(flow[:, 0], torch.full((2, 90, 160), 160 / 64))
    torch.testing.assert_close(flow[:, 1], torch.full((2, 90, 160), 90 / 36))


def test_padder_pads_to_multiples_of_8_and_the_pyramid_minimum() -> None:
    x = torch.rand(2, 3, 63, 47)
    padded, pads = pad_for_raft(x)
    assert padded.shape[-2:] == (128, 128)
    assert torch.equal(unpad(padded, pads), x)
    left, _, top, _ = pads
    assert torch.equal(padded[..., top, :left], x[..., 0, :1].expand(-1, -1, left))  # replicated
    big, pads = pad_for_raft(torch.rand(1, 3, 130, 250))
    assert big.shape[-2:] == (136, 256)
    assert unpad(big, pads).shape[-2:] == (130, 250)
    same, pads = pad_for_raft(torch.rand(1, 3, 128, 136))
    assert same.shape[-2:] == (128, 136) and pads == (0, 0, 0, 0)


def test_random_init_raft_runs_on_odd_sizes() -> None:
    torch.manual_seed(0)
    flow = RAFTFlow(raft_small(weights=None), "raft_small", Raft_Small_Weights.DEFAULT, num_flow_updates=2)
    out = flow(torch.rand(2, 3, 63, 47), torch.rand(2, 3, 63, 47))
    assert out.shape == (2, 2, 63, 47)
    assert torch.isfinite(out).all()


def test_auto_without_weights_falls_back_to_dis_with_a_notice(offline: Path) -> None:
    flow, notice = create_flow_estimator("auto")
    assert isinstance(flow, DISFlow)
    assert "DIS" in notice and "RAFT" in notice and "\n" not in notice


def test_raft_without_weights_raises_one_sentence(offline: Path) -> None:
    with pytest.raises(StylecutError, match="--raft-weights"):
        create_flow_estimator("raft")


def test_unknown_kind_raises() -> None:
    with pytest.raises(StylecutError):
        create_flow_estimator("farneback")


def test_a_cached_torchvision_checkpoint_is_used_but_not_by_auto_on_a_cpu(offline: Path) -> None:
    name = Path(Raft_Small_Weights.DEFAULT.url).name
    (offline / "checkpoints").mkdir()
    torch.save(raft_small(weights=None).state_dict(), offline / "checkpoints" / name)
    flow, notice = create_flow_estimator("raft")
    assert isinstance(flow, RAFTFlow) and flow.name == "raft_small"
    assert "cache" in notice
    flow, notice = create_flow_estimator("auto", device="cpu")
    assert isinstance(flow, DISFlow) and "--flow raft" in notice


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_raft_from_a_local_file(offline: Path, suffix: str) -> None:
    from safetensors.torch import save_file

    path = offline / f"raft{suffix}"
    state = raft_small(weights=None).state_dict()
    if suffix == ".pth":
        torch.save(state, path)
    else:
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    flow, notice = create_flow_estimator("raft", raft_weights=path)
    assert isinstance(flow, RAFTFlow) and flow.name == "raft_small"
    assert str(path) in notice


def test_unusable_weights_file_raises(offline: Path) -> None:
    path = offline / "raft.pth"
    torch.save({"not": torch.zeros(1)}, path)
    with pytest.raises(StylecutError, match="state dict"):
        create_flow_estimator("auto", raft_weights=path)
    with pytest.raises(StylecutError, match="does not exist"):
        create_flow_estimator("raft", raft_weights=offline / "missing.pth")


def test_damaged_cached_checkpoint_raises_one_sentence(offline: Path) -> None:
    (offline / "checkpoints").mkdir()
    (offline / "checkpoints" / Path(Raft_Small_Weights.DEFAULT.url).name).write_bytes(b"truncated")
    with pytest.raises(StylecutError, match="Could not load"):
        create_flow_estimator("raft")


@pytest.mark.parametrize("size", [(2, 2), (8, 200), (200, 5)])
def test_dis_takes_frames_smaller_than_its_patches(size: tuple[int, int]) -> None:
    a = texture(*size, seed=1)
    flow = DISFlow()(a, a)
    assert flow.shape == (1, 2, *size) and flow.isfinite().all()


@pytest.mark.parametrize("max_side", [4096, 96])
def test_dis_consecutive_flows_are_the_pairwise_flows_both_ways(max_side: int) -> None:
    a = texture(120, 160, seed=2)
    frames = torch.cat([a, shift(a, 2.5, 1.0), shift(a, 5.0, -1.5)])
    dis = DISFlow(max_side=max_side)

    to_prev, from_prev = consecutive_flows(dis, frames, torch.cat)

    assert torch.equal(to_prev, dis(frames[1:], frames[:-1]))
    assert torch.equal(from_prev, dis(frames[:-1], frames[1:]))
    still, _ = consecutive_flows(lambda x, y: torch.zeros(len(x), 2, *x.shape[-2:]), frames, torch.cat)
    assert still.shape == (2, 2, 120, 160)
