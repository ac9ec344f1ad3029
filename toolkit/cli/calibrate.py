"""`toolkit calibrate FOLDER --models M…`: the model reads, and the reader is judged against it.

A reproducible sample of images with text (`--sample N --seed S`) is swept at each size for
each model (what the provider keeps, and the reader's legibility of it); each view is sent
once with the transcription prompt (`toolkit.TRANSCRIBE_PROMPT`) and the model's word recall
of the truth (`truth/<image stem>.txt` beside an image, else the reader's reading of the
original) is set beside the reader's. Before anything is sent the command prints the
requests and their token and dollar estimate; `--max-usd` refuses to start above it and
`--dry-run` stops there. Answers go to `--results` (resumable: a rerun sends nothing twice).

Writes one row per (model, image, setting) to `--rows` (CSV) and one calibration per model
to `-o` (JSON): the reader's threshold that stands for the model keeping 0.95 of its words,
with the views and images it rests on. `toolkit recommend --calibration FILE` uses it as the
model's text floor. Against `toolkit emulator --transcribe-with READER` every row and
calibration says it is emulated, never a model's reading. Exits 1 when an image or a request
failed (after the rest).
"""

import argparse
import sys
from pathlib import Path

from toolkit.cli.args import (
    PATHS_HELP,
    SUFFIXES,
    add_json_argument,
    add_workers_argument,
    check_output,
    default_cache_dir,
    positive_int,
)
from toolkit.cli.output import print_json_lines, print_rows
from toolkit.errors import SettingsError

ROWS = (
    "model",
    "image",
    "max_side",
    "kept_width",
    "kept_height",
    "tokens",
    "reader_word_recall",
    "model_word_recall",
    "model_word_recall_relative",
    "cost_usd",
    "transcriber",
    "status",
)


def configure(parser: argparse.ArgumentParser) -> None:
    from toolkit.calibrate import CalibrationSettings
    from toolkit.payload import CONCURRENCY
    from toolkit.readers import READERS

    parser.add_argument("images", nargs="+", metavar="FOLDER", help=PATHS_HELP)
    parser.add_argument("--models", nargs="+", required=True, help="models that transcribe")
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=positive_int,
        default=list(CalibrationSettings.sizes),
        help="max sides of the views, px (two or more; the largest is the model's reference)",
    )
    parser.add_argument(
        "--sample",
        type=positive_int,
        default=CalibrationSettings.sample,
        help="images with text to calibrate on",
    )
    parser.add_argument("--seed", type=int, default=0, help="the sample's random seed")
    parser.add_argument(
        "--reader",
        choices=sorted(READERS),
        default=CalibrationSettings.reader,
        help="the reader judged: its threshold is set against each model",
    )
    parser.add_argument("--detail", default=CalibrationSettings.detail, help="detail level")
    parser.add_argument(
        "--format", choices=sorted(SUFFIXES), default=CalibrationSettings.format, help="encoder"
    )
    parser.add_argument(
        "--quality", type=int, default=CalibrationSettings.quality, help="encoder quality"
    )
    parser.add_argument(
        "--max-usd", type=float, metavar="X", help="refuse to send when the estimate is above"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the estimate and stop")
    parser.add_argument("--base-url", help="API base URL (default: OPENAI_BASE_URL or OpenAI)")
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("calibration-results.jsonl"),
        help="answers, one JSON line per request (resumable)",
    )
    parser.add_argument(
        "--rows", type=Path, default=Path("calibration-rows.csv"), help="scored rows (CSV)"
    )
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("calibration.json"), help="calibration file"
    )
    parser.add_argument(
        "--concurrency", type=positive_int, default=CONCURRENCY, help="requests in flight"
    )
    add_workers_argument(parser)
    parser.add_argument("--cache", type=Path, default=default_cache_dir(), help="sweep cache")
    parser.add_argument("--no-cache", action="store_true", help="compute the sweep afresh")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json_argument(parser)


def _estimate_printer(args: argparse.Namespace, sample: int):
    """Prints the plan's estimate before anything is sent (and a warning when fewer images
    than asked for have text)."""
    from toolkit.calibrate import ESTIMATE_COLUMNS
    from toolkit.recommend import to_records

    def show(plan, estimate) -> None:
        found = len(plan.truths)
        if found < sample:
            print(
                f"toolkit calibrate: warning: {found} of the {plan.corpus_images} images have "
                f"text the {args.reader} reader reads: the sample has {found}, not {sample}",
                file=sys.stderr,
            )
        print_rows(to_records(estimate), args.json, ESTIMATE_COLUMNS)

    return show


def _printed(row: dict) -> dict:
    """A scored row as printed: a failed one carries its error as the contract's object."""
    error = row.pop("error")
    if error is None:
        return row
    kind, _, message = error.partition(": ")
    return {**row, "error": {"type": kind, "message": message}}


def run(args: argparse.Namespace) -> int:
    from toolkit.calibrate import CalibrationSettings, calibrate
    from toolkit.calibration import threshold_text, write_calibrations
    from toolkit.client import read_results
    from toolkit.recommend import to_records
    from toolkit.sweep import default_executor

    if args.max_usd is not None and not args.max_usd >= 0:
        raise SettingsError(f"--max-usd must be a number >= 0, not {args.max_usd}")
    settings = CalibrationSettings(
        models=tuple(args.models),
        sizes=tuple(args.sizes),
        sample=args.sample,
        seed=args.seed,
        reader=args.reader,
        detail=args.detail,
        format=args.format,
        quality=args.quality,
    )
    for path in (args.results, args.rows, args.output):
        check_output(path)
    read_results(args.results)  # a results file that is not one fails now
    cache = None if args.no_cache else args.cache
    check_output(cache, folder=True)
    with default_executor(args.workers) as executor:
        done = calibrate(
            args.images,
            settings,
            results_path=args.results,
            base_url=args.base_url,
            max_usd=args.max_usd,
            dry_run=args.dry_run,
            concurrency=args.concurrency,
            executor=executor,
            cache=cache,
            progress=not args.no_progress,
            on_estimate=_estimate_printer(args, settings.sample),
        )
    failures = done.plan.failed  # images that could not be read, as error rows
    if done.rows is None:  # a dry run
        if failures:
            print_rows(failures, args.json, ROWS)
        return 1 if failures else 0
    done.rows.to_csv(args.rows, index=False)
    write_calibrations(done.calibrations, args.output)
    print_rows([_printed(row) for row in to_records(done.rows)] + failures, args.json, ROWS)
    if args.json:
        print_json_lines([c.to_dict() for c in done.calibrations])
    else:
        print("\n".join(threshold_text(c) for c in done.calibrations))
    failed = done.rows["status"].isin(["error", "failed"]).any()
    return 1 if failures or failed else 0
