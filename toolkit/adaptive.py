"""A setting per image, chosen when it is sent (`toolkit encode --adaptive`): candidates
cheapest first, each measured exactly as a sweep measures it, stopping at the first group of
them where a setting keeps the image's floor.

The candidates are a sweep grid's settings for one model. Their dollars follow from the
image's size alone, so they are grouped by dollars and tried cheapest group first (a model
without a price is one group). A group is swept on this image with `toolkit.sweep.iter_sweep`,
in this process: the same decode, references, OCR and metrics as a sweep's rows, the
reference size that of the whole grid. The image's pick is then `toolkit.recommend`'s rule for
one image (`adaptive_picks`) on every row measured so far; once it is a setting, nothing
cheaper passed and the search stops, so it is the pick a sweep of the whole grid gives. An
image no group serves goes as crops when no setting keeps its text legible (at the seed
recipe's encoding), else it has no setting (`NoSettingError`). One difference remains: an
original the model refuses whole at every detail (a side over 8,000 px on Claude) has its
ceiling fitted to the largest side of the group measured, not of the whole grid.
"""

from __future__ import annotations

import itertools
import math
from concurrent.futures import Executor, Future
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from toolkit.errors import ImageError, NoSettingError, SettingsError
from toolkit.images import DEFAULT_SETTINGS, EncodeSettings, fit_size, read_size
from toolkit.plans import SendPlan, crop_plan
from toolkit.recommend import DecisionRules, adaptive_picks
from toolkit.sweep import SweepGrid, cost_or_nan, estimate_or_error, iter_sweep, to_frame

Cell = tuple[int | None, str]  # (max side, detail)


class Searched(NamedTuple):
    """What `search_image` chose, and how many of the grid's settings it measured to do so."""

    plan: SendPlan
    measured: int
    candidates: int


class _Inline(Executor):
    """Runs each job at once in the calling thread: a search is sequential by nature."""

    slots = 1

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # the sweep records it as the image's error
            future.set_exception(exc)
        return future


def search_image(
    path: str | Path,
    grid: SweepGrid,
    rules: DecisionRules | None = None,
    base: EncodeSettings = DEFAULT_SETTINGS,
) -> Searched:
    """The cheapest setting of `grid` (one model, OCR and seen metrics on) that keeps `rules`
    on the image at `path`, or its crops; `base` gives the other encode knobs of what is
    sent. `NoSettingError` when neither serves it, `ImageError` when it cannot be read."""
    rules = rules or DecisionRules()
    if len(grid.models) != 1 or not (grid.ocr and grid.seen_metrics):
        raise SettingsError("a search needs a grid of one model with ocr and seen metrics on")
    model = grid.models[0]
    size = read_size(path)
    groups = _cheapest_first(size, grid, model)
    if not groups:
        raise NoSettingError(f"{path}: {model} refuses it at every setting of the grid")
    per_cell = len(grid.formats) * len(grid.qualities)
    measured: list[pd.DataFrame] = []
    for group in groups:
        measured += [_sweep(path, grid, cells, size) for cells in _by_detail(group)]
        pick = _pick(pd.concat(measured, ignore_index=True), rules, grid, path)
        if pick["crops"] == 0 and pd.notna(pick["setting"]):
            break
    candidates = per_cell * sum(len(group) for group in groups)
    count = sum(len(rows) for rows in measured)
    if pick["crops"]:
        knobs = replace(base, format=pick["format"], quality=int(pick["quality"]))
        plan = crop_plan(size, knobs, model, pick["detail"], grid.rules)
        return Searched(plan, count, candidates)
    if pd.isna(pick["setting"]):
        raise NoSettingError(
            f"{path}: no setting in the grid keeps the floors; best: {pick['failure']}"
        )
    side = None if pd.isna(pick["max_side"]) else int(pick["max_side"])
    knobs = replace(base, max_side=side, format=pick["format"], quality=int(pick["quality"]))
    return Searched(SendPlan(knobs, pick["detail"]), count, candidates)


def _cheapest_first(size: tuple[int, int], grid: SweepGrid, model: str) -> list[list[Cell]]:
    """The grid's (max side, detail) cells the provider accepts, grouped by dollars per
    image, cheapest group first."""
    groups: dict[float, list[Cell]] = {}
    for side, detail in itertools.product(grid.max_sides, grid.details):
        estimate = estimate_or_error(*fit_size(*size, side), model, detail, grid.rules)
        if isinstance(estimate, str):
            continue  # refused: a row that could never qualify
        cost = cost_or_nan(estimate.tokens, model, grid.tier, grid.prices)
        groups.setdefault(math.inf if math.isnan(cost) else cost, []).append((side, detail))
    return [groups[cost] for cost in sorted(groups)]


def _by_detail(cells: list[Cell]) -> list[tuple[tuple[int | None, ...], str]]:
    """A group's cells as (max sides, detail) pairs, so that each is one exact sub-grid."""
    details = dict.fromkeys(detail for _, detail in cells)
    return [(tuple(s for s, d in cells if d == detail), detail) for detail in details]


def _sweep(path, grid: SweepGrid, cells: tuple, size: tuple[int, int]) -> pd.DataFrame:
    """The sweep's rows for `cells` (max sides, detail) of the image, compared at the whole
    grid's reference size (the original's own when the grid keeps a size whole)."""
    sides, detail = cells
    reference = grid.reference_limit
    if reference is None and None not in sides:
        reference = max(*size, *(s for s in sides if s is not None))
    part = replace(grid, max_sides=sides, details=(detail,), reference_side=reference)
    rows = [row for _, chunk in iter_sweep([Path(path)], part, _Inline()) for row in chunk]
    return to_frame(rows)


def _pick(rows: pd.DataFrame, rules: DecisionRules, grid: SweepGrid, path) -> pd.Series:
    """The image's own pick on the rows measured so far."""
    if rows["source_width"].isna().all():
        raise ImageError(str(path), str(rows["error"].dropna().iloc[0]))
    return adaptive_picks(rows, rules, prices=grid.prices).iloc[0]
