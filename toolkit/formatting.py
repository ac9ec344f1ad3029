"""Numbers and tables for reading: the one formatter every page, display and figure uses.

Values are formatted for a reader, never changed: CSVs keep full precision. A table
(`table_html`) gets a unit in every header, whole numbers where the values are whole, bytes
as bytes or kB, sizes in px, dollars with `$` and the same decimals down a column (cents
from a dollar up, else 4 significant digits on its smallest amount; never scientific
notation), shares and changes in %, booleans as words, paths relative to a folder, no index
column, and a dash with a footnote where there is no value.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

DASH = "–"
NO_VALUE_NOTE = f"{DASH} no value: not measured, not applicable or not priced (the CSV says which)"
MAX_USD_DECIMALS = 8  # $0.00000123; smaller amounts round to $0.00000000
TEXT_CLASS = ' class="text"'  # a left-aligned cell or header: text, or a value with a note
KB_FROM = 10_000  # a byte column whose largest value reaches this is shown in kB
STYLE = (
    "<style>.toolkit-table{border-collapse:collapse;font-size:13px;margin:4px 0;"
    "max-width:100%;font-variant-numeric:tabular-nums}"
    ".toolkit-table th,.toolkit-table td{padding:3px 8px;border-bottom:1px solid #ddd;"
    "text-align:right;vertical-align:top}"
    ".toolkit-table th{background:#f2f4f7;text-align:right;font-weight:600}"
    ".toolkit-table th.text{text-align:left}"
    ".toolkit-table td{white-space:nowrap}"
    ".toolkit-table td.text{text-align:left;white-space:normal;min-width:8em}"
    ".toolkit-table td.label{text-align:left;color:#555}"
    ".toolkit-table .note,.toolkit-note{color:#5b6475;font-size:90%}"
    ".toolkit-caption{font-size:13px;margin:2px 0}</style>"
)


# --- one value ---------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value: float) -> str:
    """A whole number with thousands separators: 64,284."""
    return f"{round(value):,}"


def counted(value: int, noun: str) -> str:
    """A count with its noun, plural unless one: "1 view", "2,048 views"."""
    return f"{count(value)} {noun}{'' if value == 1 else 's'}"


def kilobytes(value: float) -> str:
    """Bytes in kB (1 kB = 1,000 bytes), one decimal: 48.2 kB."""
    return f"{value / 1000:,.1f} kB"


def usd(value: float | None) -> str:
    """Dollars in prose, never in scientific notation: cents from $1 up ($106.25, $14,364.00),
    else 4 significant digits ($0.3870, $0.00001235); a dash when there is no amount."""
    if value is None or math.isnan(value):
        return DASH
    amount = abs(value)
    if amount >= 1 or amount == 0:
        text = f"{amount:,.2f}"
    else:
        text = f"{amount:.{min(MAX_USD_DECIMALS, 3 - math.floor(math.log10(amount)))}f}"
    return f"{'-' if value < 0 else ''}${text}"


def money(value: float) -> str:
    """Dollars, as `usd`, with "no price" where a model has none (NaN)."""
    return "no price" if math.isnan(value) else usd(value)


def percent(share: float) -> str:
    """A share (0..1) as a percentage with one decimal; NaN is a dash."""
    return DASH if math.isnan(share) else f"{100 * share:.1f} %"


def signed_percent(change: float, decimals: int = 0) -> str:
    """A change in % with its sign, more expensive positive: +28 %, -3 %, 0 %."""
    if math.isnan(change):
        return DASH
    text = f"{change:+.{decimals}f}"
    return ("0" if float(text) == 0 else text.replace("-", "−")) + " %"


def decimal(digits: int) -> Callable[[float], str]:
    """A formatter rounding to `digits` decimals; NaN is a dash."""
    return lambda value: DASH if math.isnan(value) else f"{value:,.{digits}f}"


def pixels(width: int, height: int) -> str:
    return f"{width} × {height} px"


def significant(value: float, digits: int = 4) -> str:
    """`value` rounded to `digits` significant digits, in plain notation without trailing
    zeros: 14,360, 0.3744, 0.5."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    text = f"{round(value, decimals):,.{max(0, decimals)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def short_usd(value: float) -> str:
    """Dollars for a figure's labels, at most 4 significant digits: $0.3744, $14.36, $1,436,
    $14.36k, $2.5M."""
    sign, amount = ("-" if value < 0 else ""), abs(value)
    for scale, suffix, start in ((1e6, "M", 1e6), (1e3, "k", 1e4)):
        if amount >= start:
            return f"{sign}${significant(amount / scale)}{suffix}"
    return f"{sign}${significant(amount)}"


# --- columns -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """How a column's values read: a unit for its header, and how to write its values (given
    all of them, so that a column can share its decimals)."""

    unit: str
    cells: Callable[[list[Any]], list[str]]


def _each(formatter: Callable[[Any], str]) -> Callable[[list[Any]], list[str]]:
    return lambda values: [formatter(v) for v in values]


def _usd_cells(values: list[float]) -> list[str]:
    """Dollars with the same decimals down the column, as `usd` writes its smallest amount:
    cents when it is a dollar or more, else 4 significant digits (at most
    `MAX_USD_DECIMALS` decimals)."""
    smallest = min((abs(v) for v in values if v), default=1.0)
    decimals = 2 if smallest >= 1 else min(MAX_USD_DECIMALS, 3 - math.floor(math.log10(smallest)))
    return [f"-${-v:,.{decimals}f}" if v < 0 else f"${v:,.{decimals}f}" for v in values]


def _number_cells(values: list[float]) -> list[str]:
    """Whole numbers as such; otherwise one decimal from 1 up, else 4 decimals."""
    if all(float(v).is_integer() for v in values):
        return [f"{v:,.0f}" for v in values]
    largest = max(abs(v) for v in values)
    decimals = 1 if largest >= 1 else 4
    return [f"{v:,.{decimals}f}" for v in values]


def _bytes_kind(values: list[float]) -> Kind:
    if max(values, default=0) >= KB_FROM:
        return Kind("kB", _each(lambda v: f"{v / 1000:,.1f}"))
    return Kind("bytes", _each(count))


def _share_cells(values: list[float]) -> list[str]:
    return [f"{100 * v:.1f}" for v in values]


def _change_cells(values: list[float]) -> list[str]:
    return [signed_percent(v, 1).removesuffix(" %") for v in values]


USD = Kind("$", _usd_cells)
COUNT = Kind("", _each(count))
NUMBER = Kind("", _number_cells)
PX = Kind("px", _each(count))
SHARE = Kind("%", _share_cells)
PERCENT = Kind("%", _each(decimal(1)))
CHANGE = Kind("%", _change_cells)
SSIM = Kind("", _each(decimal(4)))
MS = Kind("ms", _each(decimal(1)))
SECONDS = Kind("s", _each(decimal(1)))

# Column -> (header, kind) for the quantities a report names; other columns are read by
# their suffix (`SUFFIXES`). A summary column is `<quantity>`, `<quantity>_mean` or
# `<quantity>_min` (`toolkit.summarize`).
QUANTITIES: dict[str, tuple[str, Kind]] = {
    "images": ("images", COUNT),
    "text_images": ("images with text", COUNT),
    "tokens": ("tokens per image", NUMBER),
    "cost_usd_per_1k": ("$ per 1,000 images", USD),
    "compression_ssim": ("compression SSIM", SSIM),
    "seen_ssim": ("seen SSIM", SSIM),
    "ceiling_ssim": ("ceiling SSIM", SSIM),
    "seen_word_recall": ("words read (%)", SHARE),
    "seen_char_accuracy": ("characters right (%)", SHARE),
    "max_side": ("max side (px)", PX),
    "dropped_px_pct": ("sent pixels dropped (%)", PERCENT),
    "wasted_bytes_pct": ("bytes wasted (%)", PERCENT),
    "seed_cost_usd_per_1k": ("seed recipe, $ per 1,000 images", USD),
    "change_pct": ("change vs seed recipe (%)", CHANGE),
    "ocr_relative_min": ("words kept, worst image (%)", SHARE),
    "fidelity_relative_min": ("fidelity kept, worst image (%)", SHARE),
    "crops_images": ("images sent as crops", COUNT),
    "crops_mean": ("crops per image", NUMBER),
    "crops_cost_usd_per_1k": ("crops, $ per 1,000 images", USD),
    "adaptive_cost_usd_per_1k": ("per image (adaptive), $ per 1,000 images", USD),
    "monthly_images": ("images a month", COUNT),
    "seed_monthly_usd": ("seed recipe, $ a month", USD),
    "seed_monthly_batch_usd": ("seed recipe at Batch prices, $ a month", USD),
    "monthly_usd": ("one pick per category, $ a month", USD),
    "monthly_usd_low": ("90 % interval, low end, $ a month", USD),
    "monthly_usd_high": ("90 % interval, high end, $ a month", USD),
    "monthly_batch_usd": ("one pick per category at Batch prices, $ a month", USD),
    "adaptive_monthly_usd": ("per image (adaptive), $ a month", USD),
    "adaptive_monthly_batch_usd": ("per image (adaptive) at Batch prices, $ a month", USD),
    "min_legibility": ("text floor", Kind("", _each(decimal(2)))),
    "text_floor": ("text floor", Kind("", _each(decimal(2)))),
    "min_fidelity": ("fidelity floor", Kind("", _each(decimal(2)))),
    "quality": ("quality", COUNT),
    "fps": ("frames per second", NUMBER),
    "bandwidth_mbit": ("link (Mbit/s)", NUMBER),
    "vs_data_url": ("share of the inline bytes (%)", SHARE),
    "threshold": ("reader threshold", Kind("", _each(decimal(2)))),
    "highest_failing": ("highest failing reader value", Kind("", _each(decimal(2)))),
}
TEXT_LABELS = {  # text columns named by the glossary's words
    "binding": "binding rule",
    "binding_detail": "binding rule: the setting and image that stopped a cheaper one",
    "detail_note": "what the detail level means",
    "adaptive_settings": "per image (adaptive): the settings",
    "crops_setting": "crops sent as",
    "left_out": "left out",
    "case": "re-recommended",
}
AGGREGATES = {"_mean": "mean", "_min": "worst image", "_max": "largest"}
# Suffix -> (unit shown, kind): `request_bytes` is "request (kB)", `latency_ms` "latency (ms)".
SUFFIXES: dict[str, Kind | None] = {
    "_usd": USD,
    "_usd_per_1k": USD,
    "_bytes": None,  # bytes or kB, by the column's values
    "_chars": COUNT,
    "_tokens": NUMBER,
    "_px": PX,
    "_width": PX,
    "_height": PX,
    "_pct": PERCENT,
    "_ms": MS,
    "_s": SECONDS,
    "_share": SHARE,
    "_recall": SHARE,
    "_relative": SHARE,
    "_accuracy": SHARE,
    "_words": COUNT,
    "_mb": Kind("MB", _number_cells),
    "_gb": Kind("GB", _number_cells),
}
UNIT_WORDS = {
    "_usd_per_1k": "$ per 1,000",
    "_chars": "characters",
    "_tokens": "tokens",
    "_words": "words",
}
WHOLE_NAMES = {"bytes": None, "width": PX, "height": PX, "frames": COUNT, "tiles": COUNT}


def column_kind(column: str, values: Sequence[Any] = ()) -> tuple[str, Kind | None]:
    """The header and kind of a column (None: text, written as it is)."""
    numbers = [float(v) for v in values if not _missing(v) and _is_number(v)]
    if column in QUANTITIES:
        return QUANTITIES[column]
    if column in TEXT_LABELS:
        return TEXT_LABELS[column], None
    for suffix, aggregate in AGGREGATES.items():
        base = column.removesuffix(suffix)
        if column.endswith(suffix) and base != column:
            label, kind = column_kind(base, values)
            if kind is not None:
                return f"{label}, {aggregate}", kind
    if column in WHOLE_NAMES:
        kind = WHOLE_NAMES[column] or _bytes_kind(numbers)
        return _with_unit(column, kind), kind
    for suffix, found in sorted(SUFFIXES.items(), key=lambda item: -len(item[0])):
        if column.endswith(suffix) and column != suffix:
            kind = found or _bytes_kind(numbers)
            name = column.removesuffix(suffix).replace("_", " ")
            unit = UNIT_WORDS.get(suffix, kind.unit)
            return f"{name} ({unit})", kind
    if numbers and len(numbers) == sum(not _missing(v) for v in values):
        return column.replace("_", " "), NUMBER
    return column.replace("_", " "), None


def _with_unit(column: str, kind: Kind) -> str:
    name = column.replace("_", " ")
    return f"{name} ({kind.unit})" if kind.unit else name


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any, base: Path | None) -> str:
    """A text cell: booleans as words, paths relative to `base` when under it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, os.PathLike) or (isinstance(value, str) and value.startswith("/")):
        return relative_path(value, base)
    return str(value)


def relative_path(path: str | os.PathLike, base: str | os.PathLike | None) -> str:
    """`path` relative to `base` when it is inside it, else its file name: a page never
    shows the folders of the machine that ran it."""
    path = Path(path)
    if base is not None and path.is_relative_to(base):
        return path.relative_to(base).as_posix()
    return path.name


def _bools(values: list[Any]) -> bool:
    present = [v for v in values if not _missing(v)]
    return bool(present) and all(
        isinstance(v, bool) or str(v) in ("True", "False") for v in present
    )


def format_column(
    column: str, values: list[Any], base: Path | None = None
) -> tuple[str, list[str]]:
    """A column's header (with its unit) and its values as text; missing values are dashes."""
    present = [v for v in values if not _missing(v)]
    if _bools(values):
        words = [DASH if _missing(v) else ("yes" if v in (True, "True") else "no") for v in values]
        return column.replace("_", " "), words
    header, kind = column_kind(column, present)
    if kind is None or not all(_is_number(v) for v in present):
        return header, [DASH if _missing(v) else _text(v, base) for v in values]
    written = iter(kind.cells([float(v) for v in present]))
    return header, [DASH if _missing(v) else next(written) for v in values]


def table_html(
    df: pd.DataFrame,
    *,
    base: str | os.PathLike | None = None,
    labels: Mapping[str, str] | None = None,
    notes: Mapping[str, Sequence[str]] | None = None,
    note: str = "",
) -> str:
    """`df` as a paste-ready HTML table (see the module): no index column, every value
    formatted by its column (`format_column`), `labels` replacing headers, `notes` (column ->
    one text per row) written small under the cells, and a footnote for dashes and `note`."""
    base = Path(base) if base is not None else None
    columns = []
    for name in map(str, df.columns):
        values = df[name].astype(object).tolist()
        header, cells = format_column(name, values, base)
        numeric = column_kind(name, values)[1] is not None and not _bools(values)
        below = list((notes or {}).get(name, [""] * len(df)))
        columns.append((name, (labels or {}).get(name, header), cells, numeric, below))
    head = "".join(
        f"<th{TEXT_CLASS if _wraps(numeric, below) else ''}>{html.escape(header)}</th>"
        for _, header, _, numeric, below in columns
    )
    rows = [
        "<tr>"
        + "".join(
            _td(name, cells[i], numeric, below[i]) for name, _, cells, numeric, below in columns
        )
        + "</tr>"
        for i in range(len(df))
    ]
    footnotes = [note] if note else []
    if any(DASH in cells for *_, cells, _, _ in columns):
        footnotes.append(NO_VALUE_NOTE)
    footer = "".join(f'<p class="toolkit-note">{html.escape(n)}</p>' for n in footnotes)
    return (
        f'{STYLE}<table class="toolkit-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{footer}"
    )


def _wraps(numeric: bool, notes: Sequence[str]) -> bool:
    """Whether a cell (or a column's header) reads as text, left-aligned: text, or a value
    with a note under it (a note wraps)."""
    return not numeric or any(notes)


def _td(column: str, text: str, numeric: bool, note: str) -> str:
    below = f'<br><span class="note">{html.escape(note)}</span>' if note else ""
    kind = TEXT_CLASS if _wraps(numeric, [note]) else ""
    return f'<td data-column="{html.escape(column)}"{kind}>{html.escape(text)}{below}</td>'
