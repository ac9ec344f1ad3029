"""Rich displays for notebooks: HTML for encoded images, token estimates, sweep summaries and
the explorer's numbers, every number rounded and given with its unit.

`EncodedImage` and `TokenEstimate` show themselves through the `_repr_html_`/`_repr_png_`
methods that call into this module; `sweep_summary(results)` gives a sweep's displayable
summary; `table_html(df)` renders a `toolkit.summarize` table with units in its headers.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image

if TYPE_CHECKING:
    import pandas as pd

    from toolkit.images import EncodedImage
    from toolkit.tokens import TokenEstimate

THUMBNAIL_SIDE = 256  # px, the longest side of an `EncodedImage`'s thumbnail
STYLE = (
    "<style>.toolkit-table{border-collapse:collapse;font-size:13px;margin:4px 0}"
    ".toolkit-table th,.toolkit-table td{padding:2px 10px;border-bottom:1px solid #ddd;"
    "text-align:right}.toolkit-table th:first-child,.toolkit-table td.label{text-align:left}"
    ".toolkit-table td.label{color:#555}.toolkit-caption{font-size:13px;margin:2px 0}</style>"
)


# --- numbers with their units ------------------------------------------------------------


def count(value: float) -> str:
    """A whole number with thousands separators: 64,284."""
    return f"{round(value):,}"


def kilobytes(value: float) -> str:
    """Bytes in kB (1 kB = 1,000 bytes), one decimal: 48.2 kB."""
    return f"{value / 1000:,.1f} kB"


def money(usd: float) -> str:
    """Dollars: four significant digits under one cent, else cents; NaN is "no price"."""
    if math.isnan(usd):
        return "no price"
    if 0 < abs(usd) < 0.01:
        return f"${usd:.4g}"
    return f"${usd:,.2f}"


def percent(share: float) -> str:
    """A share (0..1) as a percentage with one decimal; NaN is a dash."""
    return "–" if math.isnan(share) else f"{100 * share:.1f} %"


def decimal(digits: int) -> Callable[[float], str]:
    """A formatter rounding to `digits` decimals; NaN is a dash."""
    return lambda value: "–" if math.isnan(value) else f"{value:,.{digits}f}"


def pixels(width: int, height: int) -> str:
    return f"{width} × {height} px"


# --- building blocks ---------------------------------------------------------------------


def png_bytes(image: Image.Image) -> bytes:
    """A lossless PNG of `image`, fast (compression level 1): pictures for display only."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image) -> bytes:
    """A JPEG of `image` at quality 90 without chroma subsampling: a picture shown scaled
    down, where the display's own compression cannot be seen."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, subsampling="4:4:4")
    return buffer.getvalue()


def img_tag(data: bytes, alt: str) -> str:
    """An inline `<img>` of PNG or JPEG bytes."""
    mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return f'<img src="{url}" alt="{html.escape(alt)}" style="max-width:100%">'


def facts_table(rows: Iterable[tuple[str, str, str]]) -> str:
    """A two-column table of (key, label, value) rows; `data-key` names each row for scripts."""
    body = "".join(
        f'<tr data-key="{key}"><td class="label">{html.escape(label)}</td>'
        f"<td>{html.escape(value)}</td></tr>"
        for key, label, value in rows
    )
    return f'{STYLE}<table class="toolkit-table">{body}</table>'


# --- EncodedImage and TokenEstimate ------------------------------------------------------


def thumbnail_png(data: bytes) -> bytes:
    """A PNG thumbnail (longest side `THUMBNAIL_SIDE`) of encoded image bytes."""
    from toolkit.images import resize_image
    from toolkit.quality import decode_image

    return png_bytes(resize_image(decode_image(data), THUMBNAIL_SIDE))


def encoded_image_html(encoded: EncodedImage) -> str:
    """A thumbnail of what was encoded and the facts about it."""
    settings = encoded.settings
    how = settings.format.upper()
    if settings.format != "png":
        how += f" quality {settings.quality}"
    rows = [
        ("name", "image", encoded.name),
        (
            "source",
            "original",
            f"{pixels(encoded.source_width, encoded.source_height)}, "
            f"{encoded.source_format}, {kilobytes(encoded.source_bytes)}",
        ),
        ("sent", "encoded", f"{pixels(encoded.width, encoded.height)}, {how}"),
        ("bytes", "bytes", f"{count(encoded.bytes)} ({kilobytes(encoded.bytes)})"),
        ("base64_chars", "Base64 characters", count(encoded.base64_chars)),
        ("flags", "adjustments", ", ".join(encoded.flags) or "none"),
        ("ms", "time", f"{sum(encoded.timings_ms.values()):,.1f} ms"),
    ]
    thumbnail = img_tag(thumbnail_png(encoded.data), encoded.name)
    return (
        '<div style="display:flex;gap:12px;align-items:flex-start">'
        f"<div>{thumbnail}</div>{facts_table(rows)}</div>"
    )


def token_estimate_html(estimate: TokenEstimate) -> str:
    """What the provider keeps and bills, as a table."""
    units = [f"{estimate.tiles} tiles"] if estimate.tiles is not None else []
    units += [f"{estimate.patches} patches"] if estimate.patches is not None else []
    rows = [
        ("model", "model", f"{estimate.model} ({estimate.provider})"),
        ("detail", "detail", estimate.detail),
        ("kept", "kept size", pixels(estimate.provider_width, estimate.provider_height)),
        ("scheme", "scheme", ", ".join([estimate.scheme, *units])),
        ("tokens", "image tokens", count(estimate.tokens)),
        ("rules", "rule set", estimate.rules),
    ]
    return facts_table(rows)


# --- tables of summaries -----------------------------------------------------------------

# A summary column is `<quantity>`, `<quantity>_mean` or `<quantity>_min` (`toolkit.summarize`).
QUANTITIES: dict[str, tuple[str, Callable[[float], str]]] = {
    "images": ("images", count),
    "text_images": ("images with text", count),
    "bytes": ("bytes", kilobytes),
    "base64_chars": ("Base64 characters", count),
    "tokens": ("tokens", decimal(1)),
    "cost_usd_per_1k": ("$ per 1,000 images", money),
    "compression_ssim": ("compression SSIM", decimal(4)),
    "seen_ssim": ("seen SSIM", decimal(4)),
    "ceiling_ssim": ("ceiling SSIM", decimal(4)),
    "seen_word_recall": ("words read", percent),
    "seen_char_accuracy": ("characters right", percent),
    "max_side": ("max side (px)", count),
    "dropped_px_pct": ("sent pixels dropped (%)", decimal(1)),
    "wasted_bytes": ("bytes wasted", kilobytes),
    "wasted_bytes_pct": ("bytes wasted (%)", decimal(1)),
    "seed_cost_usd_per_1k": ("seed recipe, $ per 1,000 images", money),
    "saving_pct": ("saving (%)", decimal(1)),
    "ocr_relative_min": ("words kept (worst image)", percent),
    "fidelity_relative_min": ("fidelity kept (worst image)", percent),
    "crops_images": ("images sent as crops", count),
    "crops_mean": ("crops per image", decimal(1)),
    "crops_cost_usd_per_1k": ("crops, $ per 1,000 images", money),
    "adaptive_cost_usd_per_1k": ("each image its own setting, $ per 1,000 images", money),
    "monthly_images": ("images a month", count),
    "seed_monthly_usd": ("seed recipe, $ a month", money),
    "monthly_usd": ("one pick per category, $ a month", money),
    "monthly_usd_low": ("low end, 90 % interval", money),
    "monthly_usd_high": ("high end, 90 % interval", money),
    "monthly_batch_usd": ("one pick per category at Batch prices, $ a month", money),
    "adaptive_monthly_usd": ("each image its own setting, $ a month", money),
    "adaptive_monthly_batch_usd": ("each image its own setting at Batch prices, $ a month", money),
    "min_legibility": ("text floor", decimal(2)),
}
AGGREGATES = {"_mean": "mean", "_min": "worst image"}


def column_format(column: str) -> tuple[str, Callable[[float], str]] | None:
    """The header and formatter of a known summary column, or None."""
    if column in QUANTITIES:
        return QUANTITIES[column]
    for suffix, aggregate in AGGREGATES.items():
        base = column.removesuffix(suffix)
        if column.endswith(suffix) and base in QUANTITIES:
            label, formatter = QUANTITIES[base]
            return f"{label} ({aggregate})", formatter
    return None


def _cell(value: Any, formatter: Callable[[float], str] | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if formatter is not None:
        return formatter(float(value))
    if isinstance(value, float):  # another measure: 4 decimals at most (the CSV keeps all)
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)


def table_html(df: pd.DataFrame) -> str:
    """`df` as an HTML table: known columns (`QUANTITIES`) get their unit in the header and
    rounded values; missing values show as a dash."""
    import pandas as pd

    formats = {c: column_format(c) for c in df.columns}
    header = "".join(f"<th>{html.escape(f[0] if f else c)}</th>" for c, f in formats.items())
    rows = []
    for record in df.itertuples(index=False):
        cells = []
        for (column, fmt), value in zip(formats.items(), record, strict=True):
            value = None if pd.isna(value) else value
            text = _cell(value, fmt[1] if fmt else None)
            cells.append(f'<td data-column="{html.escape(column)}">{html.escape(text)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f'{STYLE}<table class="toolkit-table"><tr>{header}</tr>{"".join(rows)}</table>'


SUMMARY_BY = ["model", "detail", "max_side", "format", "quality"]
SUMMARY_MEANS = ["bytes", "tokens", "cost_usd", "seen_ssim"]
SUMMARY_MINIMUMS = ["seen_ssim", "seen_word_recall"]


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep found, per setting: `table` (a `toolkit.summarize` table), the images
    that failed and what the sweep computed or took from its cache."""

    images: int
    failed: dict[str, str]  # image -> error
    table: pd.DataFrame
    stats: dict  # `SweepStats` as a dict, when the frame carries it

    def _repr_html_(self) -> str:
        parts = [f"{count(self.images)} images"]
        if self.stats:
            parts.append(
                f"{count(self.stats['computed_encodes'])} encodes computed, "
                f"{count(self.stats['cached_encodes'])} from the cache"
            )
        caption = f'<p class="toolkit-caption">Sweep: {"; ".join(parts)}.</p>'
        failed = ""
        if self.failed:
            items = "".join(
                f"<li>{html.escape(name)}: {html.escape(error)}</li>"
                for name, error in self.failed.items()
            )
            failed = f'<p class="toolkit-caption">{len(self.failed)} failed:</p><ul>{items}</ul>'
        return caption + table_html(self.table) + failed


def sweep_summary(results: pd.DataFrame) -> SweepSummary:
    """A sweep's rows (`run_sweep`) summarized per setting: mean bytes, tokens, dollars per
    1,000 images and seen SSIM, the worst image's seen SSIM and words read; metric columns
    the sweep did not compute are left out."""
    from toolkit.summary import summarize

    measured = [c for c in {*SUMMARY_MEANS, *SUMMARY_MINIMUMS} if results[c].notna().any()]
    table = summarize(
        results,
        SUMMARY_BY,
        means=[c for c in SUMMARY_MEANS if c in measured],
        minimums=[c for c in SUMMARY_MINIMUMS if c in measured],
    )
    errors = results.loc[results["error"].notna(), ["image", "error"]].drop_duplicates("image")
    return SweepSummary(
        images=int(results["path"].nunique()),
        failed=dict(zip(errors["image"], errors["error"], strict=True)),
        table=table,
        stats=dict(results.attrs.get("sweep", {})),
    )
