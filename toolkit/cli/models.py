"""Every model the rule sets know: provider, rule set, token scheme, detail levels (with what
`auto` stands for), the constants of each level, and input price per 1M tokens (empty when the
price table has none)."""

import argparse
import sys
from fractions import Fraction

from toolkit.cli.args import add_json_argument, add_rules_argument
from toolkit.cli.output import print_json_lines, print_table
from toolkit.pricing import PriceTable, load_prices
from toolkit.rulesets import ModelRule, RuleSet, default_rule_sets, load_rules

MODEL_COLUMNS = (
    "model",
    "provider",
    "rules",
    "scheme",
    "details",
    "input_usd_per_1m",
    "constants",
)
PRICE_FIELDS = ("input", "cached_input", "batch_input", "output")


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


def _model_row(ruleset: RuleSet, rule: ModelRule, prices: PriceTable) -> dict:
    price = prices.get(rule.name)
    constants = _constants(rule)
    return {
        "model": rule.name,
        "provider": ruleset.provider,
        "rules": ruleset.id,
        "scheme": "/".join(sorted({c["scheme"] for c in constants.values()})),
        "details": [*rule.details, *([f"auto={rule.auto}"] if rule.auto else [])],
        "aliases": sorted(a for a, m in ruleset.aliases.items() if m == rule.name),
        "constants": constants,
        **{f"{n}_usd_per_1m": _plain(getattr(price, n, None)) for n in PRICE_FIELDS},
    }


def _constants_text(constants: dict[str, dict]) -> str:
    return "; ".join(
        f"{level}: " + " ".join(f"{k}={v}" for k, v in params.items() if k != "scheme")
        for level, params in constants.items()
    )


def run(args: argparse.Namespace) -> int:
    sets = [load_rules(args.rules)] if args.rules else default_rule_sets()
    prices = load_prices()
    rows = [_model_row(r, rule, prices) for r in sets for rule in r.models.values()]
    if args.json:
        print_json_lines(rows, sys.stdout)
    else:
        table = [{**r, "constants": _constants_text(r["constants"])} for r in rows]
        print_table(table, MODEL_COLUMNS, sys.stdout)
        print(f"prices: {prices.id} (USD per 1M input tokens, standard tier)")
    return 0
