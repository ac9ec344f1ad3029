"""What a provider keeps of an image and what it bills, per model, detail and rule set.

One function per scheme holds the algorithm; every constant comes from the rule set (TOML in
`toolkit/rules/`). Arithmetic is exact (integers and `Fraction`), so a patch-budget shrink never
floors 49.999... to 49. Where a public measurement of the bill exists (a rule set's `observed`
section), the estimate carries both counts and prices the observed one unless told otherwise.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

from toolkit.errors import ImageRejectedError, SettingsError
from toolkit.rulesets import DEFAULT_DETAIL, RuleSet, RulesSpec, Settings, find_model

Params = Mapping[str, Any]  # a level's numbers, validated as the rule file loads
# What `tokens` prices where a rule set holds a public measurement of the bill: `observed`
# (the default: what the provider was seen to bill) or `documented` (the published rule).
BILLING = ("observed", "documented")


@dataclass(frozen=True)
class TokenEstimate:
    """Image tokens for one image, and the geometry the provider keeps."""

    model: str  # as requested (a snapshot alias stays as given)
    detail: str  # resolved: `auto` becomes the level it stands for
    scheme: str
    tokens: int
    provider_width: int
    provider_height: int
    tiles: int | None
    patches: int | None  # patch count before any multiplier
    rules: str  # rule-set id
    provider: str
    documented_tokens: int  # what the documented rule gives
    observed_tokens: int | None = None  # a public measurement of the bill, where one exists
    billed_as: str = "documented"  # which of the two `tokens` is
    observed_source: str | None = None  # the measurement: where, when, on which sizes

    def _repr_html_(self) -> str:  # notebooks: the estimate as a table
        from toolkit.display import token_estimate_html

        return token_estimate_html(self)


class Sized(NamedTuple):
    tokens: int
    width: int
    height: int
    tiles: int | None = None
    patches: int | None = None


def _round(value: Fraction, mode: str) -> int:
    if mode == "floor":
        return math.floor(value)
    if mode == "ceil":
        return math.ceil(value)
    return round(value)  # "nearest": exact, ties to even


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _fit(w: int, h: int, max_side: int, rounding: str) -> tuple[int, int]:
    """Scale down (never up) so the longer side is at most `max_side`."""
    if max(w, h) <= max_side:
        return w, h
    scale = Fraction(max_side, max(w, h))
    return max(_round(w * scale, rounding), 1), max(_round(h * scale, rounding), 1)


def _patch_grid(w: int, h: int, size: int) -> int:
    return _ceil_div(w, size) * _ceil_div(h, size)


def _largest_fit(w: int, h: int, fits: Callable[[int, int], bool], rounding: str):
    """The largest aspect-preserving size that `fits`: binary search on the long edge, the
    short edge is max(round(long / aspect), 1) (Anthropic's reference implementation)."""
    long, short = max(w, h), min(w, h)

    def size(edge: int) -> tuple[int, int]:
        other = max(_round(Fraction(edge * short, long), rounding), 1)
        return (edge, other) if w >= h else (other, edge)

    lo, hi = 1, long  # `fits` is monotone in the long edge; 1x1 always fits the shipped rules
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(*size(mid)) else (lo, mid - 1)
    return size(lo)


def _tile(w: int, h: int, p: Params, s: Settings) -> Sized:
    """OpenAI tiles: fit the box, shrink the short side, count tiles (research note 1.2)."""
    w, h = _fit(w, h, p["max_side"], s.fit_rounding)
    if p.get("base_only"):
        return Sized(p["base"], w, h)
    short_side = p["short_side"]
    if min(w, h) > short_side:
        if w <= h:
            w, h = short_side, _round(Fraction(h * short_side, w), s.short_side_rounding)
        else:
            w, h = _round(Fraction(w * short_side, h), s.short_side_rounding), short_side
    tiles = _patch_grid(w, h, p["tile_size"])
    return Sized(p["base"] + tiles * p["per_tile"], w, h, tiles=tiles)


def _patch(w: int, h: int, p: Params, s: Settings) -> Sized:
    """OpenAI patches: pixel limit, budget shrink, 30,000 check, multiplier (note 1.3).

    The documented shrink is adj = shrink * min(floor(w*shrink/32) / (w*shrink/32), same for h)
    with shrink = sqrt(32^2 * budget / (w*h)). Since w*shrink/32 = sqrt(w*budget/h), this is
    adj = min(32*fw/w, 32*fh/h) with fw = isqrt(w*budget // h), fh = isqrt(h*budget // w):
    integers and fractions only.
    """
    size = p["patch_size"]
    if "max_side" in p:
        w, h = _fit(w, h, p["max_side"], s.fit_rounding)
    patches = _patch_grid(w, h, size)
    budget = p.get("budget")
    if budget and patches > budget:
        fw, fh = math.isqrt(w * budget // h), math.isqrt(h * budget // w)
        adj = min(Fraction(size * fw, w), Fraction(size * fh, h))
        w, h = max(math.floor(w * adj), 1), max(math.floor(h * adj), 1)
        patches = _patch_grid(w, h, size)
    limit = s.reject_above_patches
    if limit is not None and patches > limit:
        raise ImageRejectedError(
            f"{w}x{h} after sizing is {patches} patches, over the {limit}-patch per-image "
            "limit: the API rejects this image (resize it first or use a lower detail)"
        )
    return Sized(_round(patches * p["multiplier"], s.product_rounding), w, h, patches=patches)


def _patch_fitted(w: int, h: int, p: Params, s: Settings) -> tuple[int, int]:
    """Anthropic's resize: the largest size whose sides, padded to whole patches, are within the
    max edge and whose patch count is within the budget."""
    size, max_side, budget = p["patch_size"], p["max_side"], p["budget"]

    def fits(a: int, b: int) -> bool:
        return (
            _ceil_div(a, size) * size <= max_side
            and _ceil_div(b, size) * size <= max_side
            and _patch_grid(a, b, size) <= budget
        )

    return (w, h) if fits(w, h) else _largest_fit(w, h, fits, s.fit_rounding)


def _patch_fit(w: int, h: int, p: Params, s: Settings) -> Sized:
    """Anthropic: sized by `_patch_fitted`; tokens = patches."""
    w, h = _patch_fitted(w, h, p, s)
    patches = _patch_grid(w, h, p["patch_size"])
    return Sized(patches, w, h, patches=patches)


def _area_fit(w: int, h: int, p: Params, s: Settings) -> Sized:
    """Anthropic legacy: sized by `_patch_fitted` (the page's table of sizes kept whole is
    exactly that rule's), billed w * h / divisor."""
    w, h = _patch_fitted(w, h, p, s)
    return Sized(_round(Fraction(w * h) / p["divisor"], s.product_rounding), w, h)


def _crop_tile(w: int, h: int, p: Params, s: Settings) -> Sized:
    """Gemini: one tile up to the small side, else square crops of floor(min(w, h) / 1.5),
    clamped to the rule's crop-unit limits if it has any (and never under 1 px)."""
    if w <= p["small_side"] and h <= p["small_side"]:
        tiles = 1
    else:
        unit = max(math.floor(min(w, h) / p["crop_divisor"]), p.get("crop_unit_min", 1))
        unit = min(unit, p.get("crop_unit_max", unit))
        tiles = _patch_grid(w, h, unit)
    return Sized(tiles * p["tokens_per_tile"], w, h, tiles=tiles)


def _fixed(w: int, h: int, p: Params, s: Settings) -> Sized:
    """A documented fixed count per image (Gemini media_resolution levels)."""
    return Sized(p["tokens"], w, h)


SCHEMES: dict[str, Callable[[int, int, Params, Settings], Sized]] = {
    "tile": _tile,
    "patch": _patch,
    "patch_fit": _patch_fit,
    "area_fit": _area_fit,
    "crop_tile": _crop_tile,
    "fixed": _fixed,
}


def _check_positive(**values: object) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SettingsError(f"{name} must be a positive integer, got {value!r}")


def _check_accepted(width: int, height: int, ruleset: RuleSet, images_in_request: int) -> None:
    """`ImageRejectedError` when a side is over the rule set's pixel limit, which is lower in a
    request of more than `many_images` images."""
    s = ruleset.settings
    limit, scope = s.reject_above_side, "per image"
    if s.many_images is not None and images_in_request > s.many_images:
        limit = s.many_images_reject_above_side
        scope = f"with more than {s.many_images} images in a request ({images_in_request} here)"
    if limit is not None and max(width, height) > limit:
        raise ImageRejectedError(
            f"{width}x{height} has a side over {limit} px, the {ruleset.id} limit {scope}: "
            "the API rejects this image (resize it first)"
        )


def image_tokens(
    width: int,
    height: int,
    model: str,
    detail: str | None = DEFAULT_DETAIL,
    rules: RulesSpec = None,
    images_in_request: int = 1,
    billing: str = "observed",
) -> TokenEstimate:
    """Image tokens for a `width` x `height` image sent to `model` at `detail`.

    `rules` is a rule-set id, a TOML path or a `RuleSet`; None uses the newest rule set of the
    provider that knows `model`. `images_in_request` matters where a provider's pixel limit
    depends on it (Anthropic: 2000 px above 20 images). Where the rule set holds a public
    measurement of the bill for this model and requested level, `tokens` is it (`billing=
    "observed"`) or the documented count (`"documented"`); both are in the estimate. Raises
    `UnknownModelError` (lists the known models), `UnsupportedDetailError`, and
    `ImageRejectedError` when the API would refuse the image.
    """
    _check_positive(width=width, height=height, images_in_request=images_in_request)
    if billing not in BILLING:
        raise SettingsError(f"billing must be one of {', '.join(BILLING)}, got {billing!r}")
    ruleset, rule = find_model(model, rules)
    level = rule.resolve_detail(detail)
    _check_accepted(width, height, ruleset, images_in_request)
    spec = rule.details[level]
    sized = SCHEMES[spec.scheme](width, height, spec.params, ruleset.settings)
    seen = ruleset.observation(model, detail)
    observed = billing == "observed" and seen is not None
    return TokenEstimate(
        model=model,
        detail=level,
        scheme=spec.scheme,
        tokens=seen.tokens if observed and seen else sized.tokens,
        provider_width=sized.width,
        provider_height=sized.height,
        tiles=sized.tiles,
        patches=sized.patches,
        rules=ruleset.id,
        provider=ruleset.provider,
        documented_tokens=sized.tokens,
        observed_tokens=seen.tokens if seen else None,
        billed_as="observed" if observed else "documented",
        observed_source=seen.describe() if seen else None,
    )


def max_useful_size(
    width: int,
    height: int,
    model: str,
    detail: str | None = DEFAULT_DETAIL,
    rules: RulesSpec = None,
) -> tuple[int, int]:
    """The largest size of this image worth sending: the size the provider keeps.

    Pixels beyond it are downscaled away by the provider, so they cost bytes and buy nothing;
    sending exactly this size costs the same tokens. Where the docs describe no resize
    (Gemini), it is the input size.
    """
    estimate = image_tokens(width, height, model, detail, rules)
    return estimate.provider_width, estimate.provider_height
