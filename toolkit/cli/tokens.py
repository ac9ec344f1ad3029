"""Image tokens and dollars per image. A WIDTHxHEIGHT argument is a size; anything else is an
image file whose size is read from its header (EXIF rotation applied, pixels not decoded)."""

import argparse
import dataclasses
import sys
from collections.abc import Iterator

from toolkit.cli.args import (
    PATHS_HELP,
    add_detail_argument,
    add_json_argument,
    add_rules_argument,
    add_tier_argument,
)
from toolkit.cli.output import error_row, print_json_lines, print_table
from toolkit.errors import ToolkitError
from toolkit.images import SIZE, iter_image_files, read_size
from toolkit.pricing import cost_or_none
from toolkit.rulesets import check_detail
from toolkit.tokens import image_tokens

TOKEN_FIELDS = (
    "width",
    "height",
    "model",
    "detail",
    "tokens",
    "provider_width",
    "provider_height",
    "tiles",
    "patches",
    "rules",
    "cost_usd",
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="WIDTHxHEIGHT|PATH",
        help=f"sizes in px (1024x768; 1024*768 and 1024×768 too), {PATHS_HELP}",
    )
    parser.add_argument("--model", required=True, help="e.g. gpt-4o, gpt-5.4-mini")
    add_detail_argument(parser)
    add_rules_argument(parser, "rule-set id or TOML file (default: the newest that knows --model)")
    add_tier_argument(parser)
    add_json_argument(parser)


def _token_row(arg: str, args: argparse.Namespace) -> dict:
    match = SIZE.fullmatch(arg.strip())
    row = {} if match else {"path": arg}
    width, height = (int(match[1]), int(match[2])) if match else read_size(arg)
    estimate = image_tokens(width, height, args.model, args.detail, args.rules)
    fields = {
        **dataclasses.asdict(estimate),
        "width": width,
        "height": height,
        "cost_usd": cost_or_none(estimate.tokens, args.model, args.tier),
    }
    return {**row, **{name: fields[name] for name in TOKEN_FIELDS}}


def _inputs(inputs: list[str]) -> Iterator[str]:
    """Sizes as given; paths through `iter_image_files` (folders walked like `encode`)."""
    for arg in inputs:
        if SIZE.fullmatch(arg.strip()):
            yield arg
        else:
            yield from map(str, iter_image_files([arg]))


def run(args: argparse.Namespace) -> int:
    check_detail(args.model, args.detail, args.rules)  # a bad one would fail every row
    rows, failed = [], 0
    for arg in _inputs(args.inputs):
        try:
            row = _token_row(arg, args)
        except ToolkitError as exc:
            row, failed = error_row(arg, exc), failed + 1
        if args.json:
            print_json_lines([row], sys.stdout)
        else:
            rows.append(row)
    if not args.json:
        print_table(rows, ("path", *TOKEN_FIELDS), sys.stdout)
    return 1 if failed else 0
