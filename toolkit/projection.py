"""Monthly dollars for a volume of images: the seed recipe, one pick per category, and a pick
per image (adaptive).

Each image of the sweep is priced under its category's recommendation (its row's tokens; as
crops when no setting keeps its text legible) and under the seed recipe. A model's monthly
bill is `monthly_images` x the category-mix-weighted mean of those dollars (a bill is a sum, so
means, never medians). The mix is the folder's own unless one is given. The per-image figure
weights each category's `adaptive_tokens_mean` (`toolkit.recommend`) the same way.

When the folder is a sample of a larger corpus (`corpus_size`), the monthly figure gets a
bootstrap interval: images are resampled with replacement within each category (the mix is
held fixed), `draws` times, and the spread is shrunk by the finite-population correction
sqrt((N - n) / (N - 1)) for a sample of n images out of N. A category of one image has no
spread to resample, so rows resting on few images are marked and the interval understates
their uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from toolkit import legibility
from toolkit.errors import SettingsError
from toolkit.formatting import signed_percent, usd
from toolkit.glossary import seed_recipe_text
from toolkit.pricing import load_prices, price_ids
from toolkit.readers import AUTO, READERS, THIN_WORDS, get_reader, reader_unavailable
from toolkit.recommend import (
    FEW_IMAGES,
    SETTINGS,
    DecisionRules,
    Rules,
    change_pct,
    crop_plans,
    rules_for,
    seed_tokens,
)
from toolkit.sweep import cost_or_nan

ADAPTIVE = ("adaptive_monthly_usd", "adaptive_monthly_batch_usd")  # each image its own pick
COLUMNS = [
    "model",
    "images",
    "categories",
    "monthly_images",
    "seed_monthly_usd",
    "seed_monthly_batch_usd",
    "monthly_usd",
    "monthly_usd_low",
    "monthly_usd_high",
    "monthly_batch_usd",
    *ADAPTIVE,
    "change_pct",
    "complete",
    "mix",
    "reader",
]


def image_tokens_under(results: pd.DataFrame, recommended: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, image): `tokens` under its category's recommendation (its setting,
    or crops for the images no setting keeps legible; NaN when the category has neither) and
    `seed_tokens` under the seed recipe."""
    frames = []
    for pick in recommended.itertuples():
        rows = results[(results["model"] == pick.model) & (results["category"] == pick.category)]
        rows = rows[rows["source_width"].notna()]  # files that never loaded cannot be sent
        images = rows.drop_duplicates("path")
        tokens = pd.Series(math.nan, index=images["path"])
        if pd.notna(pick.max_side):
            chosen = rows
            for name in SETTINGS:
                value = getattr(pick, name)
                chosen = chosen[chosen[name].isna() if pd.isna(value) else chosen[name] == value]
            tokens.update(chosen.set_index("path")["tokens"])
        if pick.crops_images > 0 and (pd.notna(pick.max_side) or pd.notna(pick.tokens_mean)):
            cropped = images[images["image"].isin(str(pick.cropped_images).split("; "))]
            plans = crop_plans(cropped, pick.model, pick.crops_detail)
            tokens.update(pd.Series([plan.tokens for plan in plans], index=cropped["path"]))
        frames.append(
            pd.DataFrame(
                {
                    "model": pick.model,
                    "category": pick.category,
                    "path": images["path"].tolist(),
                    "tokens": tokens.tolist(),
                    "seed_tokens": [
                        seed_tokens(r.source_width, r.source_height, pick.model, r.rules)
                        for r in images.itertuples()
                    ],
                    "tier": pick.tier,
                }
            )
        )
    columns = ["model", "category", "path", "tokens", "seed_tokens", "tier"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _usd(tokens: pd.Series, model: str, tier: str, prices) -> np.ndarray:
    return np.array(
        [math.nan if pd.isna(t) else cost_or_nan(int(t), model, tier, prices) for t in tokens]
    )


def _per_token(model: str, tier: str, prices) -> float:
    """Dollars per input token (NaN: no price)."""
    return cost_or_nan(1_000_000, model, tier, prices) / 1_000_000


def _weights(categories: list[str], counts: pd.Series, mix: Mapping[str, float] | None):
    if mix is None:
        return counts / counts.sum()
    unknown = sorted(set(mix) - set(categories))
    if unknown or any(v < 0 for v in mix.values()) or not sum(mix.values()):
        raise SettingsError(
            f"mix must give non-negative shares of the categories {categories}; got {dict(mix)}"
        )
    shares = pd.Series({c: float(mix.get(c, 0)) for c in categories})
    return shares / shares.sum()


def _bootstrap(groups, weights, draws: int, rng, shrink: float) -> np.ndarray:
    """Mix-weighted mean dollars per image for each resample (within-category resampling)."""
    total = np.zeros(draws)
    for category, dollars in groups:
        picks = rng.integers(0, len(dollars), size=(draws, len(dollars)))
        total += weights[category] * dollars[picks].mean(axis=1)
    point = sum(weights[c] * dollars.mean() for c, dollars in groups)
    return point + shrink * (total - point)


def monthly_projection(
    results: pd.DataFrame,
    recommended: pd.DataFrame,
    monthly_images: int,
    *,
    mix: Mapping[str, float] | None = None,
    corpus_size: int | None = None,
    confidence: float = 0.90,
    draws: int = 2000,
    seed: int = 0,
    prices: str | None = None,
) -> pd.DataFrame:
    """Per model: monthly dollars under the seed recipe, the recommendation (one pick per
    category) and each image's own pick (`adaptive_monthly_usd`), at standard and Batch API
    input prices, with a bootstrap `confidence` interval for the recommendation when
    `corpus_size` says the folder is a sample. `complete` is False when some category has
    neither settings nor crops: its images then have no recommended price, and the model's
    totals are left empty rather than shown cheaper than they are."""
    if monthly_images <= 0:
        raise SettingsError(f"monthly_images must be positive, not {monthly_images}")
    per_image = image_tokens_under(results, recommended)
    n = per_image["path"].nunique()
    if corpus_size is not None and corpus_size < n:
        raise SettingsError(f"corpus_size {corpus_size} is smaller than the {n} images swept")
    shrink = math.sqrt((corpus_size - n) / (corpus_size - 1)) if corpus_size else 0.0
    tail = (1 - confidence) / 2
    adaptive = recommended.set_index(["model", "category"])["adaptive_tokens_mean"]
    out = []
    for model, images in per_image.groupby("model", sort=False):
        tier = images["tier"].iloc[0]
        counts = images.groupby("category")["path"].nunique()
        weights = _weights(list(counts.index), counts, mix)
        usd = images.assign(
            usd=_usd(images["tokens"], model, tier, prices),
            batch=_usd(images["tokens"], model, "batch", prices),
            seed=_usd(images["seed_tokens"], model, tier, prices),
            seed_batch=_usd(images["seed_tokens"], model, "batch", prices),
        )
        means = usd.groupby("category")[["usd", "batch", "seed", "seed_batch"]].mean()
        per_image_usd = means.mul(weights, axis=0).sum(skipna=False)
        adaptive_tokens = (adaptive[model].reindex(weights.index) * weights).sum(skipna=False)
        row = {
            "model": model,
            "images": images["path"].nunique(),
            "categories": len(counts),
            "monthly_images": monthly_images,
            "seed_monthly_usd": monthly_images * per_image_usd["seed"],
            "seed_monthly_batch_usd": monthly_images * per_image_usd["seed_batch"],
            "monthly_usd": monthly_images * per_image_usd["usd"],
            "monthly_batch_usd": monthly_images * per_image_usd["batch"],
            "adaptive_monthly_usd": monthly_images
            * adaptive_tokens
            * _per_token(model, tier, prices),
            "adaptive_monthly_batch_usd": monthly_images
            * adaptive_tokens
            * _per_token(model, "batch", prices),
            "complete": bool(images["tokens"].notna().all()),
            "mix": ", ".join(f"{c} {100 * w:.0f} %" for c, w in weights.items()),
            "reader": _reader_of(results[results["model"] == model]),
        }
        if not row["complete"]:
            for column in ("monthly_usd", "monthly_batch_usd", *ADAPTIVE):
                row[column] = math.nan
        row["change_pct"] = change_pct(row["monthly_usd"], row["seed_monthly_usd"])
        if corpus_size and row["complete"]:
            groups = [(c, g["usd"].to_numpy()) for c, g in usd.groupby("category")]
            rng = np.random.default_rng(seed)
            sample = monthly_images * _bootstrap(groups, weights, draws, rng, shrink)
            row["monthly_usd_low"], row["monthly_usd_high"] = np.quantile(sample, [tail, 1 - tail])
        out.append(row)
    return pd.DataFrame(out, columns=COLUMNS)


def _reader_of(rows: pd.DataFrame) -> str:
    """The OCR reader(s) the rows' legibility was read with ("" when OCR was off)."""
    if "reader" not in rows:
        return ""
    return ", ".join(sorted(rows["reader"].dropna().astype(str).unique()))


def _usd_text(value: float) -> str:
    return "no complete pick" if pd.isna(value) else usd(value)


def _tiers(standard: float, batch: float) -> str:
    """An amount at standard prices with its Batch API twin: "$106.25 ($53.13 at Batch
    prices)"."""
    return f"{_usd_text(standard)} a month ({_usd_text(batch)} at Batch prices)"


def _moves_text(moves: pd.DataFrame, rules: DecisionRules) -> str:
    """How the monthly figure moves with the text floor and without each category's worst
    image (`toolkit.sensitivity` rows of one model)."""
    left_out = moves["left_out"].fillna("")
    floors = [
        f"{row.min_legibility:.2f}: {_usd_text(row.monthly_usd)}"
        + (" (as recommended)" if math.isclose(row.min_legibility, rules.min_legibility) else "")
        for row in moves[left_out == ""].itertuples()
    ]
    text = f" How it moves: at a text floor of {'; '.join(floors)}"
    for row in moves[left_out != ""].itertuples():
        text += f"; without each category's worst image ({row.left_out}): "
        text += _usd_text(row.monthly_usd)
    return text + (
        " (one pick per category, re-recommended from the same sweep rows: upper bounds, as a "
        "sweep of the whole grid could only find cheaper settings)."
    )


def finding(
    projected: Mapping,
    picks: pd.DataFrame,
    rules: Rules,
    moves: pd.DataFrame | None = None,
) -> str:
    """One citable paragraph (Markdown) for one model: monthly dollars before and after, what
    the recommendation keeps (the reader and where its text floor comes from), what each image
    at its own setting would cost, what it rests on, the sampling interval if any, and with
    `moves` (`toolkit.sensitivity` rows of the model) how the figure moves with the text floor
    and without each category's worst image."""
    model, volume = projected["model"], f"{int(projected['monthly_images']):,}"
    rules = rules_for(rules, model)
    reader = projected.get("reader") or ""
    keeps = (
        f"keeping every image's text legible (at least {100 * rules.min_legibility:.0f} % of "
        f"its words{f', read by the {reader} reader' if reader else ''}; text floor "
        f"{rules.text_floor_source}) and the others at "
        f"{100 * rules.min_fidelity:.0f} % or more of the fidelity the model allows"
    )
    cropped = picks[picks["crops_images"] > 0]
    missing = picks[picks["tokens_mean"].isna()]
    seed = _tiers(projected["seed_monthly_usd"], projected["seed_monthly_batch_usd"])
    text = (
        f"**{model}**, {volume} images a month: the seed recipe ({seed_recipe_text()}) costs "
        f"{seed}"
    )
    if not projected["complete"] or pd.isna(projected["monthly_usd"]):
        names = ", ".join(missing["category"]) or "some categories"
        text += (
            f"; there is no complete recommendation: no setting in the grid keeps the floors "
            f"for {names}, so no recommended total is given."
        )
    else:
        change = projected["change_pct"]
        why = (
            " (the seed recipe loses text or detail the floors require)"
            if round(change) > 0
            else ""
        )
        text += (
            f"; one pick per category, {keeps}, costs "
            f"{_tiers(projected['monthly_usd'], projected['monthly_batch_usd'])}: a change of "
            f"{signed_percent(change)} at either tier{why}."
        )
        if pd.notna(projected["monthly_usd_low"]):
            text += (
                f" 90 % interval {_usd_text(projected['monthly_usd_low'])}–"
                f"{_usd_text(projected['monthly_usd_high'])} for the corpus this folder samples."
            )
    if pd.notna(projected["adaptive_monthly_usd"]):
        adaptive = projected["adaptive_monthly_usd"]
        text += (
            " Each image at its own cheapest setting that keeps its floor (per image, "
            "adaptive) instead: "
            f"{_tiers(adaptive, projected['adaptive_monthly_batch_usd'])}, a change of "
            f"{signed_percent(change_pct(adaptive, projected['seed_monthly_usd']))}."
        )
    if len(cropped):
        sent = ", ".join(f"{int(r.crops_images)} {r.category}" for r in cropped.itertuples())
        text += (
            f" Images whose text no setting keeps legible go as crops the model keeps whole "
            f"({sent}); their crops are in the dollars."
        )
    if moves is not None and len(moves):
        text += _moves_text(moves, rules)
    few = picks[picks["images"] < FEW_IMAGES]
    categories = int(projected["categories"])
    text += (
        f" Rests on {int(projected['images'])} images in {categories} "
        f"{'category' if categories == 1 else 'categories'} (mix: {projected['mix']})"
    )
    if len(few):
        rest = "category rests" if len(few) == 1 else "categories rest"
        text += f"; {len(few)} {rest} on fewer than {FEW_IMAGES} images"
    text += "."
    return text


def assumptions(
    results: pd.DataFrame,
    projected: pd.DataFrame,
    rules: Rules,
    *,
    mix_given: bool,
    corpus_size: int | None,
    searched: str,
    prices: str | None = None,
) -> pd.DataFrame:
    """What the recommendation and its dollars rest on, one (assumption, value) row each."""
    images = results.drop_duplicates("path")
    counts = images.groupby("category")["path"].count()
    text = results.loc[results["text_words"].fillna(0) >= legibility.MIN_TEXT_WORDS, "path"]
    first = projected.iloc[0] if len(projected) else {}
    reference = results[["reference_width", "reference_height"]].max().max()
    models = list(projected["model"])
    fidelity_floors = sorted({rules_for(rules, m).min_fidelity for m in models} or {0.95})
    rows = {
        "floors": _floors_text(rules, models),
        "volume": f"{int(first['monthly_images']):,} images a month" if len(projected) else "",
        "category mix": (first.get("mix", "") if len(projected) else "")
        + (" (as given)" if mix_given else " (this folder's own mix)"),
        "sampling": (
            f"the folder samples a corpus of {corpus_size:,} images: 90 % bootstrap interval"
            if corpus_size
            else "the folder is taken as the whole corpus: no sampling interval"
        ),
        "images": f"{len(images)} ("
        + ", ".join(f"{c} {n}" for c, n in counts.items())
        + f"); {text.nunique()} with text the reader reads at full size",
        "prices": ", ".join(
            f"{t.id} (as of {t.as_of})"
            for t in [load_prices(ident) for ident in price_ids(models, prices)]
            or [load_prices(prices)]
        )
        + ": image input tokens only, standard and Batch API rates; prompt and answer tokens "
        "are the same whatever the encoding",
        "token rules": ", ".join(sorted(results["rules"].dropna().unique())),
        "legibility": _legibility_text(results),
        "fidelity": "seen SSIM (luma, Wang et al. 2004) against the original at up to "
        f"{reference:.0f} px on the longest side, relative to the model's ceiling; its floor "
        f"({', '.join(f'{f:g}' for f in fidelity_floors)}) is a choice, not a published "
        "threshold: page 04 shows the "
        "dollars of photos and graphics against it",
        "per image": "each image at its own cheapest setting that keeps its floor (the "
        "category rule applied to it alone); an image whose text no setting keeps legible goes "
        "as crops, at the seed recipe's encoding",
        "searched": searched,
        "sensitivity": "the figures at other text floors and without each category's worst "
        "image are re-recommended from the same sweep rows: upper bounds, since a setting the "
        "sweep did not measure is no candidate; in a two-round search (search_settings) the "
        "second round swept encodings only at the sizes picked for the floors above, so a "
        "size picked at another floor was measured at the near-lossless encoding alone",
    }
    return pd.DataFrame({"assumption": list(rows), "value": list(rows.values())})


def _floors_text(rules: Rules, models: list[str]) -> str:
    """The floors, once when every model keeps the same ones, else per model."""
    if isinstance(rules, DecisionRules):
        return rules.describe()
    each = {model: rules_for(rules, model) for model in models}
    if len(set(each.values())) == 1:
        return next(iter(each.values())).describe()
    return "; ".join(f"{model}: {kept.describe()}" for model, kept in each.items())


def _legibility_text(results: pd.DataFrame) -> str:
    if results["text_words"].isna().all():
        return "not measured (OCR off): text categories cannot be recommended"
    described = ", ".join(sorted(results["reader"].dropna().unique()))
    versions = "; ".join(
        get_reader(name).version()
        for name in READERS
        if results[f"{name}_text_words"].notna().any()
    )
    if AUTO in set(results["reader"].dropna()):
        described += (
            ": Tesseract, and PP-OCR where Tesseract reads fewer than "
            f"{THIN_WORDS} confident words of an original and PP-OCR more"
            + ("" if reader_unavailable("neural") is None else " (PP-OCR is not installed here)")
        )
    return (
        f"read by {described} ({versions}): each text line of the original, found once, is "
        "cut out tight and read alone, in the original and in what the provider keeps (at the "
        f"original's size); words read with confidence >= {legibility.MIN_CONFIDENCE} in the "
        "original count, matched letter for letter whatever the spacing, and an image needs "
        f"{legibility.MIN_TEXT_WORDS} of them to be judged as text; a view is read on a sample "
        f"of {legibility.SAMPLE_LINES} lines first and, unless it reads every sampled word, on "
        "every line (docs/METRICS.md)"
    )
