"""Probe a clip into a :class:`VideoInfo`: size, rotation, exact timing, colour tags, streams.

Stream metadata comes from ffprobe's JSON when a system ffprobe exists and
otherwise from the stream dump that ``ffmpeg -i FILE`` prints; both are reduced
to the same :class:`_Stream` records. Timing never trusts the container's frame
count or frame rate: the video stream's packets are listed with
``ffmpeg -c copy -f framecrc`` (time base, pts, duration, flags of every packet)
and the frame count, exact frame rate, duration and VFR flag are derived from
that list by one function, so both metadata paths agree by construction.
Packets that an MP4/MOV edit list hides (flag ``discard``) are not frames of
the clip: players, editors and ffmpeg's decoder never show them.

Sizes: ``width`` x ``height`` is the coded size; ``display_width`` x
``display_height`` is that size turned upright (what the decoder returns);
``square_size`` is the upright picture in square pixels, stretched by the pixel
aspect ratio (SAR) to the shape a viewer sees. A file stylecut wrote carries a
:class:`StylecutMark` in its video track's ``handler_name`` (see ``remux``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from stylecut.errors import MediaError
from stylecut.video.ffmpeg_tools import ffmpeg_command, ffmpeg_exe, ffprobe_exe, media_arg, run_tool

_UNSET_TAGS = {None, "", "unknown", "unspecified", "reserved"}
_DISCARD_FLAG = 0x4  # AV_PKT_FLAG_DISCARD: hidden by an edit list
_NOPTS = -(2**63)
_MARK = re.compile(r"^stylecut (\S+)(?: style (\S.*))?$")
_RATIO = re.compile(r"^(\d+):(\d+)$")
# The pixel formats of most footage, whose names say their bits per sample (the most of any component).
_EIGHT_BITS = re.compile(
    r"(?:yuvj?|yuva)(?:410|411|420|422|440|444)p|gbra?p|gray|nv(?:12|21|16|24|42)|ya8"
    r"|(?:rgb|bgr)24|(?:rgb|bgr)[a0]|[a0](?:rgb|bgr)|(?:yuyv|uyvy|yvyu)422"
)
_DEEP = re.compile(r"(?:yuva?(?:420|422|440|444)p|gbra?p|gray|p0)(9|10|12|14|16)(?:le|be)")


@dataclass(frozen=True)
class StreamInfo:
    """One stream of a file: what ``finalize`` needs to decide whether to copy it."""

    index: int  # absolute stream index in the file
    kind: str  # "video", "audio", "subtitle", "data" or "attachment"
    codec: str
    cover: bool = False  # a video stream that is a picture attached to the file (cover art)


@dataclass(frozen=True)
class StylecutMark:
    """Which stylecut and style made a file: written by remux, read back by probe."""

    version: str
    style: str | None  # None when the caller did not name the style

    def tag(self) -> str:
        return f"stylecut {self.version}" + (f" style {self.style}" if self.style else "")

    @classmethod
    def parse(cls, tag: str | None) -> StylecutMark | None:
        match = _MARK.match(tag or "")
        return cls(match[1], match[2]) if match else None


@dataclass(frozen=True)
class VideoInfo:
    """What the rest of stylecut needs to know about one input clip."""

    path: Path
    width: int  # coded size of the video stream
    height: int
    rotation: int  # 0, 90, 180 or 270: clockwise degrees needed to display it upright
    fps: Fraction  # exact, e.g. Fraction(30000, 1001); for VFR the average rate
    frame_count: int  # counted from the packets, never the container's nb_frames
    duration: float  # seconds of the video stream
    codec: str
    pix_fmt: str
    color_range: str | None
    color_space: str | None
    color_primaries: str | None
    color_transfer: str | None
    has_audio: bool
    is_vfr: bool
    stream_index: int = 0  # absolute index of the video stream in the file
    timecode: str | None = None  # start timecode, e.g. "01:00:00:00"
    other_streams: tuple[StreamInfo, ...] = ()  # every stream but the video one above
    sar: Fraction = Fraction(1)  # sample (pixel) aspect ratio of the coded pixels, 1 when untagged
    made_by: StylecutMark | None = None  # set when stylecut wrote this file
    start: float = 0.0  # seconds from the file's start (its earliest stream) to the first frame

    @property
    def bit_depth(self) -> int:
        """Bits per sample of the decoded picture: 8, or 10, 12 or 16 for deeper footage (8 when unknown)."""
        if not self.pix_fmt or _EIGHT_BITS.fullmatch(self.pix_fmt):
            return 8
        if deep := _DEEP.fullmatch(self.pix_fmt):
            return int(deep[1])
        # The rarer formats, as FFmpeg's own table has them: av takes 0.1-0.2 s to load its libraries.
        from av.video.format import VideoFormat

        try:
            return max(8, max(c.bits for c in VideoFormat(self.pix_fmt).components))
        except ValueError:
            return 8

    @property
    def display_width(self) -> int:
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation in (90, 270) else self.height

    @property
    def display_sar(self) -> Fraction:
        """Aspect ratio of one pixel of the upright frames: a quarter turn makes wide pixels tall."""
        return 1 / self.sar if self.rotation in (90, 270) else self.sar

    @property
    def square_size(self) -> tuple[int, int]:
        """(width, height) of the upright picture in square pixels; only ever stretched, never squeezed."""
        sar = self.display_sar
        if sar >= 1:
            return max(1, round(self.display_width * sar)), self.display_height
        return self.display_width, max(1, round(self.display_height / sar))


@dataclass(frozen=True)
class _Stream:
    """One stream as either metadata parser sees it."""

    index: int
    kind: str
    codec: str
    attached_pic: bool = False
    width: int = 0
    height: int = 0
    pix_fmt: str = ""
    color_range: str | None = None
    color_space: str | None = None
    color_primaries: str | None = None
    color_transfer: str | None = None
    rotation: int = 0
    timecode: str | None = None
    sar: Fraction = Fraction(1)
    handler_name: str | None = None


@dataclass(frozen=True)
class _Timing:
    frame_count: int
    fps: Fraction
    duration: float
    is_vfr: bool
    start: float


def probe(path: Path) -> VideoInfo:
    """Describe the clip at ``path``; raise :class:`MediaError` if it is not a usable video."""
    return _probe(Path(path), ffprobe_exe())


def _probe(path: Path, ffprobe: str | None) -> VideoInfo:
    """Probe with ffprobe at the given path, or with ffmpeg's stream dump when ``None``."""
    _check_readable(path)
    streams, format_timecode = _read_streams(path, ffprobe)
    video = next((s for s in streams if s.kind == "video" and not s.attached_pic), None)
    if video is None:
        raise MediaError(f"{path.name} is not a video: it has no video stream.")
    timing = _timing(path, video.index)
    return VideoInfo(
        path=path,
        width=video.width,
        height=video.height,
        rotation=video.rotation,
        fps=timing.fps,
        frame_count=timing.frame_count,
        duration=timing.duration,
        codec=video.codec,
        pix_fmt=video.pix_fmt,
        color_range=video.color_range,
        color_space=video.color_space,
        color_primaries=video.color_primaries,
        color_transfer=video.color_transfer,
        has_audio=any(s.kind == "audio" for s in streams),
        is_vfr=timing.is_vfr,
        stream_index=video.index,
        timecode=video.timecode or format_timecode,
        other_streams=tuple(
            StreamInfo(s.index, s.kind, s.codec, s.attached_pic) for s in streams if s.index != video.index
        ),
        sar=video.sar,
        made_by=StylecutMark.parse(video.handler_name),
        start=timing.start,
    )


def list_streams(path: Path) -> tuple[StreamInfo, ...]:
    """Every stream of ``path`` as (index, kind, codec), from metadata alone (no packet scan)."""
    _check_readable(path)
    streams, _ = _read_streams(path, ffprobe_exe())
    return tuple(StreamInfo(s.index, s.kind, s.codec) for s in streams)


def _read_streams(path: Path, ffprobe: str | None) -> tuple[list[_Stream], str | None]:
    """All streams (ordered by index, each once) and the file-level timecode."""
    streams, timecode = _streams_from_ffprobe(path, ffprobe) if ffprobe else _streams_from_ffmpeg(path)
    # ffmpeg 7+ may list a stream inside a "Stream group" and again on its own: keep the first.
    unique = {s.index: s for s in reversed(streams)}
    return sorted(unique.values(), key=lambda s: s.index), timecode


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise MediaError(f"{path.name} does not exist.")
    if path.is_dir():
        raise MediaError(f"{path.name} is a directory, not a video file.")
    if not os.access(path, os.R_OK):
        raise MediaError(f"{path.name} cannot be read: permission denied.")
    if path.stat().st_size == 0:
        raise MediaError(f"{path.name} is not a video: the file is empty.")


def _not_media(path: Path) -> MediaError:
    return MediaError(f"{path.name} is not a video or is damaged: ffmpeg cannot open it.")


def _tag(value: str | None) -> str | None:
    return None if value in _UNSET_TAGS else value


def _sar(ratio: str) -> Fraction:
    """ "16:11" -> 16/11; "0:1" (unknown) and anything malformed mean square pixels."""
    match = _RATIO.match(ratio)
    if not match or int(match[1]) == 0 or int(match[2]) == 0:
        return Fraction(1)
    return Fraction(int(match[1]), int(match[2]))


def _clockwise(displaymatrix_degrees: float) -> int:
    """Display-matrix angles are counter-clockwise; -90 means "turn 90° clockwise to view"."""
    return int(round(-displaymatrix_degrees / 90.0)) * 90 % 360


# --- metadata from ffprobe -------------------------------------------------------------


def _streams_from_ffprobe(path: Path, ffprobe: str) -> tuple[list[_Stream], str | None]:
    proc = run_tool(
        [ffprobe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format", media_arg(path)]
    )
    try:
        data = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        data = {}
    if proc.returncode != 0 or "format" not in data:
        raise _not_media(path)
    streams = [_stream_from_json(s) for s in data.get("streams", [])]
    return streams, _timecode_tag(data["format"].get("tags", {}))


def _tag_value(tags: dict[str, str], name: str) -> str | None:
    # Matroska stores tags in capitals ("TIMECODE"), MP4/MOV in lower case ("timecode").
    return next((value for key, value in tags.items() if key.lower() == name), None)


def _timecode_tag(tags: dict[str, str]) -> str | None:
    return _tag_value(tags, "timecode")


def _stream_from_json(s: dict) -> _Stream:
    rotations = [d["rotation"] for d in s.get("side_data_list", []) if "rotation" in d]
    return _Stream(
        index=int(s["index"]),
        kind=s.get("codec_type", "data"),
        codec=s.get("codec_name", "none"),
        attached_pic=bool(s.get("disposition", {}).get("attached_pic", 0)),
        width=int(s.get("width", 0)),
        height=int(s.get("height", 0)),
        pix_fmt=s.get("pix_fmt", ""),
        color_range=_tag(s.get("color_range")),
        color_space=_tag(s.get("color_space")),
        color_primaries=_tag(s.get("color_primaries")),
        color_transfer=_tag(s.get("color_transfer")),
        rotation=_clockwise(float(rotations[0])) if rotations else 0,
        timecode=_timecode_tag(s.get("tags", {})),
        sar=_sar(s.get("sample_aspect_ratio", "")),
        handler_name=_tag_value(s.get("tags", {}), "handler_name"),
    )


# --- metadata from ffmpeg's stream dump ------------------------------------------------

_STREAM_LINE = re.compile(r"^\s*Stream #\d+:(\d+)\S*: (Video|Audio|Subtitle|Data|Attachment): (.*)$")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees", re.IGNORECASE)
_TIMECODE = re.compile(r"^\s*timecode\s*:\s*(\S+)\s*$", re.IGNORECASE)
_HANDLER = re.compile(r"^\s*handler_name\s*:\s*(.*?)\s*$", re.IGNORECASE)
_SIZE = re.compile(r"^(\d+)x(\d+)")
# "704x576 [SAR 16:11 DAR 16:9]"; a container SAR that differs follows as ", SAR 12:11 DAR 4:3" and wins.
_SAR = re.compile(r"\bSAR (\d+:\d+) DAR")
_PIX_FMT = re.compile(r"^([a-z0-9_]+)(?:\((.*)\))?$")
_RANGES = {"tv", "pc"}
_FIELD_ORDERS = {"progressive"}  # the others ("top first", ...) contain spaces
_COLOUR_NAME = re.compile(r"[a-z0-9\-]+")


def _streams_from_ffmpeg(path: Path) -> tuple[list[_Stream], str | None]:
    # ffmpeg exits 1 here ("no output file") even for good input: the dump is on stderr.
    dump = run_tool([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", media_arg(path)]).stderr
    if not re.search(r"^Input #0", dump, re.MULTILINE):
        raise _not_media(path)
    streams: list[_Stream] = []
    format_timecode: str | None = None
    for line in dump.splitlines():
        if match := _STREAM_LINE.match(line):
            streams.append(_stream_from_dump(int(match[1]), match[2].lower(), match[3]))
        elif (match := _ROTATION.search(line)) and streams:
            streams[-1] = replace(streams[-1], rotation=_clockwise(float(match[1])))
        elif match := _TIMECODE.match(line):
            if streams:
                streams[-1] = replace(streams[-1], timecode=match[1])
            else:
                format_timecode = match[1]
        elif (match := _HANDLER.match(line)) and streams:
            streams[-1] = replace(streams[-1], handler_name=match[1])
    return streams, format_timecode


def _stream_from_dump(index: int, kind: str, description: str) -> _Stream:
    items = _split_top_level(description)
    codec = items[0].split(" ", 1)[0]
    attached = "(attached pic)" in description
    if kind != "video":
        return _Stream(index, kind, codec, attached_pic=attached)
    width = height = 0
    pix_fmt, colour = "", {}
    for item in items[1:]:
        if size := _SIZE.match(item):
            width, height = int(size[1]), int(size[2])
            break
        if not pix_fmt and (fmt := _PIX_FMT.match(item)):
            pix_fmt, colour = fmt[1], _colour_from_dump(fmt[2] or "")
    ratios = _SAR.findall(description)
    sar = _sar(ratios[-1]) if ratios else Fraction(1)
    return _Stream(index, kind, codec, attached, width, height, pix_fmt, sar=sar, **colour)


def _colour_from_dump(details: str) -> dict[str, str | None]:
    """Parse "tv, bt709, progressive" or "pc, bt470bg/smpte170m/unknown" as ffmpeg prints it."""
    colour: dict[str, str | None] = {}
    for token in _split_top_level(details):
        if token in _RANGES:
            colour["color_range"] = token
        elif token.count("/") == 2:
            space, primaries, transfer = token.split("/")
            colour.update(
                color_space=_tag(space), color_primaries=_tag(primaries), color_transfer=_tag(transfer)
            )
        elif _COLOUR_NAME.fullmatch(token) and token not in _FIELD_ORDERS and "color_space" not in colour:
            # ffmpeg prints a single name when space, primaries and transfer all share it.
            colour.update(color_space=_tag(token), color_primaries=_tag(token), color_transfer=_tag(token))
    return colour


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses or brackets."""
    items, depth, current = [], 0, []
    for char in text:
        depth += char in "(["
        depth -= char in ")]"
        if char == "," and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]


# --- timing from the packet list -------------------------------------------------------


def _list_packets(path: Path, stream_index: int) -> subprocess.CompletedProcess[str]:
    return run_tool(
        ffmpeg_command(
            "-i", media_arg(path), "-map", f"0:{stream_index}", "-c", "copy", "-f", "framecrc", "-"
        )
    )


def frame_pts(info: VideoInfo) -> tuple[Fraction, list[int]]:
    """The video stream's time base and the presentation time of every frame in it, in display order.

    Only variable-frame-rate clips need this: for the others frame i is at i / fps.
    """
    time_base, packets = _parse_framecrc(_list_packets(info.path, info.stream_index).stdout)
    assert time_base is not None, "frame_pts() takes a clip that probe() accepted"
    return time_base, sorted(t for t, _, discard in packets if not discard)


def frame_times(info: VideoInfo) -> list[Fraction]:
    """Presentation time in seconds of every frame of a probed clip, in display order."""
    time_base, pts = frame_pts(info)
    return [t * time_base for t in pts]


def _timing(path: Path, stream_index: int) -> _Timing:
    proc = _list_packets(path, stream_index)
    time_base, packets = _parse_framecrc(proc.stdout)
    shown = sum(1 for _, _, discard in packets if not discard)
    if proc.returncode != 0 or proc.stderr.strip():
        # Demuxer errors on a stream-copy mean the file ends before its own index does.
        raise MediaError(f"{path.name} is corrupt or truncated: ffmpeg could not read it past frame {shown}.")
    if shown == 0 or time_base is None:
        raise MediaError(f"{path.name} is not a video: its video stream has no frames.")
    return _analyse_packets(path, time_base, packets)


def _parse_framecrc(text: str) -> tuple[Fraction | None, list[tuple[int, int | None, bool]]]:
    """Return the time base and (time, duration, discarded) for every packet."""
    time_base: Fraction | None = None
    packets: list[tuple[int, int | None, bool]] = []
    for line in text.splitlines():
        if line.startswith("#tb 0:"):
            time_base = Fraction(line.split(":", 1)[1].strip())
        elif line and not line.startswith("#"):
            fields = [f.strip() for f in line.split(",")]
            dts, pts, duration = int(fields[1]), int(fields[2]), int(fields[3])
            flags = next((int(f[2:], 16) for f in fields[6:] if f.startswith("F=")), 1)
            packets.append((dts if pts == _NOPTS else pts, duration or None, bool(flags & _DISCARD_FLAG)))
    return time_base, packets


def _analyse_packets(path: Path, time_base: Fraction, packets: list[tuple[int, int | None, bool]]) -> _Timing:
    shown = sorted((t, d) for t, d, discard in packets if not discard)
    times = [t for t, _ in shown]
    start = float(times[0] * time_base)  # ffmpeg lists packets from the file's start
    count = len(times)
    last_duration = shown[-1][1]
    if count == 1:
        if last_duration is None:
            raise MediaError(f"{path.name} has a single frame with no duration, so no frame rate.")
        fps = 1 / (last_duration * time_base)
        return _Timing(1, fps, float(1 / fps), False, start)
    steps = [b - a for a, b in zip(times, times[1:])]
    mean_step = Fraction(times[-1] - times[0], count - 1)
    # Timestamps rounded to the time base wobble by up to one tick around the true step.
    constant = all(abs(step - mean_step) <= Fraction(3, 2) for step in steps)
    if not constant:
        # The clip ends where its last frame to end does: with B-frames, an MP4 packet's duration is the
        # gap to the next decode time, so the last frame shown need not be the last to end.
        span = (max(t + (d or mean_step) for t, d in shown) - times[0]) * time_base
        fps = (count / span).limit_denominator(1001)
        return _Timing(count, fps, float(span), True, start)
    if len(set(steps)) == 1:
        fps = 1 / (steps[0] * time_base)
    else:
        # Rounded timestamps (Matroska's 1 ms time base turns 30 fps into 33/34 ms steps).
        fps = _snap_rate(times, time_base, 1 / (mean_step * time_base))
    return _Timing(count, fps, float(count / fps), False, start)


def _snap_rate(times: list[int], time_base: Fraction, raw: Fraction) -> Fraction:
    """The standard rate nearest ``raw`` whose ideal timestamps round to the ones in the file.

    Candidates are whole, half and NTSC (N*1000/1001) rates; on a short clip several
    may fit the rounded timestamps, and the nearest to the measured rate wins.
    """
    candidates = {
        Fraction(round(raw)),
        Fraction(round(raw * 2), 2),
        Fraction(round(raw * Fraction(1001, 1000)) * 1000, 1001),
    }
    consistent = [
        rate
        for rate in candidates
        if rate > 0 and all(abs(t - times[0] - i / (rate * time_base)) <= 1 for i, t in enumerate(times))
    ]
    if not consistent:
        return raw.limit_denominator(1001)
    return min(consistent, key=lambda rate: (abs(rate - raw), rate.denominator))
