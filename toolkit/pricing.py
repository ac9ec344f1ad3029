"""Dollars from tokens: dated price files (`kind = "prices"` in `toolkit/rules/`) and helpers for
one image, 1,000 images and a whole dataset, per tier (standard, batch, cached input).

Rates are USD per 1M tokens, kept as exact fractions; results are floats rounded once.
"""

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from toolkit.errors import ImageRejectedError, RulesError, SettingsError, UnknownModelError
from toolkit.rulesets import (
    DEFAULT_DETAIL,
    RulesSpec,
    builtin_files,
    builtin_or_file,
    canonical_model,
    check_keys,
    read_toml,
)
from toolkit.tokens import TokenEstimate, image_tokens

TIERS = ("standard", "batch", "cached")
PRICES_KIND = "prices"
PRICES_KEYS = frozenset(
    {"kind", "id", "provider", "as_of", "title", "sources", "notes", "currency", "unit"}
    | {"batch_discount", "models"}
)
PER_TOKENS = 1_000_000


@dataclass(frozen=True)
class Price:
    """One model's rates in USD per 1M tokens; None where the provider lists none."""

    input: Fraction
    output: Fraction
    batch_input: Fraction | None = None
    cached_input: Fraction | None = None


@dataclass(frozen=True)
class PriceTable:
    id: str
    provider: str
    as_of: dt.date
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    batch_discount: Fraction
    models: Mapping[str, Price]
    path: Path | None = field(default=None, compare=False)

    def get(self, model: str) -> Price | None:
        """The rates for `model`: its own row, else the row of the model its alias names; None
        when the table prices neither."""
        name = model.strip().lower()
        return self.models.get(name) or self.models.get(canonical_model(name))

    def price(self, model: str) -> Price:
        """The rates for `model` as `get` finds them; `UnknownModelError` when there are none."""
        price = self.get(model)
        if price is None:
            raise UnknownModelError(
                f"no price for model {model!r} in {self.id}; priced models: "
                f"{', '.join(sorted(self.models))}"
            )
        return price


PricesSpec = str | Path | PriceTable | None  # a price-table id, a TOML path, a table, or newest


def _rate(value: object, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise RulesError(f"{where}: expected a non-negative number, got {value!r}")
    return Fraction(str(value))


def parse_prices(data: dict, path: Path | None = None) -> PriceTable:
    """Build a `PriceTable` from a parsed TOML document."""
    where = str(path or data.get("id", "<prices>"))
    if data.get("kind") != PRICES_KIND:
        raise RulesError(f"{where}: not a price file (kind = {data.get('kind')!r})")
    check_keys(data, PRICES_KEYS, where)
    rows = data.get("models", {})
    if not isinstance(rows, dict):
        raise RulesError(f"{where}: [models] must be a table")
    models = {}
    for model, row in rows.items():
        spot = f"{where}: models.{model}"
        if not isinstance(row, dict) or not {"input", "output"} <= row.keys():
            raise RulesError(f"{spot} needs at least input and output")
        unknown = row.keys() - Price.__dataclass_fields__.keys()
        if unknown:
            raise RulesError(f"{spot} has unknown fields {sorted(unknown)}")
        models[model.lower()] = Price(**{k: _rate(v, f"{spot}.{k}") for k, v in row.items()})
    try:
        return PriceTable(
            id=str(data["id"]),
            provider=str(data["provider"]),
            as_of=dt.date.fromisoformat(str(data["as_of"])),
            sources=tuple(data.get("sources", ())),
            notes=tuple(data.get("notes", ())),
            batch_discount=_rate(data["batch_discount"], f"{where}: batch_discount"),
            models=models,
            path=path,
        )
    except (KeyError, ValueError) as exc:
        raise RulesError(f"{where}: needs id, provider, as_of and batch_discount ({exc})") from exc


@functools.cache
def _builtin() -> dict[str, PriceTable]:
    tables = (parse_prices(read_toml(p), p) for p in builtin_files(PRICES_KIND))
    return {t.id: t for t in sorted(tables, key=lambda t: t.as_of)}


def price_tables() -> tuple[PriceTable, ...]:
    """Every built-in price table, oldest first."""
    return tuple(_builtin().values())


def load_prices(spec: PricesSpec = None) -> PriceTable:
    """A price table by id or TOML path, or as given; None is the newest built-in table."""
    if isinstance(spec, PriceTable):
        return spec
    if spec is None:
        return price_tables()[-1]
    return builtin_or_file(spec, _builtin(), parse_prices, "price table")


def _check_tier(tier: str) -> None:
    if tier not in TIERS:
        raise SettingsError(f"tier must be one of {', '.join(TIERS)}, got {tier!r}")


def input_rate(model: str, tier: str = "standard", prices: PricesSpec = None) -> Fraction:
    """USD per 1M input tokens for `model` at `tier`."""
    _check_tier(tier)
    table = load_prices(prices)
    price = table.price(model)
    rates = {"standard": price.input, "batch": price.batch_input, "cached": price.cached_input}
    rate = rates[tier]
    if rate is None:
        raise RulesError(f"{table.id} lists no {tier} input price for {model!r}")
    return rate


def output_rate(model: str, tier: str = "standard", prices: PricesSpec = None) -> Fraction:
    """USD per 1M output tokens; batch applies the table's batch discount, cached is input-only."""
    _check_tier(tier)
    if tier == "cached":
        raise SettingsError("cached pricing applies to input tokens only")
    table = load_prices(prices)
    output = table.price(model).output
    return output * table.batch_discount if tier == "batch" else output


def _usd(tokens: int, rate: Fraction) -> float:
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        raise SettingsError(f"tokens must be a non-negative integer, got {tokens!r}")
    return float(tokens * rate / PER_TOKENS)


def cost_usd(tokens: int, model: str, tier: str = "standard", prices: PricesSpec = None) -> float:
    """Dollars for `tokens` input tokens (image tokens are billed as input)."""
    return _usd(tokens, input_rate(model, tier, prices))


def output_cost_usd(
    tokens: int, model: str, tier: str = "standard", prices: PricesSpec = None
) -> float:
    """Dollars for `tokens` output tokens."""
    return _usd(tokens, output_rate(model, tier, prices))


def _or_none(cost: Callable[[], float]) -> float | None:
    """`cost()`, or None when the price table has no price for the model or tier: a bill row
    without dollars rather than a failed row (tokens are still right)."""
    try:
        return cost()
    except RulesError:
        return None


def cost_or_none(
    tokens: int, model: str, tier: str = "standard", prices: PricesSpec = None
) -> float | None:
    """`cost_usd`, or None when the price table does not price `model` at `tier`."""
    return _or_none(lambda: cost_usd(tokens, model, tier, prices))


def usage_cost_usd(
    model: str,
    input_tokens: int,
    cached_tokens: int = 0,
    output_tokens: int = 0,
    tier: str = "standard",
    prices: PricesSpec = None,
) -> float | None:
    """Dollars for a `usage` at `tier` ("standard" or "batch"): uncached input and output at
    the tier's rates, cached input at the cached rate (times the batch discount in batch).
    None when the price table does not price the model."""

    def cost() -> float:
        cached = 0.0
        if cached_tokens:
            discount = load_prices(prices).batch_discount if tier == "batch" else 1
            cached = cost_usd(cached_tokens, model, "cached", prices) * float(discount)
        return (
            cost_usd(input_tokens - cached_tokens, model, tier, prices)
            + cached
            + output_cost_usd(output_tokens, model, tier, prices)
        )

    return _or_none(cost)


@dataclass(frozen=True)
class ImageCost:
    estimate: TokenEstimate
    tier: str
    rate_usd_per_1m: Fraction  # input rate at this tier

    @property
    def cost_usd(self) -> float:
        return _usd(self.estimate.tokens, self.rate_usd_per_1m)

    @property
    def cost_usd_per_1000(self) -> float:
        return _usd(self.estimate.tokens * 1000, self.rate_usd_per_1m)


def image_cost(
    width: int,
    height: int,
    model: str,
    detail: str = DEFAULT_DETAIL,
    tier: str = "standard",
    rules: RulesSpec = None,
    prices: PricesSpec = None,
) -> ImageCost:
    """Tokens and dollars for one image (and for 1,000 like it)."""
    estimate = image_tokens(width, height, model, detail, rules)
    return ImageCost(estimate, tier, input_rate(model, tier, prices))


@dataclass(frozen=True)
class DatasetCost:
    images: int  # priced images
    rejected: int  # images the API would refuse (not priced)
    tokens: int
    cost_usd: float


def dataset_cost(
    sizes: Iterable[tuple[int, int]],
    model: str,
    detail: str = DEFAULT_DETAIL,
    tier: str = "standard",
    rules: RulesSpec = None,
    prices: PricesSpec = None,
) -> DatasetCost:
    """Total tokens and dollars for an iterable of (width, height), streamed."""
    rate = input_rate(model, tier, prices)
    images = rejected = tokens = 0
    for width, height in sizes:
        try:
            tokens += image_tokens(width, height, model, detail, rules).tokens
        except ImageRejectedError:
            rejected += 1
            continue
        images += 1
    return DatasetCost(images, rejected, tokens, _usd(tokens, rate))
