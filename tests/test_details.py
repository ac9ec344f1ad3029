"""`detail` explained where it is recommended: what each level means on each model (from the
rule set), and a pick that says what its level means and what the other levels bill."""

import pandas as pd
import pytest

from toolkit.details import detail_levels, detail_meaning, same_levels
from toolkit.pricing import cost_usd
from toolkit.recommend import recommend
from toolkit.tokens import image_tokens


def test_low_means_different_things_on_different_models():
    assert detail_meaning("gpt-4o", "low") == "low on gpt-4o: fits 512 px, a flat 85 tokens"
    assert "at most 6,144 patches" in detail_meaning("gpt-5.4-mini", "low")
    assert "at most 2,500 patches" in detail_meaning("gpt-5.4-mini", "high")
    assert detail_meaning("gpt-4.1-mini", "low").endswith("the same as high")
    assert detail_meaning("gpt-4o", "auto").startswith("auto (= high) on gpt-4o: fits 2,048 px")
    assert same_levels("gpt-4.1-mini", "high") == ["low"] and same_levels("gpt-4o", "low") == []


def test_the_levels_table_lists_each_supported_level_and_what_it_stands_for():
    table = detail_levels(["gpt-4o", "gpt-5.5"], ["low", "high", "auto", "original"])
    assert table[table["model"] == "gpt-4o"]["detail"].tolist() == ["low", "high", "auto"]
    auto = table.set_index(["model", "detail"]).loc[("gpt-5.5", "auto")]
    assert auto["means"] == "original" and "6,000 px" in auto["keeps"]
    assert set(table["rules"]) == {"openai-2026-09"}


def rows(model: str, size: tuple[int, int]) -> pd.DataFrame:
    """Sweep rows of two photos at one setting and each level, every one kept faithfully."""
    found = []
    for image in ("a.jpg", "b.jpg"):
        for detail in ("low", "high"):
            sent = image_tokens(*size, model, detail)
            found.append(
                {
                    "model": model,
                    "category": "photo",
                    "image": image,
                    "path": f"/data/photo/{image}",
                    "source_width": size[0],
                    "source_height": size[1],
                    "max_side": max(size),
                    "format": "jpeg",
                    "quality": 85,
                    "detail": detail,
                    "provider_width": sent.provider_width,
                    "provider_height": sent.provider_height,
                    "tokens": sent.tokens,
                    "cost_usd": cost_usd(sent.tokens, model),
                    "bytes": 1000,
                    "text_words": 0,
                    "seen_word_recall": None,
                    "seen_ssim": 0.9,
                    "ceiling_ssim": 0.9,
                    "error": None,
                    "rules": sent.rules,
                    "tier": "standard",
                }
            )
    return pd.DataFrame(found)


def test_a_pick_whose_two_levels_bill_the_same_says_so():
    (pick,) = recommend(rows("gpt-4.1-mini", (2048, 1536))).to_dict("records")
    other = "low" if pick["detail"] == "high" else "high"
    assert pick["detail_note"].startswith(f"{pick['detail']} on gpt-4.1-mini: fits 2,048 px")
    tokens = image_tokens(2048, 1536, "gpt-4.1-mini", "high").tokens
    assert f"{other} bills the same here ({tokens:,.1f} tokens)" in pick["detail_note"]


@pytest.mark.parametrize("model", ["gpt-5.4-mini", "gpt-4o"])
def test_a_pick_says_what_the_other_level_bills(model):
    (pick,) = recommend(rows(model, (2048, 1536))).to_dict("records")
    low, high = (image_tokens(2048, 1536, model, d).tokens for d in ("low", "high"))
    assert pick["detail"] == ("high" if low > high else "low")  # the cheaper level
    other, tokens = ("low", low) if pick["detail"] == "high" else ("high", high)
    assert pick["detail_note"].endswith(f"; {other} bills {tokens:,.1f} tokens here")
