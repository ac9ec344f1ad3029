"""`toolkit compare FOLDER --models gpt-4o claude-sonnet-4-6 gemini-2.5-flash`: the same
images on every provider.

Per category and model, the cheapest setting that keeps the floors on that provider (each
provider's own resize decides what it keeps, so legibility and fidelity are measured per
model; `toolkit.search_settings`: sizes first at --size-format/--size-quality, then --formats x
--qualities at the sizes picked), its tokens, dollars per 1,000 images and per month
(--monthly-images like the category's), and the seed recipe on each; then each model over the
folder's mix, and the cheapest provider and model per category. Each model is tried at the
levels of --details it takes (Claude: `auto`), and at `auto` where its default resolution is
billed as publicly measured (Gemini). Dollars are image input tokens only; the quality of the
answers is not measured. Needs an OCR reader for text categories.
"""

import argparse
import sys
from pathlib import Path

from toolkit.cli.args import (
    PATHS_HELP,
    add_reader_arguments,
    add_rules_arguments,
    add_workers_argument,
    check_output,
    default_cache_dir,
    max_side,
    positive_int,
    rules_from,
)
from toolkit.cli.output import print_json_lines, print_table

TABLE = (
    "category",
    "model",
    "images",
    "setting",
    "tokens_mean",
    "tokens_billed_as",
    "cost_usd_per_1k",
    "monthly_usd",
    "seed_cost_usd_per_1k",
    "binding",
)


def configure(parser: argparse.ArgumentParser) -> None:
    from toolkit.readers import DEFAULT_READER

    parser.add_argument("paths", nargs="+", metavar="PATH", help=PATHS_HELP)
    parser.add_argument(
        "--models",
        nargs="+",
        default=["gpt-4o", "claude-sonnet-4-6", "gemini-2.5-flash"],
        help="models of any provider",
    )
    parser.add_argument(
        "--max-sides", nargs="+", type=max_side, default=[512, 768, 1024, 1536], help="sizes, px"
    )
    parser.add_argument("--details", nargs="+", default=["low", "high"], help="levels to try")
    parser.add_argument("--size-format", default="jpeg", help="encoding the sizes are searched at")
    parser.add_argument("--size-quality", type=int, default=95, help="its quality")
    parser.add_argument("--formats", nargs="+", default=["jpeg", "webp"], help="encoders")
    parser.add_argument("--qualities", nargs="+", type=int, default=[70, 85], help="qualities")
    parser.add_argument(
        "--monthly-images", type=positive_int, default=100_000, help="images a month"
    )
    add_rules_arguments(parser)
    add_reader_arguments(parser, DEFAULT_READER)
    add_workers_argument(parser)
    parser.add_argument("--cache", type=Path, default=default_cache_dir(), help="cache folder")
    parser.add_argument("-o", "--output", type=Path, help="also write the sweep rows (CSV)")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")


def run(args: argparse.Namespace) -> int:
    from toolkit.compare import (
        cheapest_text,
        compare_providers,
        comparison,
        details_for,
        size_grid,
    )
    from toolkit.recommend import to_records
    from toolkit.sweep import default_executor

    rules = rules_from(args)
    check_output(args.output)
    for model in args.models:  # an unknown model or a model without any level: exit 2
        details_for(model, tuple(args.details))
    grid = size_grid(
        args.models,
        tuple(args.details),
        max_sides=tuple(args.max_sides),
        formats=(args.size_format,),
        qualities=(args.size_quality,),
        compression_metrics=False,
        ocr=True,
        reader=args.reader,
        combine=args.combine,
        prices=args.prices,
    )
    executor = default_executor(args.workers)
    try:
        results, recommended = compare_providers(
            args.paths,
            args.models,
            grid,
            tuple(args.formats),
            tuple(args.qualities),
            rules,
            wanted=tuple(args.details),
            executor=executor,
            cache=args.cache,
            progress=sys.stderr.isatty(),
        )
    finally:
        executor.shutdown()
    if args.output:
        from toolkit.outputs import atomic_path

        with atomic_path(args.output) as path:
            results.to_csv(path, index=False)
    table = comparison(recommended, args.monthly_images, args.prices)
    if args.json:
        print_json_lines(to_records(table))
    else:
        print_table(to_records(table), TABLE, sys.stdout)
        print(cheapest_text(table, rules.describe()))
    return 0
