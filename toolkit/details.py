"""What each `detail` level means on a model, in words: the size the provider keeps and the
tokens it bills (from the rule set, never assumed). `low` is not the same on every model:
a flat 512 px view on tile models, a larger patch budget than `high` on gpt-5.4, the very
same sizing as `high` on gpt-4.1-mini."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from toolkit.formatting import significant
from toolkit.rulesets import DetailRule, RulesSpec, find_model

DETAIL_COLUMNS = ["model", "detail", "means", "keeps", "same_as", "rules"]


def _n(value: int | Fraction) -> str:
    return significant(float(value))


def describe_rule(rule: DetailRule) -> str:
    """One level's sizing and billing: "fits 2048 px, at most 6144 patches of 32 px, 1.2
    tokens a patch"."""
    p = rule.params
    fits = f"fits {_n(p['max_side'])} px" if "max_side" in p else "any size"
    if rule.scheme == "tile" and p.get("base_only"):
        return f"{fits}, a flat {_n(p['base'])} tokens"
    if rule.scheme == "tile":
        return (
            f"{fits}, short side {_n(p['short_side'])} px, {_n(p['per_tile'])} tokens a "
            f"{_n(p['tile_size'])} px tile + {_n(p['base'])}"
        )
    if rule.scheme == "patch":
        budget = f", at most {_n(p['budget'])}" if "budget" in p else ", any number of"
        size, multiplier = _n(p["patch_size"]), _n(p["multiplier"])
        return f"{fits}{budget} patches of {size} px, {multiplier} tokens a patch"
    if rule.scheme in ("patch_fit", "area_fit"):
        billed = (
            "a token a patch"
            if rule.scheme == "patch_fit"
            else f"width × height / {_n(p['divisor'])} tokens"
        )
        return f"{fits}, at most {_n(p['budget'])} patches of {_n(p['patch_size'])} px, {billed}"
    if rule.scheme == "crop_tile":
        return (
            f"{_n(p['tokens_per_tile'])} tokens a crop (one crop up to {_n(p['small_side'])} px)"
        )
    return f"a flat {_n(p['tokens'])} tokens"


def detail_meaning(model: str, detail: str, rules: RulesSpec = None) -> str:
    """What `detail` means on `model`: "low on gpt-5.4-mini: fits 2048 px, at most 6144
    patches of 32 px, 1.2 tokens a patch", with the levels it shares its sizing with."""
    _, rule = find_model(model, rules)
    level = rule.resolve_detail(detail)
    named = level if level == detail else f"{detail} (= {level})"
    same = same_levels(model, level, rules)
    alike = f"; the same as {' and '.join(same)}" if same else ""
    return f"{named} on {model}: {describe_rule(rule.details[level])}{alike}"


def same_levels(model: str, level: str, rules: RulesSpec = None) -> list[str]:
    """The other levels of `model` sized and billed exactly as `level`."""
    _, rule = find_model(model, rules)
    return [d for d, r in rule.details.items() if d != level and r == rule.details[level]]


def detail_levels(
    models: list[str], details: list[str] | None = None, rules: RulesSpec = None
) -> pd.DataFrame:
    """One row per model and level it supports (of `details`, default all): `means` (the
    level `auto` stands for), `keeps` (sizing and billing, `describe_rule`), `same_as` (levels
    sized and billed alike) and the rule set."""
    rows = []
    for model in models:
        ruleset, rule = find_model(model, rules)
        for detail in rule.supported_details:
            if details is not None and detail not in details:
                continue
            level = rule.resolve_detail(detail)
            rows.append(
                {
                    "model": model,
                    "detail": detail,
                    "means": level,
                    "keeps": describe_rule(rule.details[level]),
                    "same_as": ", ".join(same_levels(model, level, ruleset)) or "none",
                    "rules": ruleset.id,
                }
            )
    return pd.DataFrame(rows, columns=DETAIL_COLUMNS)
