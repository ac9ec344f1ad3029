"""How much a verdict moves: the monthly figure re-recommended at other text floors and without
each category's worst image, and the dollars of photos and graphics against their floor.

The worst image of a category is the one whose own pick (`toolkit.recommend.adaptive_picks`)
costs the most: no setting at all, else the most tokens, then the most bytes. Leaving it out
shows whether one image carries a category's price; the category mix stays as it was, and a
category of one image keeps it (leaving it out would leave the category empty).

Every figure is re-recommended from the same sweep rows, never swept again: a setting the
sweep did not measure is no candidate, so each is an upper bound (a sweep of the whole grid
could only find a cheaper pick). After `toolkit.search_settings`, whose second round swept
encodings only at the sizes picked for the floors it was given, a size picked at another floor
was measured at the near-lossless encoding (JPEG 95) alone.

The photo and graphic floor (`min_fidelity`, seen SSIM relative to the model's ceiling) has no
published source: it is a choice, and `fidelity_curve` shows what each choice costs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import pandas as pd

from toolkit.projection import monthly_projection
from toolkit.recommend import DecisionRules, Rules, adaptive_picks, recommend, rules_for

TEXT_FLOORS = (0.90, 0.95, 0.98)
FIDELITY_FLOORS = tuple(round(0.85 + 0.01 * step, 2) for step in range(15))  # 0.85 ... 0.99
WITHOUT_WORST = "without each category's worst image"
COLUMNS = [
    "model",
    "case",
    "min_legibility",
    "left_out",
    "images",
    "monthly_images",
    "seed_monthly_usd",
    "monthly_usd",
    "adaptive_monthly_usd",
    "complete",
]
CURVE_COLUMNS = [
    "model",
    "category",
    "min_fidelity",
    "images",
    "cost_usd_per_1k",
    "adaptive_cost_usd_per_1k",
    "binding",
]


def worst_images(
    results: pd.DataFrame, rules: Rules | None = None, prices: str | None = None
) -> pd.DataFrame:
    """Per (model, category) of two images or more: the image whose own cheapest setting that
    keeps its floor costs the most (`adaptive_picks` columns)."""
    picks = adaptive_picks(results, rules, prices=prices)
    ranked = picks.assign(unserved=picks["setting"].isna()).sort_values(
        ["unserved", "tokens", "bytes", "image"],
        ascending=[False, False, False, True],
        na_position="first",
        kind="stable",
    )
    several = ranked.groupby(["model", "category"])["path"].transform("size") > 1
    worst = ranked[several].groupby(["model", "category"]).head(1)
    return worst.sort_values("category", kind="stable")


def sensitivity(
    results: pd.DataFrame,
    monthly_images: int,
    rules: Rules | None = None,
    *,
    floors: Sequence[float] = TEXT_FLOORS,
    mix: Mapping[str, float] | None = None,
    prices: str | None = None,
) -> pd.DataFrame:
    """Per model, the monthly figures (seed recipe, one pick per category, a pick per image)
    re-recommended at each text floor in `floors` (and `rules`' own), then at `rules` without
    each category's worst image (`worst_images`, named in `left_out`; no such row for a model
    whose categories hold one image each). One row per (model, case), `COLUMNS`; every case
    keeps the folder's own mix (of all its images) unless `mix` is given. `rules` may differ
    per model (`toolkit.recommend.Rules`)."""
    shares = mix or _folder_mix(results)
    cases = []
    for model in dict.fromkeys(results["model"].dropna()):
        rows, own = results[results["model"] == model], rules_for(rules, model)
        for floor in sorted({*floors, own.min_legibility}):
            floored = replace(own, min_legibility=floor)
            projected = _projected(rows, floored, monthly_images, shares, prices)
            cases.append(projected.assign(case=f"text floor {floor:.2f}", left_out=""))
        left = worst_images(rows, own, prices)
        if len(left):
            kept = rows[~rows["path"].isin(left["path"])]
            named = "; ".join(f"{r.category}: {r.image}" for r in left.itertuples())
            projected = _projected(kept, own, monthly_images, shares, prices)
            cases.append(projected.assign(case=WITHOUT_WORST, left_out=named))
    return pd.concat(cases, ignore_index=True)[COLUMNS]


def _projected(results, rules: DecisionRules, monthly_images: int, mix, prices) -> pd.DataFrame:
    picks = recommend(results, rules, prices=prices)
    projected = monthly_projection(results, picks, monthly_images, mix=mix, prices=prices)
    return projected.assign(min_legibility=rules.min_legibility)


def _folder_mix(results: pd.DataFrame) -> dict[str, float]:
    """Each category's images that could be read, as `monthly_projection` counts them."""
    readable = results[results["source_width"].notna()]
    return readable.groupby("category")["path"].nunique().astype(float).to_dict()


def fidelity_curve(
    results: pd.DataFrame,
    rules: Rules | None = None,
    *,
    floors: Sequence[float] = FIDELITY_FLOORS,
    prices: str | None = None,
) -> pd.DataFrame:
    """Dollars per 1,000 images of each category not judged by legibility (photos, graphics)
    when recommended at each fidelity floor in `floors` (`CURVE_COLUMNS`, one row per model,
    category and floor): what choosing `min_fidelity` costs."""
    frames = []
    for model in dict.fromkeys(results["model"].dropna()):
        own = rules_for(rules, model)
        rows = results[results["model"] == model]
        rows = rows[~rows["category"].isin(own.text_categories)]
        frames += [
            recommend(rows, replace(own, min_fidelity=floor), prices=prices).assign(
                min_fidelity=floor
            )
            for floor in floors
            if len(rows)
        ]
    if not frames:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[CURVE_COLUMNS]
