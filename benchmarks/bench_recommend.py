"""A reviewer's first run: `toolkit recommend`'s staged search on 40 text images and 40 photos.

    .venv/bin/python benchmarks/bench_recommend.py [--reader auto] [--workers 2]

**Corpus** (deterministic, made once in `--work`): 40 text images from held-out sets
(`scripts/make_samples.py --held-out`, seeds 7, 8, ...: screenshots, A4 pages, charts) and 40
camera-like 12 MP JPEG photos (`bench_sweep.make_photo`), one folder per category.

**Run**: `toolkit.search_settings` as notebook 04 and `toolkit sweep --recommend` run it, on
`--workers` processes, no cache: every max side (512-2048 px and the seed's 800) and detail
(`low`, `high`) at JPEG 95 for two models (gpt-4o, gpt-5.4-mini), then JPEG and WebP at 70
and 85 at the sizes that round picked; OCR legibility with `--reader`, seen SSIM at 2048 px.
Target: 6 minutes or less with the default reader on 2 workers.

**Where the time goes**: every worker's seconds by stage, measured inside the workers
(`--profile`: cProfile on each worker, summed): reading the originals (the reader finding
and reading their lines, once per original), reading views (recognition on sampled lines,
and on every line near a floor), SSIM, decode, resize, encode.
"""

import argparse
import cProfile
import multiprocessing
import multiprocessing.util
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench_sweep import make_photo

from toolkit.readers import DEFAULT_READER
from toolkit.recommend import DecisionRules, search_settings, to_records
from toolkit.sweep import SweepGrid, default_executor

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("gpt-4o", "gpt-5.4-mini")
STAGES = {  # a function's file or name -> the stage its time counts to
    "detect": "originals: finding lines",
    "read_text": "originals: reading lines",
    "_read": "views: reading lines",
    "_line_scores": "views: matching words",
    "ssim": "SSIM",
    "load_image": "decode",
    "resize_image": "resize",
    "encode_pixels": "encode",
}


def corpus(work: Path, texts: int, photos: int) -> list[Path]:
    """`texts` held-out text images and `photos` camera-like photos, made once."""
    paths: list[Path] = []
    seed = 7
    while len(paths) < texts:
        folder = work / f"held-out-{seed}"
        if not folder.is_dir():
            make = ROOT / "scripts" / "make_samples.py"
            command = [sys.executable, make, "--held-out", folder, "--seed", str(seed)]
            made = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if made.returncode:  # a half-written set is not reused by the next run
                shutil.rmtree(folder, ignore_errors=True)
                sys.exit(f"{make.name} --seed {seed} failed: {made.stderr.decode().strip()}")
        paths += sorted(folder.glob("*/*.png"))[: texts - len(paths)]
        seed += 1
    folder = work / "photos" / "photo"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(photos):
        path = folder / f"photo_{i:02d}.jpg"
        if not path.exists():
            make_photo(path, seed=i)
        paths.append(path)
    return paths


def _profiled_worker(output: str) -> None:
    """In each worker: profile everything it runs, written when the worker exits."""
    profiler = cProfile.Profile()
    profiler.enable()

    def dump() -> None:
        profiler.disable()
        profiler.dump_stats(f"{output}.{os.getpid()}")

    multiprocessing.util.Finalize(None, dump, exitpriority=10)


def stage_seconds(folder: Path) -> dict[str, float]:
    """Seconds per stage over every worker's profile (cumulative time of each stage's
    outermost function)."""
    totals = dict.fromkeys(STAGES.values(), 0.0)
    for path in folder.glob("profile.*"):
        stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
        for (_, _, name), (_, _, _, cumulative, _) in stats.items():
            if name in STAGES:
                totals[STAGES[name]] += cumulative
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-rec")
    parser.add_argument("--reader", default=DEFAULT_READER)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--texts", type=int, default=40)
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--profile", action="store_true", help="time per stage in the workers")
    args = parser.parse_args()
    paths = corpus(args.work, args.texts, args.photos)
    grid = SweepGrid(
        max_sides=(512, 768, 800, 1024, 1536, 2048),
        formats=("jpeg",),
        qualities=(95,),
        models=MODELS,
        details=("low", "high"),
        compression_metrics=False,
        ocr=True,
        reader=args.reader,
        reference_side=2048,
    )
    profiles = Path(tempfile.mkdtemp(prefix="profiles-", dir=args.work))
    pool = (
        ProcessPoolExecutor(
            args.workers,
            multiprocessing.get_context("forkserver"),
            initializer=_profiled_worker,
            initargs=(str(profiles / "profile"),),
        )
        if args.profile
        else default_executor(args.workers)
    )
    start = time.perf_counter()
    results, picks = search_settings(
        paths, grid, ("jpeg", "webp"), (70, 85), DecisionRules(), executor=pool, progress=False
    )
    seconds = time.perf_counter() - start
    pool.shutdown()
    views = results.dropna(subset=["seen_word_recall"]).drop_duplicates(
        ["path", "format", "quality", "provider_width", "provider_height"]
    )
    print(
        f"{len(paths)} images ({args.texts} text, {args.photos} photos), {len(MODELS)} models, "
        f"{args.workers} workers, reader {args.reader}: {seconds:.0f} s "
        f"({seconds / 60:.1f} min); {len(results)} rows, {len(views)} text views read"
    )
    for pick in to_records(picks):
        setting = " ".join(str(pick[key]) for key in ("max_side", "format", "quality", "detail"))
        print(f"  {pick['model']:14} {pick['category']:11} {setting:22} {pick['change_pct']} %")
    if args.profile:
        time.sleep(1)  # the workers write their profiles as they exit
        for stage, spent in stage_seconds(profiles).items():
            print(f"  {stage:28} {spent:8.1f} s (worker time)")


if __name__ == "__main__":
    main()
