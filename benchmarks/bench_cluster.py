"""A sweep of 2,000 generated images on a 2-worker Dask process cluster: throughput and memory.

    .venv/bin/python benchmarks/bench_cluster.py [--images 2000] [--source bytes|url]

Images: deterministic 1024x768 JPEGs (q90), each a noise texture from a pool of 16 with its own
coloured block, so every file differs. The cluster is a `distributed.LocalCluster` with 2 worker
processes of 1 thread, started here as `dask scheduler` + `dask worker` would be; the sweep
talks to it by address (`toolkit.sweep_executor(address)`), as `toolkit sweep --scheduler`
does. `--source bytes` (default) names local files, which travel to the workers as bytes;
`--source url` names the folder as a `file://` URL, which the workers read themselves.
Grid: 512 and 1024 px x JPEG 80 x gpt-4o high, compression and seen metrics on, no cache.
Rows are appended to a CSV as images finish, as `toolkit sweep` does.

Memory: resident set (VmRSS) of this process (client, scheduler, nannies) and of each worker
after 10 %, 25 %, 50 %, 75 % and 100 % of the images, and each one's peak (VmHWM).
Target: flat, the last reading within 15 % of the first.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
from bench_sweep import cpu_seconds, status_mb
from PIL import Image

from toolkit.sweep import SweepGrid, iter_sweep, sweep_executor, to_frame

SIZE = (1024, 768)
TEXTURES = 16
GRID = dict(
    max_sides=(512, 1024),
    formats=("jpeg",),
    qualities=(80,),
    models=("gpt-4o",),
    details=("high",),
    reference_side=1024,
)


def generate(folder: Path, count: int) -> list[Path]:
    """`count` distinct JPEGs (made once; reused by later runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    textures = [
        np.clip(rng.normal(128, 40, (*SIZE[::-1], 3)), 0, 255).astype(np.uint8)
        for _ in range(TEXTURES)
    ]
    paths = [folder / f"img_{i:05d}.jpg" for i in range(count)]
    for i, path in enumerate(paths):
        if path.exists():
            continue
        pixels = textures[i % TEXTURES].copy()
        top, left = (i * 37) % (SIZE[1] - 128), (i * 91) % (SIZE[0] - 128)
        pixels[top : top + 128, left : left + 128] = ((i * 7) % 256, (i * 13) % 256, i % 256)
        Image.fromarray(pixels).save(path, quality=90)
    return paths


def main() -> None:
    import distributed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--source", choices=("bytes", "url"), default="bytes")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench_cluster"))
    args = parser.parse_args()
    start = time.perf_counter()
    folder = args.workdir / f"images_{args.images}"
    paths = generate(folder, args.images)
    print(f"{len(paths)} images in {folder} ({time.perf_counter() - start:.0f} s to make)")
    images = paths if args.source == "bytes" else [folder.as_uri()]
    grid = SweepGrid(**GRID)
    out = args.workdir / f"results_{args.source}.csv"
    out.unlink(missing_ok=True)
    checkpoints = {max(1, round(args.images * share)) for share in (0.1, 0.25, 0.5, 0.75, 1)}
    readings = []
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        sweep_executor(cluster.scheduler_address) as executor,
    ):
        workers = list(executor.client.run(os.getpid).values())
        cpu_before = cpu_seconds() + sum(cpu_seconds(pid) for pid in workers)
        start, done, errors = time.perf_counter(), 0, 0
        for _, rows in iter_sweep(images, grid, executor):
            frame = to_frame(rows)
            frame.to_csv(out, mode="a", header=done == 0, index=False)
            errors += int(frame["error"].notna().sum())
            done += 1
            if done in checkpoints:
                readings.append(
                    (done, status_mb("self", "VmRSS"), [status_mb(p, "VmRSS") for p in workers])
                )
        seconds = time.perf_counter() - start
        cpu = cpu_seconds() + sum(cpu_seconds(pid) for pid in workers) - cpu_before
        peaks = [status_mb(pid, "VmHWM") for pid in workers]
    print(
        f"source {args.source}: {done} images, {errors} error rows, {seconds:.1f} s "
        f"({done / seconds:.1f} images/s), CPU {cpu:.1f} s; load {os.getloadavg()[0]:.2f}"
    )
    print("  images  this process (client, scheduler)  workers   RSS, MB")
    for count, parent, per_worker in readings:
        print(f"  {count:6d}  {parent:8.0f}  {[round(w) for w in per_worker]}")
    first, last = readings[0], readings[-1]
    total = (first[1] + sum(first[2]), last[1] + sum(last[2]))
    print(
        f"  peak: this process {status_mb('self', 'VmHWM'):.0f} MB, workers "
        f"{[round(p) for p in peaks]} MB; total RSS {total[0]:.0f} -> {total[1]:.0f} MB "
        f"({total[1] / total[0] - 1:+.1%}; target within 15 %)"
    )


if __name__ == "__main__":
    main()
