"""Sweep engine vs a naive grid loop, and peak memory for 20 vs 200 images.

    .venv/bin/python benchmarks/bench_sweep.py [--images 10] [--workdir /tmp/bench_sweep]

Corpus: deterministic 4032x3024 JPEGs (q92, 4:2:0), each a 2x2 mosaic of the photos in
data/samples upscaled, sharpened and given luma/chroma sensor noise so their entropy is
camera-like (research/perf-anchors.md, "Test corpus").

Speed, on the perf-anchors grid (512/768/1024/2048 x q 50..95 x JPEG optimize + WebP method 4
= 48 encodes per image; one model and detail; no metrics), each mode in a fresh process:
- naive: per cell, open + decode + `thumbnail()` + encode + tokens (the seed recipe's code);
- naive-toolkit: per cell, the toolkit's one-shot `encode_image` (draft decode) + tokens;
all three resample like `thumbnail()` (LANCZOS with reducing_gap=2), so they make the same
pixels (at 512 px thumbnail() also drafts);
- engine: `run_sweep` on 1 worker (the process pinned to one CPU) and on 2 workers.
Targets: engine >= 3x naive on one worker; 2 workers >= 1.8x one worker.

Memory: `run_sweep` on 20 and on 200 images (the corpus cycled through symlinks), each in a
fresh process, 2 workers, with metrics; peak RSS (VmHWM) of the parent and of each worker.
Target: 200 images within 15 % of 20 images.
"""

import argparse
import base64
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from toolkit.images import EncodeSettings, encode_image
from toolkit.paths import SAMPLES_DIR
from toolkit.pricing import cost_usd
from toolkit.runtime import tune_malloc
from toolkit.sweep import SweepGrid, default_executor, run_sweep
from toolkit.tokens import image_tokens

SOURCES = (
    "photo/china.jpg",
    "photo/coffee.png",
    "photo/grace_hopper.jpg",
    "photo/hubble_deep_field.jpg",
    "photo/grace_hopper_exif_rotated.jpg",
)
SIZE = (4032, 3024)
DISTINCT = 10
SPEED_GRID = dict(
    max_sides=(512, 768, 1024, 2048),
    formats=("jpeg", "webp"),
    qualities=(50, 60, 70, 80, 90, 95),
    models=("gpt-4o",),
    details=("high",),
    compression_metrics=False,
    seen_metrics=False,
    base=EncodeSettings(reducing_gap=2.0),  # thumbnail()'s resampling: all modes, same pixels
)
MEMORY_GRID = dict(
    max_sides=(512, 1024),
    formats=("jpeg",),
    qualities=(80,),
    models=("gpt-4o",),
    details=("high",),
    reference_side=1024,
)


def make_photo(path: Path, seed: int) -> None:
    """A camera-like 12 MP JPEG: a mosaic of real photos, upscaled, sharpened, noisy."""
    rng = np.random.default_rng(seed)
    canvas = Image.new("RGB", SIZE)
    half = (SIZE[0] // 2, SIZE[1] // 2)
    for i, name in enumerate(rng.permutation(SOURCES)[:4]):
        with Image.open(SAMPLES_DIR / name) as src:
            tile = src.convert("RGB").resize(half, Image.Resampling.BICUBIC)
        canvas.paste(tile, ((i % 2) * half[0], (i // 2) * half[1]))
    canvas = canvas.filter(ImageFilter.UnsharpMask(radius=2, percent=120, threshold=2))
    pixels = np.asarray(canvas).astype(np.float32)
    pixels += rng.normal(0, 4, SIZE[::-1] + (1,)).astype(np.float32)  # luma noise
    pixels += rng.normal(0, 2.5, SIZE[::-1] + (3,)).astype(np.float32)  # chroma noise
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
        path, quality=92, subsampling="4:2:0"
    )


def corpus(workdir: Path) -> list[Path]:
    folder = workdir / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"photo_{i:02d}.jpg" for i in range(DISTINCT)]
    for i, path in enumerate(paths):
        if not path.exists():
            make_photo(path, seed=i)
    return paths


def cycled(workdir: Path, paths: list[Path], count: int) -> list[Path]:
    """`count` distinct file names over the corpus (symlinks)."""
    folder = workdir / f"cycled_{count}" / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        link = folder / f"img_{i:03d}.jpg"
        if not link.exists():
            link.symlink_to(paths[i % len(paths)])
        out.append(link)
    return out


def cells(grid: SweepGrid):
    for side in grid.max_sides:
        for fmt in grid.formats:
            for q in grid.qualities:
                for model in grid.models:
                    for detail in grid.details:
                        yield side, fmt, q, model, detail


def naive_seed(paths: list[Path], grid: SweepGrid) -> int:
    """The seed recipe's code run once per cell: nothing is reused."""
    rows = 0
    for path in paths:
        for side, fmt, q, model, detail in cells(grid):
            with Image.open(path) as image:
                image = image.convert("RGB")
                image.thumbnail((side, side), Image.Resampling.LANCZOS)
                buffer = io.BytesIO()
                options = {"optimize": True} if fmt == "jpeg" else {"method": 4}
                image.save(buffer, fmt.upper(), quality=q, **options)
            len(base64.b64encode(buffer.getvalue()))
            tokens = image_tokens(*image.size, model, detail).tokens
            cost_usd(tokens, model)
            rows += 1
    return rows


def naive_toolkit(paths: list[Path], grid: SweepGrid) -> int:
    """The toolkit's one-shot `encode_image` once per cell."""
    rows = 0
    for path in paths:
        for side, fmt, q, model, detail in cells(grid):
            encoded = encode_image(path, grid.settings((side, fmt, q)))
            cost_usd(image_tokens(encoded.width, encoded.height, model, detail).tokens, model)
            rows += 1
    return rows


def peak_rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_mode(args: argparse.Namespace) -> dict:
    """One measurement, in this (fresh) process."""
    if args.pin:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    tune_malloc()  # the engine's workers get it; the naive loops get it too, to compare code
    paths = corpus(args.workdir)[: args.images]
    if args.mode == "rss":
        paths = cycled(args.workdir, corpus(args.workdir), args.images)
    grid = SweepGrid(**(MEMORY_GRID if args.mode == "rss" else SPEED_GRID))
    start, cpu_start = time.perf_counter(), cpu_seconds()
    if args.mode == "naive":
        rows, workers, worker_cpu = naive_seed(paths, grid), [], 0.0
    elif args.mode == "naive-toolkit":
        rows, workers, worker_cpu = naive_toolkit(paths, grid), [], 0.0
    else:
        executor = default_executor(args.workers)
        frame = run_sweep(paths, grid, executor, progress=False)
        rows = len(frame)
        pids = list(executor._processes)  # benchmark-only peek at the pool's workers
        workers = [peak_rss_mb(pid) for pid in pids]
        worker_cpu = sum(cpu_seconds(pid) for pid in pids)
        executor.shutdown()
        assert frame["error"].isna().all(), frame["error"].dropna().unique()
    seconds = time.perf_counter() - start
    return {
        "mode": args.mode,
        "workers": args.workers,
        "images": len(paths),
        "rows": rows,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds() - cpu_start + worker_cpu,
        "parent_peak_rss_mb": peak_rss_mb(),
        "worker_peak_rss_mb": workers,
    }


def measure(workdir: Path, mode: str, images: int, workers: int = 1, pin: bool = False) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--mode",
        mode,
        "--images",
        str(images),
        "--workers",
        str(workers),
        "--workdir",
        str(workdir),
    ] + ["--pin"] * pin
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result), file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=DISTINCT, help="images for the speed runs")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench_sweep"))
    parser.add_argument("--mode", choices=("naive", "naive-toolkit", "engine", "rss"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pin", action="store_true", help="run on one CPU")
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args)))
        return
    corpus(args.workdir)
    naive = measure(args.workdir, "naive", args.images, pin=True)
    naive_tk = measure(args.workdir, "naive-toolkit", args.images, pin=True)
    one = measure(args.workdir, "engine", args.images, workers=1, pin=True)
    two = measure(args.workdir, "engine", args.images, workers=2)
    small = measure(args.workdir, "rss", 20, workers=2)
    large = measure(args.workdir, "rss", 200, workers=2)

    def total(r: dict) -> float:
        return r["parent_peak_rss_mb"] + sum(r["worker_peak_rss_mb"])

    n = args.images
    print(f"images: {n} x 48 encodes (12 MP JPEG), no metrics")
    for label, r in (
        ("naive (thumbnail per cell), 1 CPU", naive),
        ("naive (toolkit encode_image per cell), 1 CPU", naive_tk),
        ("engine, 1 worker, 1 CPU", one),
        ("engine, 2 workers", two),
    ):
        print(
            f"  {label:46s} {r['seconds']:7.1f} s  {r['seconds'] / n:6.2f} s/image"
            f"  (CPU {r['cpu_seconds']:.1f} s)"
        )
    print(
        f"  engine vs naive, 1 worker:         {naive['seconds'] / one['seconds']:.2f}x"
        f"  (vs naive-toolkit {naive_tk['seconds'] / one['seconds']:.2f}x; target >= 3)"
    )
    print(
        f"  2 workers vs 1:                    {one['seconds'] / two['seconds']:.2f}x"
        "  (target >= 1.8)"
    )
    for r in (small, large):
        print(
            f"  peak RSS, {r['images']:3d} images: parent {r['parent_peak_rss_mb']:.0f} MB,"
            f" workers {[round(w) for w in r['worker_peak_rss_mb']]} MB, total {total(r):.0f}"
            f" MB, {r['seconds']:.1f} s"
        )
    print(
        f"  RSS 200 vs 20 images:              {total(large) / total(small) - 1:+.1%}"
        "  (target within 15 %)"
    )


if __name__ == "__main__":
    main()
