"""The sender's delivery guarantee, counted on the server: an interrupted run records the
requests in flight, so resuming answers none twice; only an attempt cut off before the server
answered (a timeout shorter than the server) is sent again, and its record says so."""

import asyncio
import os
import signal
import subprocess
import sys
import time

from helpers import quadrants, to_bytes

from toolkit.client import RetryPolicy, make_client, read_results, run_requests, send_requests
from toolkit.emulator import Emulator, FaultPlan
from toolkit.payload import ImagePart, Request, RequestSpec

SPEC = RequestSpec("gpt-4o", "Describe")
CHILD = """
import sys
from test_adversarial_delivery import requests
from toolkit.client import run_requests

try:
    run_requests(requests(int(sys.argv[3])), results_path=sys.argv[2], api_key="sk-test",
                 base_url=sys.argv[1], concurrency=8)
except KeyboardInterrupt:
    sys.exit(130)
"""


def requests(n: int) -> list[Request]:
    """`n` one-image requests with distinct ids."""
    out = []
    for i in range(n):
        picture = quadrants((40, 30))
        picture.putpixel((0, 0), (i % 256, i // 256, 3))
        out.append(Request(SPEC, (ImagePart.from_bytes(to_bytes(picture, "PNG"), name=str(i)),)))
    return out


def test_sigint_then_resume_answers_every_request_exactly_once(tmp_path):
    results = tmp_path / "results.jsonl"
    ids = {r.id for r in requests(60)}
    here = os.path.dirname(__file__)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([here, os.path.dirname(here)])}
    argv = [sys.executable, "-c", CHILD, None, str(results), "60"]
    with Emulator(faults=FaultPlan(rate_slow=1.0, slow_s=0.3)) as emu:
        argv[3] = emu.base_url
        child = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
        while sum(emu.attempts.values()) < 20:
            time.sleep(0.01)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
        assert child.returncode == 130 and "Traceback" not in err
        first = read_results(results)
        in_flight = sum(emu.attempts.values())
        assert len(first) == in_flight < 60  # every request sent was recorded, the rest not
        assert all(r["status"] == "ok" and r["attempts"] == 1 for r in first.values())
        emu.faults = FaultPlan()
        summary = run_requests(
            requests(60), results_path=results, api_key="sk-test", base_url=emu.base_url
        )
        assert summary.skipped == len(first) and summary.statuses == {"ok": 60 - len(first)}
        assert set(emu.answered) == ids and set(emu.answered.values()) == {1}
    assert set(read_results(results)) == ids


def test_cancelling_the_task_records_the_requests_in_flight(tmp_path):
    results = tmp_path / "results.jsonl"

    async def run(emu) -> None:
        async with make_client("sk-test", base_url=emu.base_url) as client:
            task = asyncio.create_task(
                send_requests(requests(20), client=client, results_path=results, concurrency=4)
            )
            while sum(emu.attempts.values()) < 4:
                await asyncio.sleep(0.01)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    with Emulator(faults=FaultPlan(rate_slow=1.0, slow_s=0.5)) as emu:
        asyncio.run(run(emu))
        records = read_results(results)
        assert len(records) == sum(emu.attempts.values()) == sum(emu.answered.values()) == 4
        assert {r["status"] for r in records.values()} == {"ok"}


def test_an_interrupt_during_a_retry_delay_stops_without_retrying(tmp_path):
    results = tmp_path / "results.jsonl"
    retry = RetryPolicy(max_attempts=5, initial_delay_s=30, max_delay_s=30)

    async def run(emu) -> float:
        async with make_client("sk-test", base_url=emu.base_url) as client:
            task = asyncio.create_task(
                send_requests(requests(1), client=client, results_path=results, retry=retry)
            )
            while not emu.state.faults_seen:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            started = time.perf_counter()
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            return time.perf_counter() - started

    with Emulator(faults=FaultPlan(rate_500=1.0)) as emu:
        assert asyncio.run(run(emu)) < 5  # not the 30 s backoff
        (record,) = read_results(results).values()
        assert (record["status"], record["attempts"], record["http_status"]) == ("failed", 1, 500)


def test_a_timeout_shorter_than_the_server_is_at_least_once_and_says_so(tmp_path):
    retry = RetryPolicy(max_attempts=3, initial_delay_s=0.01, max_delay_s=0.01)
    with Emulator(faults=FaultPlan(rate_slow=1.0, slow_s=0.4)) as emu:
        short = tmp_path / "short.jsonl"
        run_requests(
            requests(4),
            results_path=short,
            api_key="k",
            base_url=emu.base_url,
            retry=retry,
            timeout=0.1,
        )
        time.sleep(0.6)  # let the server finish the answers nobody waited for
        for request_id, record in read_results(short).items():
            assert record["attempts"] == 3 and record["status"] == "failed"
            assert emu.answered[request_id] <= record["attempts"]
        assert max(emu.answered.values()) > 1  # answered more than once: at least once

        generous = tmp_path / "generous.jsonl"
        others = requests(8)[4:]
        run_requests(
            others,
            results_path=generous,
            api_key="k",
            base_url=emu.base_url,
            retry=retry,
            timeout=5,
        )
        assert all(emu.answered[r.id] == 1 for r in others)
        assert {r["attempts"] for r in read_results(generous).values()} == {1}
