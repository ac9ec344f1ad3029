"""Recommendations: each rule, the binding constraint, missing metrics, few images, crops,
and each image's own pick (adaptive)."""

import math
import random
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
from PIL import Image, ImageDraw, ImageFont

from toolkit import legibility
from toolkit.crops import split_for_legibility
from toolkit.errors import SettingsError
from toolkit.pricing import cost_usd
from toolkit.projection import monthly_projection
from toolkit.recommend import DecisionRules, adaptive_picks, pareto_front, recommend
from toolkit.sweep import SweepGrid, run_sweep
from toolkit.tokens import image_tokens

MODEL = "gpt-4o"


def result_rows(images, settings, *, category="screenshot", size=(1600, 1000)) -> pd.DataFrame:
    """Sweep-shaped rows: `images` maps name -> {setting: metrics}; a setting is
    (max_side, format, quality, detail) and its metrics override the defaults below."""
    rows = []
    for image, by_setting in images.items():
        for setting in settings:
            side, fmt, q, detail = setting
            sent = image_tokens(*_fit(size, side), MODEL, detail)
            row = {
                "model": MODEL,
                "category": category,
                "image": image,
                "path": f"/data/{category}/{image}",
                "source_width": size[0],
                "source_height": size[1],
                "max_side": side,
                "format": fmt,
                "quality": q,
                "detail": detail,
                "provider_width": sent.provider_width,
                "provider_height": sent.provider_height,
                "tokens": sent.tokens,
                "cost_usd": cost_usd(sent.tokens, MODEL),
                "bytes": side * 100 + q,
                "text_words": 40,
                "seen_word_recall": 1.0,
                "seen_ssim": 0.9,
                "ceiling_ssim": 0.9,
                "error": None,
                "rules": sent.rules,
                "tier": "standard",
            }
            row.update(by_setting.get(setting, {}))
            rows.append(row)
    return pd.DataFrame(rows)


def _fit(size, side):
    scale = min(1, side / max(size))
    return round(size[0] * scale), round(size[1] * scale)


SMALL_LOW = (512, "webp", 60, "low")
SMALL_HIGH = (512, "jpeg", 85, "high")
MID_HIGH = (1024, "jpeg", 85, "high")
BIG_HIGH = (1600, "jpeg", 95, "high")
GRID = [SMALL_LOW, SMALL_HIGH, MID_HIGH, BIG_HIGH]


def one(df, **kwargs) -> pd.Series:
    out = recommend(df, **kwargs)
    assert len(out) == 1
    return out.iloc[0]


def test_text_keeps_legibility_on_every_image_and_names_what_stopped_cheaper():
    df = result_rows(
        {
            "a.png": {
                SMALL_LOW: {"seen_word_recall": 0.2},
                SMALL_HIGH: {"seen_word_recall": 0.99},
            },
            "b.png": {SMALL_LOW: {"seen_word_recall": 0.3}, SMALL_HIGH: {"seen_word_recall": 0.9}},
        },
        GRID,
    )
    pick = one(df)
    assert (pick["max_side"], pick["detail"]) == (1024, "high")  # b.png fails 512 px high
    assert pick["binding"] == "legibility"
    assert "b.png keeps 0.90 of its words" in pick["binding_detail"]
    assert "512 px jpeg 85 high" in pick["binding_detail"]
    assert pick["ocr_relative_min"] == 1.0 and pick["text_images"] == 2
    expected = image_tokens(1024, 640, MODEL, "high").tokens
    assert pick["tokens_mean"] == expected
    assert pick["cost_usd_per_1k"] == pytest.approx(1000 * cost_usd(expected, MODEL))
    seed = 1000 * cost_usd(image_tokens(800, 500, MODEL, "high").tokens, MODEL)
    assert pick["seed_cost_usd_per_1k"] == pytest.approx(seed)
    assert pick["change_pct"] == pytest.approx(100 * (pick["cost_usd_per_1k"] / seed - 1))
    assert pick["few_images"]  # two images


def test_a_stricter_floor_moves_the_pick_and_the_cheapest_qualifying_setting_is_grid_bound():
    df = result_rows({"a.png": {SMALL_LOW: {"seen_word_recall": 0.96}}}, GRID)
    assert one(df)["binding"] == "grid"
    assert one(df)["max_side"] == 512 and one(df)["detail"] == "low"
    strict = one(df, rules=DecisionRules(min_legibility=0.99))
    assert (strict["max_side"], strict["detail"], strict["binding"]) == (512, "high", "legibility")


def test_photos_keep_a_share_of_the_fidelity_the_model_allows():
    df = result_rows(
        {
            f"p{i}.jpg": {
                SMALL_LOW: {"seen_ssim": 0.60},
                SMALL_HIGH: {"seen_ssim": 0.86},
                MID_HIGH: {"seen_ssim": 0.89},
            }
            for i in range(3)
        },
        GRID,
        category="photo",
    ).assign(text_words=0, seen_word_recall=math.nan)
    strict = one(df, rules=DecisionRules(min_fidelity=0.98))  # 0.86 / 0.9 = 0.956 < 0.98
    assert (strict["max_side"], strict["binding"], strict["few_images"]) == (
        1024,
        "fidelity",
        False,
    )
    assert strict["fidelity_relative_min"] == pytest.approx(0.89 / 0.9)
    assert math.isnan(strict["ocr_relative_min"])
    default = one(df)  # the default floor, 0.95, takes 0.956
    assert (default["max_side"], default["detail"]) == (512, "high")


def test_each_image_is_judged_by_what_it_holds():
    # a photo with text must stay legible; a "document" Tesseract cannot read is judged by SSIM
    photo_with_text = result_rows(
        {
            "sign.jpg": {
                SMALL_LOW: {"seen_word_recall": 0.4},
                SMALL_HIGH: {"seen_word_recall": 0.5},
            }
        },
        GRID,
        category="photo",
    )
    assert one(photo_with_text)["max_side"] == 1024
    unreadable = result_rows(
        {"scan.png": {SMALL_LOW: {"seen_ssim": 0.5}}}, GRID, category="document"
    ).assign(text_words=2, seen_word_recall=math.nan)
    pick = one(unreadable)
    assert (pick["max_side"], pick["detail"], pick["binding"]) == (512, "high", "fidelity")
    assert pick["text_images"] == 0


def test_a_setting_that_fails_on_an_image_never_qualifies():
    df = result_rows(
        {"a.png": {}, "b.png": {SMALL_LOW: {"error": "ImageRejectedError: too many patches"}}},
        GRID,
    )
    pick = one(df)
    assert (pick["max_side"], pick["detail"], pick["binding"]) == (512, "high", "error")
    assert "b.png: ImageRejectedError" in pick["binding_detail"]


def test_a_file_that_never_loaded_is_counted_not_judged():
    df = result_rows({"a.png": {}, "broken.png": {}}, GRID)
    broken = df["image"] == "broken.png"
    df.loc[broken, ["source_width", "source_height", "tokens", "cost_usd"]] = math.nan
    df.loc[broken, "error"] = "CorruptImageError: broken.png: truncated"
    pick = one(df)
    assert (pick["images"], pick["unreadable_images"]) == (1, 1)
    assert (pick["max_side"], pick["detail"]) == (512, "low")  # a.png alone decides
    only_broken = one(df[broken])
    assert only_broken["images"] == 0 and only_broken["binding"] == "error"


def test_a_rule_whose_metric_is_missing_is_an_error():
    no_ocr = result_rows({"a.png": {}}, GRID).assign(text_words=math.nan)
    with pytest.raises(SettingsError, match="legibility.*--ocr"):
        recommend(no_ocr)
    no_seen = result_rows({"a.jpg": {}}, GRID, category="photo").assign(
        text_words=0, seen_ssim=math.nan
    )
    with pytest.raises(SettingsError, match="seen_ssim"):
        recommend(no_seen)
    with pytest.raises(SettingsError, match="gpt-5.5"):
        recommend(result_rows({"a.png": {}}, GRID), models=["gpt-5.5"])
    with pytest.raises(SettingsError, match="min_legibility"):
        DecisionRules(min_legibility=1.5)


def test_when_no_setting_keeps_text_legible_it_says_so_and_prices_crops():
    size = (2560, 1440)
    df = result_rows({"code.png": {s: {"seen_word_recall": 0.7} for s in GRID}}, GRID, size=size)
    pick = one(df)
    assert pd.isna(pick["max_side"]) and pick["binding"] == "legibility"
    assert pick["binding_detail"] == (
        "no setting keeps the text of any image legible: all go as crops"
    )
    plan = split_for_legibility(*size, MODEL, "high")
    assert (pick["crops_images"], pick["cropped_images"]) == (1, "code.png")
    assert pick["crops_setting"] == "code.png: 2x3 crops of 1296x502 px, jpeg 85, detail high"
    assert (plan.columns, plan.rows, plan.crop_width, plan.crop_height) == (2, 3, 1296, 502)
    assert pick["crops_mean"] == plan.crops > 1
    assert pick["crops_tokens_mean"] == pick["tokens_mean"] == plan.tokens
    assert pick["crops_cost_usd_per_1k"] == pytest.approx(1000 * cost_usd(plan.tokens, MODEL))
    assert pick["cost_usd_per_1k"] == pick["crops_cost_usd_per_1k"]
    assert pick["change_pct"] > 0  # crops cost more than the seed recipe's one image


def test_only_the_images_no_setting_keeps_legible_go_as_crops():
    size = (2560, 1440)
    dense = {s: {"seen_word_recall": 0.7} for s in GRID}
    sparse = {SMALL_LOW: {"seen_word_recall": 0.5}}
    df = result_rows({"code.png": dense, "form.png": sparse, "menu.png": {}}, GRID, size=size)
    pick = one(df)
    assert (pick["max_side"], pick["detail"]) == (512, "high")  # what form.png needs
    assert (pick["crops_images"], pick["cropped_images"]) == (1, "code.png")
    assert (pick["crops_format"], pick["crops_quality"]) == ("jpeg", 85)  # the pick's
    plan = split_for_legibility(*size, MODEL, "high")
    setting = image_tokens(512, 288, MODEL, "high").tokens
    assert pick["tokens_mean"] == pytest.approx((2 * setting + plan.tokens) / 3)
    assert pick["cost_usd_per_1k"] == pytest.approx(
        1000 * (2 * cost_usd(setting, MODEL) + cost_usd(plan.tokens, MODEL)) / 3
    )
    projected = monthly_projection(df, recommend(df), 3000).iloc[0]
    assert projected["monthly_usd"] == pytest.approx(3 * pick["cost_usd_per_1k"])
    assert projected["complete"]


def test_crops_are_each_kept_whole_cover_the_image_and_cost_least():
    plan = split_for_legibility(2560, 1440, MODEL, "high")
    boxes = plan.boxes(2560, 1440)
    assert len(boxes) == plan.crops
    for left, top, right, bottom in boxes:
        kept = image_tokens(right - left, bottom - top, MODEL, "high")
        assert (kept.provider_width, kept.provider_height) == (right - left, bottom - top)
    assert {b[0] for b in boxes} >= {0} and max(b[2] for b in boxes) == 2560
    assert max(b[3] for b in boxes) == 1440
    lefts = sorted({b[0] for b in boxes})
    assert all(b - a < plan.crop_width - 31 for a, b in zip(lefts, lefts[1:], strict=False))
    whole = image_tokens(plan.crop_width, plan.crop_height, MODEL, "high").tokens
    assert plan.tokens == whole * plan.crops
    two_by_two = 4 * image_tokens(1296, 736, MODEL, "high").tokens  # a plausible rival
    assert plan.tokens <= two_by_two
    assert split_for_legibility(1000, 700, MODEL, "high").crops == 1  # already kept whole


def test_pareto_front_keeps_only_undominated_rows():
    df = pd.DataFrame(
        {
            "cost_usd": [1.0, 1.0, 2.0, 3.0, 0.5, 4.0, 2.5],
            "seen_ssim": [0.80, 0.85, 0.84, 0.95, 0.70, 0.95, math.nan],
            "error": [None] * 7,
        }
    )
    assert pareto_front(df).index.tolist() == [4, 1, 3]


@pytest.mark.skipif(legibility.ocr_unavailable() is not None, reason="no OCR here")
def test_end_to_end_the_pick_keeps_text_legible_and_cheaper_settings_do_not(tmp_path):
    page = Image.new("RGB", (1400, 500), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=13)
    lines = [
        "Quarterly invoice 4821 for Acme Supplies, payable within thirty days",
        "Total due 93.50 euros, bank transfer reference ACME-2026-11-30",
        "Questions about this invoice go to the accounts team by email",
    ]
    for i, line in enumerate(lines):
        draw.text((40, 150 + 40 * i), line, fill="black", font=font)
    (tmp_path / "screenshot").mkdir()
    page.save(tmp_path / "screenshot" / "invoice.png")
    grid = SweepGrid(
        max_sides=(512, 768, 1400),
        formats=("jpeg",),
        qualities=(90,),
        models=(MODEL,),
        details=("low", "high"),
        compression_metrics=False,
        ocr=True,
    )
    with ThreadPoolExecutor(1) as pool:
        df = run_sweep(tmp_path, grid, pool, progress=False)
    pick = one(df)
    assert pick["ocr_relative_min"] >= 0.95
    chosen = df[(df["max_side"] == pick["max_side"]) & (df["detail"] == pick["detail"])]
    cheaper = df[df["cost_usd"] < chosen["cost_usd"].iloc[0]]
    assert len(cheaper) and (cheaper["seen_word_recall"] < 0.95).all()


def test_crops_take_the_picks_encoding_and_each_image_its_own_setting():
    size = (2560, 1440)
    dense = {s: {"seen_word_recall": 0.3} for s in GRID}
    sparse = {SMALL_LOW: {"seen_word_recall": 0.5}}
    df = result_rows({"code.png": dense, "form.png": sparse, "menu.png": {}}, GRID, size=size)
    pick = one(df, rules=DecisionRules(min_legibility=0.5))  # form.png passes at 512 px low
    assert (pick["format"], pick["quality"], pick["detail"]) == ("webp", 60, "low")
    plan = split_for_legibility(*size, MODEL, "high")
    assert pick["crops_setting"] == f"code.png: {plan.describe('webp', 60)}"
    assert pick["crops_setting"].endswith("webp 60, detail high")
    own = adaptive_picks(df).set_index("image")
    assert own.loc["code.png", "setting"] == plan.describe("jpeg", 85)  # no pick: the seed's
    assert own.loc["code.png", "crops"] == plan.crops
    assert own.loc["form.png", "setting"] == "512 px jpeg 85 high"
    assert own.loc["menu.png", "setting"] == "512 px webp 60 low"
    category = one(df)
    assert category["adaptive_settings"] == (
        f"{plan.describe('jpeg', 85)}: 1 of 3 (33 %); 512 px jpeg 85 high: 1 of 3 (33 %); "
        "512 px webp 60 low: 1 of 3 (33 %)"
    )
    tokens = [plan.tokens, image_tokens(512, 288, MODEL, "high").tokens, 85]
    assert category["adaptive_tokens_mean"] == pytest.approx(sum(tokens) / 3)
    assert category["adaptive_cost_usd_per_1k"] == pytest.approx(
        1000 * sum(cost_usd(t, MODEL) for t in tokens) / 3
    )
    assert category["adaptive_cost_usd_per_1k"] < category["cost_usd_per_1k"]


def test_an_images_own_pick_is_the_category_rule_applied_to_it_alone():
    draw = random.Random(7)
    settings = [*GRID, (512, "jpeg", 60, "high"), (1024, "webp", 60, "high")]
    recalls = [0.3, 0.94, 0.96, 1.0]
    images = {
        f"s{i}.png": {s: {"seen_word_recall": draw.choice(recalls)} for s in settings}
        for i in range(12)
    }
    images["dense.png"] = {s: {"seen_word_recall": 0.3} for s in settings}  # goes as crops
    df = result_rows(images, settings)
    own = adaptive_picks(df).set_index("path")
    assert len(own) == 13 and own["setting"].notna().all() and (own["crops"] > 0).sum() == 1
    for path, rows in df.groupby("path"):
        alone = one(rows)
        if alone["crops_images"]:
            assert own.loc[path, "crops"] == alone["crops_mean"]
        else:
            setting = tuple(alone[["max_side", "format", "quality", "detail"]])
            assert tuple(own.loc[path, ["max_side", "format", "quality", "detail"]]) == setting
            assert own.loc[path, "bytes"] == alone["bytes_mean"]
        assert own.loc[path, "tokens"] == alone["tokens_mean"]
        assert 1000 * own.loc[path, "cost_usd"] == pytest.approx(alone["cost_usd_per_1k"])


def test_an_image_no_setting_serves_leaves_the_per_image_cost_empty():
    df = result_rows(
        {"noisy.jpg": {s: {"seen_ssim": 0.5} for s in GRID}, "fine.jpg": {}},
        GRID,
        category="photo",
    ).assign(text_words=0, seen_word_recall=math.nan)
    own = adaptive_picks(df).set_index("image")
    assert pd.isna(own.loc["noisy.jpg", "setting"]) and own.loc["noisy.jpg", "crops"] == 0
    assert "noisy.jpg keeps 0.556 of the model's ceiling SSIM" in own.loc["noisy.jpg", "failure"]
    pick = one(df)
    assert math.isnan(pick["adaptive_cost_usd_per_1k"]) and math.isnan(pick["cost_usd_per_1k"])
    assert pick["adaptive_settings"] == (
        "512 px webp 60 low: 1 of 2 (50 %); no setting keeps the floors: 1 of 2 (50 %)"
    )
    projected = monthly_projection(df, recommend(df), 1000).iloc[0]
    assert math.isnan(projected["adaptive_monthly_usd"]) and not projected["complete"]


def test_the_monthly_projection_weights_each_images_own_pick_by_the_mix():
    shots = result_rows(
        {"a.png": {}, "b.png": {SMALL_LOW: {"seen_word_recall": 0.4}}}, GRID
    )  # a.png: 85 tokens at 512 px low; b.png: 512x320 high
    photos = result_rows({"p.jpg": {}}, GRID, category="photo").assign(text_words=0)
    df = pd.concat([shots, photos], ignore_index=True)
    projected = monthly_projection(df, recommend(df), 10_000).iloc[0]
    high = image_tokens(512, 320, MODEL, "high").tokens
    for column, tier in [
        ("adaptive_monthly_usd", "standard"),
        ("adaptive_monthly_batch_usd", "batch"),
    ]:
        per_image = (cost_usd(85, MODEL, tier) + cost_usd(high, MODEL, tier)) / 2
        photo = cost_usd(85, MODEL, tier)
        assert projected[column] == pytest.approx(10_000 * (2 / 3 * per_image + 1 / 3 * photo))
    mixed = monthly_projection(df, recommend(df), 10_000, mix={"photo": 1}).iloc[0]
    assert mixed["adaptive_monthly_usd"] == pytest.approx(10_000 * cost_usd(85, MODEL))
