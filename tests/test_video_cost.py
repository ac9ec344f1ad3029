from dataclasses import replace

import pytest
from videogen import shots, write_video

from toolkit.images import EncodeSettings
from toolkit.paths import DATA_DIR
from toolkit.payload import OBSERVED_LIMITS, RequestSpec, body_bytes
from toolkit.pricing import cost_usd
from toolkit.tokens import image_tokens
from toolkit.video import SamplingPlan, encode_frame, sample_frames
from toolkit.video_cost import (
    TIMES_CAPTION,
    cost_by_fps,
    frame_costs,
    timestamps_text,
    video_cost,
    video_requests,
)

CLIP = DATA_DIR / "video" / "clip.mp4"
DEDUPED = SamplingPlan(fps=10, dedupe_threshold=0.02)


@pytest.fixture(scope="module")
def shots_mp4(tmp_path_factory):
    """Three 1 s still shots joined by hard cuts: 30 frames, 3 of them not duplicates."""
    path = tmp_path_factory.mktemp("v") / "shots.mp4"
    return write_video(path, shots((40, 10), (200, 10), (100, 10)))


def test_video_cost_prices_only_kept_frames_at_their_encoded_size(shots_mp4):
    cost = video_cost(shots_mp4, DEDUPED, "gpt-4o", "high")
    per_frame = image_tokens(64, 48, "gpt-4o", "high").tokens
    assert (cost.frames, cost.duplicates_dropped) == (3, 27)
    assert (cost.width, cost.height) == (64, 48)
    assert cost.tokens == 3 * per_frame
    assert cost.cost_usd == cost_usd(3 * per_frame, "gpt-4o")
    encoded = [encode_frame(f) for f in sample_frames(shots_mp4, DEDUPED)]
    assert cost.bytes == sum(e.bytes for e in encoded)
    assert cost.base64_chars == sum(e.base64_chars for e in encoded)
    assert (cost.mode, cost.detail, cost.tier) == ("fps", "high", "standard")
    assert cost.rules == image_tokens(64, 48, "gpt-4o", "high").rules


@pytest.mark.parametrize(
    ("model", "detail", "max_side"),
    [
        ("gpt-4o", "high", 800),
        ("gpt-4o", "low", 800),
        ("gpt-5.4", "high", 320),
        ("o3", "auto", None),
    ],
)
def test_clip_cost_uses_the_geometry_after_encoding(model, detail, max_side):
    settings = EncodeSettings(max_side=max_side)
    cost = video_cost(CLIP, SamplingPlan(count=3), model, detail, settings)
    width, height = (640, 360) if max_side in (800, None) else (320, 180)
    estimate = image_tokens(width, height, model, detail)
    assert (cost.width, cost.height, cost.frames) == (width, height, 3)
    assert cost.tokens == 3 * estimate.tokens
    assert cost.detail == estimate.detail


def test_batch_tier_is_priced_from_the_same_tokens(shots_mp4):
    standard = video_cost(shots_mp4, DEDUPED, "gpt-4o", "high")
    batch = video_cost(shots_mp4, DEDUPED, "gpt-4o", "high", tier="batch")
    assert batch.tokens == standard.tokens
    assert batch.cost_usd == cost_usd(standard.tokens, "gpt-4o", "batch")
    assert batch.cost_usd < standard.cost_usd


def test_frame_costs_leave_duplicates_unencoded_and_work_without_a_model(shots_mp4):
    items = list(frame_costs(shots_mp4, DEDUPED))
    assert len(items) == 30
    assert all(i.encoded is None for i in items if i.frame.duplicate)
    assert all(i.encoded is not None for i in items if not i.frame.duplicate)
    assert all(i.tokens is None and i.cost_usd is None for i in items)


def test_cost_by_fps_table_on_the_clip():
    rows = cost_by_fps(CLIP, [0.5, 2, 8], "gpt-4o", "low")
    assert [r["fps"] for r in rows] == [0.5, 2, 8]
    assert [r["frames"] + r["duplicates_dropped"] for r in rows] == [4, 16, 64]
    assert rows[0]["duplicates_dropped"] == 0
    assert rows[-1]["duplicates_dropped"] > rows[1]["duplicates_dropped"] > 0  # the still shot
    for row in rows:
        assert row["tokens"] == row["frames"] * image_tokens(640, 360, "gpt-4o", "low").tokens


def test_timestamps_text():
    assert timestamps_text("", [0, 1.5]) == TIMES_CAPTION + "0.000, 1.500"
    assert timestamps_text("Describe.", [2]) == "Describe.\n\n" + TIMES_CAPTION + "2.000"


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_video_requests_carry_frames_in_order_with_their_timestamps(api):
    plan = SamplingPlan(fps=2, dedupe_threshold=0.02)
    spec = RequestSpec(model="gpt-5.4", prompt="What happens?", api=api)
    limits = replace(OBSERVED_LIMITS, max_images=4, max_request_bytes=300_000)
    requests = list(video_requests(CLIP, plan, spec, limits=limits))
    kept = list(sample_frames(CLIP, plan))
    assert sum(len(r.parts) for r in requests) == len(kept) == 14
    assert all(len(r.parts) <= 4 and r.body_bytes <= 300_000 for r in requests)
    assert len(requests) >= 4
    stamps = []
    for request in requests:
        body = request.body()
        content = (body["messages"] if api == "chat" else body["input"])[0]["content"]
        text = content[0]["text"]
        assert text.startswith("What happens?\n\n" + TIMES_CAPTION)
        times = [float(t) for t in text.split(": ", 1)[1].split(", ")]
        assert len(times) == len(content) - 1 == len(request.parts)
        stamps += times
    assert stamps == pytest.approx([f.timestamp_s for f in kept], abs=5e-4)
    first = encode_frame(kept[0])
    assert requests[0].parts[0].data == first.data


def test_video_requests_body_bytes_are_exact():
    spec = RequestSpec(model="gpt-4o", prompt="Summarise.")
    for request in video_requests(CLIP, SamplingPlan(count=3), spec):
        assert request.body_bytes == body_bytes(request.body())
