"""Every model the rule sets know: provider, rule set, token scheme, detail levels (with what
`auto` stands for), the constants of each level, and its prices per 1M tokens from the newest
price table of its provider (`prices`), or why it has none (`price_note`)."""

import argparse
import sys
from fractions import Fraction

from toolkit.cli.args import add_json_argument, add_rules_argument
from toolkit.cli.output import print_json_lines, print_table
from toolkit.errors import UnknownModelError
from toolkit.pricing import RATE_FIELDS, table_for
from toolkit.rulesets import ModelRule, RuleSet, default_rule_sets, load_rules

MODEL_COLUMNS = (
    "model",
    "provider",
    "rules",
    "scheme",
    "details",
    "input_usd_per_1m",
    "prices",
    "constants",
)


def configure(parser: argparse.ArgumentParser) -> None:
    add_rules_argument(parser, "one rule set (default: the newest of each provider)")
    add_json_argument(parser, "model")


def _plain(value: object) -> object:
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def _constants(rule: ModelRule) -> dict[str, dict]:
    return {
        level: {"scheme": spec.scheme, **{k: _plain(v) for k, v in spec.params.items()}}
        for level, spec in rule.details.items()
    }


def _prices(model: str) -> dict:
    """The model's rates, its price table's id, and why it has no price where it has none."""
    try:
        table = table_for(model)
    except UnknownModelError as exc:
        return {"prices": None, "price_note": str(exc)}
    price = table.get(model)
    rates = {f"{n}_usd_per_1m": _plain(getattr(price, n, None)) for n in RATE_FIELDS}
    long = price.long_prompt if price else None
    if long:
        rates["long_prompt_above_tokens"] = long.above_tokens
        rates["long_prompt_input_usd_per_1m"] = _plain(long.price.input)
    return {**rates, "prices": table.id, "price_note": table.why_unpriced(model)}


def _model_row(ruleset: RuleSet, rule: ModelRule) -> dict:
    constants = _constants(rule)
    return {
        "model": rule.name,
        "provider": ruleset.provider,
        "rules": ruleset.id,
        "scheme": "/".join(sorted({c["scheme"] for c in constants.values()})),
        "details": [*rule.details, *([f"auto={rule.auto}"] if rule.auto else [])],
        "aliases": sorted(a for a, m in ruleset.aliases.items() if m == rule.name),
        "constants": constants,
        **_prices(rule.name),
    }


def _constants_text(constants: dict[str, dict]) -> str:
    return "; ".join(
        f"{level}: " + " ".join(f"{k}={v}" for k, v in params.items() if k != "scheme")
        for level, params in constants.items()
    )


def run(args: argparse.Namespace) -> int:
    sets = [load_rules(args.rules)] if args.rules else default_rule_sets()
    rows = [_model_row(r, rule) for r in sets for rule in r.models.values()]
    if args.json:
        print_json_lines(rows, sys.stdout)
        return 0
    table = [
        {**r, "constants": _constants_text(r["constants"]), "prices": r["prices"] or "-"}
        for r in rows
    ]
    print_table(table, MODEL_COLUMNS, sys.stdout)
    print("input_usd_per_1m: standard tier; --json gives every rate (batch, cache reads and")
    print("writes, long prompts). Models without a price:")
    for row in rows:
        if row["price_note"]:
            print(f"  {row['model']}: {row['price_note']}")
    return 0
