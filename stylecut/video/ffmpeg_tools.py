"""Which ffmpeg (and ffprobe) stylecut runs, and what their error output means.

The system ``ffmpeg`` on PATH is preferred, because it is what the user's other
tools use and it may read codecs the bundled build lacks, when it is FFmpeg
4.4 or newer and has every encoder and filter stylecut uses. Otherwise the
static ffmpeg shipped by imageio-ffmpeg is used, and the notice says why. The
check runs once per process, and its answer is kept in the user's cache folder
for the next commands: it takes three ffmpeg runs, a fifth of a second or more.
It is redone when the binary (its resolved path, size or time of change) or
stylecut's version differs from what the answer was kept for. ffprobe is only
used beside the system ffmpeg it belongs to; there is no bundled ffprobe, so
:func:`ffprobe_exe` may return ``None`` and callers fall back to parsing
ffmpeg's own output.

Paths handed to ffmpeg or ffprobe go through :func:`media_arg`, so a file
named ``-dash.mp4`` or ``http:x.mp4`` is never read as an option or a protocol.
Every ffmpeg run that reads or writes media starts with :data:`QUIET` (no
banner, no prompt, no statistics, errors only), through :func:`ffmpeg_command`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

import stylecut
from stylecut.errors import MediaError, OutputError, StylecutError
from stylecut.user_folders import cache_folder

MOV_FAMILY = frozenset({".mp4", ".m4v", ".mov"})  # suffixes of the ISO/QuickTime muxers
_OLDEST_SUPPORTED = "4.4"
_OLDEST_LAVF = (58, 76)  # libavformat of FFmpeg 4.4: git builds have no release number, it always has one
_NEEDED_ENCODERS = ("libx264", "libx265", "prores_ks")
_NEEDED_FILTERS = ("scale", "setparams", "setsar", "format")
# No banner, no question on stdin (a file exists), no progress statistics; errors only: what stylecut reads.
QUIET = ("-hide_banner", "-nostdin", "-nostats", "-loglevel", "error")
# ffmpeg 5.1 exits 0 when it cannot finish or close the file it writes (a full disk); only these say so.
_WRITE_FAILURES = ("Error writing trailer", "Error closing file", "No space left on device")
_LOG_PREFIX = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\] ")  # "[mp4 @ 0x55f7...] "
_VERSION = re.compile(r"^ffmpeg version (\S+)", re.MULTILINE)
_LAVF = re.compile(r"^libavformat\s+(\d+)\.\s*(\d+)\.", re.MULTILINE)
_LISTED = re.compile(r"^ [A-Z.]{3,6} (\S+)", re.MULTILINE)  # " V....D libx264  ..." / " ..C scale  V->V ..."


@dataclass(frozen=True)
class FFmpegChoice:
    """The ffmpeg binary in use, and why."""

    ffmpeg: str
    ffprobe: str | None
    version: str  # as the binary prints it, e.g. "5.1.9-0+deb12u1"
    bundled: bool
    reason: str | None = None  # why the system ffmpeg is not used, when it is not

    def describe(self) -> str:
        """One line for the progress output, e.g. "ffmpeg 5.1.9-0+deb12u1 (system, /usr/bin/ffmpeg)"."""
        if not self.bundled:
            return f"ffmpeg {self.version} (system, {self.ffmpeg})"
        return f"ffmpeg {self.version} (bundled: {self.reason})"

    def to_json(self) -> dict[str, str | bool | None]:
        return {"path": self.ffmpeg, "version": self.version, "bundled": self.bundled, "reason": self.reason}


@functools.cache
def ffmpeg_choice() -> FFmpegChoice:
    """Check the system ffmpeg once and pick it, or the bundled one."""
    return choose_ffmpeg(shutil.which("ffmpeg"), imageio_ffmpeg.get_ffmpeg_exe)


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary in use (see :func:`ffmpeg_choice`)."""
    return ffmpeg_choice().ffmpeg


def ffprobe_exe() -> str | None:
    """Path of the ffprobe beside the system ffmpeg in use, or ``None``."""
    return ffmpeg_choice().ffprobe


def ffmpeg_command(*args: str) -> list[str]:
    """The ffmpeg in use, quiet (:data:`QUIET`), with ``args``."""
    return [ffmpeg_exe(), *QUIET, *args]


def write_failed(returncode: int, stderr: list[str]) -> bool:
    """Whether an ffmpeg run that wrote a file failed, by its exit code and its error lines."""
    return returncode != 0 or any(failure in line for line in stderr for failure in _WRITE_FAILURES)


def run_tool(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ffmpeg or ffprobe to the end and capture its output as text (see :func:`start_tool`)."""
    return subprocess.run(
        args, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace", process_group=0
    )


def start_tool(args: list[str], stdin: int, stdout: int, stderr: int) -> subprocess.Popen[bytes]:
    """Start ffmpeg in a process group of its own.

    A terminal's Ctrl-C signals its whole foreground group. ffmpeg would stop on it and, on a
    loaded machine, its exit could be seen before our own KeyboardInterrupt, so the run ended as a
    failed write instead of as interrupted. Out of that group, ffmpeg only stops when stylecut stops it.
    """
    return subprocess.Popen(args, stdin=stdin, stdout=stdout, stderr=stderr, process_group=0)


def media_arg(path: Path) -> str:
    """``path`` as an ffmpeg/ffprobe argument: absolute, so never an option (``-x.mp4``) or a protocol."""
    return os.path.abspath(path)


def choose_ffmpeg(system: str | None, bundled: Callable[[], str]) -> FFmpegChoice:
    """The system ffmpeg at ``system`` if it is recent and complete enough, else ``bundled()``."""
    if system is None:
        reason = "no ffmpeg on PATH"
    else:
        version, reason = _check_system(system)
        if reason is None:
            ffprobe = Path(system).with_name("ffprobe")
            usable = ffprobe.is_file() and os.access(ffprobe, os.X_OK)
            return FFmpegChoice(system, str(ffprobe) if usable else None, version, bundled=False)
    exe = bundled()
    (version,) = _remembered(
        "version", exe, 1, lambda: (_version(_outputs(exe, "-version")[0]) or "unknown",)
    )
    return FFmpegChoice(exe, None, version, bundled=True, reason=reason)


def _check_system(exe: str) -> tuple[str, str | None]:
    """(version, why it cannot be used or ``None``)."""
    version, reason = _remembered("system check", exe, 2, lambda: _run_system_check(exe))
    return version, reason


def _remembered(
    check: str, exe: str, fields: int, run: Callable[[], tuple[str | None, ...]]
) -> tuple[str | None, ...]:
    """What ``run()`` answered for ``exe`` (``fields`` strings or None) before, if the binary and stylecut are
    unchanged since; else run it and keep its answer. A cache that cannot be read or written, or holds
    something else, is passed over."""
    try:
        stat = os.stat(exe)
    except OSError:
        return run()  # a binary that is not there is checked (and fails) every time
    key = f"{check}: {exe}"
    binary = [os.path.realpath(exe), stat.st_size, stat.st_mtime_ns, stylecut.__version__]
    path = cache_folder() / "ffmpeg-checks.json"
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: nesting deeper than json can read
        kept = {}
    kept = kept if isinstance(kept, dict) else {}
    entry = kept.get(key)
    if isinstance(entry, dict) and entry.get("binary") == binary:
        answer = entry.get("answer")
        if (
            isinstance(answer, list)
            and len(answer) == fields
            and all(isinstance(a, str | None) for a in answer)
        ):
            return tuple(answer)
    answer = run()
    kept[key] = {"binary": binary, "answer": answer}
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # replaced whole: readers never see half
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(kept), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    return answer


def _run_system_check(exe: str) -> tuple[str, str | None]:
    text, encoders, filters = _outputs(exe, "-version", "-encoders", "-filters")
    version = _version(text)
    if version is None:
        return "unknown", f"{exe} does not run as ffmpeg"
    lavf = _LAVF.search(text)
    if lavf is None or (int(lavf[1]), int(lavf[2])) < _OLDEST_LAVF:
        return version, f"the system ffmpeg {version} is older than {_OLDEST_SUPPORTED}"
    missing = [name for name in _NEEDED_ENCODERS if name not in _LISTED.findall(encoders)]
    missing += [name for name in _NEEDED_FILTERS if name not in _LISTED.findall(filters)]
    if missing:
        return version, f"the system ffmpeg {version} lacks {', '.join(missing)}"
    return version, None


def _outputs(exe: str, *queries: str) -> list[str]:
    """The stdout of ``exe -hide_banner QUERY`` for each query ("" on failure), run side by side:
    a distribution's ffmpeg can take a third of a second just to load its libraries."""
    try:
        procs = [
            start_tool(
                [exe, "-hide_banner", query],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            for query in queries
        ]
    except OSError:
        return [""] * len(queries)
    outputs = []
    for proc in procs:
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        outputs.append(out.decode("utf-8", "replace") if proc.returncode == 0 else "")
    return outputs


def _version(text: str) -> str | None:
    match = _VERSION.search(text)
    return match[1] if match else None


def ffmpeg_error(path: Path, stderr: list[str], source: Path | None = None) -> StylecutError:
    """Turn ffmpeg's error output into one sentence naming the file and the problem."""
    lines = [_LOG_PREFIX.sub("", line).rstrip(".") for line in stderr]
    text = "\n".join(lines)
    if "No space left on device" in text:
        return OutputError(f"Disk full while writing {path.name}.")
    if "Permission denied" in text:
        return OutputError(f"Permission denied while writing {path.name}.")
    if container_refused(lines):
        tag = re.search(r"Could not find tag for codec (\S+)", text)
        what = f"a {tag[1]} stream" if tag else "one of the streams copied into it"
        return OutputError(f"{path.name} cannot hold {what}; {choose_instead(path)}.")
    last = lines[-1] if lines else "ffmpeg exited with an error"
    if source is not None and media_arg(source) in last:
        return MediaError(f"{source.name} could not be read while writing {path.name}: {last}.")
    return OutputError(f"ffmpeg could not write {path.name}: {last}.")


def container_refused(stderr: list[str]) -> bool:
    """Whether ffmpeg's errors say the output container cannot hold one of the streams."""
    return any("Could not find tag for codec" in line or "Could not write header" in line for line in stderr)


def choose_instead(path: Path) -> str:
    """What to tell a user whose output container cannot hold a stream: the containers that hold most."""
    return "choose a " + " or ".join(s for s in (".mov", ".mkv") if s != path.suffix.lower()) + " output"
