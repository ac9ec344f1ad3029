"""The same images on every provider (`toolkit compare`, notebook 09)."""

import json
import math

import pandas as pd
import pytest
from helpers import quadrants, to_bytes

from toolkit.cli import main
from toolkit.compare import (
    ALL,
    cheapest,
    cheapest_text,
    compare_providers,
    comparison,
    details_for,
    provider_grids,
    size_grid,
)
from toolkit.errors import UnknownModelError
from toolkit.recommend import COLUMNS, DecisionRules
from toolkit.runtime import ProcessPool

MODELS = ["gpt-4o", "claude-haiku-4-5", "gemini-2.5-flash"]


def test_each_model_is_tried_at_the_levels_it_takes():
    wanted = ("low", "high")
    assert details_for("gpt-4o", wanted) == ("low", "high")
    assert details_for("claude-sonnet-4-6", wanted) == ("auto",)  # Claude has no detail
    assert details_for("gemini-2.0-flash", wanted) == ("auto",)
    # the default resolution is billed as measured, so it is a setting of its own
    assert details_for("gemini-2.5-flash", wanted) == ("low", "high", "auto")
    assert details_for("gpt-5.5", ("high",)) == ("high",)
    with pytest.raises(UnknownModelError):
        details_for("gpt-9", wanted)


def test_models_are_grouped_by_their_levels():
    grid = size_grid(MODELS, ("high",), max_sides=(512,), formats=("jpeg",), qualities=(95,))
    grids = provider_grids([*MODELS, "claude-sonnet-4-6"], grid, ("high",))
    assert [(g.models, g.details) for g in grids] == [
        (("gpt-4o",), ("high",)),
        (("claude-haiku-4-5", "claude-sonnet-4-6"), ("auto",)),
        (("gemini-2.5-flash",), ("high", "auto")),
    ]
    assert all(g.max_sides == (512,) for g in grids)


def _pick(model, category, images, cost, detail="high", side=768.0, tokens=500.0):
    row = dict.fromkeys(COLUMNS, math.nan)
    row.update(
        model=model,
        category=category,
        images=images,
        max_side=side,
        format="jpeg" if not math.isnan(side) else math.nan,
        quality=85.0,
        detail=detail,
        tokens_mean=tokens,
        cost_usd_per_1k=cost,
        seed_cost_usd_per_1k=2.0,
        binding="legibility",
        crops_images=0,
        rules="r",
    )
    return row


RECOMMENDED = pd.DataFrame(
    [
        _pick("gpt-4o", "document", 3, 1.9),
        _pick("gpt-4o", "photo", 1, 0.5),
        _pick("gemini-2.5-flash", "document", 3, 0.08, "auto", tokens=258.0),
        _pick("gemini-2.5-flash", "photo", 1, math.nan, side=math.nan),  # nothing serves
    ],
    columns=COLUMNS,
)


def test_comparison_rows():
    table = comparison(RECOMMENDED, 10_000)
    document = table[table["category"] == "document"]
    assert list(document["model"]) == ["gemini-2.5-flash", "gpt-4o"]  # cheapest first
    gemini = document.iloc[0]
    assert (gemini["provider"], gemini["setting"]) == ("google", "768 px jpeg 85 auto")
    assert gemini["tokens_billed_as"] == "observed" and document.iloc[1]["tokens_billed_as"] == (
        "documented"
    )
    assert gemini["monthly_usd"] == pytest.approx(0.8)  # $0.08 per 1,000 x 10,000
    assert gemini["seed_monthly_usd"] == pytest.approx(20)
    assert gemini["prices"] == "gemini-prices-2026-03"
    unserved = table[(table["category"] == "photo") & (table["model"] == "gemini-2.5-flash")]
    assert unserved.iloc[0]["setting"] == "no setting keeps the floors"
    assert math.isnan(unserved.iloc[0]["cost_usd_per_1k"])
    mix = table[table["category"] == ALL].set_index("model")
    assert mix.loc["gpt-4o", "cost_usd_per_1k"] == pytest.approx(0.75 * 1.9 + 0.25 * 0.5)
    assert math.isnan(mix.loc["gemini-2.5-flash", "cost_usd_per_1k"])  # a category unserved


def test_the_cheapest_per_category_and_the_paragraph():
    table = comparison(RECOMMENDED, 10_000)
    best = cheapest(table).set_index("category")
    assert best.loc["document", "model"] == "gemini-2.5-flash"
    assert best.loc["photo", "model"] == "gpt-4o" and best.loc[ALL, "model"] == "gpt-4o"
    text = cheapest_text(table, "the floors")
    assert "document: **gemini-2.5-flash** (google), 768 px jpeg 85 auto, $0.08" in text
    assert "photo: **gpt-4o** (openai)" in text and "Over this folder's mix: **gpt-4o**" in text
    assert "measured ones, not the documented rule" in text
    assert "quality of the answers is not measured" in text


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    for category, size in (("photo", (1600, 1200)), ("graphic", (900, 600))):
        (root / category).mkdir()
        (root / category / "a.png").write_bytes(to_bytes(quadrants(size), "PNG"))
    return root


def test_each_provider_keeps_its_own_view(folder):
    grid = size_grid(MODELS, ("high",), max_sides=(512, 1600), formats=("jpeg",), qualities=(95,))
    with ProcessPool(1) as pool:
        results, recommended = compare_providers(
            [folder],
            MODELS,
            grid,
            ("jpeg",),
            (85,),
            DecisionRules(),
            wanted=("high",),
            executor=pool,
            progress=False,
        )
    full = results[(results["max_side"] == 1600) & (results["image"] == "a.png")]
    kept = full[full["category"] == "photo"].set_index(["model", "detail"])
    assert tuple(kept.loc[("gpt-4o", "high"), ["provider_width", "provider_height"]]) == (
        1024,
        768,
    )
    claude = kept.loc[("claude-haiku-4-5", "auto"), ["provider_width", "provider_height"]]
    assert tuple(claude) == (1270, 952)  # 46 x 34 = 1,564 patches of 28 px, within 1,568
    gemini = kept.loc[("gemini-2.5-flash", "auto")]
    assert (gemini["provider_width"], gemini["tokens"]) == (1600, 258)  # kept whole, observed
    assert set(recommended["model"]) == set(MODELS)
    assert len(comparison(recommended, 1000)) == 2 * 3 + 3


def test_cli(folder, capsys):
    argv = ["compare", str(folder), "--models", "gpt-4o", "gemini-2.5-flash", "--max-sides", "512"]
    assert main([*argv, "--formats", "jpeg", "--qualities", "85", "--workers", "1", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(r["category"], r["model"]) for r in rows} == {
        (c, m) for c in ("graphic", "photo", ALL) for m in ("gpt-4o", "gemini-2.5-flash")
    }
    assert main(["compare", str(folder), "--models", "claude-9"]) == 2
    assert "unknown model 'claude-9'" in capsys.readouterr().err
