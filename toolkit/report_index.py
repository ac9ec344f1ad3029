"""The report's front page: findings, assumptions, recommended settings, monthly dollars, and
each notebook's status and figures. Numbers are rounded for reading (the CSVs keep them whole)
and the page fits a 1,280 px window without scrolling sideways."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from toolkit.formatting import DASH, STYLE, table_html, usd
from toolkit.glossary import glossary_html
from toolkit.summary import FEW_IMAGES

FEW_IMAGES_NOTE = f"* fewer than {FEW_IMAGES} images: an example, not a measurement"
LIVE_CHECK = "05-live-check"
CALIBRATION_FILE = "calibration.json"  # in tables/: what 08-calibration found
MONTHLY_FIGURE = "figures/04-monthly-cost.png"
MONTHLY = [  # standard and Batch side by side, for the seed recipe and both picks
    "model",
    "monthly_images",
    "seed_monthly_usd",
    "seed_monthly_batch_usd",
    "monthly_usd",
    "monthly_batch_usd",
    "adaptive_monthly_usd",
    "adaptive_monthly_batch_usd",
    "change_pct",
]


def _e(value: object) -> str:
    return html.escape(str(value))


def _read(out: Path, name: str) -> pd.DataFrame | None:
    path = out / "tables" / f"{name}.csv"
    return pd.read_csv(path) if path.exists() else None


def _markdown_bold(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _send_as(row: pd.Series) -> str:
    crops = ""
    if row.get("crops_images", 0) > 0:
        crops = f"{int(row['crops_images'])} as crops kept whole: {row['crops_setting']}"
    if pd.isna(row["max_side"]):
        return crops.replace(" as crops", " all as crops", 1) or "no setting keeps the floors"
    quality = "" if row["format"] == "png" else f" {int(row['quality'])}"
    setting = f"{int(row['max_side'])} px · {str(row['format']).upper()}{quality} · "
    return setting + str(row["detail"]) + (f"; {crops}" if crops else "")


def _images(row: pd.Series) -> str:
    few = " *" if row["images"] < FEW_IMAGES else ""
    unreadable = row.get("unreadable_images", 0)
    extra = f" (+{int(unreadable)} unreadable)" if unreadable > 0 else ""
    return f"{int(row['images'])}{few}{extra}"


def recommendations_html(table: pd.DataFrame) -> str:
    """The recommended settings (`toolkit.recommend` rows, or `headline.csv`) as the index and
    page 04 show them: the setting with what its detail level means, dollars against the seed
    recipe, the per-image figure with its settings, and the rule that stopped a cheaper one."""
    shown = pd.DataFrame(
        {
            "model": table["model"],
            "category": table["category"],
            "images": [_images(row) for _, row in table.iterrows()],
            "send_as": [_send_as(row) for _, row in table.iterrows()],
            **{
                c: table[c]
                for c in (
                    "tokens_mean",
                    "cost_usd_per_1k",
                    "seed_cost_usd_per_1k",
                    "change_pct",
                    "adaptive_cost_usd_per_1k",
                    "ocr_relative_min",
                    "fidelity_relative_min",
                    "binding",
                )
            },
        }
    )
    notes = {
        "send_as": table["detail_note"].map(_text).tolist(),
        "adaptive_cost_usd_per_1k": table["adaptive_settings"].map(_text).tolist(),
        "binding": table["binding_detail"].map(_text).tolist(),
    }
    return table_html(shown, labels={"send_as": "send as"}, notes=notes, note=FEW_IMAGES_NOTE)


def monthly_html(table: pd.DataFrame) -> str:
    """Monthly dollars (`toolkit.monthly_projection` rows): the seed recipe, one pick per
    category and each image its own setting, each at standard and Batch prices, and the change."""
    interval = [
        f"{usd(low)} – {usd(high)}"
        if pd.notna(low)
        else "none: all of the corpus swept"
        if complete
        else DASH
        for low, high, complete in zip(
            table["monthly_usd_low"], table["monthly_usd_high"], table["complete"], strict=True
        )
    ]
    shown = table[MONTHLY].assign(interval=interval)
    return table_html(shown, labels={"interval": "one pick per category, 90 % interval"})


def moves_html(table: pd.DataFrame) -> str:
    """`toolkit.sensitivity`'s rows: the monthly figures at other floors and without each
    category's worst image."""
    shown = table[["model", "case", "monthly_usd", "adaptive_monthly_usd"]].assign(
        left_out=table["left_out"].map(lambda v: v if isinstance(v, str) and v else "none")
    )
    note = (
        "Re-recommended from the same sweep rows, never swept again: a setting the sweep did "
        "not measure is no candidate, so each figure is an upper bound (a sweep of the whole "
        "grid could only find cheaper). The second search round swept encodings only at the "
        "sizes picked for the report's floors, so a size picked at another floor was measured "
        "at the near-lossless encoding alone."
    )
    return table_html(shown, labels={"case": "re-recommended", "left_out": "left out"}, note=note)


def _headline(out: Path) -> str:
    findings, basis = _read(out, "findings"), _read(out, "assumptions")
    headline, projection = _read(out, "headline"), _read(out, "projection")
    moves = _read(out, "sensitivity")
    if headline is None or projection is None:
        return '<p class="failed">No recommendation: the cost projection did not produce one.</p>'
    parts = []
    for table in (findings, _read(out, "providers-finding")):  # page 04's, then page 09's
        if table is not None:
            parts += [f"<p class='finding'>{_markdown_bold(t)}</p>" for t in table["finding"]]
    if basis is not None:
        items = "".join(
            f"<dt>{_e(r.assumption)}</dt><dd>{_e(r.value)}</dd>" for r in basis.itertuples()
        )
        parts.append(f"<h2>Assumptions</h2><dl>{items}</dl>")
    parts += [
        "<h2>Recommended settings per model and category</h2>",
        recommendations_html(headline),
        "<h2>Monthly image-input dollars</h2>",
        monthly_html(projection),
    ]
    if (out / MONTHLY_FIGURE).exists():
        parts.append(f'<img class="wide" src="{MONTHLY_FIGURE}" alt="monthly dollars">')
    if moves is not None:
        parts += ["<h2>How the monthly figure moves</h2>", moves_html(moves)]
    parts.append(
        "<p class='note'>Full precision: <a href='tables/headline.csv'>headline.csv</a>, "
        "<a href='tables/projection.csv'>projection.csv</a>, "
        "<a href='tables/sensitivity.csv'>sensitivity.csv</a>, "
        "<a href='tables/04-recommended.csv'>04-recommended.csv</a>.</p>"
    )
    return "\n".join(parts)


def _calibration(out: Path) -> str:
    """The reader's calibration against a model in this report: none, emulated (a
    demonstration), or live with its date; each model's threshold and what it rests on."""
    from toolkit.calibration import read_calibrations, status_text, threshold_text
    from toolkit.errors import SettingsError

    path = out / "tables" / CALIBRATION_FILE
    try:
        made = read_calibrations(path) if path.exists() else []
    except SettingsError as exc:
        return f"<p class='note'><b>Reader calibration: unreadable</b> ({_e(exc)})</p>"
    status = status_text(made)
    if status == "none":
        detail = "no model transcribed this report's views; the text floors are as set"
    elif status == "emulated":
        detail = (
            "the emulator transcribed with a reader, not a model: the page shows the loop, "
            "not a model's reading"
        )
    else:
        detail = "a model transcribed this report's views"
    lines = "".join(f"<br>{_e(threshold_text(c))}" for c in made)
    return f"<p class='note'><b>Reader calibration: {_e(status)}</b> ({detail}){lines}</p>"


def _live_note(run: Mapping) -> str:
    if run["name"] != LIVE_CHECK:
        return ""
    if run["parameters"].get("live"):
        return "<p class='note'>Ran against the OpenAI API: billed usage tests the estimate.</p>"
    return (
        "<p class='note'><b>Ran against the local emulator</b>: a self-consistency check of the "
        "request path (bodies, sizes, sending, usage capture), <b>not a validation of the token "
        "model</b>; the emulator bills with the toolkit's own rules.</p>"
    )


def _notebook_section(run: Mapping) -> str:
    name = html.escape(run["name"])
    title = f'<a href="{html.escape(run["page"])}">{name}</a>' if run["page"] else name
    links = (
        [f'<a href="{html.escape(run["executed"])}">executed notebook</a>']
        if run["executed"]
        else []
    )
    links += [f'<a href="{html.escape(t)}">{html.escape(Path(t).name)}</a>' for t in run["tables"]]
    error = ""
    if run["error"]:
        err = run["error"]
        cell = f" (cell {err['cell']})" if err.get("cell") is not None else ""
        message = html.escape(f"{err['type']}{cell}: {err['message']}")
        error = f'<pre class="error">{message}</pre>'
    figures = "".join(
        f'<a href="{src}"><img src="{src}" alt="{html.escape(Path(f).stem)}"></a>'
        for f in run["figures"]
        for src in [html.escape(f)]
    )
    return (
        f'<section><h3>{title} <span class="badge {run["status"]}">{run["status"]}</span>'
        f' <span class="note">{run["seconds"]:.1f} s</span></h3>{error}{_live_note(run)}'
        f'<p class="note">{" · ".join(links)}</p><div class="figures">{figures}</div></section>'
    )


def watermark_html(text: str | None) -> str:
    """A banner and a faint diagonal mark behind the page, for reports not to be cited."""
    if not text:
        return ""
    return (
        f'<div class="watermark-banner">{html.escape(text)}</div>'
        f'<div class="watermark" aria-hidden="true">{html.escape(text)}</div>'
    )


NAV_HTML = (  # at the top of every notebook's page
    '<nav class="report-nav"><a href="index.html">report index</a> · '
    '<a href="index.html#glossary">glossary</a> (seed recipe, change, floor, seen view, '
    "ceiling, binding rule, crops, reader, calibration, per image, detail)</nav>"
)
PAGE_CSS = """
.watermark-banner { background: #b3261e; color: white; font-weight: bold; padding: .4rem .8rem;
                    border-radius: .3rem; margin: .5rem 0; }
.watermark { position: fixed; top: 45%; left: 50%; transform: translate(-50%, -50%) rotate(-30deg);
             font-size: 4rem; color: rgba(179, 38, 30, .08); pointer-events: none;
             white-space: nowrap; z-index: 1000; }
.report-nav { font: 13px system-ui, sans-serif; color: #5b6475; margin: .4rem 0; }
"""


def render_index(manifest: Mapping, out: Path) -> str:
    """The report's front page."""
    runs = manifest["notebooks"]
    ok = sum(r["status"] == "ok" for r in runs)
    commit = manifest["git_commit"] or "unknown"
    return _INDEX.format(
        title=html.escape(f"toolkit report {manifest['run_id']}"),
        css=PAGE_CSS,
        style=STYLE,
        watermark=watermark_html(manifest.get("watermark")),
        preset=html.escape(manifest["preset"]),
        started=html.escape(manifest["started_at"]),
        seconds=f"{manifest['seconds']:.1f}",
        commit=html.escape(commit[:12]),
        version=html.escape(manifest["packages"]["toolkit"]),
        rules=html.escape(", ".join(manifest["rule_sets"]) or "none recorded"),
        images=html.escape(manifest.get("images", {}).get("text", "")),
        summary_class="ok" if ok == len(runs) else "failed",
        summary=f"{ok} of {len(runs)} notebooks ran",
        calibration=_calibration(out),
        headline=_headline(out),
        glossary=glossary_html(),
        sections="\n".join(_notebook_section(r) for r in runs),
    )


_INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 78rem;
       padding: 0 1rem; color: #1d2330; }}
h1 {{ margin-bottom: .2rem; }}
.toolkit-table {{ width: 100%; }}
.toolkit-table td:first-child {{ white-space: nowrap; }}  /* model names break at hyphens */
p.finding {{ font-size: 105%; border-left: 4px solid #2f7d32; padding: .2rem .8rem;
             margin: .8rem 0; }}
dl {{ display: grid; grid-template-columns: 10rem 1fr; gap: .2rem 1rem; font-size: 90%; }}
dt {{ font-weight: bold; }} dd {{ margin: 0; }}
section {{ border-top: 1px solid #d8dce3; padding: .5rem 0 1rem; }}
.note {{ color: #5b6475; font-size: 90%; font-weight: normal; }}
.badge {{ font-size: 75%; padding: .1rem .5rem; border-radius: .7rem; color: white;
          vertical-align: middle; }}
.badge.ok, p.ok {{ background: #2f7d32; }} .badge.failed, p.failed {{ background: #b3261e; }}
p.ok, p.failed {{ color: white; padding: .3rem .7rem; border-radius: .3rem;
                  display: inline-block; }}
pre.error {{ background: #fdecea; color: #7a1b14; padding: .5rem; white-space: pre-wrap; }}
.figures img {{ width: 22rem; max-width: 100%; margin: 0 .5rem .5rem 0;
                border: 1px solid #d8dce3; }}
img.wide {{ max-width: 100%; }}
{css}
</style>
{style}
</head>
<body>
{watermark}
<h1>{title}</h1>
<p class="note">preset <b>{preset}</b> · {images} · started {started} UTC · {seconds} s of
notebook time · commit {commit} · toolkit {version} · rule sets: {rules} ·
<a href="manifest.json">manifest.json</a></p>
<p class="note"><a href="#findings">Findings</a> · <a href="#glossary">Glossary</a> ·
<a href="#notebooks">Notebooks</a></p>
<p class="{summary_class}">{summary}</p>
<h2 id="findings">Findings</h2>
{calibration}
{headline}
<h2 id="glossary">Glossary</h2>
{glossary}
<h2 id="notebooks">Notebooks</h2>
{sections}
</body>
</html>
"""
