"""Claude and Gemini prices, observed bills beside the documented rules, and the OpenAI rule
sets of the ~2026-03 and ~2026-06 pages (research/vision-api-facts.md sections 1.6, 2, 5, 6, 9;
the price files' notes quote the pages)."""

from fractions import Fraction

import pytest

from toolkit.errors import RulesError, SettingsError
from toolkit.pricing import (
    cost_usd,
    default_price_tables,
    input_rate,
    load_prices,
    output_rate,
    parse_prices,
    price_ids,
    table_for,
    usage_cost_usd,
)
from toolkit.rulesets import default_rule_sets, load_rules, parse_rules, read_toml
from toolkit.tokens import image_tokens

# ---- Anthropic: the pricing page's rows and its stated multipliers --------------------------

# (model, base input, 5m cache writes, 1h cache writes, cache hits, output): the page's rows
CLAUDE_ROWS = [
    ("claude-fable-5", 10, 12.5, 20, 1, 50),
    ("claude-opus-4-8", 5, 6.25, 10, 0.5, 25),
    ("claude-opus-4-1", 15, 18.75, 30, 1.5, 75),
    ("claude-sonnet-5-5", 2, 2.5, 4, 0.1, 10),
    ("claude-sonnet-4-6", 3, 3.75, 6, 0.3, 15),
    ("claude-haiku-4-5", 1, 1.25, 2, 0.1, 5),
]


@pytest.mark.parametrize(("model", "base", "w5m", "w1h", "hit", "out"), CLAUDE_ROWS)
def test_claude_rows(model, base, w5m, w1h, hit, out):
    rates = [input_rate(model, tier) for tier in ("standard", "cache_write_5m", "cache_write_1h")]
    assert rates + [input_rate(model, "cached"), output_rate(model)] == [
        Fraction(str(x)) for x in (base, w5m, w1h, hit, out)
    ]


def test_claude_cache_multipliers_hold_for_every_model():
    # "5m cache writes 1.25x, 1h cache writes 2x, cache hits 0.1x base input" (prompt caching),
    # except note 2: "Cache hits and refreshes on ... Claude Sonnet 5.5 are priced at 0.05x".
    # Claude Haiku 3's row is the one the page rounds: $0.30 and $0.03 on a $0.25 input.
    table = load_prices("anthropic-prices-2026-10")
    for model, price in table.models.items():
        if model == "claude-3-haiku":
            continue
        assert price.cache_write_5m == price.input * Fraction(5, 4), model
        assert price.cache_write_1h == price.input * 2, model
        hit = Fraction(1, 20) if model == "claude-sonnet-5-5" else Fraction(1, 10)
        assert price.cached_input == price.input * hit, model


def test_claude_batch_halves_cache_reads_too():
    # "These multipliers stack with ... the Batch API discount": a batch cache read of
    # Sonnet 4.6 is $0.30 x 0.5; 1M uncached + 1M cached input and 1M output in a batch.
    assert usage_cost_usd("claude-sonnet-4-6", 2_000_000, 1_000_000, 1_000_000, "batch") == (
        pytest.approx(1.5 + 0.15 + 7.5)
    )


def test_claude_image_cost():
    # 1024x1024 on Sonnet 4.6: ceil(1024/28)^2 = 37 x 37 = 1369 visual tokens at $3 per 1M.
    estimate = image_tokens(1024, 1024, "claude-sonnet-4-6")
    assert estimate.tokens == 1369
    assert cost_usd(estimate.tokens, "claude-sonnet-4-6") == pytest.approx(0.004107)


# ---- Gemini: Standard and Batch, context caching, prompts over 200k --------------------------


def test_gemini_rows_and_batch():
    assert input_rate("gemini-2.5-flash") == Fraction("0.30")
    assert input_rate("gemini-2.5-flash", "batch") == Fraction("0.15")
    assert output_rate("gemini-2.5-flash", "batch") == Fraction("1.25")  # the Batch row
    assert input_rate("gemini-2.0-flash-lite", "batch") == Fraction("0.0375")
    with pytest.raises(RulesError, match="no cached input price"):
        input_rate("gemini-2.0-flash-lite", "cached")  # "Context caching price: Not available"
    with pytest.raises(RulesError, match="no cache_write_5m input price"):
        input_rate("gemini-2.5-flash", "cache_write_5m")  # Gemini bills storage, not writes


def test_gemini_batch_cache_reads_are_not_discounted():
    # The Batch table's caching price is the Standard one ($0.03 on 2.5 Flash).
    cost = usage_cost_usd("gemini-2.5-flash", 1_000_000, 1_000_000, 0, "batch")
    assert cost == pytest.approx(0.03)


@pytest.mark.parametrize(
    ("prompt", "standard", "batch", "output"),
    [(200_000, "1.25", "0.625", "10"), (200_001, "2.50", "1.25", "15")],
)
def test_gemini_pro_prompt_length_tiers(prompt, standard, batch, output):
    # "$1.25, prompts <= 200k tokens $2.50, prompts > 200k tokens" (gemini-2.5-pro)
    assert input_rate("gemini-2.5-pro", prompt_tokens=prompt) == Fraction(standard)
    assert input_rate("gemini-2.5-pro", "batch", prompt_tokens=prompt) == Fraction(batch)
    assert output_rate("gemini-2.5-pro", prompt_tokens=prompt) == Fraction(output)


def test_a_bill_is_priced_at_its_own_prompt_length():
    # 300k prompt tokens and 1k output tokens on 3.1 Pro: all at the long rates ($4, $18).
    cost = usage_cost_usd("gemini-3.1-pro-preview", 300_000, 0, 1_000)
    assert cost == pytest.approx(300_000 * 4 / 1e6 + 1_000 * 18 / 1e6)


# ---- Every provider's table, found by model ----------------------------------------------------


def test_each_model_is_priced_by_its_providers_table():
    providers = {t.provider: t.id for t in default_price_tables()}
    assert providers == {
        "anthropic": "anthropic-prices-2026-10",
        "google": "gemini-prices-2026-03",
        "openai": "openai-prices-2026-11",
    }
    for rules in default_rule_sets():
        for model in rules.models:
            table = table_for(model)
            assert table.provider == rules.provider, model
            assert table.get(model) is not None or model in table.unpriced, model
    assert price_ids(["gpt-4o", "claude-haiku-4-5", "gpt-5.4"]) == [
        "openai-prices-2026-11",
        "anthropic-prices-2026-10",
    ]


def test_price_file_checks(tmp_path):
    data = read_toml(load_prices("gemini-prices-2026-03").path)
    long = data["models"]["gemini-2.5-pro"]["long_prompt"]
    with pytest.raises(RulesError, match="above_tokens"):
        parse_prices(data | {"models": {"m": {"input": 1, "output": 1, "long_prompt": {}}}})
    with pytest.raises(RulesError, match="unknown fields"):
        bad = {"input": 1, "output": 1, "long_prompt": long | {"long_prompt": long}}
        parse_prices(data | {"models": {"m": bad}})
    with pytest.raises(RulesError, match="both priced and unpriced"):
        parse_prices(data | {"unpriced": {"gemini-2.5-pro": "why"}})
    with pytest.raises(SettingsError, match="input tokens only"):
        output_rate("claude-haiku-4-5", "cache_write_1h")


# ---- Observed billing ----------------------------------------------------------------------


@pytest.mark.parametrize("model", ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"])
# documented: crop unit floor(min(w, h) / 1.5): 1024x1024 -> 682 px, 2x2 tiles; 768x1280 ->
# 512 px, 2x3 tiles; 3840x2160 -> 1440 px, 3x2 tiles; 258 tokens a tile
@pytest.mark.parametrize(
    ("size", "documented"), [((1024, 1024), 1032), ((768, 1280), 1548), ((3840, 2160), 1548)]
)
def test_gemini_25_default_bills_258_whatever_the_size(model, size, documented):
    # python-genai#1349: 258 tokens for 768x1280, 1024x1024 and 3840x2160 alike.
    estimate = image_tokens(*size, model)
    assert (estimate.tokens, estimate.billed_as) == (258, "observed")
    assert (estimate.documented_tokens, estimate.observed_tokens) == (documented, 258)
    assert "python-genai/issues/1349" in estimate.observed_source
    documented_only = image_tokens(*size, model, billing="documented")
    assert (documented_only.tokens, documented_only.billed_as) == (documented, "documented")


def test_gemini_3_default_is_bounded_by_the_highest_count_measured():
    # Rokabot#121: countTokens 1,056-1,089 from 64x64 to 2048x512; documented maximum 1,120.
    estimate = image_tokens(64, 64, "gemini-3-flash-preview")
    assert (estimate.tokens, estimate.documented_tokens) == (1089, 1120)
    assert "1,056-1,089" in estimate.observed_source and "at most" in estimate.observed_source


def test_an_observation_holds_only_at_the_level_measured():
    # Measured at the default resolution: a level named in the request keeps the documented
    # count, and models or providers without a measurement have no observed count.
    assert image_tokens(1024, 1024, "gemini-2.5-flash", "high").tokens == 1032
    assert image_tokens(1024, 1024, "gemini-3-pro-preview", "high").tokens == 1120
    for model in ("gpt-4o", "claude-sonnet-4-6", "gemini-2.0-flash"):
        estimate = image_tokens(1024, 1024, model)
        assert estimate.observed_tokens is None and estimate.billed_as == "documented"
        assert estimate.tokens == estimate.documented_tokens
    with pytest.raises(SettingsError, match="billing"):
        image_tokens(10, 10, "gpt-4o", billing="guessed")


def _observed(**change) -> dict:
    data = read_toml(load_rules("gemini-2026-11").path)
    data["observed"] = [data["observed"][1] | change]
    return data


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"tokens": 1120}, "highest count measured"),
        ({"kind": "flat"}, "flat kind needs equal counts"),
        ({"kind": "guess"}, "kind must be one of"),
        ({"models": ["gemini-9"]}, "models not in this rule set"),
        ({"measured": {"big": 1}}, "WIDTHxHEIGHT"),
        ({"date": "August"}, "ISO date"),
        ({"source": ""}, "source must be"),
        ({"seen": True}, "unknown keys"),
    ],
)
def test_malformed_observations_fail_as_the_rules_load(change, match):
    with pytest.raises(RulesError, match=match):
        parse_rules(_observed(**change))


# ---- OpenAI between pages: the ~2026-03 and ~2026-06 rule sets -------------------------------


@pytest.mark.parametrize(
    ("model", "size", "detail", "rules", "tokens", "patches"),
    [
        # ~2026-03: gpt-5.4 not in the multiplier table; a calculator's fixture: 1,024
        ("gpt-5.4", (1024, 1024), "high", "openai-2026-03", 1024, 1024),
        ("gpt-5.4", (2048, 2048), "high", "openai-2026-03", 2500, 2500),  # 1600x1600
        # 4000x3000 original: 125x94 = 11,750 patches > 10,000; adj = min(32 x 115 / 4000,
        # 32 x 86 / 3000) -> 3669x2752 -> 115x86 = 9,890
        ("gpt-5.4", (4000, 3000), "original", "openai-2026-03", 9890, 9890),
        ("gpt-5.4", (2048, 1024), "low", "openai-2026-03", 128, 128),  # "512px x 512px"
        # the page's own examples for the 1,536-patch budget, times the table's multiplier
        ("gpt-4.1-mini", (1024, 1024), "high", "openai-2026-03", 1659, 1024),
        ("gpt-5-mini", (1800, 2400), "high", "openai-2026-03", 2353, 1452),
        ("gpt-5.2", (1800, 2400), "high", "openai-2026-03", 1452, 1452),
        # ~2026-06: gpt-5.4-mini at 1,536 x 1.62 (a calculator's fixture: 1,659)
        ("gpt-5.4-mini", (1024, 1024), "high", "openai-2026-06", 1659, 1024),
        ("gpt-5.4-nano", (1800, 2400), "high", "openai-2026-06", 3572, 1452),
        ("gpt-5.5", (1024, 1024), "auto", "openai-2026-06", 1024, 1024),  # auto = original
        ("gpt-5.4", (2048, 2048), "auto", "openai-2026-06", 2500, 2500),  # auto = high
    ],
)
def test_interim_openai_pages(model, size, detail, rules, tokens, patches):
    estimate = image_tokens(*size, model, detail, rules)
    assert (estimate.tokens, estimate.patches) == (tokens, patches)


def test_the_interim_pages_know_only_the_models_they_name():
    march, june = load_rules("openai-2026-03"), load_rules("openai-2026-06")
    assert march.canonical("gpt-5.4-mini") is None and june.canonical("gpt-5.4-mini")
    assert march.canonical("gpt-5.5") is None and june.model("gpt-5.5").auto == "original"
    assert march.canonical("gpt-5.1") is None and june.canonical("gpt-5.1") is None
    assert march.as_of.isoformat() == "2026-03-05" and june.as_of.isoformat() == "2026-06-27"
    # the newest page wins by default: the 1.2 multiplier of ~2026-09
    assert image_tokens(1024, 1024, "gpt-5.4-mini", "high").tokens == 1229
