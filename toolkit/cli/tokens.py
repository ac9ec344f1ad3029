"""`toolkit tokens` (image tokens and dollars per image) and `toolkit models` (the rule tables)."""

import argparse
import dataclasses
import re
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

from PIL import ExifTags, Image, UnidentifiedImageError

from toolkit.cli.args import PATHS_HELP
from toolkit.cli.output import error_row, print_json_lines, print_table
from toolkit.errors import (
    CorruptImageError,
    DecompressionBombError,
    EmptyImageError,
    ImageError,
    ImageRejectedError,
    NotAnImageError,
    RulesError,
    ToolkitError,
)
from toolkit.files import open_regular
from toolkit.images import DECODE_ERRORS, iter_image_files
from toolkit.pricing import TIERS, Price, cost_usd, load_prices
from toolkit.rulesets import ModelRule, RuleSet, default_rule_sets, find_model, load_rules
from toolkit.tokens import image_tokens

SIZE = re.compile(r"^(\d+)[xX×](\d+)$")
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
MODEL_COLUMNS = (
    "model",
    "provider",
    "rules",
    "scheme",
    "details",
    "input_usd_per_1m",
    "constants",
)
ROTATED = range(5, 9)  # EXIF orientations that swap width and height


def register(subparsers: argparse._SubParsersAction) -> None:
    tokens = subparsers.add_parser(
        "tokens",
        help="image tokens and dollars for sizes or image files",
        description="Image tokens and dollars per image. A WIDTHxHEIGHT argument is a size; "
        "anything else is an image file whose size is read from its header (EXIF rotation "
        "applied, pixels not decoded).",
    )
    tokens.add_argument(
        "inputs",
        nargs="+",
        metavar="WIDTHxHEIGHT|PATH",
        help=f"WIDTHxHEIGHT sizes, {PATHS_HELP}",
    )
    tokens.add_argument("--model", required=True, help="e.g. gpt-4o, gpt-5.4-mini")
    tokens.add_argument("--detail", default="auto", help="low, high, original, auto, ...")
    tokens.add_argument("--rules", metavar="ID", help="rule-set id or TOML path (default: newest)")
    tokens.add_argument("--tier", choices=TIERS, default="standard", help="price tier")
    tokens.add_argument("--json", action="store_true", help="one JSON object per line")
    tokens.set_defaults(handler=run_tokens)

    models = subparsers.add_parser(
        "models",
        help="every model with its token scheme, constants, details and price",
        description=__doc__,
    )
    models.add_argument("--rules", metavar="ID", help="one rule set (default: newest of each)")
    models.add_argument("--json", action="store_true", help="one JSON object per line")
    models.set_defaults(handler=run_models)


def header_size(path: Path) -> tuple[int, int]:
    """Width and height as displayed (EXIF orientations 5-8 swap them), from the header only.
    Every failure is an `ImageError` naming the file, as `encode_image` raises them."""
    name = str(path)
    try:
        handle = open_regular(path)
    except OSError as exc:
        raise ImageError(name, f"cannot read: {exc.strerror or exc}") from exc
    with handle:
        if not handle.read(1):
            raise EmptyImageError(name, "file is empty (0 bytes)")
        handle.seek(0)
        try:
            with Image.open(handle) as image:
                width, height = image.size
                # PNG keeps eXIf after the pixels unless it is in the header; don't decode it.
                if image.format == "PNG" and "exif" not in image.info:
                    orientation = 1
                else:
                    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        except UnidentifiedImageError:
            raise NotAnImageError(name, "not an image format Pillow can identify") from None
        except Image.DecompressionBombError as exc:
            raise DecompressionBombError(name, str(exc)) from None
        except DECODE_ERRORS as exc:
            raise CorruptImageError(name, f"cannot read header: {exc}") from exc
    return (height, width) if orientation in ROTATED else (width, height)


def _cost(tokens: int, model: str, tier: str) -> float | None:
    try:
        return cost_usd(tokens, model, tier)
    except RulesError:  # no price for this model or tier
        return None


def check_model(command: str, model: str, detail: str, rules: str | None = None) -> bool:
    """Check model, detail and rule set once for a whole command; print why not and say no."""
    try:
        find_model(model, rules)[1].resolve_detail(detail)
    except RulesError as exc:
        print(f"toolkit {command}: error: {exc}", file=sys.stderr)
        return False
    return True


def token_fields(width: int, height: int, model: str, detail: str = "auto") -> dict:
    """`tokens` and `cost_usd` for one image sent as is (`toolkit encode --model`); an image
    the API would reject gets nulls and a `tokens_error`."""
    try:
        tokens = image_tokens(width, height, model, detail).tokens
    except ImageRejectedError as exc:
        return {"tokens": None, "cost_usd": None, "tokens_error": str(exc)}
    return {"tokens": tokens, "cost_usd": _cost(tokens, model, "standard")}


def _token_row(arg: str, args: argparse.Namespace) -> dict:
    match = SIZE.match(arg)
    row = {} if match else {"path": arg}
    width, height = map(int, match.groups()) if match else header_size(Path(arg))
    estimate = image_tokens(width, height, args.model, args.detail, args.rules)
    fields = {
        **dataclasses.asdict(estimate),
        "width": width,
        "height": height,
        "cost_usd": _cost(estimate.tokens, args.model, args.tier),
    }
    return {**row, **{name: fields[name] for name in TOKEN_FIELDS}}


def _inputs(inputs: list[str]) -> Iterator[str]:
    """Sizes as given; paths through `iter_image_files` (folders walked like `encode`)."""
    for arg in inputs:
        if SIZE.match(arg):
            yield arg
        else:
            yield from map(str, iter_image_files([arg]))


def run_tokens(args: argparse.Namespace) -> int:
    if not check_model("tokens", args.model, args.detail, args.rules):
        return 2  # a bad model, detail or rule set would fail every row: said once
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


def _plain(value: object) -> object:
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def _constants(rule: ModelRule) -> dict[str, dict]:
    return {
        level: {"scheme": spec.scheme, **{k: _plain(v) for k, v in spec.params.items()}}
        for level, spec in rule.details.items()
    }


def _price_fields(price: Price | None) -> dict:
    names = ("input", "cached_input", "batch_input", "output")
    return {f"{n}_usd_per_1m": _plain(getattr(price, n, None)) for n in names}


def _model_row(ruleset: RuleSet, rule: ModelRule, prices) -> dict:
    try:
        price = prices.price(rule.name)
    except RulesError:
        price = None
    constants = _constants(rule)
    return {
        "model": rule.name,
        "provider": ruleset.provider,
        "rules": ruleset.id,
        "scheme": "/".join(sorted({c["scheme"] for c in constants.values()})),
        "details": [*rule.details, *([f"auto={rule.auto}"] if rule.auto else [])],
        "aliases": sorted(a for a, m in ruleset.aliases.items() if m == rule.name),
        "constants": constants,
        **_price_fields(price),
    }


def _constants_text(constants: dict[str, dict]) -> str:
    return "; ".join(
        f"{level}: " + " ".join(f"{k}={v}" for k, v in params.items() if k != "scheme")
        for level, params in constants.items()
    )


def run_models(args: argparse.Namespace) -> int:
    try:
        sets = [load_rules(args.rules)] if args.rules else default_rule_sets()
    except RulesError as exc:
        print(f"toolkit models: error: {exc}", file=sys.stderr)
        return 2
    prices = load_prices()
    rows = [_model_row(r, rule, prices) for r in sets for rule in r.models.values()]
    if args.json:
        print_json_lines(rows, sys.stdout)
    else:
        table = [{**r, "constants": _constants_text(r["constants"])} for r in rows]
        print_table(table, MODEL_COLUMNS, sys.stdout)
        print(f"prices: {prices.id} (USD per 1M input tokens, standard tier)")
    return 0
