"""Requests per second through the emulator, and the sender's peak memory.

    .venv/bin/python benchmarks/bench_requests.py [--requests 300] [--rss-counts 500 2000]

The emulator runs in its own process (`toolkit emulator`), so the figures are the sender's:
the SDK, JSON serialization and Base64 of one 512x384 JPEG per request (about 30 KB), built
lazily from a generator. Throughput is measured at concurrency 1, 8 and 32; peak RSS (the
process's VmHWM; `ru_maxrss` would keep the parent's across exec) is measured in a fresh
process per request count, so memory that stays flat as the count grows shows the bodies are
not all held at once. The machine is shared: compare figures within one run.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench_sweep import status_mb
from PIL import Image

from toolkit.client import run_requests
from toolkit.images import DEFAULT_SETTINGS, encode_pixels
from toolkit.payload import ImagePart, Request, RequestSpec

SPEC = RequestSpec("gpt-4o", "Describe the image as json", json_format=True)


def image_requests(n: int, salt: int = 0) -> Iterator[Request]:
    """`n` distinct one-image requests, each built only when the sender asks for it."""
    base = Image.radial_gradient("L").resize((512, 384)).convert("RGB")
    for i in range(n):
        picture = base.copy()
        picture.putpixel((i % 512, (i // 512 + salt) % 384), (255, 0, 0))
        data = encode_pixels(picture, DEFAULT_SETTINGS)
        yield Request(SPEC, (ImagePart.from_bytes(data, name=f"bench{i}"),))


def start_emulator() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "emulator"], stdout=subprocess.PIPE, text=True
    )
    return process, json.loads(process.stdout.readline())["base_url"]


def send(base_url: str, n: int, concurrency: int, salt: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        summary = run_requests(
            image_requests(n, salt),
            results_path=Path(folder) / "results.jsonl",
            api_key="bench",
            base_url=base_url,
            concurrency=concurrency,
        )
        elapsed = time.perf_counter() - started
    assert summary.statuses == {"ok": n}, summary.statuses
    return {
        "requests": n,
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(n / elapsed, 1),
    }


def rss_child(base_url: str, n: int) -> dict:
    """Send `n` requests in this process and report its peak RSS."""
    row = send(base_url, n, 32, salt=7)
    row["peak_rss_mb"] = round(status_mb("self", "VmHWM"), 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="per concurrency level")
    parser.add_argument("--rss-counts", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(rss_child(args.base_url, args.child)))
        return
    process, base_url = start_emulator()
    try:
        rows = [send(base_url, args.requests, c, salt=c) for c in (1, 8, 32)]
        for n in args.rss_counts:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(n), "--base-url", base_url],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ},
            ).stdout
            rows.append(json.loads(out))
    finally:
        process.terminate()
        process.wait()
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
