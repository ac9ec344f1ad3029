"""Sending one large image as crops, each kept whole by the provider, so no text shrinks.

When no setting keeps a screenshot's text legible (a 2560x1440 code screenshot on gpt-4o,
whose `high` keeps 1365x768: 13 px text becomes 7 px), users split the image and send the
pieces. `split_for_legibility` finds the grid of crops that the provider keeps at full
resolution (its resize leaves each crop untouched) with the fewest image tokens in total.
Neighbouring crops overlap by at least `overlap` px so a line of text cut by one edge is whole
in the next crop; 32 px holds two lines of 11-13 px text. A plan is a setting you can send:
`describe` spells it out, `toolkit.plans.SendPlan` cuts and encodes the crops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from toolkit.errors import ImageRejectedError, SettingsError
from toolkit.rulesets import DEFAULT_DETAIL, RulesSpec
from toolkit.tokens import image_tokens

DEFAULT_OVERLAP = 32  # px shared by neighbouring crops
MAX_SPLITS = 32  # crops per side searched


@dataclass(frozen=True)
class CropPlan:
    """`columns` x `rows` crops of exactly `crop_width` x `crop_height` px (spread evenly, so
    neighbours overlap by at least the plan's overlap), each kept whole, for `tokens` image
    tokens in total."""

    model: str
    detail: str
    columns: int
    rows: int
    crop_width: int
    crop_height: int
    tokens: int

    @property
    def crops(self) -> int:
        return self.columns * self.rows

    def label(self, index: int) -> str:
        """The name of the `index`-th crop (row by row): "r0c1" is row 0, column 1."""
        return f"r{index // self.columns}c{index % self.columns}"

    def describe(self, fmt: str, quality: int | None) -> str:
        """The setting in one line: "3x2 crops of 1000x768 px, jpeg 85, detail high" (one
        crop: "the whole image at 1800x120 px, ...", an image already kept whole)."""
        size = f"{self.crop_width}x{self.crop_height} px"
        grid = f"{self.columns}x{self.rows} crops of" if self.crops > 1 else "the whole image at"
        return f"{grid} {size}, {encoding_text(fmt, quality)}, detail {self.detail}"

    def covers(self, width: int, height: int) -> bool:
        """True when the crops fit in a `width` x `height` image and cover it, no gap between
        neighbours: the image the plan was made for (or one its crops still cover)."""
        return all(
            crop <= length <= count * crop
            for crop, length, count in (
                (self.crop_width, width, self.columns),
                (self.crop_height, height, self.rows),
            )
        )

    def boxes(self, width: int, height: int) -> list[tuple[int, int, int, int]]:
        """(left, top, right, bottom) of each crop of a `width` x `height` image, row by row."""
        return [
            (left, top, min(left + self.crop_width, width), min(top + self.crop_height, height))
            for top in _starts(height, self.crop_height, self.rows)
            for left in _starts(width, self.crop_width, self.columns)
        ]


def encoding_text(fmt: str, quality: int | None) -> str:
    """A format and its quality as settings are written: "jpeg 85", "png" (no quality)."""
    return fmt if fmt == "png" or quality is None else f"{fmt} {int(quality)}"


def _starts(length: int, crop: int, count: int) -> list[int]:
    """Evenly spread starts of `count` crops of `crop` px covering `length` px."""
    if count == 1:
        return [0]
    step = (length - crop) / (count - 1)
    return [round(i * step) for i in range(count)]


def _crop_side(length: int, count: int, overlap: int) -> int:
    return math.ceil((length + (count - 1) * overlap) / count)


def _kept_whole_tokens(width: int, height: int, model: str, detail: str, rules) -> int | None:
    """Tokens of one crop when the provider keeps it at full size, else None."""
    try:
        estimate = image_tokens(width, height, model, detail, rules)
    except ImageRejectedError:
        return None
    if (estimate.provider_width, estimate.provider_height) != (width, height):
        return None
    return estimate.tokens


def split_for_legibility(
    width: int,
    height: int,
    model: str,
    detail: str = DEFAULT_DETAIL,
    rules: RulesSpec = None,
    overlap: int = DEFAULT_OVERLAP,
) -> CropPlan:
    """The cheapest grid of crops of a `width` x `height` image that `model` keeps whole.

    Tokens are summed over the crops, each priced as its own image. Raises `SettingsError`
    when no grid of up to `MAX_SPLITS` x `MAX_SPLITS` crops is kept whole.
    """
    best: CropPlan | None = None
    for columns in range(1, MAX_SPLITS + 1):
        for rows in range(1, MAX_SPLITS + 1):
            crop_w, crop_h = _crop_side(width, columns, overlap), _crop_side(height, rows, overlap)
            if crop_w > width or crop_h > height or min(crop_w, crop_h) <= overlap:
                continue
            tokens = _kept_whole_tokens(crop_w, crop_h, model, detail, rules)
            if tokens is None:
                continue
            plan = CropPlan(model, detail, columns, rows, crop_w, crop_h, tokens * columns * rows)
            if best is None or (plan.tokens, plan.crops) < (best.tokens, best.crops):
                best = plan
    if best is None:
        raise SettingsError(
            f"no grid of up to {MAX_SPLITS}x{MAX_SPLITS} crops of {width}x{height} is kept "
            f"whole by {model} at detail {detail}"
        )
    return best
