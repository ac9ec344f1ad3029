"""`toolkit batch IMAGE… -o DIR`: write Batch API input files (JSONL) for images.

One request per image by default (`--images-per-request` packs more, within the observed
request limits; an image sent as crops, with `--policy` or `--crops`, counts as one and its
crops travel together); files roll over at 50,000 lines or 200 MB. One row per file with the
estimated image tokens and their cost at batch prices.
"""

import argparse
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

from toolkit.cli.args import (
    add_request_arguments,
    check_output,
    image_parts,
    plan_source,
    positive_int,
    request_spec,
    within_limits,
)
from toolkit.cli.output import print_rows
from toolkit.errors import SettingsError
from toolkit.outputs import refuse_inputs
from toolkit.payload import OBSERVED_LIMITS, split_requests, write_batch_files

COLUMNS = ("path", "lines", "bytes", "model", "estimated_image_tokens", "estimated_cost_usd")
BATCH_NAME = re.compile(r"batch-[0-9]{4,}\.jsonl")  # what `write_batch_files` names its files


def configure(parser: argparse.ArgumentParser) -> None:
    add_request_arguments(parser)
    parser.add_argument("-o", "--out", type=Path, required=True, metavar="DIR", help="folder")
    parser.add_argument(
        "--images-per-request",
        type=positive_int,
        default=1,
        help=f"at most {OBSERVED_LIMITS.max_images} (the observed per-request limit)",
    )


def _writes_batch(out: Path) -> Callable[[Path], bool]:
    """Whether a (resolved) path is a file this run may write: `batch-NNNN.jsonl` in `out`."""
    folder = out.resolve()
    return lambda path: path.parent == folder and BATCH_NAME.fullmatch(path.name) is not None


def run(args: argparse.Namespace) -> int:
    spec = request_spec(args, "batch")
    if args.images_per_request > OBSERVED_LIMITS.max_images:
        raise SettingsError(
            f"--images-per-request {args.images_per_request} is over the "
            f"{OBSERVED_LIMITS.max_images} images one request may carry"
        )
    plan_for, _ = plan_source(args)
    check_output(args.out, folder=True)
    refuse_inputs(args.images, _writes_batch(args.out))
    failures: list[dict] = []
    parts = within_limits(image_parts(args, plan_for, failures), spec, OBSERVED_LIMITS, failures)
    requests = split_requests(parts, spec, images_per_request=args.images_per_request)
    files = write_batch_files(requests, args.out)
    rows = [{**dataclasses.asdict(f), "path": str(f.path)} for f in files] + failures
    print_rows(rows, args.json, COLUMNS)
    return 1 if failures else 0
