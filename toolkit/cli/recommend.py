"""`toolkit recommend RESULTS.csv`: per model and image category, the cheapest settings that
keep every image's text legible (OCR word recall of what the provider keeps, relative to the
full-resolution original) and every other image at a share of the fidelity the model allows
(seen SSIM relative to the model's ceiling). `binding` names the rule that stopped a cheaper
setting; a category with no qualifying setting has empty settings, the reason and, for text,
the price of sending each image as crops the model keeps whole.

RESULTS.csv is what `toolkit sweep` wrote (run it with --ocr for text categories). Legibility
is judged as the sweep's reader read it; `--reader` judges it by another reader the sweep ran
(`toolkit sweep --ocr --reader tesseract,neural` runs both), or by both combined as
`--combine` says. `--calibration FILE` (what `toolkit calibrate -o` wrote) sets each
calibrated model's text floor to the reader's threshold found against that model; each row's
`text_floor` and `text_floor_source` say which floor it kept and where it comes from. One
JSON object per (model, category) with --json, a table without (rows marked * rest on fewer
than 3 images).
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

from toolkit.cli.args import (
    add_json_argument,
    add_reader_arguments,
    add_rules_arguments,
    rules_from,
)
from toolkit.cli.output import print_recommendations
from toolkit.pricing import load_prices
from toolkit.reader_columns import with_readers
from toolkit.recommend import recommend
from toolkit.sweep_csv import read_sweep_csv


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, metavar="RESULTS.csv", help="a sweep's CSV")
    parser.add_argument("--models", nargs="+", help="models to recommend for (default: all)")
    add_rules_arguments(parser)
    add_reader_arguments(parser, None)
    parser.add_argument(
        "--calibration",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="calibration files (toolkit calibrate -o): their models' text floors",
    )
    add_json_argument(parser, "model and category")


def run(args: argparse.Namespace) -> int:
    load_prices(args.prices)  # a missing or malformed price file: exit 2, not empty columns
    results = read_sweep_csv(args.results)
    if args.reader:
        results = with_readers(results, args.reader, args.combine or "looser")
    rules = rules_from(args)
    if args.calibration:
        rules = _calibrated(results, rules, args)
    frame = recommend(results, rules, args.models, args.prices)
    print_recommendations(frame, args.json)
    return 0


def _calibrated(results: pd.DataFrame, rules, args: argparse.Namespace) -> dict:
    """Per model, `rules` with the calibrated text floors; each calibrated one said on stderr."""
    from toolkit.calibration import calibrated_rules, load_calibrations, results_reader

    calibrations = load_calibrations(args.calibration)
    models = args.models or list(dict.fromkeys(results["model"].dropna()))
    by_model = calibrated_rules(calibrations, rules, models, results_reader(results))
    for model in models:
        if model in calibrations:
            floor = by_model[model]
            print(
                f"toolkit recommend: {model}: text floor {floor.min_legibility:.2f} "
                f"{floor.text_floor_source}",
                file=sys.stderr,
            )
    return by_model
