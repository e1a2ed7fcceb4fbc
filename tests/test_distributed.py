"""`stylecut apply --ray` on a local Ray runtime with 2 workers, started once for the module.

The runtime starts in a few seconds and its workers import torch once, so
the tests share it (the CLI uses a runtime its process already has). Clips
are tiny and the style is the tiny random one; a "long" clip is 75 frames
split into 3 segments by ``--segment-seconds 1``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import stylecut
from stylecut.errors import UsageError
from stylecut.video.ffmpeg_tools import ffmpeg_exe
from stylecut.video.probe import VideoInfo, probe

import media
from cli_support import assert_one_sentence, assert_same_timing, run_cli, sha256, signal_when

FAST = ("--preset", "ultrafast")
# Each Ray task runs the networks on one thread unless --threads says otherwise, and OpenVINO's results
# depend on its thread count: the local run to compare with is on one thread too.
ONE_THREAD = ("--threads", "1")
SEGMENTED = ("--ray", "--segment-seconds", "1")


@pytest.fixture(scope="module")
def ray_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Ray with 2 CPUs for the module (the tests that do not need it also run without Ray installed).

    Its workers get a STYLECUT_HOME of their own (they start before any test sets one) and must
    import the stylecut under test.
    """
    ray = pytest.importorskip("ray")
    home = str(tmp_path_factory.mktemp("ray-workers-home"))
    # Workers put the driver's working folder first on their path, then PYTHONPATH: Ray starts in a
    # neutral folder, and the folder holding the stylecut this test imported (the source tree or the
    # installed package, depending on how pytest was started) comes first.
    tested = str(Path(stylecut.__file__).parent.parent)
    path = os.pathsep.join(filter(None, [tested, os.environ.get("PYTHONPATH")]))
    runtime_env = {"env_vars": {"STYLECUT_HOME": home, "PYTHONPATH": path}}
    started_in = os.getcwd()
    os.chdir(home)
    try:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
            runtime_env=runtime_env,
        )
    finally:
        os.chdir(started_in)
    imported = ray.get(ray.remote(lambda: stylecut.__file__).remote())
    assert imported == stylecut.__file__, f"Ray workers import {imported}, this test {stylecut.__file__}"
    yield
    ray.shutdown()


def names(folder: Path, home: Path) -> list[str]:
    """The files in ``folder``, less the test's STYLECUT_HOME (the runtime cache of a local run)."""
    return sorted(path.name for path in folder.iterdir() if path != home)


def video_md5(path: Path) -> str:
    """The video packets' hash, without decoding them."""
    return subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "md5", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def jobs(result) -> list[dict]:
    return json.loads(result.stdout)["jobs"]


def make_vfr_clip(path: Path) -> Path:
    """12 frames at 10 fps but for a 0.3 s stutter after the sixth, as phones record."""
    return media.make_vfr_clip(path, "testsrc2=size=64x48:rate=10", 12, "N*9000+gte(N,6)*27000")


def test_folder_batch_matches_a_local_run_and_resumes(
    ray_runtime, make_clip, tiny_style, stylecut_home, tmp_path, monkeypatch
):
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    shutil.copy(make_clip(frames=10, audio=True), shoot / "a.mp4")
    shutil.copy(make_clip(frames=8, fps="30000/1001", audio=True, container="mkv"), shoot / "b.mkv")
    shutil.copy(make_clip(frames=6, size="63x47"), shoot / "c.mp4")
    assert probe(make_vfr_clip(shoot / "d.mp4")).is_vfr
    monkeypatch.chdir(tmp_path)  # relative paths: the workers' working directories are their own

    # A bare --ray before the inputs: the local runtime (here the one this process already has).
    result = run_cli("apply", "--ray", "shoot", "--style", tiny_style, "-o", "ray", "--json", *FAST)
    local = run_cli("apply", shoot, "--style", tiny_style, "-o", tmp_path / "local", *FAST, *ONE_THREAD)

    assert result.exit_code == 0, result.stderr
    assert local.exit_code == 0, local.stderr
    assert [(job["status"], Path(job["output"]).name) for job in jobs(result)] == [
        ("done", "a.tiny.mp4"),
        ("done", "b.tiny.mkv"),
        ("done", "c.tiny.mp4"),
        ("done", "d.tiny.mp4"),
    ]
    outputs = ["a.tiny.mp4", "b.tiny.mkv", "c.tiny.mp4", "d.tiny.mp4"]
    for name in outputs:
        source = next(shoot.glob(name.split(".")[0] + ".*"))
        out = tmp_path / "ray" / name
        if probe(source).is_vfr:  # its frames keep their times: same count, still variable
            assert (probe(out).frame_count, probe(out).is_vfr) == (probe(source).frame_count, True)
        else:
            assert_same_timing(probe(source), out)
        if probe(source).has_audio:
            assert media.audio_md5(out) == media.audio_md5(source)
        # The same ClipStyliser and encoder on the same machine: the same video packets, and for MP4
        # the same file bit for bit (Matroska writes a random segment UID into every file).
        assert video_md5(out) == video_md5(tmp_path / "local" / name)
        if out.suffix == ".mp4":
            assert sha256(out) == sha256(tmp_path / "local" / name)
    assert sorted(p.name for p in (tmp_path / "ray").iterdir()) == outputs

    again = run_cli("apply", shoot, "--style", tiny_style, "-o", tmp_path / "ray", "--ray", "--json", *FAST)
    assert again.exit_code == 0, again.stderr
    assert [job["status"] for job in jobs(again)] == ["skipped"] * 4

    # With --cfr the variable-rate clip becomes constant-rate, and the report counts the frames written.
    cfr = run_cli(
        "apply", shoot / "d.mp4", "--style", tiny_style, "-o", "cfr.mp4", "--cfr", "--ray", "--json"
    )
    assert cfr.exit_code == 0, cfr.stderr
    out = probe(tmp_path / "cfr.mp4")
    assert (jobs(cfr)[0]["frames"], out.is_vfr) == (out.frame_count, False)
    assert out.frame_count > probe(shoot / "d.mp4").frame_count  # the stutter's frame is repeated


def test_long_clip_split_at_its_cuts_is_identical_to_a_local_run(
    ray_runtime, tiny_style, stylecut_home, tmp_path
):
    # Cuts at frames 20 and 50; even boundaries would be 25 and 50, so the first one moves to the cut.
    source = media.make_shots(tmp_path / "long.mp4", (20, 30, 25))
    # ProRes is intra-only: equal frames encode to equal packets, so any difference would be the seams'.
    ray_out, local_out = tmp_path / "ray.mov", tmp_path / "local.mov"

    result = run_cli(
        "apply", source, "--style", tiny_style, "-o", ray_out, "--codec", "prores", "--json", *SEGMENTED
    )
    local = run_cli("apply", source, "--style", tiny_style, "-o", local_out, "--codec", "prores", *ONE_THREAD)

    assert result.exit_code == 0, result.stderr
    assert local.exit_code == 0, local.stderr
    assert jobs(result)[0]["message"].endswith("3 segments)")
    info = probe(source)
    assert_same_timing(info, ray_out)
    assert media.audio_md5(ray_out) == media.audio_md5(source)
    assert np.array_equal(media.decode_reference(ray_out), media.decode_reference(local_out))
    assert names(tmp_path, stylecut_home) == ["local.mov", "long.mp4", "ray.mov"]


def test_long_clip_split_within_a_shot_keeps_the_contract(
    ray_runtime, make_clip, tiny_style, stylecut_home, tmp_path, monkeypatch
):
    source = make_clip(size="64x48", fps="30000/1001", frames=90, audio=True, container="mkv")
    ray_out, local_out = tmp_path / "ray.mkv", tmp_path / "local.mkv"

    monkeypatch.chdir(tmp_path)
    result = run_cli("apply", source, "--style", tiny_style, "-o", ray_out.name, "--json", *SEGMENTED, *FAST)
    local = run_cli("apply", source, "--style", tiny_style, "-o", local_out, *FAST, *ONE_THREAD)

    assert result.exit_code == 0, result.stderr
    assert local.exit_code == 0, local.stderr
    assert jobs(result)[0]["message"].endswith("3 segments)")
    info = probe(source)
    out = assert_same_timing(info, ray_out)
    assert (out.frame_count, out.fps, out.duration) == (
        probe(local_out).frame_count,
        probe(local_out).fps,
        probe(local_out).duration,
    )
    assert media.audio_md5(ray_out) == media.audio_md5(source)
    # The first segment is the same frames as the single run's start, through the same encoder: equal.
    # After it, each part is a separate x264 encode (a new GOP, rate control afresh): on these tiny,
    # noisy frames that alone moves a frame by 1.6 grey levels on average (measured with
    # --no-temporal, where the frames before encoding are equal); the segments' temporal state, an
    # approximation of the single run's, blended in at each seam, adds about 0.5.
    decoded = media.decode_reference(ray_out).astype(int), media.decode_reference(local_out)
    difference = np.abs(decoded[0] - decoded[1]).mean(axis=(1, 2, 3))
    assert difference[:30].max() == 0
    assert difference.max() < 3.5, difference
    assert names(tmp_path, stylecut_home) == ["local.mkv", "ray.mkv"]


def test_failing_clip_among_good_ones(
    ray_runtime, make_clip, tiny_style, stylecut_home, tmp_path, monkeypatch
):
    shoot = tmp_path / "shoot"
    shoot.mkdir()
    shutil.copy(make_clip(frames=10, audio=True), shoot / "a.mp4")
    long = shutil.copy(make_clip(size="160x120", frames=100, audio=True), shoot / "long.mp4")  # 4 segments
    shutil.copy(make_clip(frames=12), shoot / "z.mp4")
    out = tmp_path / "out"

    # Once its first segment is written, the long clip vanishes from the storage, as from a node that
    # lost the shared folder: the segments that start after that (two run at a time) fail, and with
    # them the clip.
    after_first_segment(monkeypatch, tmp_path / "first segment done", long.unlink)
    result = run_cli("apply", shoot, "--style", tiny_style, "-o", out, "--json", *SEGMENTED, *FAST)

    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert {Path(job["input"]).name: job["status"] for job in jobs(result)} == {
        "a.mp4": "done",
        "long.mp4": "failed",
        "z.mp4": "done",
    }
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and "long.mp4 is not visible on the Ray node" in failed[0], result.stderr
    summary = result.stderr[result.stderr.index("1 of 3 inputs failed:") :]
    assert "long.mp4" in summary
    assert sorted(p.name for p in out.iterdir()) == ["a.tiny.mp4", "z.tiny.mp4"]  # no part of the failed clip


def test_a_lost_worker_is_retried(
    ray_runtime, make_clip, tiny_style, stylecut_home, tmp_path, tmp_path_factory, monkeypatch
):
    source = make_clip(size="160x120", frames=100, audio=True)
    target = tmp_path / "out.mp4"
    # The worker that writes the first segment dies before it can return, as if its node went away.
    killed = tmp_path_factory.mktemp("events") / "killed"
    after_first_segment(monkeypatch, killed, lambda: os.kill(os.getpid(), signal.SIGKILL))
    result = run_cli("apply", source, "--style", tiny_style, "-o", target, "--json", *SEGMENTED, *FAST)

    assert killed.exists(), "no segment task ran"
    assert result.exit_code == 0, result.stderr
    assert_same_timing(probe(source), target)
    assert names(tmp_path, stylecut_home) == ["out.mp4"]


def after_first_segment(monkeypatch: pytest.MonkeyPatch, marker: Path, then: Callable[[], object]) -> None:
    """The driver's segment tasks, but the worker that finishes the first segment calls ``then`` before it
    returns: an event in a task, not a race with it. ``marker``, created then, makes it one worker of all
    (retries included); ``then`` travels to the worker with the task (cloudpickle)."""
    import ray

    from stylecut.pipeline.ray import driver

    segment = driver._segment_task._function

    @ray.remote(num_returns=2)
    def segment_then(*args: object) -> object:
        outcome = segment(*args)
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return outcome
        then()
        return outcome

    monkeypatch.setattr(driver, "_segment_task", segment_then)


def processes_of(home: Path) -> list[str]:
    """The live processes whose environment sets STYLECUT_HOME to ``home``: a command run with that
    home and whatever it started (Ray's processes inherit the environment), as their command lines."""
    marker = f"STYLECUT_HOME={home}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes():
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_cancels_the_tasks_and_leaves_no_file(make_clip, tiny_style, tmp_path, sig, code):
    """A command of its own (its own local runtime), interrupted as a terminal's Ctrl-C would, or stopped
    with SIGTERM as a scheduler would."""
    pytest.importorskip("ray")
    source = make_clip(size="160x120", frames=250, audio=True)
    out = tmp_path / "out"
    args = ["apply", source, "--style", tiny_style, "-o", out, "--ray", "--segment-seconds", "2", *FAST]

    # The first progress line counts frames the segments' tasks have stylised: they are writing parts.
    exit_code, _, stderr = signal_when(args, "frames", sig, tmp_path / "home")

    assert exit_code == code, stderr
    assert_one_sentence(stderr, "Interrupted" if sig == signal.SIGINT else "Stopped by SIGTERM")
    assert list(out.iterdir()) == []
    assert processes_of(tmp_path / "home") == []  # Ray's runtime, agents included, went with the command


def test_more_threads_than_a_node_has_is_refused(ray_runtime, make_clip, tiny_style, stylecut_home, tmp_path):
    out = tmp_path / "out.mp4"
    result = run_cli(
        "apply", make_clip(), "--style", tiny_style, "-o", out, "--ray", "--threads", 3, "--json"
    )
    assert result.exit_code == 2, result.stderr
    assert_one_sentence(result.stderr, "--threads 3", "the largest Ray node has 2")
    assert json.loads(result.stdout)["error"].startswith("--threads 3")
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("--workers", "2"), "only apply with --ray"),
        (("--ray=nowhere",), "is not a Ray address"),
        (("--ray", "127.0.0.1:9"), "Cannot reach the Ray cluster at 127.0.0.1:9"),
        (("--ray", "--segment-seconds", "inf"), "--segment-seconds inf is not a length"),
    ],
    ids=["workers-without-ray", "bad-address", "nobody-there", "infinite-segments"],
)
def test_usage_errors_exit_2(make_clip, tiny_style, stylecut_home, args, problem):
    if "--ray" in args:
        pytest.importorskip("ray")
    result = run_cli("apply", make_clip(), "--style", tiny_style, *args, "--json")
    assert result.exit_code == 2, result.stderr
    line = assert_one_sentence(result.stderr, problem)
    assert json.loads(result.stdout) == {"error": line.removeprefix("stylecut: "), "exit_code": 2}


def test_without_ray_installed_says_how_to_install_it(
    make_clip, tiny_style, stylecut_home, monkeypatch, tmp_path
):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets when Ray is not installed
    result = run_cli("apply", make_clip(), "--style", tiny_style, "-o", tmp_path / "out.mp4", "--ray")
    assert result.exit_code == 2, result.stderr
    assert_one_sentence(result.stderr, "pip install 'stylecut[ray]'")
    assert not (tmp_path / "out.mp4").exists()


def test_tasks_ask_for_a_gpu_where_there_is_one_and_for_memory_by_frame_size():
    pytest.importorskip("ray")
    from stylecut.pipeline.ray.driver import TaskShape, task_memory, task_shape

    cpu_node, gpu_node = {"CPU": 16.0, "memory": 64e9}, {"CPU": 8.0, "GPU": 2.0, "memory": 32e9}
    assert task_shape([cpu_node, cpu_node], "auto", None) == TaskShape(
        cpus=1, gpus=0, workers=32, node_memory=64e9
    )
    assert task_shape([cpu_node, gpu_node], "auto", None) == TaskShape(
        cpus=1, gpus=1, workers=2, node_memory=64e9
    )
    assert task_shape([cpu_node, gpu_node], "cpu", 5) == TaskShape(
        cpus=1, gpus=0, workers=5, node_memory=64e9
    )
    with pytest.raises(UsageError, match="no GPU"):
        task_shape([cpu_node], "cuda", None)
    # A task no node can hold would wait forever.
    with pytest.raises(
        UsageError, match="--threads 17 asks .* the largest Ray node has 16: give --threads 16"
    ):
        task_shape([cpu_node, gpu_node], "cpu", None, 17)

    # Peak RSS measured for one clip (docs/measurements.md): 2132 MiB at 720p, 1677 MiB at 1080p.
    hd, full_hd, uhd = frame_size(1280, 720), frame_size(1920, 1080), frame_size(3840, 2160)
    assert 2132 * 2**20 <= task_memory(hd, 64e9) < task_memory(full_hd, 64e9) < 2.5e9
    assert task_memory(uhd, 64e9) > task_memory(full_hd, 64e9)
    assert task_memory(uhd, 2e9) == 2e9  # a request no node can meet would wait forever


def frame_size(width: int, height: int) -> VideoInfo:
    """A probed clip's description, only its size mattering."""
    return VideoInfo(
        Path("x.mp4"),
        width,
        height,
        0,
        Fraction(25),
        25,
        1.0,
        "h264",
        "yuv420p",
        None,
        None,
        None,
        None,
        False,
        False,
    )


def test_a_split_clip_gives_the_notice_of_a_local_run(ray_runtime, tiny_style, stylecut_home, tmp_path):
    # 30 frames at 10 fps, 10-bit: H.264 keeps 8 bits, which the stitched output must say, as a local run does.
    source = media.make_deep_clip(tmp_path, size="64x32", frames=30)
    target = tmp_path / "out.mp4"

    result = run_cli("apply", source, "--style", tiny_style, "-o", target, "--json", *SEGMENTED, *FAST)

    assert result.exit_code == 0, result.stderr
    job = jobs(result)[0]
    assert job["message"].endswith("3 segments)")
    assert "8 of its 10 bits" in job["notice"]
