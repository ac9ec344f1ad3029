"""Anthropic and Gemini rules against their pages (research/vision-api-facts.md sections 5, 6):
the sizes Anthropic rejects, the legacy table of sizes kept whole, the Gemini crop unit.

DOC = printed by the vendor; DERIVED = worked out from the documented rule (working in the
comment).
"""

from fractions import Fraction

import pytest

from toolkit.errors import ImageRejectedError, SettingsError, UnknownModelError
from toolkit.rulesets import known_models, load_rules
from toolkit.tokens import image_tokens

LEGACY = "anthropic-2025-10"
CLAUDE = [(rules, m) for rules in ("anthropic-2026-11", LEGACY) for m in known_models(rules)]

# ---- Anthropic: rejected sizes (DOC, section 5.3) ------------------------------------------
# "The maximal dimensions per image are 8000x8000 px. If you submit more than 20 images in one
# API request, this limit is reduced to 2000x2000 px." (legacy page: "larger than 8000x8000 px,
# it will be rejected ... this limit is 2000x2000 px")


@pytest.mark.parametrize(("rules", "model"), CLAUDE)
def test_a_side_over_8000_px_is_rejected(rules, model):
    for size in ((8000, 8000), (8000, 1), (1, 8000)):
        assert image_tokens(*size, model, rules=rules).tokens > 0
    for size in ((8001, 100), (100, 8001), (8001, 8001), (10000, 50)):
        with pytest.raises(ImageRejectedError, match=f"over 8000 px, the {rules} limit per image"):
            image_tokens(*size, model, rules=rules)


@pytest.mark.parametrize(("rules", "model"), CLAUDE)
def test_more_than_20_images_lower_the_limit_to_2000_px(rules, model):
    assert image_tokens(2001, 10, model, rules=rules, images_in_request=20).tokens > 0
    alone = image_tokens(2000, 2000, model, rules=rules)
    assert image_tokens(2000, 2000, model, rules=rules, images_in_request=600) == alone
    for size in ((2001, 10), (10, 2001)):
        with pytest.raises(ImageRejectedError, match=r"over 2000 px.*more than 20 .*\(21 here\)"):
            image_tokens(*size, model, rules=rules, images_in_request=21)


def test_other_providers_have_no_side_limit():
    # gpt-4o fits 20000x20000 into 2048, then 768: 2x2 tiles; Gemini 3 is a fixed count.
    assert image_tokens(20000, 20000, "gpt-4o", "high", images_in_request=600).tokens == 765
    gemini = image_tokens(20000, 100, "gemini-3-pro-preview", "high", images_in_request=600)
    assert gemini.tokens == 1120


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "21", None])
def test_images_in_request_must_be_a_positive_integer(bad):
    with pytest.raises(SettingsError, match="images_in_request"):
        image_tokens(10, 10, "claude-sonnet-4-6", images_in_request=bad)


# ---- Anthropic legacy: "maximum image sizes ... that will not be resized" (DOC, 5.2) -------

LEGACY_TABLE = [  # ratio, size, ceil(w * h / 750)
    ((1, 1), (1092, 1092), 1590),
    ((3, 4), (951, 1268), 1608),
    ((2, 3), (896, 1344), 1606),
    ((9, 16), (819, 1456), 1590),
    ((1, 2), (784, 1568), 1640),
]


def _patches(width: int, height: int) -> int:
    return -(-width // 28) * -(-height // 28)


@pytest.mark.parametrize(("ratio", "size", "tokens"), LEGACY_TABLE, ids=str)
def test_legacy_table_sizes_are_kept_whole(ratio, size, tokens):
    for model in known_models(LEGACY):
        for w, h in (size, size[::-1]):
            estimate = image_tokens(w, h, model, rules=LEGACY)
            assert (estimate.tokens, estimate.provider_width, estimate.provider_height) == (
                tokens,
                w,
                h,
            )


@pytest.mark.parametrize(("ratio", "size", "tokens"), LEGACY_TABLE, ids=str)
def test_legacy_table_rows_are_the_largest_kept(ratio, size, tokens):
    # The next whole multiple of the ratio is resized (DERIVED: it is over 1568 patches of
    # 28 px or over 1568 px), and what is kept of it is within both again.
    k = size[0] // ratio[0] + 1
    bigger = (ratio[0] * k, ratio[1] * k)
    assert _patches(*bigger) > 1568 or max(bigger) > 1568
    estimate = image_tokens(*bigger, "claude-3-5-sonnet", rules=LEGACY)
    kept = (estimate.provider_width, estimate.provider_height)
    assert kept != bigger and _patches(*kept) <= 1568 and max(kept) <= 1568
    assert estimate.tokens == -(-kept[0] * kept[1] // 750)


def test_legacy_resize_matches_the_current_standard_tier():
    # DERIVED: the legacy set keeps what the current "other models" tier keeps and bills it
    # by area: 1920x1080 -> 1456x819 -> ceil(1,192,464 / 750) = 1590 (1560 patches today).
    for w, h in ((1920, 1080), (2000, 1500), (3840, 2160), (1075, 1520), (4000, 3000)):
        legacy = image_tokens(w, h, "claude-sonnet-4-5", rules=LEGACY)
        current = image_tokens(w, h, "claude-sonnet-4-5")
        kept = (legacy.provider_width, legacy.provider_height)
        assert kept == (current.provider_width, current.provider_height)
        assert legacy.tokens == -(-kept[0] * kept[1] // 750)
    assert image_tokens(1920, 1080, "claude-3-haiku", rules=LEGACY).tokens == 1590


# ---- Gemini crop unit: each page sentence applied whole to the models it names -------------
# 2.0/2.5: "tiled into 768x768 pixel tiles", unit floor(min(w, h) / 1.5), no limits (DOC);
# 1.5: "tiled (min tile 256px, max 768px, resized to 768x768)" (DOC). Tiles are
# ceil(w / unit) * ceil(h / unit). The cases sit where the two readings part (DERIVED).

CROP_CASES = [  # w, h, tiles by the 2.x sentence, tiles by the 1.5 sentence
    (960, 540, 6, 6),  # DOC example: unit 360, inside 256-768 -> 3 x 2 either way
    (384, 384, 1, 1),  # DOC: both sides <= 384 px -> one tile
    (385, 1, 385, 2),  # unit floor(1 / 1.5) = 0 -> 1 px: 385 x 1; 256: 2 x 1
    (2041, 384, 16, 16),  # unit 256 either way: 8 x 2
    (2041, 383, 18, 16),  # unit 255: 9 x 2; clamped up to 256: 8 x 2
    (10000, 50, 608, 40),  # unit 33: 304 x 2; 256: 40 x 1
    (2305, 1152, 8, 8),  # unit 768 either way: 4 x 2
    (2305, 1154, 6, 8),  # unit 769: 3 x 2; clamped down to 768: 4 x 2
    (4032, 3024, 4, 24),  # unit 2016: 2 x 2; 768: 6 x 4
]
GEMINI_2X = [
    ("gemini-2.5-pro", None),
    ("gemini-2.5-flash", None),
    ("gemini-2.0-flash", None),
    ("gemini-2.5-flash-lite", "gemini-2025-06"),
    ("gemini-2.0-flash-lite", "gemini-2025-06"),
]


@pytest.mark.parametrize(("w", "h", "tiles_2x", "tiles_15"), CROP_CASES)
def test_gemini_crop_unit_readings(w, h, tiles_2x, tiles_15):
    for size in ((w, h), (h, w)):
        for model, rules in GEMINI_2X:
            estimate = image_tokens(*size, model, "auto", rules, billing="documented")
            assert (estimate.tiles, estimate.tokens) == (tiles_2x, 258 * tiles_2x), model
            assert (estimate.provider_width, estimate.provider_height) == size
        for model in ("gemini-1.5-pro", "gemini-1.5-flash"):
            estimate = image_tokens(*size, model, "auto", "gemini-2025-06")
            assert (estimate.tiles, estimate.tokens) == (tiles_15, 258 * tiles_15), model


def test_only_gemini_15_clamps_the_crop_unit():
    clamped = {"crop_unit_min": 256, "crop_unit_max": 768}
    for rules in ("gemini-2025-06", "gemini-2026-11"):
        for name, rule in load_rules(rules).models.items():
            for spec in rule.details.values():
                got = {k: spec.params[k] for k in clamped if k in spec.params}
                assert got == (clamped if name.startswith("gemini-1.5") else {}), name
                if spec.scheme == "crop_tile":
                    assert spec.params["crop_divisor"] == Fraction(3, 2)


def test_gemini_15_is_only_in_the_2025_set():
    with pytest.raises(UnknownModelError, match="older rule sets know it: gemini-2025-06"):
        image_tokens(1000, 1000, "gemini-1.5-pro")
