"""Image tokens and dollars per image. A WIDTHxHEIGHT argument is a size; anything else is an
image file whose size is read from its header (EXIF rotation applied, pixels not decoded).

Where a public measurement of the provider's bill differs from its documented rule (a rule
set's `observed` section), rows add `documented_tokens`, `observed_tokens`, `billed_as` (which
of them `tokens` and `cost_usd` are) and `observed_source`; `--billing documented` prices the
documented count instead."""

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
from toolkit.tokens import BILLING, TokenEstimate, image_tokens

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
# Shown where an observed bill differs from the documented count.
BILLING_FIELDS = ("documented_tokens", "observed_tokens", "billed_as", "observed_source")


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
    parser.add_argument(
        "--billing",
        choices=BILLING,
        default=BILLING[0],
        help="where a public measurement of the bill differs from the documented rule, "
        "price the observed count or the documented one",
    )
    add_json_argument(parser)


def _token_row(arg: str, args: argparse.Namespace) -> dict:
    match = SIZE.fullmatch(arg.strip())
    row = {} if match else {"path": arg}
    width, height = (int(match[1]), int(match[2])) if match else read_size(arg)
    estimate = image_tokens(
        width, height, args.model, args.detail, args.rules, billing=args.billing
    )
    fields = {
        **dataclasses.asdict(estimate),
        "width": width,
        "height": height,
        "cost_usd": cost_or_none(estimate.tokens, args.model, args.tier),
    }
    shown = TOKEN_FIELDS + (BILLING_FIELDS if _differs(estimate) else ())
    return {**row, **{name: fields[name] for name in shown}}


def _differs(estimate: TokenEstimate) -> bool:
    observed = estimate.observed_tokens
    return observed is not None and observed != estimate.documented_tokens


def _billing_note(rows: list[dict]) -> str | None:
    """Under the table: which count the rows price and why, with the measurement's source."""
    row = next((r for r in rows if "billed_as" in r), None)
    if row is None:
        return None
    why = (
        "the default where a public measurement of the bill exists (--billing documented "
        "prices the documented one)"
        if row["billed_as"] == "observed"
        else "as --billing documented asks (the default prices the observed one)"
    )
    return (
        f"tokens are the {row['billed_as']} count, {why}. observed_tokens: "
        f"{row['observed_source']}; documented_tokens: the documented rule of {row['rules']}."
    )


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
        note = _billing_note(rows)
        shown = BILLING_FIELDS[:3] if note else ()
        print_table(rows, ("path", *TOKEN_FIELDS, *shown), sys.stdout)
        if note:
            print(note)
    return 1 if failed else 0
