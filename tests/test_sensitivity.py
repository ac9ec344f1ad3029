"""How the verdict moves: other text floors, each category's worst image left out, and the
dollars of photos against their fidelity floor."""

import math
import re

import pandas as pd
import pytest
from test_recommend import BIG_HIGH, GRID, MID_HIGH, MODEL, SMALL_HIGH, SMALL_LOW, result_rows

from toolkit.pricing import cost_usd
from toolkit.projection import finding, monthly_projection
from toolkit.recommend import DecisionRules, recommend
from toolkit.report_index import moves_html
from toolkit.sensitivity import WITHOUT_WORST, fidelity_curve, sensitivity, worst_images
from toolkit.tokens import image_tokens

VOLUME = 10_000


def usd(side: int, detail: str = "high") -> float:
    """Dollars of one 1600x1000 image sent at `side` px (`result_rows`' size)."""
    size = (side, round(side * 1000 / 1600))
    return cost_usd(image_tokens(*size, MODEL, detail).tokens, MODEL)


@pytest.fixture
def results() -> pd.DataFrame:
    """Three screenshots (b.png reads 0.93 at 512 px high, so 0.95 needs 1024 px; c.png reads
    0.90 up to 1024 px, so 0.95 needs 1600 px) and one photo."""
    shots = result_rows(
        {
            "a.png": {},
            "b.png": {
                SMALL_LOW: {"seen_word_recall": 0.5},
                SMALL_HIGH: {"seen_word_recall": 0.93},
            },
            "c.png": {s: {"seen_word_recall": 0.9} for s in (SMALL_LOW, SMALL_HIGH, MID_HIGH)},
        },
        GRID,
    )
    photo = result_rows({"p.jpg": {}}, GRID, category="photo").assign(
        text_words=0, seen_word_recall=math.nan
    )
    return pd.concat([shots, photo], ignore_index=True)


def test_the_text_floor_moves_the_picks_and_the_monthly_figures(results):
    table = sensitivity(results, VOLUME).set_index("case")
    assert list(table.index) == [
        "text floor 0.90",
        "text floor 0.95",
        "text floor 0.98",
        WITHOUT_WORST,
    ]
    photo = usd(512, "low")  # every floor: the photo's cheapest setting
    at_90 = 3 / 4 * usd(512) + photo / 4  # b.png reads 0.93 at 512 px high, c.png 0.90
    at_95 = 3 / 4 * usd(1600) + photo / 4  # c.png needs 1600 px
    assert table.loc["text floor 0.90", "monthly_usd"] == pytest.approx(VOLUME * at_90)
    assert table.loc["text floor 0.95", "monthly_usd"] == pytest.approx(VOLUME * at_95)
    assert table.loc["text floor 0.98", "monthly_usd"] == pytest.approx(VOLUME * at_95)
    own_95 = (photo + usd(512, "low") + usd(1024) + usd(1600)) / 4  # a, b, c, p alone
    assert table.loc["text floor 0.95", "adaptive_monthly_usd"] == pytest.approx(VOLUME * own_95)
    same = monthly_projection(results, recommend(results), VOLUME).iloc[0]
    assert table.loc["text floor 0.95", "monthly_usd"] == pytest.approx(same["monthly_usd"])


def test_leaving_out_each_categorys_worst_image_keeps_the_mix(results):
    worst = worst_images(results)
    assert worst[["category", "image"]].values.tolist() == [["screenshot", "c.png"]]  # 1 photo
    row = sensitivity(results, VOLUME).set_index("case").loc[WITHOUT_WORST]
    assert row["left_out"] == "screenshot: c.png" and row["images"] == 3
    # a.png and b.png need 1024 px together; the screenshots keep 3/4 of the mix
    expected = 3 / 4 * usd(1024) + 1 / 4 * usd(512, "low")
    assert row["monthly_usd"] == pytest.approx(VOLUME * expected)
    assert row["adaptive_monthly_usd"] == pytest.approx(
        VOLUME * (3 / 4 * (usd(512, "low") + usd(1024)) / 2 + 1 / 4 * usd(512, "low"))
    )


def test_the_moves_read_the_same_from_the_frame_and_from_its_csv(results, tmp_path):
    moves = sensitivity(results, VOLUME)
    moves.to_csv(tmp_path / "sensitivity.csv", index=False)
    page, index = moves_html(moves), moves_html(pd.read_csv(tmp_path / "sensitivity.csv"))
    assert page == index  # page 04 shows the frame, the index its CSV
    left_out = re.findall(r'data-column="left_out" class="text">([^<]*)<', page)
    assert left_out.count("none") == len(moves) - 1 and "screenshot: c.png" in left_out


def test_an_image_no_setting_serves_is_the_worst():
    df = result_rows(
        {
            "cheap.jpg": {},
            "dear.jpg": {s: {"seen_ssim": 0.5} for s in GRID if s != BIG_HIGH},
            "lost.jpg": {s: {"seen_ssim": 0.5} for s in GRID},
        },
        GRID,
        category="photo",
    ).assign(text_words=0, seen_word_recall=math.nan)
    assert worst_images(df)["image"].tolist() == ["lost.jpg"]
    assert worst_images(df[df["image"] != "lost.jpg"])["image"].tolist() == ["dear.jpg"]


def test_the_finding_says_how_the_figure_moves(results):
    rules = DecisionRules()
    picks = recommend(results, rules)
    projected = monthly_projection(results, picks, VOLUME).iloc[0]
    moves = sensitivity(results, VOLUME, rules)
    text = finding(projected, picks, rules, moves)
    at_90 = VOLUME * (3 / 4 * usd(512) + usd(512, "low") / 4)
    assert f"at a text floor of 0.90: ${at_90:,.2f}; 0.95: " in text
    assert "(as recommended); 0.98: $" in text
    assert "without each category's worst image (screenshot: c.png): $" in text
    adaptive = projected["adaptive_monthly_usd"]
    assert f"keeps its floor (per image, adaptive) instead: ${adaptive:,.2f} a month" in text
    assert "upper bounds" in text


def test_the_fidelity_curve_prices_photos_at_each_floor():
    seen = {SMALL_LOW: {"seen_ssim": 0.81}, SMALL_HIGH: {"seen_ssim": 0.88}}
    df = result_rows(
        {f"p{i}.jpg": seen for i in range(2)},
        GRID,
        category="photo",
    ).assign(text_words=0, seen_word_recall=math.nan)
    shots = result_rows({"a.png": {}}, GRID)
    curve = fidelity_curve(pd.concat([df, shots]), floors=(0.85, 0.95, 0.99))
    assert set(curve["category"]) == {"photo"}  # screenshots are judged by legibility
    by_floor = curve.set_index("min_fidelity")["cost_usd_per_1k"] / 1000
    # relative fidelity: 0.81 / 0.9 = 0.9 at 512 px low, 0.88 / 0.9 = 0.978 at 512 px high
    assert by_floor.tolist() == pytest.approx([usd(512, "low"), usd(512), usd(1024)])
    assert fidelity_curve(shots).empty
