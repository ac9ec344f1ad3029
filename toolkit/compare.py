"""The same images on every provider: per category and model, the cheapest setting that keeps
the floors on that provider, its tokens and dollars, beside the seed recipe on each; and the
cheapest provider and model per category.

Each provider's own resize decides what it keeps, so legibility and fidelity are measured per
model: the comparison is `toolkit.search_settings` with every model in the grid, run once per
group of models that share detail levels (a grid's levels must suit each of its models:
Claude has `auto` only). Dollars are image input tokens at each model's own price table; a
model whose default resolution has a public measurement of its bill (a rule set's `observed`
section) is also tried at `auto`, which is priced at that measurement.
"""

from dataclasses import replace

import pandas as pd

from toolkit.formatting import counted
from toolkit.plans import setting_text
from toolkit.pricing import price_ids
from toolkit.recommend import Rules, search_settings
from toolkit.rulesets import find_model
from toolkit.sweep import SweepGrid

COLUMNS = [
    "category",
    "provider",
    "model",
    "images",
    "setting",
    "max_side",
    "format",
    "quality",
    "detail",
    "tokens_mean",
    "tokens_billed_as",
    "cost_usd_per_1k",
    "monthly_usd",
    "seed_cost_usd_per_1k",
    "seed_monthly_usd",
    "crops_images",
    "binding",
    "rules",
    "prices",
]
ALL = "all (this folder's mix)"  # the category of each model's row over every category


def details_for(model: str, wanted: tuple[str, ...], rules=None) -> tuple[str, ...]:
    """The levels of `wanted` that `model` takes, and `auto` when it takes none of them or
    its default resolution is billed as measured (Gemini)."""
    ruleset, rule = find_model(model, rules)
    levels = [d for d in wanted if d in rule.supported_details]
    if "auto" not in levels and (not levels or ruleset.observation(model, "auto")):
        levels.append("auto")
    return tuple(levels)


def size_grid(models: list[str], wanted: tuple[str, ...], **fields) -> SweepGrid:
    """The sizes round's grid (`fields`: max sides, the near-lossless format and quality,
    measures), valid for the first of `models`; `compare_providers` sets each group's own."""
    first = models[0]
    return SweepGrid(models=(first,), details=details_for(first, wanted), **fields)


def provider_grids(models: list[str], grid: SweepGrid, wanted: tuple[str, ...]) -> list[SweepGrid]:
    """`grid` (its sizes, encoding and measures; its own models and levels are replaced) once
    per group of `models` that share detail levels."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for model in models:
        groups.setdefault(details_for(model, wanted, grid.rules), []).append(model)
    return [replace(grid, models=tuple(m), details=d) for d, m in groups.items()]


def compare_providers(
    images,
    models: list[str],
    grid: SweepGrid,
    formats: tuple[str, ...],
    qualities: tuple[int, ...],
    rules: Rules | None = None,
    *,
    wanted: tuple[str, ...] = ("low", "high"),
    **sweep_options,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`search_settings` with `grid`'s sizes and near-lossless encoding for every model, each
    at the levels of `wanted` it takes (`details_for`), then `formats` x `qualities` at the
    sizes picked: the sweep rows and `recommend`'s rows of every model."""
    rounds = [
        search_settings(images, each, formats, qualities, rules, **sweep_options)
        for each in provider_grids(models, grid, wanted)
    ]
    results = pd.concat([r for r, _ in rounds], ignore_index=True)
    return results, pd.concat([p for _, p in rounds], ignore_index=True)


def _row(pick: pd.Series, monthly_images: int, prices) -> dict:
    ruleset, _ = find_model(pick["model"])
    served = not pd.isna(pick["max_side"]) or pick["crops_images"] > 0
    setting = "no setting keeps the floors"
    if not pd.isna(pick["max_side"]):
        quality = None if pd.isna(pick["quality"]) else int(pick["quality"])
        setting = setting_text(int(pick["max_side"]), pick["format"], quality, pick["detail"])
    if pick["crops_images"] > 0:
        crops = f"{counted(int(pick['crops_images']), 'image')} as crops"
        setting = crops if pd.isna(pick["max_side"]) else f"{setting}; {crops}"
    measured = not pd.isna(pick["detail"]) and ruleset.observation(pick["model"], pick["detail"])
    cost = pick["cost_usd_per_1k"] if served else float("nan")
    return {
        "category": pick["category"],
        "provider": ruleset.provider,
        "model": pick["model"],
        "images": pick["images"],
        "setting": setting,
        **{k: pick[k] for k in ("max_side", "format", "quality", "detail", "tokens_mean")},
        "tokens_billed_as": "observed" if measured else "documented",
        "cost_usd_per_1k": cost,
        "monthly_usd": cost * monthly_images / 1000,
        "seed_cost_usd_per_1k": pick["seed_cost_usd_per_1k"],
        "seed_monthly_usd": pick["seed_cost_usd_per_1k"] * monthly_images / 1000,
        "crops_images": pick["crops_images"],
        "binding": pick["binding"],
        "rules": pick["rules"],
        "prices": ", ".join(price_ids([pick["model"]], prices)),
    }


def _mix_row(rows: pd.DataFrame, monthly_images: int) -> dict:
    """One model over every category, weighted by each category's images here."""
    share = rows["images"] / rows["images"].sum()
    cost = (share * rows["cost_usd_per_1k"]).sum(min_count=len(rows))
    seed = (share * rows["seed_cost_usd_per_1k"]).sum(min_count=len(rows))
    tokens = (share * rows["tokens_mean"]).sum(min_count=len(rows))
    first = rows.iloc[0]
    return {
        "category": ALL,
        "provider": first["provider"],
        "model": first["model"],
        "images": rows["images"].sum(),
        "setting": "each category's own",
        "tokens_mean": tokens,
        "tokens_billed_as": "/".join(sorted(set(rows["tokens_billed_as"]))),
        "cost_usd_per_1k": cost,
        "monthly_usd": cost * monthly_images / 1000,
        "seed_cost_usd_per_1k": seed,
        "seed_monthly_usd": seed * monthly_images / 1000,
        "crops_images": rows["crops_images"].sum(),
        "binding": "",
        "rules": first["rules"],
        "prices": first["prices"],
    }


def comparison(recommended: pd.DataFrame, monthly_images: int, prices=None) -> pd.DataFrame:
    """One row per category and model, cheapest first within each category, then one row per
    model over every category (`ALL`, weighted by this folder's images per category).
    `monthly_usd` prices `monthly_images` images a month like the row's: of that category, or
    of this folder's mix. A category no setting serves has no dollars (NaN)."""
    rows = pd.DataFrame(
        [_row(pick, monthly_images, prices) for _, pick in recommended.iterrows()],
        columns=COLUMNS,
    )
    mixes = pd.DataFrame(
        [_mix_row(group, monthly_images) for _, group in rows.groupby("model", sort=False)],
        columns=COLUMNS,
    )
    ordered = rows.sort_values(["category", "cost_usd_per_1k"], na_position="last")
    return pd.concat([ordered, mixes], ignore_index=True)


def cheapest(table: pd.DataFrame) -> pd.DataFrame:
    """Per category (and over the folder's mix), the row with the fewest dollars."""
    priced = table.dropna(subset=["cost_usd_per_1k"])
    return priced.loc[priced.groupby("category", sort=False)["cost_usd_per_1k"].idxmin()]


def cheapest_text(table: pd.DataFrame, floors: str) -> str:
    """The report's paragraph: the cheapest provider and model per category at the floors,
    and what the comparison does not measure."""
    best = cheapest(table)
    by_category = best[best["category"] != ALL]
    parts = [
        f"{r.category}: **{r.model}** ({r.provider}), {r.setting}, "
        f"${r.cost_usd_per_1k:.4g} per 1,000 images"
        for r in by_category.itertuples()
    ]
    models = ", ".join(dict.fromkeys(table["model"]))
    text = (
        f"**Across providers** ({models}), the cheapest setting that keeps the floors "
        f"({floors}) on each provider, per category: " + "; ".join(parts) + "."
    )
    mix = best[best["category"] == ALL]
    if len(mix):
        row = mix.iloc[0]
        text += (
            f" Over this folder's mix: **{row.model}**, ${row.cost_usd_per_1k:.4g} per 1,000 "
            f"images (${row.monthly_usd:,.2f} a month)."
        )
    if (table["tokens_billed_as"].str.contains("observed")).any():
        text += (
            " Where a public measurement of the bill exists (Gemini's default resolution) the "
            "tokens are the measured ones, not the documented rule."
        )
    return text + (
        " Dollars are image input tokens only, and the quality of the answers is not "
        "measured: keeping the same share of legible words and of SSIM does not make the "
        "models answer equally well."
    )
