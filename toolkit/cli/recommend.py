"""`toolkit recommend RESULTS.csv`: per model and image category, the cheapest settings that
keep every image's text legible (OCR word recall of what the provider keeps, relative to the
full-resolution original) and every other image at a share of the fidelity the model allows
(seen SSIM relative to the model's ceiling). `binding` names the rule that stopped a cheaper
setting; a category with no qualifying setting has empty settings, the reason and, for text,
the price of sending each image as crops the model keeps whole.

RESULTS.csv is what `toolkit sweep` wrote (run it with --ocr for text categories). One JSON
object per (model, category) with --json, a table without (rows marked * rest on fewer than
3 images).
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

from toolkit.cli.args import add_rules_arguments, rules_from
from toolkit.cli.output import print_recommendations
from toolkit.errors import ToolkitError
from toolkit.recommend import recommend
from toolkit.sweep import COLUMNS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recommend",
        help="cheapest settings per model and category that keep text legible",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", type=Path, metavar="RESULTS.csv", help="a sweep's CSV")
    parser.add_argument("--models", nargs="+", help="models to recommend for (default: all)")
    add_rules_arguments(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(handler=run)


def read_results(path: Path) -> pd.DataFrame:
    """A sweep CSV, checked to be one."""
    frame = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ToolkitError(f"{path} is not a toolkit sweep CSV (missing {missing[:4]}...)")
    return frame


def run(args: argparse.Namespace) -> int:
    try:
        frame = recommend(read_results(args.results), rules_from(args), args.models, args.prices)
    except (ToolkitError, OSError, ValueError) as exc:
        print(f"toolkit recommend: error: {exc}", file=sys.stderr)
        return 2
    print_recommendations(frame, args.json)
    return 0
