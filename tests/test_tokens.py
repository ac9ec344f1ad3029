"""Image-token rules against the research note (research/vision-api-facts.md).

DOC = printed by the vendor, COMMUNITY = billed by the live API (CM-1/CM-2 threads),
DERIVED = worked out by hand from the documented algorithm (the working is in the comment).
"""

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.errors import (
    ImageRejectedError,
    RulesError,
    SettingsError,
    UnknownModelError,
    UnsupportedDetailError,
)
from toolkit.rulesets import (
    SCHEME_PARAMS,
    default_rule_sets,
    known_models,
    load_rules,
    parse_rules,
    rule_sets,
)
from toolkit.tokens import SCHEMES, TokenEstimate, image_tokens, max_useful_size

# ---- Official worked examples (DOC): section 2 and the Test vectors section ------------------

DOC_VECTORS = [
    # (model, width, height, detail, rules, tokens, provider size)
    ("gpt-4o", 1024, 1024, "high", None, 765, (768, 768)),
    ("gpt-4o", 2048, 4096, "high", None, 1105, (768, 1536)),
    ("gpt-4o", 4096, 8192, "low", None, 85, None),
    ("gpt-4o", 1024, 1024, "high", "openai-2025-04", 765, (768, 768)),
    ("gpt-4o", 2048, 4096, "high", "openai-2025-04", 1105, (768, 1536)),
    ("gpt-4o", 4096, 8192, "low", "openai-2025-04", 85, None),
    ("gpt-5.4", 1024, 1024, "high", None, 1229, (1024, 1024)),
    ("gpt-5.4", 2048, 2048, "high", None, 3000, (1600, 1600)),
    ("gpt-6-astra", 1024, 1024, "high", None, 1229, (1024, 1024)),
    ("gpt-6-astra", 2048, 2048, "high", None, 3000, (1600, 1600)),
    ("gpt-6-astra", 4096, 512, "high", None, 2458, (4096, 512)),
    ("claude-sonnet-4-6", 200, 200, "auto", None, 64, (200, 200)),
    ("claude-haiku-4-5", 1000, 1000, "auto", None, 1296, (1000, 1000)),
    ("claude-sonnet-4-6", 1092, 1092, "auto", None, 1521, (1092, 1092)),
    ("claude-sonnet-4-6", 1920, 1080, "auto", None, 1560, (1456, 819)),
    ("claude-sonnet-4-6", 2000, 1500, "auto", None, 1564, (1270, 952)),
    ("claude-haiku-4-5", 3840, 2160, "auto", None, 1560, (1456, 819)),
    ("claude-sonnet-4-6", 1075, 1520, "auto", None, 1551, (924, 1307)),  # 2145 before
    ("claude-opus-4-7", 1920, 1080, "auto", None, 2691, (1920, 1080)),
    ("claude-opus-4-8", 2000, 1500, "auto", None, 3888, (2000, 1500)),
    ("claude-mythos-5", 3840, 2160, "auto", None, 4784, (2576, 1449)),
    ("claude-3-5-sonnet", 1000, 1000, "auto", "anthropic-2025-10", 1334, (1000, 1000)),
    ("claude-3-5-sonnet", 200, 200, "auto", "anthropic-2025-10", 54, (200, 200)),
    ("claude-3-5-sonnet", 1092, 1092, "auto", "anthropic-2025-10", 1590, (1092, 1092)),
    ("gemini-2.5-flash", 384, 384, "auto", None, 258, (384, 384)),
    ("gemini-2.0-flash", 960, 540, "auto", None, 1548, (960, 540)),  # 6 tiles x 258
    ("gemini-2.5-pro", 384, 384, "auto", "gemini-2025-06", 258, (384, 384)),
    ("gemini-2.5-pro", 960, 540, "auto", "gemini-2025-06", 1548, (960, 540)),
    ("gemini-3-pro-preview", 4000, 3000, "low", None, 280, None),
    ("gemini-3-pro-preview", 4000, 3000, "medium", None, 560, None),
    ("gemini-3-pro-preview", 4000, 3000, "high", None, 1120, None),
    ("gemini-3-pro-preview", 4000, 3000, "auto", None, 1120, None),  # UNSPECIFIED
    ("gemini-3-flash-preview", 4000, 3000, "ultra_high", None, 2240, None),
    ("gemini-2.5-flash", 4000, 3000, "low", None, 64, None),
]


@pytest.mark.parametrize(("model", "w", "h", "detail", "rules", "tokens", "size"), DOC_VECTORS)
def test_doc_vectors(model, w, h, detail, rules, tokens, size):
    estimate = image_tokens(w, h, model, detail, rules, billing="documented")
    assert estimate.tokens == tokens
    if size:
        assert (estimate.provider_width, estimate.provider_height) == size


@pytest.mark.parametrize("model", ["gpt-4.1-mini", "gpt-4.1-nano", "o4-mini"])
@pytest.mark.parametrize(
    ("w", "h", "patches", "size"),
    [(1024, 1024, 1024, (1024, 1024)), (1800, 2400, 1452, (1056, 1408))],  # DOC examples 4, 5
)
def test_doc_2025_patch_examples(model, w, h, patches, size):
    estimate = image_tokens(w, h, model, "high", "openai-2025-04")
    assert estimate.patches == patches
    assert (estimate.provider_width, estimate.provider_height) == size


def test_doc_2025_example_shrink_factors():
    # "57x75 = 4275 > 1536 -> shrink 0.603 -> adjusted 0.586 -> 1056x1408 -> 33x44"
    estimate = image_tokens(1800, 2400, "gpt-4.1-mini", "high", "openai-2025-04")
    assert math.floor(math.sqrt(1024 * 1536 / (1800 * 2400)) * 1000) == 603
    assert math.floor(estimate.provider_width / 1800 * 1000) == 586
    assert estimate.patches == 33 * 44 == 1452


def test_doc_low_ignores_size_and_1024_square_costs():
    assert {image_tokens(s, s, "gpt-4o", "low").tokens for s in (1, 512, 4096, 30000)} == {85}
    # COMPUTED table in section 4: 1024x1024 at high on each model.
    expected = {
        "gpt-4o": 765,
        "gpt-4o-mini": 25501,
        "gpt-4.1": 765,
        "gpt-5": 630,
        "gpt-5.1": 630,
        "o3": 675,
        "gpt-4.1-mini": 1659,
        "gpt-5.2": 1229,
        "gpt-5.4": 1229,
        "gpt-5.4-mini": 1229,
        "gpt-5.5": 1229,
        "gpt-6-astra": 1229,
    }
    assert {m: image_tokens(1024, 1024, m, "high").tokens for m in expected} == expected


# ---- Community billing (COMMUNITY) --------------------------------------------------------


@pytest.mark.parametrize("rules", [None, "openai-2025-04"])
def test_community_2049x513_rounds_to_nearest(rules):
    # CM-1 on gpt-4.1: 2049x513 billed 1453, 2050x513 billed 773, each with ~8 text tokens.
    # 513 * 2048 / 2049 = 512.75 -> 513 (2 tile rows); 513 * 2048 / 2050 = 512.4995 -> 512.
    wide = image_tokens(2049, 513, "gpt-4.1", "high", rules)
    narrow = image_tokens(2050, 513, "gpt-4.1", "high", rules)
    assert (wide.tokens, wide.tiles, wide.provider_height) == (1445, 8, 513)
    assert (narrow.tokens, narrow.tiles, narrow.provider_height) == (765, 4, 512)
    assert 1453 - wide.tokens == 773 - narrow.tokens == 8


@pytest.mark.parametrize("rules", [None, "openai-2025-04"])
def test_community_4000x1474_is_1536_patches_on_gpt41_mini(rules):
    # CM-1: billed ~1536 x 1.62 (the 2048 px step), not 1449 x 1.62 (the 2025 calculator).
    estimate = image_tokens(4000, 1474, "gpt-4.1-mini", "high", rules)
    assert estimate.patches == 1536
    assert estimate.tokens == 2489  # ceil(1536 * 1.62) = ceil(2488.32)
    assert estimate.provider_width == 2048


@pytest.mark.parametrize(
    ("model", "detail", "billed"),
    [
        ("gpt-4o", "low", 97),
        ("gpt-4o", "high", 267),
        ("gpt-4.1", "low", 97),
        ("gpt-4.1", "high", 267),
        ("o3", "low", 86),
        ("o3", "high", 236),
        ("gpt-4o-mini", "low", 2845),
        ("gpt-4o-mini", "high", 8512),
        ("gpt-4.1-nano", "high", 33),  # 8 patches x 2.46 = 19.68 -> 20
        ("o4-mini", "high", 26),  # 8 patches x 1.72 = 13.76 -> 14
    ],
)
def test_community_128x64_prompt_tokens(model, detail, billed):
    # CM-2, 2025: a 128x64 image plus a 5-word prompt; the text is about 11-13 tokens.
    # (A small image is one tile: the 768 step does not enlarge.)
    image = image_tokens(128, 64, model, detail, "openai-2025-04").tokens
    assert 11 <= billed - image <= 13


def test_community_gpt_image_1_short_side_512_rounds_down():
    # CM-1, gpt-image-1 edits: 1024x1025 -> 194 tokens (1 tile); 512x513 -> 2 tiles.
    one = image_tokens(1024, 1025, "gpt-image-1", "high")
    assert (one.tokens, one.tiles, one.provider_width, one.provider_height) == (194, 1, 512, 512)
    assert image_tokens(512, 513, "gpt-image-1", "high").tiles == 2


# ---- Peers' "ref latest" yardstick (research/peers.md 3.4-3.5, computed from the docs) ---------

PEERS_LATEST = [
    ("gpt-4.1-mini", 1800, 2400, "high", 4977),
    ("gpt-4.1-mini", 2048, 2048, "high", 6636),
    ("gpt-4.1-mini", 1920, 1080, "low", 3305),
    ("gpt-4.1-mini", 2049, 513, "high", 1763),
    ("gpt-4.1-mini", 12, 12, "high", 2),
    ("gpt-5.4-mini", 1800, 2400, "high", 2942),
    ("gpt-5.4-mini", 4000, 1474, "high", 1844),
    ("gpt-5.4-mini", 2048, 2048, "original", 4916),
    ("gpt-5.4-mini", 1920, 1080, "low", 2448),
    ("gpt-5.4-mini", 8000, 6000, "original", 11868),
    ("gpt-5.5", 1920, 1080, "low", 173),
    ("gpt-5.5", 8000, 6000, "original", 11868),
    ("gpt-5.6-sol", 1800, 2400, "high", 2942),
    ("gpt-5.6-sol", 2048, 2048, "original", 4916),
    ("gpt-5.6-sol", 1920, 1080, "low", 173),
    ("gpt-4o", 400, 1200, "high", 595),
    ("gpt-4o", 1000, 2000, "high", 1105),
    ("gpt-4o", 100, 3000, "high", 765),
    ("gpt-4o", 300, 300, "auto", 255),
    ("gpt-4o-mini", 2048, 4096, "high", 36835),
    ("gpt-5", 2048, 4096, "high", 910),
    ("o3", 2048, 4096, "high", 975),
]


@pytest.mark.parametrize(("model", "w", "h", "detail", "tokens"), PEERS_LATEST)
def test_peers_reference_latest(model, w, h, detail, tokens):
    assert image_tokens(w, h, model, detail).tokens == tokens


# ---- Every model row and every detail value (DERIVED from the note's tables) ----------------

TILE_CONSTANTS = {  # section 1.2 table: (base, per tile)
    "gpt-5.1": (70, 140),
    "gpt-5": (70, 140),
    "gpt-5-chat-latest": (70, 140),
    "gpt-4o": (85, 170),
    "gpt-4.1": (85, 170),
    "gpt-4.5": (85, 170),
    "gpt-4o-mini": (2833, 5667),
    "o1": (75, 150),
    "o1-pro": (75, 150),
    "o3": (75, 150),
    "computer-use-preview": (65, 129),
    "gpt-image-1": (65, 129),
}
LATEST_MULTIPLIERS = {  # section 1.4 / 1.6 row ~2026-09
    "gpt-6-astra": Fraction(6, 5),
    "gpt-5.6-sol": Fraction(6, 5),
    "gpt-5.6-terra": Fraction(6, 5),
    "gpt-5.6-luna": Fraction(6, 5),
    "gpt-5.5": Fraction(6, 5),
    "gpt-5.4": Fraction(6, 5),
    "gpt-5.4-mini": Fraction(6, 5),
    "gpt-5.4-nano": Fraction(6, 5),
    "gpt-5.2": Fraction(6, 5),
    "gpt-4.1-mini": Fraction(162, 100),
    "gpt-5-mini": Fraction(6, 5),
    "gpt-5-nano": Fraction(3, 2),
    "gpt-4.1-nano": Fraction(246, 100),
    "o4-mini": Fraction(172, 100),
}
OLD_MULTIPLIERS = {  # section 1.6 rows 2025-04 and ~2025-08
    "gpt-4.1-mini": Fraction(162, 100),
    "gpt-4.1-nano": Fraction(246, 100),
    "o4-mini": Fraction(172, 100),
    "gpt-5-mini": Fraction(162, 100),
    "gpt-5-nano": Fraction(246, 100),
}
# Patch counts per sizing row and detail, for 3000x2000 (W) and 100x100 (S = 4x4 = 16 patches):
#   fit 512          : 512x341 -> 16x11 = 176
#   2048 + 2,500     : 2048x1365 = 64x43 = 2752 > 2500 -> fw = isqrt(2048*2500//1365) = 61,
#                      fh = isqrt(1365*2500//2048) = 40, adj = min(1952/2048, 1280/1365)
#                      -> 1280/1365 -> 1920x1280 = 60x40 = 2400
#   2048 + 6,144     : 2752 (under the budget)
#   2048 + 1,536     : fw = isqrt(2048*1536//1365) = 48, fh = isqrt(1365*1536//2048) = 31,
#                      adj = min(1536/2048, 992/1365) -> 992/1365 -> 1488x992 = 47x31 = 1457
#   6000 + 10,000    : 3000x2000 = 94x63 = 5922
#   65,535, no budget: 5922;   65,535 + 2,500: fw = isqrt(3000*2500//2000) = 61,
#                      fh = isqrt(2000*2500//3000) = 40, adj = min(1952/3000, 1280/2000)
#                      -> 1280/2000 -> 1920x1280 = 2400
FIT512, HIGH2500, CAP6144, CAP1536, ORIG10K, ORIG_FREE = 176, 2400, 2752, 1457, 5922, 5922
LATEST_PATCHES = {
    "gpt-6-astra": {"low": FIT512, "high": HIGH2500, "original": ORIG_FREE, "auto": ORIG_FREE},
    "gpt-5.6-sol": {"low": FIT512, "high": HIGH2500, "original": ORIG_FREE, "auto": ORIG_FREE},
    "gpt-5.5": {"low": FIT512, "high": HIGH2500, "original": ORIG10K, "auto": ORIG10K},
    "gpt-5.4": {"low": CAP6144, "high": HIGH2500, "original": ORIG10K, "auto": HIGH2500},
    "gpt-5.2": {"low": CAP6144, "high": CAP6144, "auto": CAP6144},
    "gpt-5-mini": {"low": CAP1536, "high": CAP1536, "auto": CAP1536},
}
LATEST_PATCHES["gpt-5.6-terra"] = LATEST_PATCHES["gpt-5.6-luna"] = LATEST_PATCHES["gpt-5.6-sol"]
LATEST_PATCHES["gpt-5.4-mini"] = LATEST_PATCHES["gpt-5.4-nano"] = LATEST_PATCHES["gpt-5.4"]
LATEST_PATCHES["gpt-4.1-mini"] = LATEST_PATCHES["gpt-5.2"]
for _m in ("gpt-5-nano", "gpt-4.1-nano", "o4-mini"):
    LATEST_PATCHES[_m] = LATEST_PATCHES["gpt-5-mini"]


def _ceil(value: Fraction) -> int:
    return math.ceil(value)


@pytest.mark.parametrize("model", sorted(LATEST_PATCHES))
def test_latest_patch_rows_every_detail(model):
    for detail, patches in LATEST_PATCHES[model].items():
        big = image_tokens(3000, 2000, model, detail)
        assert big.patches == patches, detail
        assert big.tokens == _ceil(patches * LATEST_MULTIPLIERS[model]), detail
        small = image_tokens(100, 100, model, detail)
        assert (small.patches, small.provider_width) == (16, 100)
        assert small.tokens == _ceil(16 * LATEST_MULTIPLIERS[model])
    assert known_models().count(model) == 1


@pytest.mark.parametrize("rules", ["openai-2025-04", "openai-2025-08"])
def test_old_patch_rows_every_detail(rules):
    models = [m for m in OLD_MULTIPLIERS if m in known_models(rules)]
    assert len(models) == (3 if rules == "openai-2025-04" else 5)
    for model in models:
        for detail in ("low", "high", "auto"):
            estimate = image_tokens(3000, 2000, model, detail, rules)
            assert estimate.patches == CAP1536
            assert estimate.tokens == _ceil(CAP1536 * OLD_MULTIPLIERS[model])
        with pytest.raises(UnsupportedDetailError):
            image_tokens(10, 10, model, "original", rules)


@pytest.mark.parametrize("rules", ["openai-2025-04", "openai-2025-08", "openai-2026-09"])
def test_tile_rows_every_detail(rules):
    # 3000x2000 -> fit 2048x1365 -> short side 768: 1152x768 -> 3x2 = 6 tiles.
    # gpt-image-1 shortens to 512 instead: 768x512 -> 2x1 = 2 tiles.
    models = [m for m in TILE_CONSTANTS if m in known_models(rules)]
    assert "gpt-4o" in models and "o3" in models
    for model in models:
        base, per_tile = TILE_CONSTANTS[model]
        tiles = 2 if model == "gpt-image-1" else 6
        for detail in ("high", "auto"):
            estimate = image_tokens(3000, 2000, model, detail, rules)
            assert (estimate.detail, estimate.tiles) == ("high", tiles)
            assert estimate.tokens == base + tiles * per_tile
        low = image_tokens(3000, 2000, model, "low", rules)
        assert (low.tokens, low.tiles, low.provider_width, low.provider_height) == (
            base,
            None,
            512,
            341,
        )
        with pytest.raises(UnsupportedDetailError):
            image_tokens(10, 10, model, "original", rules)


def test_every_shipped_model_and_detail_prices_a_photo():
    for rules in rule_sets():
        for name, rule in rules.models.items():
            for detail in rule.supported_details:
                estimate = image_tokens(4032, 3024, name, detail, rules.id)
                assert estimate.tokens > 0 and estimate.rules == rules.id
                assert estimate.detail in rule.details


@pytest.mark.parametrize("model", ["claude-sonnet-4-6", "claude-opus-4-7", "claude-3-haiku"])
def test_anthropic_accepts_only_auto(model):
    rules = "anthropic-2025-10" if model.startswith("claude-3") else None
    assert image_tokens(10, 10, model, "AUTO", rules).detail == "auto"
    for detail in ("low", "high", "original"):
        with pytest.raises(UnsupportedDetailError, match="supported: auto"):
            image_tokens(10, 10, model, detail, rules)


def test_gemini_levels():
    assert image_tokens(10, 10, "gemini-2.5-flash", "medium").tokens == 256
    assert image_tokens(10, 10, "gemini-2.5-flash", "high").tokens == 258
    with pytest.raises(UnsupportedDetailError):
        image_tokens(10, 10, "gemini-2.0-flash", "low")
    with pytest.raises(UnsupportedDetailError):
        image_tokens(10, 10, "gemini-3-pro-preview", "original")


# ---- Boundaries (DERIVED) -----------------------------------------------------------------

BOUNDARIES = {
    # size: (gpt-4o high, gpt-5.4 high, claude standard, claude high-res, gemini 2.x)
    # gpt-4o: tiles of the kept size; gpt-5.4: ceil(patches x 1.2); claude: ceil(/28)^2
    (1, 1): (255, 2, 1, 1, 258),
    (12, 12): (255, 2, 1, 1, 258),
    (384, 384): (255, 173, 196, 196, 258),  # 12x12 = 144 patches; 14x14 visual tokens
    (385, 384): (255, 188, 196, 196, 1032),  # 13x12 = 156 -> 187.2; unit 256 -> 2x2 tiles
    (511, 511): (255, 308, 361, 361, 1032),  # 16x16 = 256 patches -> 307.2
    (512, 512): (255, 308, 361, 361, 1032),
    (513, 513): (765, 347, 361, 361, 1032),  # 17x17 = 289 -> 346.8
    (513, 512): (425, 327, 361, 361, 1032),  # 2 tiles; 17x16 = 272 -> 326.4
    (767, 767): (765, 692, 784, 784, 1032),  # 24x24 = 576 -> 691.2
    (768, 768): (765, 692, 784, 784, 1032),
    (769, 769): (765, 750, 784, 784, 1032),  # tile: short 769 -> 768; 25x25 = 625
    # 1x1 crop units of 1364/1365/1365 px -> 2x2 tiles; claude standard -> 1092x1092 = 39x39
    (2047, 2047): (765, 3000, 1521, 4761, 1032),  # 5.4: 1600x1600; hi-res 1932 px -> 69x69
    (2048, 2048): (765, 3000, 1521, 4761, 1032),
    (2049, 2049): (765, 3000, 1521, 4761, 1032),
    # 2049x1000: fit -> 2048x1000 (999.51 -> 1000) -> short 768: 1572x768 -> 4x2 tiles;
    # 5.4: 64x32 = 2048 patches; claude std: 1568x765 = 56x28; hi-res: 2049x1000 = 74x36
    (2049, 1000): (1445, 2458, 1568, 2664, 2064),  # gemini: unit 666 -> 4x2 = 8 tiles
    # 8000x50: fit 2048x13 (12.8 -> 13) -> 4x1 tiles, 64x1 patches; claude 1568x10 and
    # 2576x16 -> 56 and 92 visual tokens; gemini unit floor(50 / 1.5) = 33 -> 243x2 tiles
    (8000, 50): (765, 77, 56, 92, 125388),
    # 10000x50: fit 2048x10 (10.24 -> 10) -> 4x1 tiles, 64x1 patches; claude rejects a side
    # over 8000 px; gemini unit floor(50 / 1.5) = 33 -> 304x2 = 608 tiles
    (10000, 50): (765, 77, None, None, 156864),
    (50, 10000): (765, 77, None, None, 156864),
}
BOUNDARY_MODELS = ("gpt-4o", "gpt-5.4", "claude-sonnet-4-6", "claude-opus-4-7", "gemini-2.5-pro")


def _tokens_or_none(width: int, height: int, model: str) -> int | None:
    """Documented tokens at `auto`, or None where the API rejects the image."""
    try:
        return image_tokens(width, height, model, "auto", billing="documented").tokens
    except ImageRejectedError:
        return None


@pytest.mark.parametrize(("size", "expected"), BOUNDARIES.items(), ids=str)
def test_boundaries(size, expected):
    assert tuple(_tokens_or_none(*size, m) for m in BOUNDARY_MODELS) == expected


def test_portrait_is_scaled_like_landscape():
    # A peer forgot to scale the long side of portrait images (2048x4096 -> 1445, not 1105).
    for model in ("gpt-4o", "gpt-5.4", "claude-sonnet-4-6", "gpt-6-astra"):
        for w, h in ((2048, 4096), (3000, 4000), (4000, 1474), (1075, 1520)):
            a, b = (
                image_tokens(w, h, model, "high" if "gpt" in model else "auto"),
                image_tokens(h, w, model, "high" if "gpt" in model else "auto"),
            )
            assert a.tokens == b.tokens
            assert (a.provider_width, a.provider_height) == (b.provider_height, b.provider_width)


def test_original_keeps_size_until_the_30000_patch_rejection():
    # 8000x3840 = 250x120 = 30,000 patches: allowed; one more row of patches is rejected.
    ok = image_tokens(8000, 3840, "gpt-6-astra", "original")
    assert (ok.patches, ok.tokens, ok.provider_width) == (30000, 36000, 8000)
    with pytest.raises(ImageRejectedError, match="30250 patches.*30000-patch"):
        image_tokens(8000, 3841, "gpt-6-astra", "original")
    with pytest.raises(ImageRejectedError):
        image_tokens(8000, 6000, "gpt-5.6-sol", "auto")  # auto = original
    # Budgeted levels shrink instead, and the older rule sets had no rejection.
    assert image_tokens(8000, 6000, "gpt-6-astra", "high").patches <= 2500
    assert image_tokens(8000, 6000, "gpt-5.5", "original").patches <= 10000
    assert image_tokens(65535, 65535, "gpt-4.1-mini", "high", "openai-2025-04").patches <= 1536


# ---- Exact arithmetic where floats go wrong ------------------------------------------------


def _float_shrink(w, h, budget):
    """The doc formula in floating point, as most peers write it."""
    shrink = math.sqrt(32**2 * budget / (w * h))
    a, b = w * shrink / 32, h * shrink / 32
    adj = shrink * min(math.floor(a) / a, math.floor(b) / b)
    return math.floor(w * adj), math.floor(h * adj)


@pytest.mark.parametrize(
    ("w", "h", "model", "rules", "size", "patches", "float_size"),
    [
        # 1708 * sqrt(2500 / 1708^2) = 50 exactly; floats give 49.999... -> 49 -> 2401 patches.
        (1708, 1708, "gpt-5.4", None, (1600, 1600), 2500, (1568, 1568)),
        (2005, 2005, "gpt-6-astra", None, (1600, 1600), 2500, (1568, 1568)),
        # sqrt(1330 * 1536 / 1995) = 32 exactly: floats floor it to 31.
        (1330, 1995, "gpt-4.1-mini", "openai-2025-04", (1024, 1536), 1536, (992, 1488)),
    ],
)
def test_budget_shrink_is_exact(w, h, model, rules, size, patches, float_size):
    estimate = image_tokens(w, h, model, "high", rules)
    assert (estimate.provider_width, estimate.provider_height) == size
    assert estimate.patches == patches
    budget = 1536 if rules else 2500
    assert _float_shrink(w, h, budget) == float_size  # the bug this guards against


def test_multiplier_product_is_exact():
    # 150 patches x 1.62 = 243 exactly; in floats 243.00000000000003 -> ceil 244.
    assert math.ceil(150 * 1.62) == 244
    estimate = image_tokens(480, 320, "gpt-4.1-mini", "high")  # 15 x 10 patches
    assert (estimate.patches, estimate.tokens) == (150, 243)
    assert image_tokens(160, 32, "gpt-5.4", "high").tokens == 6  # 5 x 1.2, exactly 6


# ---- Errors, aliases, rule sets ------------------------------------------------------------


def test_unknown_model_lists_known_models_and_never_falls_back():
    with pytest.raises(UnknownModelError) as info:
        image_tokens(100, 100, "gpt-4o-2099-01-01")
    message = str(info.value)
    assert "gpt-4o" in message and "gpt-6-astra" in message and "claude-opus-4-7" in message
    assert isinstance(info.value, KeyError) and isinstance(info.value, RulesError)
    with pytest.raises(UnknownModelError, match="older rule sets know it: openai-2025-04"):
        image_tokens(100, 100, "gpt-4.5")
    with pytest.raises(UnknownModelError, match="in rule set openai-2025-04"):
        image_tokens(100, 100, "gpt-6-astra", rules="openai-2025-04")


def test_unsupported_detail_names_the_supported_ones():
    with pytest.raises(UnsupportedDetailError, match="supported: low, high, auto"):
        image_tokens(100, 100, "gpt-4o", "original")
    with pytest.raises(UnsupportedDetailError):
        image_tokens(100, 100, "gpt-4.1-mini", "original")
    assert image_tokens(100, 100, "gpt-5.4", "original").detail == "original"
    assert image_tokens(100, 100, "gpt-5.5", None).detail == "original"  # omitted = auto


@pytest.mark.parametrize("bad", [0, -5, 1.5, True, "100", None])
def test_sizes_must_be_positive_integers(bad):
    with pytest.raises(SettingsError):
        image_tokens(bad, 100, "gpt-4o")
    with pytest.raises(SettingsError):
        image_tokens(100, bad, "gpt-4o")


def test_snapshot_aliases_are_explicit():
    base = image_tokens(1500, 900, "gpt-4o", "high")
    for alias in ("gpt-4o-2024-08-06", "gpt-4o-2024-11-20", "GPT-4o-2024-05-13"):
        estimate = image_tokens(1500, 900, alias, "high")
        assert estimate.tokens == base.tokens and estimate.model == alias
    assert image_tokens(99, 99, "gpt-4.1-mini-2025-04-14").tokens == 26  # 4x4 x 1.62 = 25.92
    assert image_tokens(99, 99, "claude-haiku-4-5-20251001").tokens == 16  # 4x4
    with pytest.raises(UnknownModelError):  # no prefix guessing
        image_tokens(99, 99, "gpt-4o-2024-08-07")


def test_estimate_fields():
    estimate = image_tokens(2048, 4096, "gpt-4o")
    assert estimate == TokenEstimate(
        model="gpt-4o",
        detail="high",
        scheme="tile",
        tokens=1105,
        provider_width=768,
        provider_height=1536,
        tiles=6,
        patches=None,
        rules="openai-2026-09",
        provider="openai",
        documented_tokens=1105,
    )


def test_rule_sets_are_dated_sourced_and_newest_is_default():
    sets = rule_sets()
    ids = {r.id for r in sets}
    assert {"openai-2025-04", "openai-2026-09", "anthropic-2026-11", "anthropic-2025-10"} <= ids
    assert {"gemini-2025-06", "gemini-2026-11"} <= ids
    for rules in sets:
        assert rules.sources and all(s.startswith("http") for s in rules.sources)
        assert rules.notes and rules.title
    defaults = {r.provider: r.id for r in default_rule_sets()}
    assert defaults == {
        "openai": "openai-2026-09",
        "anthropic": "anthropic-2026-11",
        "google": "gemini-2026-11",
    }
    for rules in sets:
        newest = max((r for r in sets if r.provider == rules.provider), key=lambda r: r.as_of)
        assert defaults[rules.provider] == newest.id
    assert load_rules().id == "openai-2026-09"
    assert set(SCHEMES) == set(SCHEME_PARAMS)


def test_known_models():
    models = known_models()
    assert (
        "gpt-4o" in models and "gemini-3-pro-preview" in models and "claude-sonnet-4-6" in models
    )
    assert "gpt-4o-2024-08-06" not in models  # aliases are not separate models
    assert "gpt-4.5" not in models and "gpt-4.5" in known_models("openai-2025-04")
    assert known_models("anthropic-2025-10") == sorted(load_rules("anthropic-2025-10").models)


def test_user_rule_file(tmp_path):
    text = load_rules("openai-2026-09").path.read_text()
    custom = tmp_path / "mine.toml"
    custom.write_text(
        text.replace('id = "openai-2026-09"', 'id = "mine"').replace(
            '"gpt-5.2" = { multiplier = 1.2 }', '"gpt-5.2" = { multiplier = 2 }'
        )
    )
    by_path = image_tokens(1024, 1024, "gpt-5.2", "high", rules=str(custom))
    assert (by_path.tokens, by_path.rules) == (2048, "mine")
    loaded = load_rules(custom)
    assert image_tokens(1024, 1024, "gpt-5.2", "high", rules=loaded).tokens == 2048
    assert image_tokens(1024, 1024, "gpt-5.2", "high").tokens == 1229  # built-in untouched


def _minimal(**group):
    return {
        "kind": "token-rules",
        "id": "t",
        "provider": "x",
        "as_of": "2026-01-01",
        "groups": [
            {"scheme": "fixed", "detail": {"auto": {"tokens": 5}}, "models": {"m": {}}} | group
        ],
    }


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_minimal(scheme="bogus"), "unknown scheme"),
        (_minimal(detail={"auto": {}}), "missing"),
        (_minimal(detail={"auto": {"tokens": 5, "budget": 3}}), "does not take"),
        (_minimal(detail={"auto": {"tokens": "5"}}), "expected a number"),
        (_minimal(auto="high"), "is not one of its levels"),
        (_minimal(detail={"low": {"tokens": 5}}), "auto"),
        (_minimal(models={}), "models"),
        (_minimal() | {"aliases": {"a": "nope"}}, "unknown models"),
        (_minimal() | {"settings": {"fit_rounding": "up"}}, "fit_rounding"),
        (_minimal() | {"settings": {"colour": 1}}, "unknown settings"),
        (_minimal() | {"settings": {"reject_above_patches": "30000"}}, "positive integer"),
        (_minimal() | {"settings": {"reject_above_side": 0}}, "reject_above_side.*positive"),
        (_minimal() | {"settings": {"many_images": 20}}, "go together"),
        (_minimal() | {"settings": {"many_images_reject_above_side": 2000}}, "go together"),
        (_minimal() | {"kind": "prices"}, "not a token rule set"),
        ({k: v for k, v in _minimal().items() if k != "as_of"}, "as_of"),
        (_minimal() | {"groups": _minimal()["groups"] * 2}, "more than one group"),
    ],
)
def test_malformed_rule_files_fail_clearly(data, match):
    with pytest.raises(RulesError, match=match):
        parse_rules(data)


def test_bad_rule_set_spec():
    with pytest.raises(RulesError, match="unknown rule set"):
        image_tokens(10, 10, "gpt-4o", rules="openai-1999")
    with pytest.raises(RulesError):
        load_rules("/nonexistent/rules.toml")


# ---- Properties ----------------------------------------------------------------------------

sides = st.integers(min_value=1, max_value=20000)
OPENAI_BUDGETS = {  # (model, detail): patch budget
    ("gpt-6-astra", "high"): 2500,
    ("gpt-5.6-terra", "high"): 2500,
    ("gpt-5.5", "original"): 10000,
    ("gpt-5.4-mini", "low"): 6144,
    ("gpt-5.4-nano", "high"): 2500,
    ("gpt-4.1-mini", "high"): 6144,
    ("o4-mini", "high"): 1536,
}


@settings(max_examples=150, deadline=None)
@given(w=sides, h=sides)
def test_never_above_the_budget_and_never_enlarged(w, h):
    for (model, detail), budget in OPENAI_BUDGETS.items():
        estimate = image_tokens(w, h, model, detail)
        assert estimate.patches <= budget
        assert estimate.provider_width <= w and estimate.provider_height <= h
    cw, ch = min(w, 8000), min(h, 8000)  # Claude rejects a side over 8000 px
    for model, budget, edge in (("claude-sonnet-4-6", 1568, 1568), ("claude-fable-5", 4784, 2576)):
        estimate = image_tokens(cw, ch, model)
        assert estimate.tokens <= budget
        assert max(estimate.provider_width, estimate.provider_height) <= edge
        assert estimate.provider_width <= cw and estimate.provider_height <= ch
    # Legacy: at most 1568 patches of 28x28 px, so at most ceil(1568 * 784 / 750) = 1640.
    legacy = image_tokens(cw, ch, "claude-3-opus", rules="anthropic-2025-10")
    assert legacy.tokens <= 1640 and max(legacy.provider_width, legacy.provider_height) <= 1568
    assert (
        _ceil(Fraction(legacy.provider_width, 28)) * _ceil(Fraction(legacy.provider_height, 28))
        <= 1568
    )
    tile = image_tokens(w, h, "gpt-4o", "high")
    assert max(tile.provider_width, tile.provider_height) <= 2048
    assert min(tile.provider_width, tile.provider_height) <= 768


@settings(max_examples=150, deadline=None)
@given(w=sides, h=sides)
def test_low_never_above_high_where_the_rules_say_so(w, h):
    # Tile models: low is the base alone; gpt-5.5 and newer: low fits 512 px with no budget.
    # Not gpt-5.4: "low can use more tokens than high" (6,144 vs 2,500 patches).
    for model in (
        "gpt-4o",
        "gpt-4o-mini",
        "o3",
        "gpt-5.1",
        "gpt-5.5",
        "gpt-5.6-luna",
        "gpt-6-astra",
    ):
        assert image_tokens(w, h, model, "low").tokens <= image_tokens(w, h, model, "high").tokens
    for model in ("gpt-5.2", "gpt-4.1-mini"):
        low, high = image_tokens(w, h, model, "low"), image_tokens(w, h, model, "high")
        assert (low.tokens, low.provider_width, low.provider_height) == (
            high.tokens,
            high.provider_width,
            high.provider_height,
        )


@settings(max_examples=150, deadline=None)
@given(
    w=st.integers(1, 2047), h=st.integers(1, 2047), dw=st.integers(0, 64), dh=st.integers(0, 64)
)
def test_monotone_where_nothing_is_resized(w, h, dw, dh):
    # Below every limit the count is a ceil grid of the size, so it cannot fall as the size grows.
    # (Above them it can: 2049x513 costs 1445 on gpt-4o, 2050x513 only 765.)
    small, big = (w, h), (min(w + dw, 2048), min(h + dh, 2048))
    for model, detail, limit_ok in (
        ("gpt-5.4", "low", lambda a, b: True),  # 2048 px, 6,144 never binds below 2048
        ("gpt-6-astra", "original", lambda a, b: True),
        ("gpt-4o", "high", lambda a, b: min(a, b) <= 768),
        (
            "claude-opus-4-7",
            "auto",
            lambda a, b: _ceil(Fraction(a, 28)) * _ceil(Fraction(b, 28)) <= 4784,
        ),
    ):
        if limit_ok(*big):
            assert (
                image_tokens(*small, model, detail).tokens
                <= image_tokens(*big, model, detail).tokens
            )


IDEMPOTENT = [
    ("gpt-4o", "high"),
    ("gpt-4o", "low"),
    ("gpt-image-1", "high"),
    ("gpt-5.4", "high"),
    ("gpt-5.4", "low"),
    ("gpt-5.5", "low"),
    ("gpt-5.5", "original"),
    ("gpt-6-astra", "high"),
    ("o4-mini", "high"),
    ("claude-sonnet-4-6", "auto"),
    ("claude-opus-4-8", "auto"),
]


@settings(max_examples=100, deadline=None)
@given(w=sides, h=sides)
def test_sending_the_max_useful_size_costs_the_same(w, h):
    for model, detail in IDEMPOTENT:
        size = (min(w, 8000), min(h, 8000)) if model.startswith("claude") else (w, h)
        useful = max_useful_size(*size, model, detail)
        assert useful[0] <= size[0] and useful[1] <= size[1]
        first, again = image_tokens(*size, model, detail), image_tokens(*useful, model, detail)
        assert again.tokens == first.tokens
        assert (again.provider_width, again.provider_height) == useful
    size = (min(w, 8000), min(h, 8000))
    legacy = max_useful_size(*size, "claude-3-haiku", rules="anthropic-2025-10")
    assert image_tokens(*legacy, "claude-3-haiku", rules="anthropic-2025-10").tokens == (
        image_tokens(*size, "claude-3-haiku", rules="anthropic-2025-10").tokens
    )


def test_max_useful_size_examples():
    assert max_useful_size(4000, 3000, "gpt-4o", "high") == (1024, 768)
    assert max_useful_size(4000, 3000, "gpt-4o", "low") == (512, 384)
    assert max_useful_size(640, 480, "gpt-4o", "high") == (640, 480)  # never enlarged
    assert max_useful_size(4000, 3000, "claude-sonnet-4-6") == (1270, 952)  # as 2000x1500
    # 125x94 patches > 10,000: fw = isqrt(13333) = 115, fh = isqrt(7500) = 86,
    # adj = min(3680/4000, 2752/3000) -> 3669x2752 = 115x86 = 9890 patches
    assert max_useful_size(4000, 3000, "gpt-5.5", "original") == (3669, 2752)
    assert max_useful_size(4000, 3000, "gemini-3-pro-preview") == (4000, 3000)  # no resize known
