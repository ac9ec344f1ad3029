"""What a video costs under a sampling plan, and the requests that would carry its frames.

Every kept frame goes through the real pipeline (`toolkit.video.encode_frame`), so the token
estimate uses the geometry the encoding settings produce and the byte counts are measured,
not guessed. Dropped near-duplicates cost nothing and are counted. Nothing is sent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from toolkit.errors import PayloadError, VideoError
from toolkit.images import DEFAULT_SETTINGS, EncodedImage, EncodeSettings
from toolkit.payload import OBSERVED_LIMITS, ImagePart, Request, RequestLimits, RequestSpec
from toolkit.payload import split_requests as split_parts
from toolkit.pricing import PricesSpec, cost_or_none, cost_usd
from toolkit.rulesets import DEFAULT_DETAIL, RulesSpec
from toolkit.tokens import TokenEstimate, image_tokens
from toolkit.video import (
    DEFAULT_DEDUPE_THRESHOLD,
    Frame,
    SamplingPlan,
    encode_frame,
    open_video,
    sample_frames,
)

TIMES_CAPTION = "Video frames in order, at these times (seconds): "


@dataclass(frozen=True)
class FrameCost:
    """One sampled frame with its encoding and bill (`None` for a dropped duplicate, and for
    the estimate and dollars when no model was given)."""

    frame: Frame
    encoded: EncodedImage | None
    estimate: TokenEstimate | None
    cost_usd: float | None

    @property
    def tokens(self) -> int | None:
        return self.estimate.tokens if self.estimate else None


@dataclass(frozen=True)
class VideoCost:
    """Totals for one video, plan, model and detail; `detail` is the resolved level and
    `width`/`height` the encoded frame size (the last frame's, should the size change)."""

    path: str
    mode: str
    model: str
    detail: str
    tier: str
    rules: str
    frames: int
    duplicates_dropped: int
    width: int
    height: int
    tokens: int
    cost_usd: float
    bytes: int
    base64_chars: int


@dataclass
class FrameTotals:
    """Running totals over the frames `frame_costs` yields: frames kept (encoded) and dropped,
    their bytes, Base64 characters and tokens; `last` is the last kept frame."""

    frames: int = 0
    duplicates_dropped: int = 0
    bytes: int = 0
    base64_chars: int = 0
    tokens: int = 0
    last: FrameCost | None = None

    def add(self, item: FrameCost) -> FrameCost:
        """Count `item` in; returns it, so a loop can total frames as it goes."""
        if item.encoded is None:
            self.duplicates_dropped += 1
            return item
        self.frames += 1
        self.bytes += item.encoded.bytes
        self.base64_chars += item.encoded.base64_chars
        self.tokens += item.tokens or 0
        self.last = item
        return item

    def cost_usd(
        self, model: str, tier: str = "standard", prices: PricesSpec = None
    ) -> float | None:
        """Dollars for the total tokens (priced once, on the total); None without a price."""
        return cost_or_none(self.tokens, model, tier, prices)


def frame_costs(
    path: str | Path,
    plan: SamplingPlan,
    settings: EncodeSettings = DEFAULT_SETTINGS,
    model: str | None = None,
    detail: str = DEFAULT_DETAIL,
    *,
    tier: str = "standard",
    rules: RulesSpec = None,
    prices: PricesSpec = None,
) -> Iterator[FrameCost]:
    """Sample, encode and price frame by frame; duplicates are yielded unencoded."""
    for frame in sample_frames(path, plan, include_duplicates=True):
        if frame.duplicate:
            yield FrameCost(frame, None, None, None)
            continue
        encoded = encode_frame(frame, settings)
        if model is None:
            yield FrameCost(frame, encoded, None, None)
            continue
        estimate = image_tokens(encoded.width, encoded.height, model, detail, rules)
        yield FrameCost(frame, encoded, estimate, cost_usd(estimate.tokens, model, tier, prices))


def video_cost(
    path: str | Path,
    plan: SamplingPlan,
    model: str,
    detail: str = DEFAULT_DETAIL,
    settings: EncodeSettings = DEFAULT_SETTINGS,
    *,
    tier: str = "standard",
    rules: RulesSpec = None,
    prices: PricesSpec = None,
) -> VideoCost:
    """Tokens, dollars and bytes of the frames a plan would send to `model` at `detail`."""
    totals = FrameTotals()
    items = frame_costs(path, plan, settings, model, detail, tier=tier, rules=rules, prices=prices)
    for item in items:
        totals.add(item)
    last = totals.last
    if last is None or last.encoded is None or last.estimate is None:
        raise VideoError(str(path), "no frame could be sampled")
    return VideoCost(
        path=str(path),
        mode=plan.mode,
        model=model,
        detail=last.estimate.detail,
        tier=tier,
        rules=last.estimate.rules,
        frames=totals.frames,
        duplicates_dropped=totals.duplicates_dropped,
        width=last.encoded.width,
        height=last.encoded.height,
        tokens=totals.tokens,
        cost_usd=cost_usd(totals.tokens, model, tier, prices),
        bytes=totals.bytes,
        base64_chars=totals.base64_chars,
    )


def cost_by_fps(
    path: str | Path,
    fps_values: Iterable[float],
    model: str,
    detail: str = DEFAULT_DETAIL,
    settings: EncodeSettings = DEFAULT_SETTINGS,
    *,
    dedupe_threshold: float | None = DEFAULT_DEDUPE_THRESHOLD,
    tier: str = "standard",
    rules: RulesSpec = None,
    prices: PricesSpec = None,
) -> list[dict]:
    """One row per sampling rate: frames, duplicates dropped, tokens, dollars, bytes."""
    rows = []
    for fps in fps_values:
        plan = SamplingPlan(fps=fps, dedupe_threshold=dedupe_threshold)
        cost = video_cost(
            path, plan, model, detail, settings, tier=tier, rules=rules, prices=prices
        )
        rows.append({"fps": fps, **asdict(cost)})
    return rows


def timestamps_text(prompt: str, times: Iterable[float]) -> str:
    """The prompt followed by the frames' timestamps, e.g. `... (seconds): 0.000, 1.500`."""
    caption = TIMES_CAPTION + ", ".join(f"{t:.3f}" for t in times)
    return f"{prompt}\n\n{caption}" if prompt else caption


def video_requests(
    path: str | Path,
    plan: SamplingPlan,
    spec: RequestSpec,
    settings: EncodeSettings = DEFAULT_SETTINGS,
    detail: str = DEFAULT_DETAIL,
    *,
    limits: RequestLimits = OBSERVED_LIMITS,
    on_oversize: str = "error",
) -> Iterator[Request]:
    """Requests carrying the plan's kept frames in order, split under `limits` (lazily).

    Each request's text is `spec.prompt` followed by the timestamps of the frames it carries.
    The split reserves room for the longest such list (`limits.max_images` timestamps as wide
    as the video's last second), so the real, shorter text never breaks a limit.
    """
    info = open_video(path)
    widest = -(abs(info.start_s) + info.duration_s)  # its text is the longest a time takes
    reserve = replace(spec, prompt=timestamps_text(spec.prompt, [widest] * limits.max_images))
    times: deque[float] = deque()

    def parts() -> Iterator[ImagePart]:
        for frame in sample_frames(path, plan):
            times.append(frame.timestamp_s)
            yield ImagePart.from_encoded(encode_frame(frame, settings), detail)

    for planned in split_parts(parts(), reserve, limits=limits, on_oversize=on_oversize):
        stamps = [times.popleft() for _ in planned.parts]
        request = Request(
            replace(spec, prompt=timestamps_text(spec.prompt, stamps)), planned.parts
        )
        if request.body_bytes > limits.max_request_bytes:  # cannot happen if the bound holds
            raise PayloadError(f"{path}: timestamps overflowed the room reserved for them")
        yield request
