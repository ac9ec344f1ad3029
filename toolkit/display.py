"""Rich displays for notebooks: HTML for encoded images, token estimates, sweep summaries and
the explorer's numbers, every number written by `toolkit.formatting` with its unit.

`EncodedImage` and `TokenEstimate` show themselves through the `_repr_html_`/`_repr_png_`
methods that call into this module; `sweep_summary(results)` gives a sweep's displayable
summary (a table through `toolkit.formatting.table_html`, as every table of a report).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from toolkit.formatting import STYLE, count, kilobytes, pixels, table_html

if TYPE_CHECKING:
    import pandas as pd
    from IPython.display import Markdown

    from toolkit.images import EncodedImage
    from toolkit.tokens import TokenEstimate

THUMBNAIL_SIDE = 256  # px, the longest side of an `EncodedImage`'s thumbnail


# --- building blocks ---------------------------------------------------------------------


def prose(text: str) -> Markdown:
    """`text` as a notebook's Markdown output, its `$` signs dollars: nbconvert's renderer
    would take `$1.40 ... $2.10` for a formula and print what lies between raw."""
    from IPython.display import Markdown

    return Markdown(text.replace("$", r"\$"))


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
