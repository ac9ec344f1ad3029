"""Prices from the dated table (research/vision-api-facts.md section 4)."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from toolkit.errors import RulesError, SettingsError, UnknownModelError
from toolkit.pricing import (
    cost_usd,
    dataset_cost,
    image_cost,
    input_rate,
    load_prices,
    output_cost_usd,
    output_rate,
    parse_prices,
    price_tables,
)
from toolkit.rulesets import read_toml

# Section 4 "COMPUTED cost of one 1024x1024 image at detail: high, Standard rates".
TABLE_1024 = [
    ("gpt-4o", 765, 0.001913, 1.913),
    ("gpt-4o-mini", 25501, 0.003825, 3.825),
    ("gpt-4.1", 765, 0.001530, 1.530),
    ("gpt-5", 630, 0.000788, 0.788),
    ("gpt-5.1", 630, 0.000788, 0.788),
    ("o3", 675, 0.001350, 1.350),
    ("gpt-4.1-mini", 1659, 0.000664, 0.664),
    ("gpt-5.2", 1229, 0.002151, 2.151),
    ("gpt-5.4", 1229, 0.003073, 3.073),
    ("gpt-5.4-mini", 1229, 0.000922, 0.922),
    ("gpt-5.5", 1229, 0.006145, 6.145),
    ("gpt-6-astra", 1229, 0.012290, 12.290),
]


def _half_up(value: float, places: str) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(places), ROUND_HALF_UP)


@pytest.mark.parametrize(("model", "tokens", "per_image", "per_1000"), TABLE_1024)
def test_research_note_cost_table(model, tokens, per_image, per_1000):
    cost = image_cost(1024, 1024, model, "high")
    assert cost.estimate.tokens == tokens
    # The note prints 6 and 3 decimals, rounding half up (0.7875 shown as 0.788).
    assert _half_up(cost.cost_usd, "0.000001") == Decimal(str(per_image))
    assert _half_up(cost.cost_usd_per_1000, "0.001") == Decimal(str(per_1000))


def test_exact_rates_and_tiers():
    assert input_rate("gpt-4o") == Fraction(5, 2)
    assert input_rate("gpt-5.4-mini", "cached") == Fraction(75, 1000)
    assert input_rate("gpt-5.4-mini", "batch") == Fraction(375, 1000)
    assert cost_usd(1_000_000, "gpt-4o") == 2.5
    assert cost_usd(1_000_000, "gpt-4o", "batch") == 1.25
    assert cost_usd(1_000_000, "gpt-4o", "cached") == 1.25
    assert cost_usd(1_000_000, "gpt-4.1", "cached") == 0.5
    assert cost_usd(0, "gpt-4o") == 0.0
    assert (
        cost_usd(3, "gpt-5-nano") == 1.5e-07
    )  # exact; 3 * 0.05 / 1e6 gives 1.5000000000000002e-07


@pytest.mark.parametrize("table", price_tables(), ids=lambda t: t.id)
def test_batch_input_is_half_of_standard_for_every_listed_model(table):
    # OpenAI: "The pricing-page Batch table is exactly half the Standard rates" (section 3.3);
    # Anthropic: "All usage is charged at 50% of the standard API prices"; Gemini: "Batch API
    # (50% cost reduction)", every Batch row half the Standard one.
    assert table.batch_discount == Fraction(1, 2)
    for model, price in table.models.items():
        for rates in (price, price.long_prompt.price if price.long_prompt else price):
            assert rates.batch_input == rates.input / 2, model
            if rates.cached_input is not None:
                assert rates.cached_input < rates.input, model


def test_output_prices():
    assert output_rate("gpt-6-astra") == 50
    assert output_cost_usd(1_000_000, "gpt-4o") == 10.0
    assert output_cost_usd(1_000_000, "gpt-4o", "batch") == 5.0
    with pytest.raises(SettingsError, match="input tokens only"):
        output_cost_usd(10, "gpt-4o", "cached")


def test_aliases_use_their_own_row_first():
    # gpt-4o-2024-05-13 has its own (higher) row; the other snapshots price as gpt-4o.
    assert cost_usd(1_000_000, "gpt-4o-2024-05-13") == 5.0
    assert cost_usd(1_000_000, "gpt-4o-2024-08-06") == 2.5
    assert cost_usd(1_000_000, "gpt-4.1-mini-2025-04-14") == 0.4
    with pytest.raises(RulesError, match="no cached input price"):
        cost_usd(10, "gpt-4o-2024-05-13", "cached")


def test_unpriced_and_bad_inputs():
    with pytest.raises(UnknownModelError, match="priced models: .*gpt-4o"):
        cost_usd(10, "no-such-model")
    with pytest.raises(UnknownModelError, match="no image-input price for gpt-image-1"):
        cost_usd(10, "gpt-image-1")
    with pytest.raises(SettingsError, match="tier"):
        cost_usd(10, "gpt-4o", "priority")
    for bad in (-1, 1.5, True):
        with pytest.raises(SettingsError):
            cost_usd(bad, "gpt-4o")
    with pytest.raises(RulesError, match="no cached input price"):
        cost_usd(10, "o1-pro", "cached")


def test_dataset_cost_streams_and_counts_rejections():
    sizes = iter([(1024, 1024)] * 3 + [(8000, 6000)])  # the last is over 30,000 patches
    total = dataset_cost(sizes, "gpt-5.6-sol", "original")
    assert (total.images, total.rejected, total.tokens) == (3, 1, 3 * 1229)
    assert total.cost_usd == pytest.approx(3 * 1229 * 4.0 / 1e6)
    batch = dataset_cost([(1024, 1024)] * 1000, "gpt-4o", "high", tier="batch")
    assert batch.cost_usd == pytest.approx(765 * 1000 * 1.25 / 1e6)


def test_price_table_metadata_and_user_file(tmp_path):
    table = load_prices()
    assert table.id == "openai-prices-2026-11" and table in price_tables()
    assert table.as_of.isoformat() == "2026-11-23" and table.batch_discount == Fraction(1, 2)
    assert any("developers.openai.com/api/docs/pricing" in s for s in table.sources)
    text = table.path.read_text().replace('"gpt-4o" = { input = 2.50', '"gpt-4o" = { input = 3')
    mine = tmp_path / "prices.toml"
    mine.write_text(text.replace('id = "openai-prices-2026-11"', 'id = "mine"'))
    assert cost_usd(1_000_000, "gpt-4o", prices=str(mine)) == 3.0
    assert cost_usd(1_000_000, "gpt-4o", prices=load_prices(mine)) == 3.0
    assert cost_usd(1_000_000, "gpt-4o") == 2.5


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d | {"kind": "token-rules"}, "not a price file"),
        (lambda d: d | {"models": {"m": {"input": 1}}}, "input and output"),
        (lambda d: d | {"models": {"m": {"input": 1, "output": -1}}}, "non-negative"),
        (lambda d: d | {"models": {"m": {"input": 1, "output": 1, "fast": 2}}}, "unknown fields"),
        (lambda d: {k: v for k, v in d.items() if k != "batch_discount"}, "batch_discount"),
    ],
)
def test_malformed_price_files(change, match):
    data = read_toml(load_prices().path)
    with pytest.raises(RulesError, match=match):
        parse_prices(change(data))
    with pytest.raises(RulesError, match="unknown price table"):
        load_prices("prices-1999")
