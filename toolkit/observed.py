"""Observed billing: public measurements of billed image tokens kept beside the documented rule.

A rule set's `[[observed]]` tables each name the `models` and the requested `detail` they hold
for (before `auto` resolves: `auto` is the provider's default resolution), the `tokens` they
stand for, how (`kind`: `flat` when every size measured billed that count, `at_most` when the
counts varied and `tokens` is the highest, a bound), and where they come from: `source` (a
public issue or measurement), `date`, `measured_model`, `how` and `measured` (size -> billed
tokens, every size measured). Validated as the rule set loads (`RulesError`).
"""

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from toolkit.errors import RulesError

KINDS = ("flat", "at_most")
KEYS = frozenset(
    {"models", "detail", "tokens", "kind", "source", "date", "measured_model", "how", "measured"}
)
SIZE = re.compile(r"^([1-9][0-9]*)x([1-9][0-9]*)$")


@dataclass(frozen=True)
class Observation:
    """Billed image tokens measured in public, for some models at one requested level."""

    models: tuple[str, ...]
    detail: str
    tokens: int
    kind: str
    source: str
    date: dt.date
    measured_model: str
    how: str
    measured: Mapping[str, int]  # "WIDTHxHEIGHT" -> billed tokens

    def describe(self) -> str:
        """One line: what was measured, on which model, where and when."""
        counts = sorted(set(self.measured.values()))
        span = f"{counts[0]:,}" if len(counts) == 1 else f"{counts[0]:,}-{counts[-1]:,}"
        sizes = ", ".join(self.measured)
        what = "every size" if self.kind == "flat" else "at most, over the sizes"
        return (
            f"{span} tokens billed on {self.measured_model} for {sizes} ({what}; "
            f"{self.source}, {self.date.isoformat()})"
        )


def _measured(table: object, where: str) -> dict[str, int]:
    if not isinstance(table, dict) or not table:
        raise RulesError(f"{where}.measured: a table of WIDTHxHEIGHT = tokens is required")
    for size, tokens in table.items():
        if not SIZE.match(size) or isinstance(tokens, bool) or not isinstance(tokens, int):
            raise RulesError(f"{where}.measured: {size} = {tokens!r} is not WIDTHxHEIGHT = tokens")
    return dict(table)


def _text(table: dict, key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise RulesError(f"{where}: {key} must be a non-empty string")
    return value


def parse_observation(table: object, where: str, models: Mapping[str, object]) -> Observation:
    """One `[[observed]]` table, checked: known keys, models the rule set knows, `tokens`
    agreeing with `measured` (equal to each for `flat`, to the highest for `at_most`)."""
    if not isinstance(table, dict):
        raise RulesError(f"{where}: expected a table")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise RulesError(f"{where}: unknown keys {unknown}; known: {', '.join(sorted(KEYS))}")
    names = table.get("models")
    if not isinstance(names, list) or not names or not all(isinstance(m, str) for m in names):
        raise RulesError(f"{where}: models must be a non-empty list of model names")
    missing = sorted(m for m in names if m.lower() not in models)
    if missing:
        raise RulesError(f"{where}: models not in this rule set: {missing}")
    kind = table.get("kind")
    if kind not in KINDS:
        raise RulesError(f"{where}: kind must be one of {KINDS}, got {kind!r}")
    measured = _measured(table.get("measured"), where)
    tokens = table.get("tokens")
    expected = max(measured.values())
    flat = len(set(measured.values())) == 1
    if tokens != expected or (kind == "flat" and not flat):
        raise RulesError(
            f"{where}: tokens = {tokens!r} must be the highest count measured ({expected})"
            + ("" if flat or kind != "flat" else ", and a flat kind needs equal counts")
        )
    try:
        date = dt.date.fromisoformat(str(table.get("date")))
    except ValueError as exc:
        raise RulesError(f"{where}: date must be an ISO date ({exc})") from None
    return Observation(
        models=tuple(m.lower() for m in names),
        detail=_text(table, "detail", where).lower(),
        tokens=tokens,
        kind=kind,
        source=_text(table, "source", where),
        date=date,
        measured_model=_text(table, "measured_model", where),
        how=_text(table, "how", where),
        measured=measured,
    )


def find_observation(
    observations: tuple[Observation, ...], model: str, requested: str
) -> Observation | None:
    """The observation for `model` (canonical name) at the requested level, if any."""
    return next((o for o in observations if model in o.models and o.detail == requested), None)
