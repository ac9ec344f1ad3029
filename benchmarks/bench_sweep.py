"""Sweep engine vs a naive loop (1 and 2 workers in the same run), where the time goes, and
peak memory for 20 vs 200 images.

    .venv/bin/python benchmarks/bench_sweep.py [--runs 3] [--grid full|encode] [--profile]

**Corpus** (deterministic): `--photos` camera-like 12 MP JPEGs (q92, 4:2:0; a 2x2 mosaic of
the photos in data/samples, upscaled, sharpened, with luma/chroma sensor noise so their
entropy is camera-like: research/perf-anchors.md, "Test corpus") and, for the full grid, the
text images in `TEXTS` (real screenshots and pages from data/samples).

**Grids.** `full` (the default, and the target): what a sweep is run for: 3 max sides x JPEG
and WebP x 3 qualities (18 encodes per image) for gpt-4o `high`, with compression and seen
metrics (SSIM/PSNR, the ceiling) and OCR legibility on. `encode`: the perf-anchors grid
(512/768/1024/2048 x q 50..95 x JPEG optimize + WebP method 4 = 48 encodes per image), photos
only, no metrics: bytes, tokens and dollars.

**The naive loop** computes the same values one image x cell at a time with the toolkit's
own functions and nothing reused between cells: for every cell it decodes the image
(`load_image`; draft-decoded as `encode_image` does when no metric needs the original),
resizes, encodes, prices and, in the full grid, decodes the encode back, computes
compression SSIM/PSNR against the resized pixels, resizes the original to the reference size
and takes its SSIM statistics, the seen SSIM/PSNR of each kept view and the model's ceiling,
reads the original with Tesseract and scores each kept view's legibility. Its values are
checked equal to the engine's.

**Engine**: `run_sweep` with its process pool, 1 worker (the whole process pinned to one
CPU, like the naive loop) and 2 workers. Targets, in the same run: engine >= 3x naive on 1
worker, 2 workers >= 1.8x 1 worker. The machine may be shared: each measurement waits (up to
5 minutes) for other processes to use under 0.3 CPUs, and gives wall and CPU seconds and the
CPUs others used meanwhile (busy outside this benchmark's processes, from /proc/stat). Load
does not change the CPU-time ratios: naive CPU / engine CPU, and 1 worker's CPU / the CPU of
the parent plus the busier of 2 workers (the 2-worker wall time with both CPUs free).

`--profile`: the engine on one thread under cProfile, time per stage (decode, resize, encode
by format, SSIM/PSNR, OCR). Memory: `run_sweep` on 20 and on 200 images (the photos cycled
through symlinks), 2 workers, metrics on; peak RSS of the parent and of each worker. Target:
200 within 15 % of 20.
"""

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from concurrent.futures import Executor, Future
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageFilter

from toolkit import quality, sweep
from toolkit.images import encode_pixels, load_image, resize_image
from toolkit.legibility import legibility, read_text
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
TEXTS = (
    "screenshot/code_editor_1x.png",
    "screenshot/terminal_2x.png",
    "document/report_a4_150dpi.png",
    "document/tesseract_eurotext.tif",
)
SIZE = (4032, 3024)
DISTINCT = 10
GRIDS = {
    "full": dict(
        max_sides=(512, 1024, 2048),
        formats=("jpeg", "webp"),
        qualities=(60, 80, 95),
        models=("gpt-4o",),
        details=("high",),
        ocr=True,
    ),
    "encode": dict(
        max_sides=(512, 768, 1024, 2048),
        formats=("jpeg", "webp"),
        qualities=(50, 60, 70, 80, 90, 95),
        models=("gpt-4o",),
        details=("high",),
        compression_metrics=False,
        seen_metrics=False,
    ),
}
MEMORY_GRID = dict(
    max_sides=(512, 1024),
    formats=("jpeg",),
    qualities=(80,),
    models=("gpt-4o",),
    details=("high",),
    reference_side=1024,
)
COMPARED = [
    "bytes",
    "tokens",
    "compression_ssim",
    "seen_ssim",
    "seen_psnr_db",
    "ceiling_ssim",
    "seen_word_recall",
]


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


def photos(workdir: Path) -> list[Path]:
    folder = workdir / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"photo_{i:02d}.jpg" for i in range(DISTINCT)]
    for i, path in enumerate(paths):
        if not path.exists():
            make_photo(path, seed=i)
    return paths


def corpus(workdir: Path, grid: str, count: int) -> list[Path]:
    """`count` photos, then (full grid) the text images."""
    texts = [SAMPLES_DIR / name for name in TEXTS] if grid == "full" else []
    return photos(workdir)[:count] + texts


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


def naive_cell(path: Path, grid: SweepGrid, side, fmt, q, model, detail) -> dict:
    """One cell from scratch: decode, resize, encode, price, and every metric the grid asks."""
    full = grid.seen_metrics or grid.ocr
    original = load_image(path, grid.base, draft_side=None if full else side).image
    resized = resize_image(original, side, grid.base.resample, grid.base.reducing_gap)
    data = encode_pixels(resized, grid.settings((side, fmt, q)))
    estimate = image_tokens(*resized.size, model, detail)
    row = {"path": str(path), "max_side": side, "format": fmt, "quality": q, "model": model}
    row.update(bytes=len(data), tokens=estimate.tokens, cost_usd=cost_usd(estimate.tokens, model))
    if not (grid.compression_metrics or full):
        return row
    decoded = quality.decode_image(data, resized.mode)
    kept = quality.to_size(decoded, (estimate.provider_width, estimate.provider_height))
    if grid.compression_metrics:
        row["compression_ssim"] = quality.Reference(resized).compare(decoded).ssim
    if grid.seen_metrics:
        reference = quality.Reference(
            resize_image(
                original, grid.reference_limit, grid.base.resample, grid.base.reducing_gap
            )
        )
        seen = reference.compare(quality.to_size(kept, reference.size))
        row.update(seen_ssim=seen.ssim, seen_psnr_db=seen.psnr_db)
        whole = sweep._ceiling_size(*original.size, model, grid.rules, grid.max_sides)
        row["ceiling_ssim"] = reference.ssim(quality.seen_view(original, whole, reference.size))
    if grid.ocr:
        truth = read_text(original)
        if truth.has_text:
            row["seen_word_recall"] = legibility(truth, kept, original.size).word_recall
    return row


def naive(paths: list[Path], grid: SweepGrid) -> pd.DataFrame:
    """The naive loop: every image x cell from scratch."""
    return pd.DataFrame([naive_cell(p, grid, *cell) for p in paths for cell in cells(grid)])


def status_mb(pid: int | str = "self", field: str = "VmHWM") -> float:
    """A memory figure of a process from /proc/PID/status (default: its peak RSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used (the `cpu` line of /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(most_s: float = 300, below: float = 0.3) -> float:
    """Wait (up to `most_s`) until other processes use less than `below` CPUs over 5 s; the
    CPUs they used in the last 5 s."""
    deadline = time.monotonic() + most_s
    while True:
        busy = machine_busy_seconds()
        time.sleep(5)
        others = (machine_busy_seconds() - busy) / 5
        if others < below or time.monotonic() > deadline:
            return others


def run_mode(args: argparse.Namespace) -> dict:
    """One measurement, in this (fresh) process; rows go to `--rows` for the equality check."""
    if args.pin:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    tune_malloc()  # the engine's workers get it; the naive loop gets it too, to compare code
    if args.mode == "rss":
        paths = cycled(args.workdir, photos(args.workdir), args.images)
        grid = SweepGrid(**MEMORY_GRID)
    else:
        paths = corpus(args.workdir, args.grid, args.images)
        grid = SweepGrid(**GRIDS[args.grid])
    busy, start, cpu_start = machine_busy_seconds(), time.perf_counter(), cpu_seconds()
    workers: list[float] = []
    worker_cpus: list[float] = []
    if args.mode == "naive":
        frame = naive(paths, grid)
    else:
        executor = default_executor(args.workers)
        frame = run_sweep(paths, grid, executor, progress=False)
        pids = executor.pids()
        workers = [status_mb(pid) for pid in pids]
        worker_cpus = [cpu_seconds(pid) for pid in pids]
        executor.shutdown()
        assert frame["error"].isna().all(), frame["error"].dropna().unique()
    seconds = time.perf_counter() - start
    parent_cpu = cpu_seconds() - cpu_start
    cpu = parent_cpu + sum(worker_cpus)
    if args.rows:
        frame.to_csv(args.rows, index=False)
    return {
        "mode": args.mode,
        "workers": args.workers,
        "images": len(paths),
        "rows": len(frame),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "critical_cpu_seconds": parent_cpu + max(worker_cpus, default=0.0),
        "others_cpus": max(0.0, (machine_busy_seconds() - busy - cpu) / seconds),
        "loadavg": Path("/proc/loadavg").read_text().split()[0],
        "parent_peak_rss_mb": status_mb(),
        "worker_peak_rss_mb": workers,
    }


def measure(args: argparse.Namespace, mode: str, workers: int = 1, pin: bool = False, **kw):
    """`run_mode` in a fresh interpreter."""
    options = {"grid": args.grid, "images": args.images, "workdir": args.workdir, **kw}
    cmd = [sys.executable, __file__, "--mode", mode, "--workers", str(workers)]
    cmd += [f"--{k}={v}" for k, v in options.items() if v is not None] + ["--pin"] * pin
    quiet = wait_for_quiet()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = {**json.loads(done.stdout.strip().splitlines()[-1]), "others_before": quiet}
    return result


def check_same_values(workdir: Path) -> None:
    """The naive loop and the engine computed the same numbers."""
    key = ["path", "max_side", "format", "quality", "model"]
    naive_rows = pd.read_csv(workdir / "naive.csv").set_index(key).sort_index()
    engine = pd.read_csv(workdir / "engine.csv").set_index(key).sort_index()
    columns = [c for c in COMPARED if c in naive_rows]
    pd.testing.assert_frame_equal(naive_rows[columns], engine.loc[naive_rows.index, columns])


def speed_run(args: argparse.Namespace, number: int) -> dict:
    naive_run = measure(args, "naive", pin=True, rows=args.workdir / "naive.csv")
    one = measure(args, "engine", workers=1, pin=True, rows=args.workdir / "engine.csv")
    two = measure(args, "engine", workers=2)
    check_same_values(args.workdir)
    print(f"run {number}: {one['images']} images x {one['rows'] // one['images']} rows")
    for label, r in (
        ("naive loop, 1 CPU", naive_run),
        ("engine, 1 worker, 1 CPU", one),
        ("engine, 2 workers", two),
    ):
        print(
            f"  {label:26s} {r['seconds']:7.1f} s wall  {r['cpu_seconds']:7.1f} s CPU"
            f"  (others used {r['others_cpus']:.2f} CPUs meanwhile, {r['others_before']:.2f}"
            f" just before; load {r['loadavg']})"
        )
    ratios = {
        "engine_vs_naive": naive_run["seconds"] / one["seconds"],
        "engine_vs_naive_cpu": naive_run["cpu_seconds"] / one["cpu_seconds"],
        "two_vs_one": one["seconds"] / two["seconds"],
        "two_vs_one_cpu": one["cpu_seconds"] / two["critical_cpu_seconds"],
        "two_cpu_overhead": two["cpu_seconds"] / one["cpu_seconds"],
    }
    print(
        f"  engine vs naive, 1 worker: {ratios['engine_vs_naive']:.2f}x wall,"
        f" {ratios['engine_vs_naive_cpu']:.2f}x CPU (target >= 3)\n"
        f"  2 workers vs 1:            {ratios['two_vs_one']:.2f}x wall,"
        f" {ratios['two_vs_one_cpu']:.2f}x by CPU time on the busier worker (target >= 1.8;"
        f" 2 workers use {ratios['two_cpu_overhead']:.2f}x the CPU of 1)"
    )
    return ratios


class Inline(Executor):
    """Runs each job at once in this thread (so that cProfile sees it)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def profile(args: argparse.Namespace) -> None:
    """The engine in this thread under cProfile: CPU seconds per stage."""
    tune_malloc()
    grid = SweepGrid(**GRIDS[args.grid])
    paths = corpus(args.workdir, args.grid, args.images)
    profiler = cProfile.Profile(time.process_time)
    start = time.process_time()
    profiler.enable()
    frame = run_sweep(paths, grid, Inline(), progress=False)
    profiler.disable()
    total = time.process_time() - start
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)

    def cumulative(*names: str) -> float:
        return sum(v[3] for (file, _, name), v in stats.items() if f"{file}:{name}" in names)

    images_py, quality_py = sweep.__file__.replace("sweep.py", "images.py"), quality.__file__
    legibility_py = sweep.__file__.replace("sweep.py", "legibility.py")
    encodes = frame.drop_duplicates(["path", "max_side", "format", "quality"])
    by_format = encodes.groupby("format")["encode_ms"].sum() / 1000  # wall: under load, more
    stages = {
        "decode + normalize originals": cumulative(f"{images_py}:_decode"),
        "resize (sizes sent)": encodes.drop_duplicates(["path", "max_side"])["resize_ms"].sum()
        / 1000,
        **{f"encode {fmt}": seconds for fmt, seconds in by_format.items()},
        "decode encodes back": cumulative(f"{quality_py}:decode_image"),
        "provider/reference resizes (to_size)": cumulative(f"{quality_py}:to_size"),
        "SSIM statistics (Reference, ssim)": cumulative(
            f"{quality_py}:__init__", f"{quality_py}:ssim"
        ),
        "PSNR": cumulative(f"{quality_py}:psnr"),
        "OCR: originals (read_text)": cumulative(f"{legibility_py}:read_text"),
        "OCR: kept views (legibility)": cumulative(f"{legibility_py}:legibility"),
    }
    print(f"profile, {args.grid} grid, {len(paths)} images, one thread: {total:.1f} CPU s")
    for stage, seconds in stages.items():
        print(f"  {stage:38s} {seconds:7.1f} s  {100 * seconds / total:5.1f} %")
    print("  (stages overlap where one calls another: views are resized inside OCR and SSIM)")


def memory(args: argparse.Namespace) -> None:
    small = measure(args, "rss", workers=2, images=20)
    large = measure(args, "rss", workers=2, images=200)

    def total(r: dict) -> float:
        return r["parent_peak_rss_mb"] + sum(r["worker_peak_rss_mb"])

    for r in (small, large):
        print(
            f"  peak RSS, {r['images']:3d} images: parent {r['parent_peak_rss_mb']:.0f} MB,"
            f" workers {[round(w) for w in r['worker_peak_rss_mb']]} MB, total {total(r):.0f}"
            f" MB, {r['seconds']:.1f} s"
        )
    print(f"  RSS 200 vs 20 images: {total(large) / total(small) - 1:+.1%} (target within 15 %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", choices=sorted(GRIDS), default="full")
    parser.add_argument("--images", type=int, help="photos (default: 4 full, 10 encode)")
    parser.add_argument("--runs", type=int, default=1, help="speed runs, one after the other")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench_sweep"))
    parser.add_argument("--profile", action="store_true", help="time per stage instead")
    parser.add_argument("--memory", action="store_true", help="also peak RSS, 20 vs 200")
    parser.add_argument("--mode", choices=("naive", "engine", "rss"), help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--pin", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.images is None:
        args.images = 4 if args.grid == "full" else DISTINCT
    if args.mode:
        print(json.dumps(run_mode(args)))
        return
    photos(args.workdir)
    if args.profile:
        profile(args)
        return
    ratios = [speed_run(args, i + 1) for i in range(args.runs)]
    for kind, suffix in (("wall", ""), ("CPU", "_cpu")):
        met = sum(
            r[f"engine_vs_naive{suffix}"] >= 3 and r[f"two_vs_one{suffix}"] >= 1.8 for r in ratios
        )
        print(f"both targets met by {kind} time in {met} of {len(ratios)} runs")
    if args.memory:
        memory(args)


if __name__ == "__main__":
    main()
