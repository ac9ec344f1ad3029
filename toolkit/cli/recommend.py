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
from pathlib import Path

from toolkit.cli.args import add_json_argument, add_rules_arguments, rules_from
from toolkit.cli.output import print_recommendations
from toolkit.pricing import load_prices
from toolkit.recommend import recommend
from toolkit.sweep_csv import read_sweep_csv


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, metavar="RESULTS.csv", help="a sweep's CSV")
    parser.add_argument("--models", nargs="+", help="models to recommend for (default: all)")
    add_rules_arguments(parser)
    add_json_argument(parser, "model and category")


def run(args: argparse.Namespace) -> int:
    load_prices(args.prices)  # a missing or malformed price file: exit 2, not empty columns
    frame = recommend(read_sweep_csv(args.results), rules_from(args), args.models, args.prices)
    print_recommendations(frame, args.json)
    return 0
