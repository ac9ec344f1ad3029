"""One aggregation per quantity, named in the column: the tables and figures of a report.

A bill is a sum, so dollars, tokens and bytes are means over images (`<column>_mean`;
dollars as `cost_usd_per_1k`, the mean per image x 1,000). Decision rules hold on every image,
so fidelity and legibility are also given as their minimum (`<column>_min`). Every row says how
many images it rests on (`images`; `text_images` for legibility, which only images with text
have), and `few_images` flags rows resting on fewer than `FEW_IMAGES`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

FEW_IMAGES = 3  # rows resting on fewer images are flagged (`few_images`)


def summarize(
    df: pd.DataFrame,
    by: Sequence[str],
    means: Sequence[str] = (),
    minimums: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows without an error grouped by `by`: `images`, then `<c>_mean` for each of `means`
    (`cost_usd` becomes `cost_usd_per_1k`) and `<c>_min` for each of `minimums`."""
    ok = df[df["error"].isna()] if "error" in df.columns else df
    groups = ok.groupby(list(by), sort=True, dropna=False)
    spec = {"images": ("path", "nunique")}
    if "seen_word_recall" in [*means, *minimums]:
        spec["text_images"] = ("seen_word_recall", "count")
    spec.update({f"{c}_mean": (c, "mean") for c in means})
    spec.update({f"{c}_min": (c, "min") for c in minimums})
    table = groups.agg(**spec).reset_index()
    if "text_images" in table:  # rows per image x setting: count images, not rows
        table["text_images"] = groups.apply(
            lambda g: g.loc[g["seen_word_recall"].notna(), "path"].nunique(), include_groups=False
        ).to_numpy()
    table.insert(
        list(table.columns).index("images") + 1, "few_images", table["images"] < FEW_IMAGES
    )
    if "cost_usd_mean" in table:
        table["cost_usd_mean"] *= 1000
        table = table.rename(columns={"cost_usd_mean": "cost_usd_per_1k"})
    return table


def at_plateau(
    summary: pd.DataFrame, by: Sequence[str], x: str = "max_side", y: str = "tokens_mean"
) -> pd.DataFrame:
    """Per group of `by`, the row of a summary where `y` first reaches its largest value as
    `x` grows: the max side past which tokens stop growing, and what is kept there (a larger
    side only adds bytes). `still_growing` marks a group whose `y` is still rising at the
    largest `x` swept (its plateau, if any, is further out). One short table instead of a row
    per point."""
    ordered = summary.dropna(subset=[y]).sort_values([*by, x])
    groups = ordered.groupby(list(by), sort=False)
    peak = groups[y].transform("max")
    at_peak = (ordered[y] >= peak).groupby([ordered[c] for c in by], sort=False).transform("sum")
    rising = (
        (ordered[x] == groups[x].transform("max"))
        & (at_peak == 1)
        & (groups[x].transform("size") > 1)
    )
    plateau = ordered.assign(still_growing=rising)[ordered[y] >= peak]
    return plateau.drop_duplicates(list(by)).reset_index(drop=True)
