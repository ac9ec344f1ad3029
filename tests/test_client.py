"""The sender against the emulator over real HTTP: storms, resume, 413s, secrecy."""

import asyncio
import dataclasses
import json
import logging

import pytest
from helpers import quadrants, to_bytes

from toolkit.client import (
    RetryPolicy,
    make_client,
    read_results,
    retry_after_s,
    run_requests,
    send_requests,
)
from toolkit.emulator import Emulator, FaultPlan
from toolkit.errors import SettingsError
from toolkit.payload import ImagePart, Request, RequestLimits, RequestSpec, usage_cost_usd

PNG_HEAD_ONLY = to_bytes(quadrants(), "PNG")[:60]  # a PNG cut short: the API refuses it
FAST = RetryPolicy(max_attempts=8, initial_delay_s=0.001, max_delay_s=0.01)
KEY = "sk-test-DO-NOT-LEAK-4f9a2c"


def image(i: int, size=(48, 32)) -> ImagePart:
    picture = quadrants(size)
    picture.putpixel((0, 0), (i % 256, i // 256, 7))
    return ImagePart.from_bytes(to_bytes(picture, "PNG"), name=f"img{i}")


SPEC = RequestSpec("gpt-4o", "Describe as json", json_format=True)


def requests(n: int) -> list[Request]:
    return [Request(SPEC, (image(i),)) for i in range(n)]


def send(emu, items, path, **options):
    return run_requests(items, results_path=path, api_key=KEY, base_url=emu.base_url, **options)


@pytest.fixture
def emu():
    with Emulator() as emulator:
        yield emulator


def test_records_carry_usage_estimate_and_json(emu, tmp_path):
    items = requests(3)
    summary = send(emu, items, tmp_path / "r.jsonl")
    assert summary.statuses == {"ok": 3} and summary.attempts == 3
    records = read_results(tmp_path / "r.jsonl")
    record = records[items[0].id]
    assert record["estimated_image_tokens"] == items[0].estimated_image_tokens()
    assert record["input_minus_estimate_tokens"] == (
        record["input_tokens"] - record["estimated_image_tokens"]
    )
    assert record["response_json"]["images"][0]["width"] == 48
    assert record["request_id"].startswith("req_emu_")
    assert record["latency_ms"] > 0 and record["attempts"] == 1
    assert record["cost_usd"] == pytest.approx(
        usage_cost_usd("gpt-4o", record["input_tokens"], 0, record["output_tokens"], "standard")
    )
    assert record["body_bytes"] == items[0].body_bytes
    assert record["image_names"] == ["img0"]


def test_fault_storm_loses_nothing_and_sends_nothing_twice(emu, tmp_path):
    emu.faults = FaultPlan(
        rate_429=0.3,
        rate_500=0.15,
        rate_drop=0.1,
        rate_hang=0.05,
        retry_after_s=0.002,
        hang_s=2,
        seed=11,
    )
    items = requests(60)
    path = tmp_path / "storm.jsonl"
    summary = send(emu, items, path, concurrency=16, retry=FAST, timeout=0.5)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert sorted(r["id"] for r in lines) == sorted(r.id for r in items)  # one record each
    assert summary.statuses["ok"] + summary.statuses["failed"] == 60
    assert summary.statuses["ok"] > 40
    assert sum(emu.state.faults_seen.values()) > 30
    for record in lines:
        assert emu.attempts[record["id"]] == record["attempts"]
        assert emu.answered[record["id"]] == (1 if record["status"] == "ok" else 0)
    retried = [r for r in lines if r["attempts"] > 1]
    assert retried and all(r["elapsed_ms"] >= r.get("latency_ms", 0) for r in retried)


def test_exhausted_retries_are_sent_again_later_and_refusals_are_not(emu, tmp_path):
    path = tmp_path / "r.jsonl"
    emu.faults = FaultPlan(rate_500=1.0)
    bad = Request(RequestSpec("gpt-4o", "x"), (ImagePart(data=PNG_HEAD_ONLY, name="cut"),))
    items = [*requests(4), bad]
    retry = RetryPolicy(max_attempts=3, initial_delay_s=0.001, max_delay_s=0.001)
    summary = send(emu, items, path, retry=retry)
    assert summary.statuses == {"failed": 5} and summary.attempts == 15
    emu.faults = FaultPlan()
    summary = send(emu, items, path, retry=retry)
    assert summary.statuses == {"ok": 4, "error": 1} and summary.skipped == 0
    records = read_results(path)
    assert records[bad.id]["error_type"] == "BadRequestError"
    assert records[bad.id]["attempts"] == 1 and records[bad.id]["http_status"] == 400
    summary = send(emu, items, path, retry=retry)
    assert summary.sent == 0 and summary.skipped == 5
    assert all(emu.answered[r.id] == 1 for r in items[:4])


def test_interrupted_run_resumes_without_resending(emu, tmp_path):
    items = requests(12)
    path = tmp_path / "r.jsonl"

    def interrupted():
        yield from items[:5]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        send(emu, interrupted(), path, concurrency=1)
    assert len(read_results(path)) == 5
    with path.open("a") as handle:
        handle.write('{"id": "torn')  # killed mid-write
    summary = send(emu, items + items[:3], path, concurrency=4)
    assert summary.statuses == {"ok": 7} and summary.skipped == 8
    assert summary.describe().startswith(
        "7 requests: 7 ok, 8 skipped (answered before or repeated); 7 attempts in "
    )
    assert set(read_results(path)) == {r.id for r in items}
    assert all(emu.attempts[r.id] == 1 for r in items)


def test_cancelled_run_loses_nothing(emu, tmp_path):
    emu.faults = FaultPlan(rate_slow=1.0, slow_s=0.2)
    items = requests(10)
    path = tmp_path / "r.jsonl"

    async def cancel_midway():
        async with make_client(KEY, base_url=emu.base_url) as client:
            task = asyncio.ensure_future(
                send_requests(items, client=client, results_path=path, concurrency=3)
            )
            await asyncio.sleep(0.5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(cancel_midway())
    first = read_results(path)
    assert 0 < len(first) < 10
    emu.faults = FaultPlan()
    send(emu, items, path)
    assert set(read_results(path)) == {r.id for r in items}
    assert all(emu.answered[i] == 1 for i in first)


def test_payload_too_large_splits_the_request(tmp_path):
    spec = RequestSpec("gpt-4o", "Describe each")
    parts = tuple(image(i) for i in range(6))
    whole = Request(spec, parts)
    limit = Request(spec, parts[:2]).body_bytes + 10
    with Emulator(limits=RequestLimits(max_request_bytes=limit)) as emu:
        summary = send(emu, [whole], tmp_path / "r.jsonl")
        records = read_results(tmp_path / "r.jsonl")
        assert records[whole.id]["status"] == "split"
        children = records[whole.id]["children"]
        assert summary.statuses["ok"] == len(children) >= 3
        names = [n for c in children for n in records[c]["image_names"]]
        assert names == [p.name for p in parts]
        assert all(records[c]["body_bytes"] <= limit for c in children)
        again = send(emu, [whole], tmp_path / "r.jsonl")
        assert again.statuses == {"split": 1} and again.skipped == len(children)
        refused = send(emu, [whole], tmp_path / "e.jsonl", on_too_large="error")
        assert refused.statuses == {"error": 1}
        assert read_results(tmp_path / "e.jsonl")[whole.id]["http_status"] == 413


def test_a_413_split_keeps_an_images_crops_together(tmp_path):
    spec = RequestSpec("gpt-4o", "Describe each")
    crops = [
        dataclasses.replace(image(10 + i), caption="crops" if i == 0 else None, piece=(i, 3))
        for i in range(3)
    ]
    parts = (image(0), image(1), image(2), *crops, image(3), image(4), image(5))
    whole = Request(spec, parts)
    limit = whole.body_bytes // 2 + 10  # the halves fit; packed one by one, img11 would not
    with Emulator(limits=RequestLimits(max_request_bytes=limit)) as emu:
        summary = send(emu, [whole], tmp_path / "r.jsonl")
    records = read_results(tmp_path / "r.jsonl")
    children = [records[c]["image_names"] for c in records[whole.id]["children"]]
    assert summary.statuses["ok"] == len(children)
    assert children == [
        ["img0", "img1", "img2"],
        ["img10", "img11", "img12", "img3"],
        ["img4", "img5"],
    ]


def test_payload_too_large_reencodes_a_single_image(tmp_path):
    big = ImagePart.from_bytes(to_bytes(quadrants((600, 400)), "PNG"), name="big")
    request = Request(RequestSpec("gpt-4o", "Describe"), (big,))
    with Emulator(limits=RequestLimits(max_request_bytes=request.body_bytes // 2)) as emu:
        split_only = send(emu, [request], tmp_path / "a.jsonl")
        assert split_only.statuses == {"error": 1}
        assert "too large" in read_results(tmp_path / "a.jsonl")[request.id]["error_message"]
        summary = send(emu, [request], tmp_path / "b.jsonl", on_too_large="reencode")
        records = read_results(tmp_path / "b.jsonl")
        (child,) = records[request.id]["children"]
        assert summary.statuses == {"split": 1, "ok": 1}
        assert json.loads(records[child]["response_text"])["images"][0]["width"] < 600


def test_concurrency_32(emu, tmp_path):
    summary = send(emu, requests(96), tmp_path / "r.jsonl", concurrency=32)
    assert summary.statuses == {"ok": 96}


def test_the_api_key_never_appears_anywhere(emu, tmp_path, capsys, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    emu.faults = FaultPlan(rate_429=0.3, rate_500=0.2, retry_after_s=0.001)
    items = requests(8)
    items.append(Request(RequestSpec("gpt-4o"), (ImagePart(url="http://127.0.0.1:9/x.png"),)))
    summary = run_requests(items, results_path=tmp_path / "r.jsonl", base_url=emu.base_url)
    assert summary.sent == 9
    captured = capsys.readouterr()
    texts = [captured.out, captured.err, caplog.text, repr(summary)]
    texts += [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
    assert caplog.text  # the SDK did log at debug level
    assert not any(KEY in text for text in texts)


def test_settings_are_checked(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(SettingsError, match="OPENAI_API_KEY"):
        make_client()
    with pytest.raises(SettingsError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(SettingsError):
        run_requests([], results_path="x", api_key="k", on_too_large="shrug")


def test_retry_after_parsing():
    assert retry_after_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_s({"retry-after": "2"}) == 2.0
    assert retry_after_s({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_s({}) is None
    assert 0.375 <= RetryPolicy().backoff(1) <= 0.5
    assert RetryPolicy().backoff(10) <= 8.0
