"""`toolkit sweep PATH… -o results.csv`: every image x size x format x quality x model x detail.

Rows are appended to the CSV as each image finishes, then the file is put in input order.
Results are cached (content-addressed) so an interrupted or extended sweep computes only what
is missing. Prints a summary (a JSON object with `--json`); exits 1 if any row has an error.
"""

import argparse
import dataclasses
import os
import sys
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from toolkit.cli.args import (
    PATHS_HELP,
    add_rules_arguments,
    add_workers_argument,
    check_output,
    from_args,
    max_side,
    rules_from,
)
from toolkit.cli.output import print_json_lines, print_recommendations, print_table
from toolkit.errors import ToolkitError
from toolkit.images import DEFAULT_SETTINGS, EncodeSettings
from toolkit.recommend import recommend
from toolkit.runtime import tune_malloc
from toolkit.sweep import COLUMNS, SweepGrid, SweepStats, default_executor, iter_sweep, to_frame

DEFAULTS = {f.name: f.default for f in dataclasses.fields(SweepGrid)}


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "toolkit" / "sweep"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep", help="sweep encode settings x models over images", description=__doc__
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help=PATHS_HELP)
    parser.add_argument("-o", "--output", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--max-sides", nargs="+", type=max_side, default=DEFAULTS["max_sides"])
    parser.add_argument("--formats", nargs="+", default=DEFAULTS["formats"])
    parser.add_argument("--qualities", nargs="+", type=int, default=DEFAULTS["qualities"])
    parser.add_argument("--models", nargs="+", default=DEFAULTS["models"])
    parser.add_argument("--details", nargs="+", default=DEFAULTS["details"])
    parser.add_argument(
        "--no-metrics", action="store_true", help="skip SSIM/PSNR (sizes, tokens, dollars only)"
    )
    parser.add_argument(
        "--ocr",
        action="store_true",
        help="legibility: Tesseract reads what the provider keeps of each image with text, "
        "against the full-resolution original (needed by --recommend for text categories)",
    )
    parser.add_argument(
        "--reference-side",
        type=int,
        default=DEFAULTS["reference_side"],
        help="longest side seen SSIM is compared at, px (default: the largest max side)",
    )
    parser.add_argument(
        "--recommend",
        action="store_true",
        help="then print the recommendation per model and category (see toolkit recommend)",
    )
    add_rules_arguments(parser)
    parser.add_argument("--webp-method", type=int, default=DEFAULT_SETTINGS.webp_method)
    parser.add_argument("--rules", help="rule-set id or TOML file (default: newest)")
    parser.add_argument("--tier", default=DEFAULTS["tier"], help="standard, batch or cached")
    add_workers_argument(parser)
    parser.add_argument(
        "--cache",
        type=Path,
        default=default_cache_dir(),
        help="cache folder (default: %(default)s)",
    )
    parser.add_argument("--no-cache", action="store_true", help="compute everything afresh")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=run)


def grid_from(args: argparse.Namespace) -> SweepGrid:
    return from_args(
        SweepGrid,
        args,
        compression_metrics=not args.no_metrics,
        seen_metrics=not args.no_metrics,
        base=EncodeSettings(webp_method=args.webp_method),
    )


def write_sweep(args: argparse.Namespace, grid: SweepGrid, stats: SweepStats) -> pd.DataFrame:
    """Append rows as images finish; then rewrite the file in input order and return it. An
    error removes the partial file; Ctrl-C keeps it and says so."""
    args.output.parent.mkdir(parents=True, exist_ok=True)
    partial = args.output.with_name(args.output.name + ".partial")
    pd.DataFrame(columns=list(COLUMNS)).to_csv(partial, index=False)
    order = []
    executor = default_executor(args.workers)
    try:
        results = iter_sweep(
            args.paths, grid, executor, None if args.no_cache else args.cache, stats=stats
        )
        with tqdm(desc="sweep", unit="image", disable=args.no_progress) as bar:
            for index, rows in results:
                to_frame(rows).to_csv(partial, mode="a", header=False, index=False)
                order.extend([index] * len(rows))
                bar.update()
    except KeyboardInterrupt:
        executor.terminate()  # the images in flight are dropped; finished ones are kept
        kept = "the cache and " if not args.no_cache else ""
        raise KeyboardInterrupt(
            f"{len(set(order))} images done are in {kept}{partial}; run again to resume"
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    frame = pd.read_csv(partial)
    frame.index = order
    frame = frame.sort_index(kind="stable").reset_index(drop=True)
    frame.to_csv(partial, index=False)
    os.replace(partial, args.output)
    return frame


def run(args: argparse.Namespace) -> int:
    tune_malloc()
    try:
        grid = grid_from(args)
        rules = rules_from(args)
    except ToolkitError as exc:
        print(f"toolkit sweep: {exc}", file=sys.stderr)
        return 2
    check_output(args.output)
    check_output(args.output.with_name(args.output.name + ".partial"))
    if not args.no_cache:
        check_output(args.cache, folder=True)
    stats = SweepStats()
    frame = write_sweep(args, grid, stats)
    errors = int(frame["error"].notna().sum())
    summary = {
        "output": str(args.output),
        "images": stats.images,
        "rows": stats.images * grid.cells,
        "error_rows": errors,
        "computed_encodes": stats.computed_encodes,
        "cached_encodes": stats.cached_encodes,
        "invalid_cache_entries": stats.invalid_cache_entries,
    }
    if args.json:
        print_json_lines([summary], sys.stdout)
    else:
        print_table([summary], list(summary), sys.stdout)
    if args.recommend:
        try:
            picks = recommend(frame, rules, prices=args.prices)
        except ToolkitError as exc:
            print(f"toolkit sweep: cannot recommend: {exc}", file=sys.stderr)
            return 2
        print_recommendations(picks, args.json)
    return 1 if errors else 0
