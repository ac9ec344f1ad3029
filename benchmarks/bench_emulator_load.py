"""The emulator under load: concurrent requests while hundreds of slow clients hold connections.

    .venv/bin/python benchmarks/bench_emulator_load.py [--concurrent 200] [--idle 500] [--rounds 5]

`toolkit emulator` runs in its own process. First `--idle` connections are opened that send
half a request line and then nothing (slow-loris clients), then `--rounds` rounds of
`--concurrent` simultaneous Chat Completions requests, each with one distinct 512x384 JPEG
(about 30 KB) as a data URL, go out over their own connections. Reported: whether every
request was answered 200, requests per second, latency percentiles, and the emulator's peak
RSS (VmHWM) and peak thread count; then how long the server takes to close the idle connections
(its read timeout, `--read-timeout`). The target: it keeps serving, peak RSS < 500 MB.
"""

import argparse
import asyncio
import base64
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

from toolkit.images import DEFAULT_SETTINGS, encode_pixels

TARGET_MB = 500


def bodies(n: int, salt: int) -> list[bytes]:
    base = Image.radial_gradient("L").resize((512, 384)).convert("RGB")
    out = []
    for i in range(n):
        picture = base.copy()
        picture.putpixel((i % 512, salt % 384), (255, 0, 0))
        url = "data:image/jpeg;base64," + base64.b64encode(
            encode_pixels(picture, DEFAULT_SETTINGS)
        ).decode("ascii")
        content = [
            {"type": "text", "text": "Describe the image"},
            {"type": "image_url", "image_url": {"url": url, "detail": "high"}},
        ]
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}
        out.append(json.dumps(body).encode())
    return out


def status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "Threads"):
            fields[key] = int(value.split()[0])
    return fields


class PeakThreads:
    """The most threads the process had, sampled every 20 ms in a thread of our own."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.stop = pid, 0, threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()

    def _sample(self) -> None:
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, status(self.pid)["Threads"])

    def result(self) -> int:
        self.stop.set()
        self.sampler.join()
        return self.peak


def open_idle(port: int, n: int) -> list[socket.socket]:
    """`n` connections that send the start of a request line and then nothing."""
    sockets = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /v1/chat/completions HTT")
        sockets.append(sock)
    return sockets


async def round_trip(base_url: str, payloads: list[bytes]) -> tuple[list[int], list[float]]:
    """Send every payload at once, each on a connection of its own."""
    limits = httpx.Limits(max_connections=len(payloads), max_keepalive_connections=0)
    headers = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
    async with httpx.AsyncClient(limits=limits, timeout=120, headers=headers) as client:

        async def one(payload: bytes) -> tuple[int, float]:
            started = time.perf_counter()
            answer = await client.post(f"{base_url}/chat/completions", content=payload)
            return answer.status_code, (time.perf_counter() - started) * 1000

        results = await asyncio.gather(*(one(p) for p in payloads))
    return [code for code, _ in results], [ms for _, ms in results]


def closed_within(sockets: list[socket.socket], limit_s: float) -> float | None:
    """Seconds until the server has closed every idle socket, or None past `limit_s`."""
    started, remaining = time.perf_counter(), list(sockets)
    for sock in remaining:
        sock.settimeout(0.1)
    while remaining and time.perf_counter() - started < limit_s:
        still = []
        for sock in remaining:
            try:
                if sock.recv(1) != b"":
                    still.append(sock)
            except TimeoutError:
                still.append(sock)
            except ConnectionError:
                pass
        remaining = still
    return None if remaining else round(time.perf_counter() - started, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--idle", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--read-timeout", type=float, default=30.0)
    args = parser.parse_args()
    command = [
        sys.executable,
        "-m",
        "toolkit",
        "emulator",
        "--read-timeout",
        str(args.read_timeout),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        emulator = json.loads(process.stdout.readline())
        threads = PeakThreads(process.pid)
        idle = open_idle(emulator["port"], args.idle)
        codes, latencies = [], []
        started = time.perf_counter()
        for salt in range(args.rounds):
            round_codes, round_ms = asyncio.run(
                round_trip(emulator["base_url"], bodies(args.concurrent, salt))
            )
            codes += round_codes
            latencies += round_ms
        elapsed = time.perf_counter() - started
        during = status(process.pid)
        peak_threads = threads.result()
        closed_s = closed_within(idle, args.read_timeout + 15)
        after = status(process.pid)
    finally:
        process.terminate()
        process.wait()
    quantiles = statistics.quantiles(latencies, n=100)
    row = {
        "concurrent": args.concurrent,
        "idle_connections": args.idle,
        "requests": len(codes),
        "answered_200": codes.count(200),
        "requests_per_s": round(len(codes) / elapsed, 1),
        "latency_p50_ms": round(quantiles[49], 1),
        "latency_p95_ms": round(quantiles[94], 1),
        "latency_max_ms": round(max(latencies), 1),
        "peak_threads": peak_threads,
        "peak_rss_mb": round(during["VmHWM"] / 1024, 1),
        "idle_closed_after_s": closed_s,
        "threads_after_timeout": after["Threads"],
        "rss_after_mb": round(after["VmRSS"] / 1024, 1),
        "target_peak_rss_mb": TARGET_MB,
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
