"""Recommendations a cost review can cite: per model and image category, the cheapest settings
that keep every image's task fidelity, with the rule that stopped anything cheaper.

Decision rules (`DecisionRules`), applied to each image of a category:
- **legibility**: an image with text (its full-resolution original reads at least
  `legibility.MIN_TEXT_WORDS` confident words) must keep `min_legibility` of them in what the
  provider keeps (`seen_word_recall`). Text categories (document, screenshot, chart) are judged
  this way; so is any other image whose original holds text.
- **fidelity**: every other image (photos, graphics, and a text-category image whose text
  Tesseract cannot read even at full size) must keep `min_fidelity` of the structural
  similarity the model itself allows: `seen_ssim / ceiling_ssim`, where `ceiling_ssim` is the
  seen SSIM of the original sent whole at the model's most generous detail. Relative, because
  no setting can show the model more than it keeps: a 12 MP photo on gpt-4o `high` keeps
  1024x768 and scores about 0.91 against the original whatever we do, and an absolute floor
  would make the advice depend on the model's resize rather than on our encoding. SSIM
  (luma, Wang et al. 2004) because it is the published, widely reproduced structural measure
  and ranks resizes and JPEG/WebP artefacts the same way viewers do for natural images.

A setting qualifies when it succeeds on every image of the category and no image fails its
rule. The pick is the cheapest qualifying setting by mean dollars per image (a bill is a sum),
ties going to fewer bytes. `binding` names what stopped the next cheaper setting;
`detail_note` says what the pick's detail level means on the model and what the same setting
bills at the other levels swept; `change_pct` is the pick's dollars against the seed recipe's
on the same images, more expensive positive. An image whose text no setting keeps legible
(a 2560x1440 code screenshot on a model that keeps 1365x768) is not allowed to drag its
category to the most expensive setting, nor passed: it goes as crops the model keeps whole
(`toolkit.crops`), the way users send such images, and the category's tokens and dollars
include those crops (`crops_images`, `cropped_images`), each spelled out as a setting you can
send (`crops_setting`: grid, crop size, encoding, detail). A
category where some image fails otherwise (fidelity, a provider refusal) gets null settings and
the reason.

Per image (adaptive, as per-title video encoding chooses per title): the same rule applied to
each image alone gives it its own cheapest setting (`adaptive_picks`); each category row says
what that costs (`adaptive_tokens_mean`, `adaptive_cost_usd_per_1k`) and how the images split
between settings (`adaptive_settings`).

Rules can differ per model (a mapping of model to `DecisionRules`): a calibration against a
model (`toolkit.calibration`) sets that model's text floor, and each row says which floor it
kept and where it comes from (`text_floor`, `text_floor_source`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import pandas as pd

from toolkit.crops import CropPlan, split_for_legibility
from toolkit.details import detail_meaning
from toolkit.errors import SettingsError, UnsupportedDetailError
from toolkit.images import DEFAULT_SETTINGS, fit_size, iter_image_files
from toolkit.legibility import MIN_TEXT_WORDS
from toolkit.plans import setting_text
from toolkit.rulesets import DEFAULT_DETAIL, SEED_DETAIL
from toolkit.summary import FEW_IMAGES
from toolkit.sweep import (
    OBSERVATION,
    SweepGrid,
    cost_or_nan,
    default_executor,
    estimate_or_error,
    progress_bar,
    run_sweep,
)

TEXT_CATEGORIES = ("document", "screenshot", "chart")
SETTINGS = ["max_side", "format", "quality", "detail"]
COLUMNS = [
    "model",
    "category",
    "images",
    "unreadable_images",
    "few_images",
    "text_images",
    "max_side",
    "format",
    "quality",
    "detail",
    "detail_note",
    "bytes_mean",
    "tokens_mean",
    "cost_usd_per_1k",
    "seed_cost_usd_per_1k",
    "change_pct",
    "ocr_relative_min",
    "text_floor",
    "text_floor_source",
    "fidelity_relative_min",
    "seen_ssim_min",
    "binding",
    "binding_detail",
    "crops_images",
    "cropped_images",
    "crops_detail",
    "crops_format",
    "crops_quality",
    "crops_setting",
    "crops_mean",
    "crops_tokens_mean",
    "crops_cost_usd_per_1k",
    "adaptive_tokens_mean",
    "adaptive_cost_usd_per_1k",
    "adaptive_settings",
    "rules",
    "tier",
]
IMAGE_COLUMNS = [  # `adaptive_picks`: one row per (model, image)
    "model",
    "category",
    "image",
    "path",
    "setting",
    "max_side",
    "format",
    "quality",
    "detail",
    "crops",
    "bytes",
    "tokens",
    "cost_usd",
    "failure",
]
NO_SETTING = "no setting keeps the floors"


@dataclass(frozen=True)
class DecisionRules:
    """The floors a recommendation keeps (see the module docstring for why these measures)."""

    min_legibility: float = 0.95  # share of the original's confident words still read
    min_fidelity: float = 0.95  # share of the model's ceiling seen SSIM kept
    text_categories: tuple[str, ...] = TEXT_CATEGORIES
    floor_source: str = ""  # where min_legibility comes from ("": as set, not calibrated)

    def __post_init__(self) -> None:
        for name in ("min_legibility", "min_fidelity"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise SettingsError(f"{name} must be in (0, 1], not {value!r}")
        object.__setattr__(self, "text_categories", tuple(self.text_categories))

    @property
    def text_floor_source(self) -> str:
        return self.floor_source or "as set, not calibrated against a model"

    def describe(self) -> str:
        return (
            f"text kept legible: word recall >= {self.min_legibility:g} of the full-resolution "
            f"original ({', '.join(self.text_categories)}, and any image with text; text floor "
            f"{self.text_floor_source}); others: seen SSIM >= {self.min_fidelity:g} of what the "
            "model keeps of the original"
        )


Rules = DecisionRules | Mapping[str, DecisionRules]  # one for every model, or one per model


def rules_for(rules: Rules | None, model: str) -> DecisionRules:
    """The rules `model` is judged by (`SettingsError` when a mapping has none for it)."""
    if rules is None or isinstance(rules, DecisionRules):
        return rules or DecisionRules()
    if model not in rules:
        raise SettingsError(f"no decision rules for model {model!r}; rules are for {list(rules)}")
    return rules[model]


SUMMARY = [  # the columns a reader scans first (`toolkit recommend` without --json)
    "model",
    "category",
    "images",
    "max_side",
    "format",
    "quality",
    "detail",
    "tokens_mean",
    "cost_usd_per_1k",
    "seed_cost_usd_per_1k",
    "change_pct",
    "ocr_relative_min",
    "text_floor",
    "seen_ssim_min",
    "binding",
    "crops_setting",
    "adaptive_cost_usd_per_1k",
    "detail_note",
]


def to_records(recommended: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: NaN becomes None, whole floats become integers, numbers rounded."""
    records = []
    for row in recommended.to_dict("records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, float):
                value = None if math.isnan(value) else round(value, 6)
                whole = key in SETTINGS or key == "crops_quality"
                value = int(value) if value is not None and whole else value
            clean[key] = value.item() if hasattr(value, "item") else value
        records.append(clean)
    return records


def _judged(rows: pd.DataFrame, rules: DecisionRules) -> pd.DataFrame:
    """Rows with each image's rule applied: `has_text`, `fidelity_relative`, `failure`."""
    has_text = rows["text_words"].fillna(0) >= MIN_TEXT_WORDS
    by_fidelity = ~has_text
    fidelity = rows["seen_ssim"] / rows["ceiling_ssim"]
    legible = rows["seen_word_recall"] >= rules.min_legibility
    faithful = fidelity >= rules.min_fidelity
    failure = pd.Series(None, index=rows.index, dtype=object)
    failure[by_fidelity & ~faithful] = "fidelity"
    failure[has_text & ~legible] = "legibility"
    failure[rows["error"].notna()] = "error"
    return rows.assign(has_text=has_text, fidelity_relative=fidelity, failure=failure)


def _check_metrics(rows: pd.DataFrame, category: str, rules: DecisionRules) -> None:
    """A rule whose metric the results lack is an error, never a silent pass."""
    ok = rows[rows["error"].isna()]
    if ok.empty:
        return  # every image failed: each setting fails on an error, which is the answer
    if category in rules.text_categories and ok["text_words"].isna().all():
        raise SettingsError(
            f"category {category!r} is judged by legibility, but the results have no OCR "
            "(text_words is empty): sweep with --ocr (SweepGrid(ocr=True))"
        )
    judged_by_fidelity = ok[ok["text_words"].fillna(0) < MIN_TEXT_WORDS]
    if len(judged_by_fidelity) and (
        judged_by_fidelity["seen_ssim"].isna().all()
        or judged_by_fidelity["ceiling_ssim"].isna().all()
    ):
        names = ", ".join(sorted(judged_by_fidelity["image"].unique())[:3])
        raise SettingsError(
            f"category {category!r}: {names} are judged by seen fidelity, but the results "
            "have no seen_ssim/ceiling_ssim: sweep with seen metrics on"
        )


def _setting_text(setting: tuple) -> str:
    """A (max side, format, quality, detail) setting in one line: "768 px jpeg 85 high"."""
    side, fmt, q, detail = setting
    quality = None if pd.isna(q) else int(q)
    return setting_text(None if pd.isna(side) else int(side), fmt, quality, detail)


def _failure_text(group: pd.DataFrame, setting: tuple, rules: DecisionRules) -> tuple[str, str]:
    """The rule a candidate setting broke and where, worst image first."""
    failed = group[group["failure"].notna()]
    where = _setting_text(setting)
    errors = failed[failed["failure"] == "error"]
    if len(errors):
        row = errors.iloc[0]
        return "error", f"{where}: {row['image']}: {row['error']}"
    illegible = failed[failed["failure"] == "legibility"]
    if len(illegible):
        row = illegible.loc[illegible["seen_word_recall"].fillna(-1).idxmin()]
        return "legibility", (
            f"{where}: {row['image']} keeps {row['seen_word_recall']:.2f} of its words "
            f"(< {rules.min_legibility:g})"
        )
    row = failed.loc[failed["fidelity_relative"].fillna(-1).idxmin()]
    return "fidelity", (
        f"{where}: {row['image']} keeps {row['fidelity_relative']:.3f} of the model's "
        f"ceiling SSIM (< {rules.min_fidelity:g})"
    )


def seed_tokens(source_width: int, source_height: int, model: str, rules) -> int | None:
    """Image tokens of the seed recipe (800 px, `high`) for one image (None: refused); a model
    with no `high` level (Claude, Gemini 2.0: one level only) is priced at its `auto`."""
    size = fit_size(int(source_width), int(source_height), DEFAULT_SETTINGS.max_side)
    try:
        estimate = estimate_or_error(*size, model, SEED_DETAIL, rules)
    except UnsupportedDetailError:
        estimate = estimate_or_error(*size, model, DEFAULT_DETAIL, rules)
    return None if isinstance(estimate, str) else estimate.tokens


def crop_plans(images: pd.DataFrame, model: str, detail: str) -> list[CropPlan]:
    """The crops the model keeps whole, per image (one row each)."""
    return [
        split_for_legibility(int(r.source_width), int(r.source_height), model, detail, r.rules)
        for r in images.itertuples()
    ]


def _mean_cost_per_1k(tokens, model: str, tier: str, prices) -> float:
    costs = [math.nan if t is None else cost_or_nan(int(t), model, tier, prices) for t in tokens]
    return 1000 * sum(costs) / len(costs) if costs else math.nan


def _widest_detail(group: pd.DataFrame) -> str:
    """The detail level at which the model keeps the most pixels in these rows."""
    kept = group.assign(px=group["provider_width"] * group["provider_height"])
    return str(kept.groupby("detail")["px"].max().idxmax())


def _beyond_any_setting(judged: pd.DataFrame, rules: DecisionRules) -> list[str]:
    """Paths of the images with text that no setting keeps legible: they go as crops."""
    legible = judged["seen_word_recall"] >= rules.min_legibility
    kept = judged[legible | ~judged["has_text"]].groupby("path").size()
    with_text = judged.loc[judged["has_text"], "path"].unique()
    return sorted(set(with_text) - set(kept.index))


def _crops(plans: list[CropPlan], names: pd.Series, model: str, tier: str, prices) -> dict:
    """Crops, tokens and dollars per image for the images `names` sent as crops kept whole."""
    tokens = [plan.tokens for plan in plans]
    return {
        "crops_images": len(plans),
        "cropped_images": "; ".join(names),
        "crops_detail": plans[0].detail,
        "crops_mean": sum(plan.crops for plan in plans) / len(plans),
        "crops_tokens_mean": sum(tokens) / len(tokens),
        "crops_cost_usd_per_1k": _mean_cost_per_1k(tokens, model, tier, prices),
    }


def _crops_setting(plans: list[CropPlan], names: pd.Series, pick: dict) -> dict:
    """Each cropped image's crops as a setting you can send: the pick's format and quality,
    or the seed recipe's when no setting serves the rest of the category."""
    has_setting = pd.notna(pick.get("format"))  # a setting at the original size has no max side
    fmt = pick["format"] if has_setting else DEFAULT_SETTINGS.format
    quality = pick["quality"] if has_setting else DEFAULT_SETTINGS.quality
    quality = None if fmt == "png" or pd.isna(quality) else int(quality)
    described = (f"{n}: {p.describe(fmt, quality)}" for n, p in zip(names, plans, strict=True))
    return {"crops_format": fmt, "crops_quality": quality, "crops_setting": "; ".join(described)}


def _cheapest_qualifying(judged: pd.DataFrame) -> pd.DataFrame:
    """Per image (index `path`), its cheapest setting that qualifies on it alone: `SETTINGS`,
    `cost_usd`, `bytes`, `tokens`. Settings are ranked as `_candidates` ranks them for a
    category: mean dollars, then mean bytes, then max side, NaN last, ties in order of
    appearance; a setting qualifies on an image when none of its rows fails."""
    settings = (
        judged.assign(failed=judged["failure"].notna())
        .groupby(["path", *SETTINGS], dropna=False, sort=False)
        .agg(
            cost_usd=("cost_usd", "mean"),
            bytes=("bytes", "mean"),
            tokens=("tokens", "first"),
            failed=("failed", "any"),
        )
    )
    ranked = settings[~settings["failed"]].reset_index()
    ranked = ranked.sort_values(["cost_usd", "bytes", "max_side"], na_position="last")
    return ranked.drop_duplicates("path").set_index("path")


def _image_picks(
    judged: pd.DataFrame, model: str, rules: DecisionRules, tier: str, prices
) -> pd.DataFrame:
    """Each image's own pick: the category rule applied to it alone, so its cheapest
    qualifying setting by dollars then bytes; crops when no setting keeps its text legible (at
    the seed recipe's encoding: the image has no setting of its own); else none and why."""
    cheapest = _cheapest_qualifying(judged)
    cropped = set(_beyond_any_setting(judged, rules))
    picks = []
    for image in judged.drop_duplicates("path").itertuples():
        pick = {"model": model, "category": image.category, "image": image.image}
        pick.update(path=image.path, crops=0)
        if image.path in cheapest.index:
            chosen = cheapest.loc[image.path]
            setting = tuple(chosen[SETTINGS])
            pick.update(zip(SETTINGS, setting, strict=True), setting=_setting_text(setting))
            pick.update(chosen[["bytes", "cost_usd"]], tokens=int(chosen["tokens"]))
            picks.append(pick)
            continue
        rows = judged[judged["path"] == image.path]
        succeeded = rows[rows["error"].isna()]
        if image.path in cropped and len(succeeded):
            (plan,) = crop_plans(rows.iloc[:1], model, _widest_detail(succeeded))
            fmt, quality = DEFAULT_SETTINGS.format, DEFAULT_SETTINGS.quality
            cost = cost_or_nan(plan.tokens, model, tier, prices)
            pick.update(setting=plan.describe(fmt, quality), format=fmt, quality=quality)
            pick.update(detail=plan.detail, crops=plan.crops, tokens=plan.tokens, cost_usd=cost)
        else:
            best = max(_candidates(rows), key=lambda c: _score(c[4]))
            pick["failure"] = _failure_text(best[4], best[3], rules)[1]
        picks.append(pick)
    return pd.DataFrame(picks, columns=IMAGE_COLUMNS)


def _adaptive(picks: pd.DataFrame) -> dict:
    """A category's per-image picks summed up: mean tokens and dollars (NaN when an image has
    no setting), and each setting's share of the images, most common first."""
    n = len(picks)
    shares = picks["setting"].astype(object).fillna(NO_SETTING).value_counts()
    ordered = sorted(shares.items(), key=lambda item: (-item[1], item[0]))
    return {
        "adaptive_tokens_mean": picks["tokens"].astype(float).mean(skipna=False),
        "adaptive_cost_usd_per_1k": 1000 * picks["cost_usd"].astype(float).mean(skipna=False),
        "adaptive_settings": "; ".join(
            f"{setting}: {count} of {n} ({100 * count / n:.0f} %)" for setting, count in ordered
        ),
    }


def _rule_set_and_tier(rows: pd.DataFrame) -> tuple[str, str]:
    """The rule set and price tier the rows were priced with."""
    first = rows.dropna(subset=["rules"]).iloc[0] if rows["rules"].notna().any() else rows.iloc[0]
    return first["rules"], first["tier"] if pd.notna(first["tier"]) else "standard"


def _candidates(served: pd.DataFrame) -> list[tuple]:
    """(mean dollars, mean bytes, qualifies, setting, rows) per setting, cheapest first; a
    setting qualifies when it succeeds and keeps its rule on every image in `served`."""
    n = served["path"].nunique()
    candidates = []
    for setting, group in served.groupby(SETTINGS, dropna=False, sort=False):
        complete = group["path"].nunique() == n and group["failure"].isna().all()
        candidates.append(
            (group["cost_usd"].mean(), group["bytes"].mean(), complete, setting, group)
        )
    candidates.sort(key=lambda c: (_nan_last(c[0]), _nan_last(c[1]), _nan_last(c[3][0])))
    return candidates


def _recommend_one(
    rows: pd.DataFrame, model: str, category: str, rules: DecisionRules, prices
) -> dict:
    unreadable = rows.loc[rows["source_width"].isna(), "path"].nunique()
    rows = rows[rows["source_width"].notna()]  # files that never loaded are counted, not judged
    if rows.empty:
        return {
            "model": model,
            "category": category,
            "images": 0,
            "unreadable_images": unreadable,
            "binding": "error",
            "binding_detail": "no image of this category could be read",
        }
    _check_metrics(rows, category, rules)
    judged = _judged(rows, rules)
    images = judged.drop_duplicates("path")
    n = len(images)
    rule_set, tier = _rule_set_and_tier(rows)
    seeds = [
        seed_tokens(r.source_width, r.source_height, model, rule_set) for r in images.itertuples()
    ]
    pick = {
        "model": model,
        "category": category,
        "images": n,
        "unreadable_images": unreadable,
        "few_images": n < FEW_IMAGES,
        "text_images": int(images["has_text"].sum()),
        "seed_cost_usd_per_1k": _mean_cost_per_1k(seeds, model, tier, prices),
        "rules": rule_set,
        "tier": tier,
        "crops_images": 0,
        **_adaptive(_image_picks(judged, model, rules, tier, prices)),
        "text_floor": rules.min_legibility,
        "text_floor_source": rules.text_floor_source,
    }
    cropped = _beyond_any_setting(judged, rules)
    served = judged[~judged["path"].isin(cropped)]
    names = images.loc[images["path"].isin(cropped), "image"]
    plans: list[CropPlan] = []
    crop_tokens_sum = crop_cost_sum = 0.0
    if cropped:
        level = _widest_detail(judged[judged["error"].isna()])
        plans = crop_plans(images[images["path"].isin(cropped)], model, level)
        pick.update(_crops(plans, names, model, tier, prices))
        crop_tokens_sum = pick["crops_tokens_mean"] * len(cropped)
        crop_cost_sum = pick["crops_cost_usd_per_1k"] / 1000 * len(cropped)
    candidates = _candidates(served)
    chosen = next((i for i, c in enumerate(candidates) if c[2]), None)
    if served.empty:  # every image goes as crops
        pick.update(
            tokens_mean=crop_tokens_sum / n,
            cost_usd_per_1k=1000 * crop_cost_sum / n,
            binding="legibility",
            binding_detail="no setting keeps the text of any image legible: all go as crops",
        )
    elif chosen is None:
        best = max(candidates, key=lambda c: _score(c[4]))
        binding, detail = _failure_text(best[4], best[3], rules)
        pick.update(binding=binding, binding_detail=f"no setting qualifies; best: {detail}")
    else:
        _, size, _, setting, group = candidates[chosen]
        texts = group[group["has_text"]]
        pick.update(zip(SETTINGS, setting, strict=True))
        pick.update(
            detail_note=_detail_note(served, setting, model, rule_set),
            bytes_mean=size,
            tokens_mean=(group["tokens"].sum() + crop_tokens_sum) / n,
            cost_usd_per_1k=1000 * (group["cost_usd"].sum() + crop_cost_sum) / n,
            ocr_relative_min=texts["seen_word_recall"].min() if len(texts) else math.nan,
            fidelity_relative_min=group.loc[~group["has_text"], "fidelity_relative"].min(),
            seen_ssim_min=group["seen_ssim"].min(),
        )
        if chosen == 0:
            pick.update(
                binding="grid", binding_detail="the cheapest setting in the grid qualifies"
            )
        else:
            _, _, _, cheaper, cheaper_group = candidates[chosen - 1]
            pick["binding"], pick["binding_detail"] = _failure_text(cheaper_group, cheaper, rules)
    if plans:
        pick.update(_crops_setting(plans, names, pick))
    seed, cost = pick["seed_cost_usd_per_1k"], pick.get("cost_usd_per_1k", math.nan)
    pick["change_pct"] = change_pct(cost, seed)
    return pick


def change_pct(cost: float, seed: float) -> float:
    """The change against the seed recipe in %, more expensive positive (NaN without a seed)."""
    return 100 * (cost / seed - 1) if seed else math.nan


def _detail_note(served: pd.DataFrame, setting: tuple, model: str, rule_set: str) -> str:
    """What the pick's detail level means on the model, and what the same setting bills at
    each other level swept (a level that bills the same says so)."""
    detail = setting[-1]
    rows = served
    for name, value in zip(SETTINGS[:-1], setting[:-1], strict=True):
        rows = rows[rows[name].isna() if pd.isna(value) else rows[name] == value]
    images = rows["path"].nunique()
    tokens = rows.groupby("detail")["tokens"].mean()
    complete = rows.groupby("detail")["path"].nunique() == images
    others = [
        f"{other} bills the same here ({tokens[other]:,.1f} tokens)"
        if math.isclose(tokens[other], tokens[detail])
        else f"{other} bills {tokens[other]:,.1f} tokens here"
        for other in tokens.index
        if other != detail and complete[other]
    ]
    return "; ".join([detail_meaning(model, detail, rule_set), *others])


def _nan_last(value: float) -> float:
    return math.inf if pd.isna(value) else value


def _score(group: pd.DataFrame) -> tuple:
    """How close a failing candidate comes: fewest failing images, then best worst value."""
    worst = group[["seen_word_recall", "fidelity_relative"]].min().fillna(0).sum()
    return (-group["failure"].notna().sum(), worst)


def recommend(
    df: pd.DataFrame,
    rules: Rules | None = None,
    models: list[str] | None = None,
    prices: str | None = None,
) -> pd.DataFrame:
    """One row per (model, category): the cheapest settings that keep `rules` on every image.

    `df` is a sweep's rows (`run_sweep`, or its CSV read back). `rules`: one `DecisionRules`
    for every model, or a mapping of model to its own (`toolkit.calibrated_rules`). Columns:
    `COLUMNS`; dollars are per 1,000 images at the sweep's tier and `prices` (pass the sweep's
    own price file if it had one); the seed recipe (800 px, JPEG 85, `high`) is priced on the
    same images. Raises `SettingsError` when a category's rule needs a metric the results lack.
    """
    picks = [
        _recommend_one(rows, model, category, rules_for(rules, model), prices)
        for model, category, rows in _categories(df, models)
    ]
    return pd.DataFrame(picks, columns=COLUMNS)


def adaptive_picks(
    df: pd.DataFrame,
    rules: Rules | None = None,
    models: list[str] | None = None,
    prices: str | None = None,
) -> pd.DataFrame:
    """Per image (adaptive): one row per (model, image) that could be read, with the image's
    own cheapest setting that keeps `rules` (the category rule applied to it alone), or its
    crops (`crops` > 0) when no setting keeps its text legible, or none (`failure` says why).

    Columns: `IMAGE_COLUMNS`; `setting` spells the choice out ("768 px jpeg 85 high", "3x2
    crops of 1000x768 px, jpeg 85, detail high"), `tokens` and `cost_usd` are per image.
    `recommend`'s `adaptive_*` columns sum these up per category.
    """
    frames = []
    for model, category, rows in _categories(df, models):
        rows = rows[rows["source_width"].notna()]
        if len(rows):
            own = rules_for(rules, model)
            _check_metrics(rows, category, own)
            tier = _rule_set_and_tier(rows)[1]
            frames.append(_image_picks(_judged(rows, own), model, own, tier, prices))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=IMAGE_COLUMNS)


def _categories(df: pd.DataFrame, models: list[str] | None):
    """(model, category, rows) for each of `models` (default: every model in `df`)."""
    known = list(dict.fromkeys(df["model"].dropna()))
    models = list(models) if models is not None else known
    unknown = sorted(set(models) - set(known))
    if unknown:
        raise SettingsError(f"no results for models {unknown}; the results hold {known}")
    for model in models:
        for category, rows in df[df["model"] == model].groupby("category", sort=True):
            yield model, category, rows


def pareto_front(
    df: pd.DataFrame,
    cost: str = "cost_usd",
    quality: str = "seen_ssim",
    by: str | list | None = None,
) -> pd.DataFrame:
    """Rows no other row beats on both cost (lower) and quality (higher), sorted by cost.

    `by` computes one front per group (e.g. "category" or "image"). Failed rows are ignored.
    """
    ok = (df[df["error"].isna()] if "error" in df else df).dropna(subset=[cost, quality])
    if by is not None:
        parts = [pareto_front(group, cost, quality) for _, group in ok.groupby(by, sort=True)]
        return pd.concat(parts) if parts else ok.iloc[:0]
    ordered = ok.sort_values([cost, quality], ascending=[True, False], kind="stable")
    best = ordered[quality].cummax().shift(fill_value=-math.inf)
    return ordered[ordered[quality] > best]


def search_settings(
    images,
    grid: SweepGrid,
    formats: tuple[str, ...],
    qualities: tuple[int, ...],
    rules: Rules | None = None,
    **sweep_options,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recommend in two rounds instead of sweeping the whole grid: every max side x detail
    first, at `grid`'s one near-lossless encoding (for example JPEG 95); then, for each
    category, `formats` x `qualities` at only the max sides that round picked for it, for
    fewer bytes at the same tokens.

    A size whose text or detail is lost at the near-lossless encoding is lost at a lossier one
    too, so this finds the pick of the whole product for a fraction of its metrics (OCR above
    all). Returns the rows of both rounds and `recommend` over them. `sweep_options` go to
    `run_sweep` (executor, cache, progress, category); one progress bar serves both rounds.
    """
    images = list(iter_image_files([images] if isinstance(images, str | os.PathLike) else images))
    owned = "executor" not in sweep_options
    if owned:
        sweep_options["executor"] = default_executor()
    enabled = sweep_options.pop("progress", True)
    try:
        with progress_bar(len(images), enabled, desc="search 1/2: sizes") as bar:
            rounds = [run_sweep(images, grid, progress=bar, **sweep_options)]
            picks = recommend(rounds[0], rules).dropna(subset=["max_side"])
            second = []  # (images, grid) per category
            for category, chosen in picks.groupby("category"):
                first = rounds[0]
                paths = first.loc[first["category"] == category, "path"].unique().tolist()
                sides = tuple(sorted({int(side) for side in chosen["max_side"]}))
                second.append(
                    (paths, replace(grid, max_sides=sides, formats=formats, qualities=qualities))
                )

            def sweep_category(job: tuple[list, SweepGrid]) -> pd.DataFrame:
                return run_sweep(*job, progress=bar, **sweep_options)

            bar.reset(total=sum(len(paths) for paths, _ in second))
            bar.set_description("search 2/2: encodings")
            # every category at once, so that no worker waits for one category's last image
            with ThreadPoolExecutor(max(1, len(second))) as threads:
                rounds += threads.map(sweep_category, second)
    finally:
        if owned:
            sweep_options["executor"].shutdown()
    results = pd.concat(rounds, ignore_index=True).drop_duplicates(OBSERVATION, ignore_index=True)
    return results, recommend(results, rules)
