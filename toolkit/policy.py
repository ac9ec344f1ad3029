"""A recommendation you can send: each category's pick, read from what `toolkit recommend
--json` prints, says how to send every image of that category.

The file holds one JSON object per line, one per (model, category); a hand-written one needs
`model`, `category`, the setting (`max_side`, null for the original size; `format`, `quality`,
`detail`; `format` null when no setting serves the category) and, for images sent as crops,
`cropped_images` (their file names, joined by "; "), `crops_detail`, `crops_format` and
`crops_quality`; `rules` (the rule-set id the crops are planned with) is optional. An image's
category is the name of its folder, as in a sweep. It is sent as crops when it is named in
`cropped_images`, or when its category has crops but no setting; else with the setting.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from toolkit.errors import NoSettingError, SettingsError, ToolkitError
from toolkit.files import open_regular
from toolkit.images import DEFAULT_SETTINGS, EncodeSettings, read_size
from toolkit.plans import SendPlan, crop_plan
from toolkit.rulesets import check_detail
from toolkit.sources import display_name, folder_name

REQUIRED = ("model", "category", "max_side", "format", "quality", "detail")
CROP_FIELDS = ("crops_detail", "crops_format", "crops_quality")


@dataclass(frozen=True)
class Pick:
    """One category's pick: the setting (`settings` None: no setting serves the category) at
    `detail`, and the images sent as crops (`cropped`) with their encoding (`crops`, None when
    none is) at `crops_detail`."""

    settings: EncodeSettings | None
    detail: str | None
    cropped: frozenset[str]
    crops: EncodeSettings | None
    crops_detail: str | None
    rules: str | None


@dataclass(frozen=True)
class Policy:
    """Every category's pick for one model, from the file `source`."""

    model: str
    picks: dict[str, Pick]
    source: str

    def plan(self, path: Path, base: EncodeSettings = DEFAULT_SETTINGS) -> SendPlan:
        """How to send the image at `path` under its category's pick (`base` gives the other
        encode knobs). `NoSettingError` when the policy has no pick for it."""
        category = folder_name(path)
        pick = self.picks.get(category)
        if pick is None:
            known = ", ".join(sorted(self.picks))
            raise NoSettingError(
                f"{path}: {self.source} has no pick for category {category!r} (the folder's "
                f"name) for {self.model}; it has {known}"
            )
        cropped = display_name(path) in pick.cropped or pick.settings is None
        if cropped and pick.crops is not None and pick.crops_detail is not None:
            knobs = replace(base, format=pick.crops.format, quality=pick.crops.quality)
            return crop_plan(read_size(path), knobs, self.model, pick.crops_detail, pick.rules)
        if pick.settings is None or pick.detail is None:
            raise NoSettingError(
                f"{path}: in {self.source}, no setting keeps the floors for category "
                f"{category!r} on {self.model}"
            )
        knobs = replace(
            base,
            max_side=pick.settings.max_side,
            format=pick.settings.format,
            quality=pick.settings.quality,
        )
        return SendPlan(knobs, pick.detail)


def load_policy(path: str | os.PathLike, model: str | None = None) -> Policy:
    """The picks for `model` (None: the file's only model) in a file of JSON lines as
    `toolkit recommend --json` prints them. `SettingsError` naming the file and line when it
    is not such a file, names several models and no `model`, or lacks `model`'s picks."""
    source = os.fspath(path)
    with open_regular(path) as handle:
        lines = handle.read().decode("utf-8", "replace").splitlines()
    rows = [
        (number, _row(text, f"{source}:{number}"))
        for number, text in enumerate(lines, 1)
        if text.strip()
    ]
    models = list(dict.fromkeys(row["model"] for _, row in rows))
    if not models:
        raise SettingsError(f"{source} holds no picks (toolkit recommend --json prints them)")
    if model is None and len(models) > 1:
        raise SettingsError(
            f"{source} holds picks for {', '.join(models)}: say which with --model"
        )
    model = models[0] if model is None else model
    chosen = [(number, row) for number, row in rows if row["model"] == model]
    if not chosen:
        raise SettingsError(f"{source} has no picks for {model!r}; it has {', '.join(models)}")
    picks: dict[str, Pick] = {}
    for number, row in chosen:
        if row["category"] in picks:
            raise SettingsError(f"{source}:{number}: a second pick for {row['category']!r}")
        picks[row["category"]] = _pick(row, f"{source}:{number}")
    return Policy(str(model), picks, source)


def _row(text: str, where: str) -> dict:
    """One line as a pick's fields."""
    try:
        row = json.loads(text)
    except ValueError:
        raise SettingsError(f"{where}: not JSON (one pick per line)") from None
    if not isinstance(row, dict):
        raise SettingsError(f"{where}: not a JSON object (one pick per line)")
    missing = [name for name in REQUIRED if name not in row]
    if missing:
        raise SettingsError(f"{where}: a pick needs {', '.join(missing)}")
    return row


def _pick(row: dict, where: str) -> Pick:
    """The pick on one line, its settings and details checked."""
    model = row["model"]
    try:
        settings = None
        if row["format"] is not None:
            settings = _encoding(row["format"], row["quality"], row["max_side"])
            check_detail(model, row["detail"])
        cropped = frozenset(filter(None, (row.get("cropped_images") or "").split("; ")))
        crops = None
        if row.get("crops_format") is not None:
            crops = _encoding(row["crops_format"], row.get("crops_quality"), None)
            check_detail(model, row.get("crops_detail"))
    except (ToolkitError, TypeError) as exc:
        raise SettingsError(f"{where}: {exc}") from None
    if cropped and crops is None:
        raise SettingsError(f"{where}: cropped_images needs {', '.join(CROP_FIELDS)}")
    detail = row["detail"] if settings is not None else None
    return Pick(settings, detail, cropped, crops, row.get("crops_detail"), row.get("rules"))


def _encoding(fmt: str, quality: int | None, max_side: int | None) -> EncodeSettings:
    """An encoding from a pick's fields (PNG's quality, unused, may be null)."""
    given = DEFAULT_SETTINGS.quality if quality is None else quality
    return EncodeSettings(max_side=max_side, format=fmt, quality=given)
