"""`toolkit sweep PATH… -o results.csv`: every image x size x format x quality x model x detail.

PATHs are files, folders or URLs fsspec can read (file://, s3:// with s3fs installed, ...),
walked for images. `--sample N --seed S` sweeps a reproducible random sample of them.
`--scheduler ADDRESS` runs the work on an existing Dask cluster (`dask scheduler` on one
machine, `dask worker ADDRESS` on the others, each with this toolkit installed): local files
are sent to the workers as bytes, URLs are read by the workers themselves.

Rows are appended to the CSV as each image finishes, then the file is put in input order.
Results are cached (content-addressed) so an interrupted or extended sweep computes only what
is missing. Prints a summary (a JSON object with `--json`); exits 1 if any row has an error.
"""

import argparse
import dataclasses
import math
import sys
from pathlib import Path

from toolkit.cli.args import (
    PATHS_HELP,
    add_grid_arguments,
    add_progress_argument,
    add_reader_arguments,
    add_rules_argument,
    add_rules_arguments,
    add_workers_argument,
    check_output,
    default_cache_dir,
    from_args,
    positive_int,
    rules_from,
)
from toolkit.cli.output import print_json_lines, print_recommendations, print_rows, print_table
from toolkit.images import DEFAULT_SETTINGS, EncodeSettings
from toolkit.outputs import refuse_inputs
from toolkit.pricing import TIERS
from toolkit.projection import monthly_projection
from toolkit.readers import DEFAULT_READER
from toolkit.recommend import recommend
from toolkit.runtime import tune_malloc
from toolkit.sources import list_images, sample_images
from toolkit.sweep import SweepGrid, SweepStats, partial_path, write_sweep

DEFAULTS = {f.name: f.default for f in dataclasses.fields(SweepGrid)}
PROJECTION = (
    "model",
    "images",
    "seed_monthly_usd",
    "seed_monthly_batch_usd",
    "monthly_usd",
    "monthly_usd_low",
    "monthly_usd_high",
    "monthly_batch_usd",
    "adaptive_monthly_usd",
    "change_pct",
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help=f"{PATHS_HELP}; or URLs (file://, s3://, ...)"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="CSV file to write")
    add_grid_arguments(parser)
    parser.add_argument("--models", nargs="+", default=DEFAULTS["models"], help="models")
    parser.add_argument(
        "--no-metrics", action="store_true", help="skip SSIM/PSNR (sizes, tokens, dollars only)"
    )
    parser.add_argument(
        "--ocr",
        action="store_true",
        help="legibility: an OCR reader reads what the provider keeps of each image with "
        "text, against the full-resolution original (needed by --recommend for text "
        "categories)",
    )
    add_reader_arguments(parser, DEFAULT_READER)
    parser.add_argument(
        "--recommend",
        action="store_true",
        help="then print the recommendation per model and category (see toolkit recommend)",
    )
    parser.add_argument(
        "--monthly-images",
        type=positive_int,
        metavar="N",
        help="--recommend, then the monthly dollars for N images, seed recipe against the "
        "recommendation (with a 90 %% interval when --sample sweeps part of the images)",
    )
    add_rules_arguments(parser)
    parser.add_argument(
        "--webp-method", type=int, default=DEFAULT_SETTINGS.webp_method, help="WebP effort 0-6"
    )
    add_rules_argument(parser, "rule-set id or TOML file (default: the newest)")
    parser.add_argument("--tier", choices=TIERS, default=DEFAULTS["tier"], help="price tier")
    add_workers_argument(parser)
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster whose scheduler is here (tcp://host:8786); "
        "needs dask[distributed]",
    )
    parser.add_argument(
        "--sample",
        type=positive_int,
        metavar="N",
        help="sweep a random sample of N of the images (reproducible with --seed)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the sample's random seed")
    parser.add_argument("--cache", type=Path, default=default_cache_dir(), help="cache folder")
    parser.add_argument("--no-cache", action="store_true", help="compute everything afresh")
    add_progress_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def grid_from(args: argparse.Namespace) -> SweepGrid:
    return from_args(
        SweepGrid,
        args,
        compression_metrics=not args.no_metrics,
        seen_metrics=not args.no_metrics,
        base=EncodeSettings(webp_method=args.webp_method),
    )


def run(args: argparse.Namespace) -> int:
    tune_malloc()
    grid = grid_from(args)
    rules = rules_from(args)
    cache = None if args.no_cache else args.cache
    check_output(args.output)
    check_output(partial_path(args.output))
    check_output(cache, folder=True)
    listing = list_images(args.paths)
    written = {args.output.resolve(), partial_path(args.output).resolve()}
    refuse_inputs(listing, written.__contains__)
    chosen = sample_images(listing, args.sample or 0, args.seed)
    stats = SweepStats()
    frame = write_sweep(
        chosen,
        grid,
        args.output,
        cache=cache,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        stats=stats,
    )
    errors = int(frame["error"].notna().sum())
    summary = {
        "output": str(args.output),
        "corpus_images": len(listing),
        "images": stats.images,
        "rows": stats.images * grid.cells,
        "error_rows": errors,
        "computed_encodes": stats.computed_encodes,
        "cached_encodes": stats.cached_encodes,
        "invalid_cache_entries": stats.invalid_cache_entries,
        "workers_died": stats.workers_died,
    }
    if args.json:
        print_json_lines([summary], sys.stdout)
    else:
        print_table([summary], list(summary), sys.stdout)
    if args.recommend or args.monthly_images:
        picks = recommend(frame, rules, prices=args.prices)
        print_recommendations(picks, args.json)
        if args.monthly_images:
            sampled = len(chosen) < len(listing)
            print_projection(frame, picks, args, len(listing) if sampled else None)
    return 1 if errors else 0


def print_projection(frame, picks, args: argparse.Namespace, corpus_size: int | None) -> None:
    """`toolkit.monthly_projection` of the recommendation, its interval for the corpus the
    sample was drawn from."""
    projected = monthly_projection(
        frame, picks, args.monthly_images, corpus_size=corpus_size, prices=args.prices
    )
    rows = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in projected.to_dict("records")
    ]
    print_rows(rows, args.json, PROJECTION)
