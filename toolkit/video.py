"""Frames out of video files: probe, sample by rate, count or scene change, drop near-duplicates.

Decoding is PyAV (FFmpeg ships in its wheel), one frame at a time: memory stays flat however
long the video is. Each sampled frame keeps its timestamp (`pts × time_base`, in seconds) and is
turned upright from the stream's display matrix (right angles; flips are not applied).

Frame difference (scene cuts and near-duplicates): FFmpeg area-averages both frames down to
`THUMB_SIDE`×`THUMB_SIDE` grayscale thumbnails (aspect ratio ignored), compared by mean absolute
difference divided by 255, so it lies in [0, 1]: 0 is identical, 1 is black against white. The
defaults were set on `data/video/clip.mp4` (`scripts/make_clip.py`, 24 fps): its three hard
cuts score 0.27 to 0.49, consecutive frames of its pans 0.026 to 0.06, of its slow zoom 0.005
to 0.01, and of its still shot 0.000. So a scene cut needs 0.1 (well under the weakest cut,
above the fastest pan step), and a duplicate is below 0.02 (the still and the zoom steps fall
under it, every pan step is above).
"""

from __future__ import annotations

import bisect
import itertools
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from errno import EINVAL
from fractions import Fraction
from functools import cached_property
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image

from toolkit.errors import SettingsError, VideoError
from toolkit.files import check_regular
from toolkit.images import (
    DEFAULT_SETTINGS,
    EncodedImage,
    EncodeSettings,
    SourceImage,
    encode_source,
)

THUMB_SIDE = 32
MAX_FRAME_PIXELS = DEFAULT_SETTINGS.max_pixels  # the decompression-bomb limit images get
DEFAULT_SCENE_THRESHOLD = 0.1
DEFAULT_DEDUPE_THRESHOLD = 0.02

_EPS = 1e-6  # seconds; absorbs float rounding when comparing frame times with target times
_UPRIGHT = {
    90: Image.Transpose.ROTATE_90,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}


@dataclass(frozen=True)
class VideoInfo:
    """What a video file declares, plus its first frame's orientation.

    `width` and `height` are the displayed size, after `rotation` (degrees counterclockwise,
    0/90/180/270, from the display matrix); `frame_count_exact` is False when the container
    does not store the count and it is estimated as duration × fps.
    """

    path: str
    container: str
    codec: str
    width: int
    height: int
    rotation: int
    fps: float
    duration_s: float
    start_s: float
    frame_count: int
    frame_count_exact: bool


@dataclass(frozen=True)
class SamplingPlan:
    """Which frames to take: exactly one of `fps`, `count` or `scene_threshold`.

    Args:
        fps: frames per second of video; the frame on screen at 0, 1/fps, 2/fps, ...
        count: N frames, the ones on screen at the middle of N equal slices of the video.
        scene_threshold: the first frame, then every frame whose difference from the frame
            before it exceeds this (0-1, see the module docstring).
        dedupe_threshold: drop a frame whose difference from the last kept frame is below
            this; None keeps every sampled frame.
        max_frames: stop after this many kept frames.
    """

    fps: float | None = None
    count: int | None = None
    scene_threshold: float | None = None
    dedupe_threshold: float | None = None
    max_frames: int | None = None

    def __post_init__(self):
        modes = [v for v in (self.fps, self.count, self.scene_threshold) if v is not None]
        if len(modes) != 1:
            raise SettingsError("give exactly one of fps, count or scene_threshold")
        if self.fps is not None and not (math.isfinite(self.fps) and self.fps > 0):
            raise SettingsError(f"fps must be a positive number, got {self.fps}")
        for name in ("count", "max_frames"):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or value < 1):
                raise SettingsError(f"{name} must be an integer of at least 1, got {value!r}")
        for name in ("scene_threshold", "dedupe_threshold"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise SettingsError(f"{name} must lie in [0, 1], got {value}")

    @property
    def mode(self) -> str:
        if self.fps is not None:
            return "fps"
        return "count" if self.count is not None else "scenes"


@dataclass(frozen=True, eq=False)
class Frame:
    """One sampled frame. `image` (RGB, upright) is converted on first use.

    `index` counts sampled frames from 0, duplicates included; `difference` is the distance to
    the last kept frame (None for the first); `duplicate` is True when dedupe dropped it;
    `source` is the video's path and `codec` its codec name.
    """

    source: str
    codec: str
    index: int
    timestamp_s: float
    difference: float | None
    duplicate: bool
    rotation: int
    av_frame: av.VideoFrame = field(repr=False)

    @property
    def width(self) -> int:
        return self.av_frame.height if self.rotation in (90, 270) else self.av_frame.width

    @property
    def height(self) -> int:
        return self.av_frame.width if self.rotation in (90, 270) else self.av_frame.height

    @cached_property
    def image(self) -> Image.Image:
        image = self.av_frame.to_image()
        turn = _UPRIGHT.get(self.rotation)
        return image.transpose(turn) if turn is not None else image


def open_video(path: str | Path) -> VideoInfo:
    """Probe a video file: container, codec, displayed size, rate, duration, frame count.

    Decodes the first frame (for its rotation and to prove the stream decodes).
    Raises `VideoError` naming the file and the reason.
    """
    with _open(path) as container:
        stream = container.streams.video[0]
        first = next(_decode(container, stream, path), None)
        if first is None:
            raise VideoError(str(path), "the video stream holds no decodable frame")
        rotation = first.rotation % 360
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        duration = _duration_s(container, stream)
        exact = stream.frames > 0
        count = stream.frames if exact else round(duration * fps)
        width, height = stream.codec_context.width, stream.codec_context.height
        if rotation in (90, 270):
            width, height = height, width
        return VideoInfo(
            path=str(path),
            container=container.format.name,
            codec=stream.codec_context.name,
            width=width,
            height=height,
            rotation=rotation,
            fps=fps,
            duration_s=duration,
            start_s=_start_s(stream),
            frame_count=count,
            frame_count_exact=exact,
        )


def sample_frames(
    path: str | Path, plan: SamplingPlan, *, include_duplicates: bool = False
) -> Iterator[Frame]:
    """Yield the frames a plan selects, in order; near-duplicates are skipped unless asked.

    Rate and count sampling seek past stretches the plan skips when the stream's index lists a
    keyframe there; scene sampling decodes every frame but compares only thumbnails.
    """
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        thumb = _Thumbnailer()
        if plan.mode == "scenes":
            frames = _decode(container, stream, path)
            threshold = plan.scene_threshold
            assert threshold is not None  # mode "scenes": SamplingPlan checked it
            candidates = _scene_changes(frames, threshold, thumb)
        else:
            duration = _duration_s(container, stream)
            tick = float(stream.time_base or 0)
            targets = _targets(plan, _start_s(stream), duration, tick)
            candidates = ((f, thumb(f)) for f in _frames_at(container, stream, path, targets))
        kept = 0
        marked = _mark_duplicates(
            candidates, plan.dedupe_threshold, str(path), stream.codec_context.name
        )
        for frame in marked:
            if frame.duplicate and not include_duplicates:
                continue
            yield frame
            kept += not frame.duplicate
            if plan.max_frames is not None and kept >= plan.max_frames:
                return


def encode_frame(frame: Frame, settings: EncodeSettings = DEFAULT_SETTINGS) -> EncodedImage:
    """Resize and encode a frame exactly as `toolkit.images.encode_image` does a photo.

    The name is `<video>#t=<seconds>`; `source_bytes` is 0 (a frame has no file of its own);
    `source_format` is the codec; the `load` timing is the conversion to RGB.
    """
    start = time.perf_counter()
    image = frame.image
    source = SourceImage(
        image=image,
        name=f"{frame.source}#t={frame.timestamp_s:.3f}",
        source_width=image.width,
        source_height=image.height,
        source_bytes=0,
        source_format=frame.codec,
        flags=("video_frame",),
        load_ms=(time.perf_counter() - start) * 1000,
    )
    return encode_source(source, settings)


def frame_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two 8-bit thumbnails, in [0, 1]."""
    return float(np.abs(a.astype(np.int16) - b).mean() / 255)


def _open(path: str | Path):
    try:
        check_regular(path)  # FFmpeg would block on a FIFO and read a device forever
    except OSError as exc:
        raise VideoError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise VideoError(str(path), _reason(exc)) from exc
    if not container.streams.video:
        container.close()
        raise VideoError(str(path), "no video stream")
    # FFmpeg refuses a frame above the images' pixel limit before allocating it (an MJPEG
    # stream may hold one 12000x12000 JPEG among small ones)
    container.streams.video[0].codec_context.options = {"max_pixels": str(MAX_FRAME_PIXELS)}
    return container


def _reason(exc: av.FFmpegError) -> str:
    return exc.strerror or str(exc)


def _decode(container, stream, path) -> Iterator[av.VideoFrame]:
    """Decoded frames that carry a timestamp; FFmpeg errors become `VideoError`.

    Threaded decoding can end quietly at a truncated packet, so a stream that runs out more
    than one frame before the end its own header declares is reported as truncated.
    """
    last = None
    try:
        for frame in container.decode(stream):
            if frame.pts is not None:  # a frame without a timestamp cannot be placed in time
                last = frame
                yield frame
    except av.FFmpegError as exc:
        hint = f" (or a frame over {MAX_FRAME_PIXELS:,} pixels)" if exc.errno == EINVAL else ""
        raise VideoError(str(path), f"decoding failed: {_reason(exc)}{hint}") from exc
    if stream.duration and stream.average_rate:
        frame_s = 1 / float(stream.average_rate)
        declared = _start_s(stream) + float(stream.duration * stream.time_base)
        reached = last.time + frame_s if last is not None else _start_s(stream)
        if reached < declared - frame_s - _EPS:
            raise VideoError(
                str(path), f"truncated: frames stop at {reached:.3f} s of {declared:.3f} s"
            )


def _start_s(stream) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0


def _duration_s(container, stream) -> float:
    if stream.duration:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _targets(plan: SamplingPlan, start: float, duration: float, tick: float) -> Iterator[float]:
    """Target times of a count or rate plan. Frame times are whole multiples of the stream's
    `tick` (its time base), so targets closer than a tick pick every frame, as targets one
    tick apart do: denser plans (`--fps 1e9`, a count above the ticks) walk ticks instead."""
    count, fps = plan.count, plan.fps  # exactly one is set, or neither (scenes)
    if count is not None and duration / count >= tick:
        step = duration / count
        return (start + (k + 0.5) * step for k in range(count))
    rate = fps if fps is not None else math.inf
    if tick > 0:
        rate = min(rate, 1 / tick)
    n = math.ceil(duration * rate - _EPS) if duration > 0 else None
    ks = range(n) if n is not None else itertools.count()
    return (start + k / rate for k in ks)


def _keyframe_times(stream) -> list[float]:
    entries = stream.index_entries or ()
    return sorted(float(e.timestamp * stream.time_base) for e in entries if e.is_keyframe)


def _frames_at(container, stream, path, targets: Iterable[float]) -> Iterator[av.VideoFrame]:
    """For each target time, the frame on screen then (the last one at or before it).

    A frame serves several targets only once. Before decoding towards a target, seek when the
    index lists a keyframe between the next frame and the target; if a seek ever lands after
    its target, rewind to the start and stop seeking (correct, only slower).
    """
    keyframes = _keyframe_times(stream)
    frames = _decode(container, stream, path)
    current, upcoming = None, next(frames, None)
    emitted = None
    for target in targets:
        if (
            keyframes
            and upcoming is not None
            and _keyframe_between(keyframes, upcoming.time, target)
        ):
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
            frames = _decode(container, stream, path)
            current, upcoming = None, next(frames, None)
            if upcoming is not None and upcoming.time > target + _EPS:
                container.seek(stream.start_time or 0, stream=stream, backward=True)
                frames = _decode(container, stream, path)
                upcoming, keyframes = next(frames, None), []
        while upcoming is not None and upcoming.time <= target + _EPS:
            current, upcoming = upcoming, next(frames, None)
        answer = current if current is not None else upcoming
        if answer is None or answer.pts == emitted:
            if upcoming is None:
                return
            continue
        emitted = answer.pts
        yield answer


def _keyframe_between(keyframes: list[float], after: float, until: float) -> bool:
    i = bisect.bisect_right(keyframes, after + _EPS)
    return i < len(keyframes) and keyframes[i] <= until + _EPS


class _Thumbnailer:
    """Grayscale `THUMB_SIDE`² thumbnails by FFmpeg's area averaging; one scaler is reused
    (building a new one per frame costs about 50 times the scaling)."""

    def __init__(self):
        self._scaler = VideoReformatter()

    def __call__(self, frame: av.VideoFrame) -> np.ndarray:
        small = self._scaler.reformat(
            frame, width=THUMB_SIDE, height=THUMB_SIDE, format="gray", interpolation="AREA"
        )
        return small.to_ndarray()


def _scene_changes(
    frames: Iterable[av.VideoFrame], threshold: float, thumbnail: _Thumbnailer
) -> Iterator[tuple[av.VideoFrame, np.ndarray]]:
    previous = None
    for frame in frames:
        thumb = thumbnail(frame)
        if previous is None or frame_difference(previous, thumb) > threshold:
            yield frame, thumb
        previous = thumb


def _seconds(frame: av.VideoFrame) -> float:
    """The frame's timestamp (`_decode` yields only frames that have one)."""
    pts, time_base = frame.pts, frame.time_base
    assert pts is not None and time_base is not None
    return float(Fraction(pts) * time_base)


def _mark_duplicates(
    candidates: Iterable[tuple[av.VideoFrame, np.ndarray]],
    threshold: float | None,
    source: str,
    codec: str,
) -> Iterator[Frame]:
    last_kept = None
    for index, (frame, thumb) in enumerate(candidates):
        difference = None if last_kept is None else frame_difference(last_kept, thumb)
        duplicate = threshold is not None and difference is not None and difference < threshold
        if not duplicate:
            last_kept = thumb
        yield Frame(
            source=source,
            codec=codec,
            index=index,
            timestamp_s=_seconds(frame),
            difference=difference,
            duplicate=duplicate,
            rotation=frame.rotation % 360,
            av_frame=frame,
        )
