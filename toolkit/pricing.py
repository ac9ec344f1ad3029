"""Dollars from tokens: dated price files (`kind = "prices"` in `toolkit/rules/`), one or more
per provider, and helpers for one image, 1,000 images and a whole dataset, per tier (standard,
batch, cache reads and writes).

Rates are USD per 1M tokens, kept as exact fractions; results are floats rounded once. Without
a table named, a model is priced by the newest table of the provider that lists it. A model a
table lists without a price says why (`unpriced`). Where a provider prices long prompts higher
(`long_prompt`: Gemini Pro above 200k prompt tokens), the rate follows `prompt_tokens`.
"""

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

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

# Input rates of image tokens: standard, Batch API, prompt-cache reads ("cached") and writes.
TIERS = ("standard", "batch", "cached", "cache_write_5m", "cache_write_1h")
PRICES_KIND = "prices"
PRICES_KEYS = frozenset(
    {"kind", "id", "provider", "as_of", "title", "sources", "notes", "currency", "unit"}
    | {"batch_discount", "models", "unpriced"}
)
PER_TOKENS = 1_000_000


@dataclass(frozen=True)
class LongPrompt:
    """Rates that replace a model's own for a request whose prompt is over `above_tokens`."""

    above_tokens: int
    price: "Price"


@dataclass(frozen=True)
class Price:
    """One model's rates in USD per 1M tokens; None where the provider lists none.

    `batch_cached_input` is the cache-read rate in a Batch request where the provider states
    one (Gemini: the standard cache rate); without it, the cache rate takes the batch discount
    (Anthropic: "multipliers stack with ... the Batch API discount").
    """

    input: Fraction
    output: Fraction
    batch_input: Fraction | None = None
    cached_input: Fraction | None = None
    batch_cached_input: Fraction | None = None
    cache_write_5m: Fraction | None = None
    cache_write_1h: Fraction | None = None
    long_prompt: LongPrompt | None = None

    def at(self, prompt_tokens: int = 0) -> "Price":
        """The rates for a request whose prompt is `prompt_tokens` long."""
        long = self.long_prompt
        return long.price if long and prompt_tokens > long.above_tokens else self


RATE_FIELDS = tuple(f.name for f in fields(Price) if f.name != "long_prompt")


@dataclass(frozen=True)
class PriceTable:
    id: str
    provider: str
    as_of: dt.date
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    batch_discount: Fraction
    models: Mapping[str, Price]
    unpriced: Mapping[str, str] = field(default_factory=dict)  # model -> why it has no price
    path: Path | None = field(default=None, compare=False)

    def _name(self, model: str) -> str | None:
        """The row `model` is priced by: its own, else the one its alias names."""
        name = model.strip().lower()
        for candidate in (name, canonical_model(name)):
            if candidate in self.models or candidate in self.unpriced:
                return candidate
        return None

    def lists(self, model: str) -> bool:
        """Whether the table prices `model` or says why it does not."""
        return self._name(model) is not None

    def get(self, model: str) -> Price | None:
        """The rates for `model` (its own row, else its alias's); None when it has none."""
        name = self._name(model)
        return None if name is None else self.models.get(name)

    def why_unpriced(self, model: str) -> str | None:
        """Why `model` has no price here: the table's reason, or that it is not listed."""
        if self.get(model) is not None:
            return None
        name = self._name(model)
        return self.unpriced[name] if name else f"not in {self.id}"

    def price(self, model: str) -> Price:
        """The rates for `model` as `get` finds them; `UnknownModelError` saying why not."""
        price = self.get(model)
        if price is None:
            raise UnknownModelError(
                f"no price for model {model!r} in {self.id} ({self.why_unpriced(model)}); "
                f"priced models: {', '.join(sorted(self.models))}"
            )
        return price


PricesSpec = str | Path | PriceTable | None  # a price-table id, a TOML path, a table, or newest


def _rate(value: object, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise RulesError(f"{where}: expected a non-negative number, got {value!r}")
    return Fraction(str(value))


def _price(row: object, spot: str, nested: bool = False) -> Price:
    """One model's row: rates, and a `long_prompt` table (`above_tokens` and rates)."""
    if not isinstance(row, dict) or not {"input", "output"} <= row.keys():
        raise RulesError(f"{spot} needs at least input and output")
    known = set(RATE_FIELDS) | ({"above_tokens"} if nested else {"long_prompt"})
    unknown = row.keys() - known
    if unknown:
        raise RulesError(f"{spot} has unknown fields {sorted(unknown)}")
    rates: dict[str, Any] = {
        k: _rate(v, f"{spot}.{k}") for k, v in row.items() if k in RATE_FIELDS
    }
    long = row.get("long_prompt")
    if long is not None:
        above = long.get("above_tokens") if isinstance(long, dict) else None
        if isinstance(above, bool) or not isinstance(above, int) or above < 1:
            raise RulesError(f"{spot}.long_prompt needs above_tokens, a positive whole number")
        rates["long_prompt"] = LongPrompt(above, _price(long, f"{spot}.long_prompt", True))
    return Price(**rates)


def _unpriced(table: object, where: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(v, str) and v for v in table.values()):
        raise RulesError(f"{where}: [unpriced] must map model names to reasons")
    return {k.lower(): v for k, v in table.items()}


def parse_prices(data: dict, path: Path | None = None) -> PriceTable:
    """Build a `PriceTable` from a parsed TOML document."""
    where = str(path or data.get("id", "<prices>"))
    if data.get("kind") != PRICES_KIND:
        raise RulesError(f"{where}: not a price file (kind = {data.get('kind')!r})")
    check_keys(data, PRICES_KEYS, where)
    rows = data.get("models", {})
    if not isinstance(rows, dict):
        raise RulesError(f"{where}: [models] must be a table")
    models = {m.lower(): _price(row, f"{where}: models.{m}") for m, row in rows.items()}
    unpriced = _unpriced(data.get("unpriced", {}), where)
    both = sorted(models.keys() & unpriced.keys())
    if both:
        raise RulesError(f"{where}: {both} are both priced and unpriced")
    try:
        return PriceTable(
            id=str(data["id"]),
            provider=str(data["provider"]),
            as_of=dt.date.fromisoformat(str(data["as_of"])),
            sources=tuple(data.get("sources", ())),
            notes=tuple(data.get("notes", ())),
            batch_discount=_rate(data["batch_discount"], f"{where}: batch_discount"),
            models=models,
            unpriced=unpriced,
            path=path,
        )
    except (KeyError, ValueError) as exc:
        raise RulesError(f"{where}: needs id, provider, as_of and batch_discount ({exc})") from exc


@functools.cache
def _builtin() -> dict[str, PriceTable]:
    tables = (parse_prices(read_toml(p), p) for p in builtin_files(PRICES_KIND))
    return {t.id: t for t in sorted(tables, key=lambda t: (t.provider, t.as_of))}


def price_tables() -> tuple[PriceTable, ...]:
    """Every built-in price table, by provider then date."""
    return tuple(_builtin().values())


def default_price_tables() -> tuple[PriceTable, ...]:
    """The newest price table of each provider."""
    newest: dict[str, PriceTable] = {}
    for table in price_tables():
        newest[table.provider] = table  # sorted by date, so the last one wins
    return tuple(newest.values())


def load_prices(spec: PricesSpec = None) -> PriceTable:
    """A price table by id or TOML path, or as given; None is the newest OpenAI table."""
    if isinstance(spec, PriceTable):
        return spec
    if spec is None:
        return next(t for t in default_price_tables() if t.provider == "openai")
    return builtin_or_file(spec, _builtin(), parse_prices, "price table")


def table_for(model: str, prices: PricesSpec = None) -> PriceTable:
    """The table that prices `model`: `prices` when given, else the newest table of the
    provider that lists it; `UnknownModelError` naming the priced models when none does."""
    if prices is not None:
        return load_prices(prices)
    defaults = default_price_tables()
    table = next((t for t in defaults if t.lists(model)), None)
    if table is None:
        priced = sorted(m for t in defaults for m in t.models)
        raise UnknownModelError(
            f"no price for model {model!r}; priced models: {', '.join(priced)}"
        )
    return table


def price_ids(models: Iterable[str], prices: PricesSpec = None) -> list[str]:
    """The ids of the tables that price `models` (for a report's assumptions), in order."""
    ids: list[str] = []
    for model in models:
        try:
            ident = table_for(model, prices).id
        except UnknownModelError:
            continue
        if ident not in ids:
            ids.append(ident)
    return ids


def _check_tier(tier: str) -> None:
    if tier not in TIERS:
        raise SettingsError(f"tier must be one of {', '.join(TIERS)}, got {tier!r}")


_TIER_FIELDS = {
    "batch": "batch_input",
    "cached": "cached_input",
    "cache_write_5m": "cache_write_5m",
    "cache_write_1h": "cache_write_1h",
}


def input_rate(
    model: str, tier: str = "standard", prices: PricesSpec = None, prompt_tokens: int = 0
) -> Fraction:
    """USD per 1M input tokens for `model` at `tier`, in a prompt `prompt_tokens` long."""
    _check_tier(tier)
    table = table_for(model, prices)
    price = table.price(model).at(prompt_tokens)
    rate = price.input if tier == "standard" else getattr(price, _TIER_FIELDS[tier])
    if rate is None:
        raise RulesError(f"{table.id} lists no {tier} input price for {model!r}")
    return rate


def output_rate(
    model: str, tier: str = "standard", prices: PricesSpec = None, prompt_tokens: int = 0
) -> Fraction:
    """USD per 1M output tokens; batch applies the table's batch discount; cache tiers are
    input-only."""
    _check_tier(tier)
    if tier not in ("standard", "batch"):
        raise SettingsError(f"{tier} pricing applies to input tokens only")
    table = table_for(model, prices)
    output = table.price(model).at(prompt_tokens).output
    return output * table.batch_discount if tier == "batch" else output


def cached_rate(
    model: str, tier: str = "standard", prices: PricesSpec = None, prompt_tokens: int = 0
) -> Fraction:
    """USD per 1M cache-read input tokens in a `standard` or `batch` request."""
    rate = input_rate(model, "cached", prices, prompt_tokens)
    if tier != "batch":
        return rate
    table = table_for(model, prices)
    stated = table.price(model).at(prompt_tokens).batch_cached_input
    return stated if stated is not None else rate * table.batch_discount


def _usd(tokens: int, rate: Fraction) -> float:
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        raise SettingsError(f"tokens must be a non-negative integer, got {tokens!r}")
    return float(tokens * rate / PER_TOKENS)


def cost_usd(
    tokens: int,
    model: str,
    tier: str = "standard",
    prices: PricesSpec = None,
    prompt_tokens: int = 0,
) -> float:
    """Dollars for `tokens` input tokens (image tokens are billed as input), in a prompt
    `prompt_tokens` long (it matters where long prompts cost more)."""
    return _usd(tokens, input_rate(model, tier, prices, prompt_tokens))


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
    the tier's rates, cached input at the cache-read rate (`cached_rate`), each at the rates of
    a prompt `input_tokens` long. None when the price table does not price the model."""

    def cost() -> float:
        cached = 0.0
        if cached_tokens:
            cached = _usd(cached_tokens, cached_rate(model, tier, prices, input_tokens))
        uncached = input_tokens - cached_tokens
        return (
            _usd(uncached, input_rate(model, tier, prices, input_tokens))
            + cached
            + _usd(output_tokens, output_rate(model, tier, prices, input_tokens))
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
