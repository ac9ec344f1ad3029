"""Axes-first matplotlib helpers: each takes an `Axes` (or several) and a tidy DataFrame.

No pyplot state here: helpers draw on the axes they are given, return what they drew, and
never show or close figures. Figures are made to be pasted into a review: colours from the
Okabe-Ito palette (told apart with any colour vision), a distinct colour and marker per model
(assigned in sorted order, so the same models look the same in every figure of a report),
line styles and marker fills per detail level so overlapping lines stay visible, dollar axes
linear with `$` ticks, labels with at most 4 significant digits, and a unit on every axis.
Legends sit outside the data area. Line plots draw a summary table
(`toolkit.summary.summarize`: one row per point, the aggregation named in the column), so a
figure shows exactly what its table shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, FuncFormatter, LogLocator, NullLocator

from toolkit.formatting import short_usd
from toolkit.outputs import atomic_path

# Okabe & Ito (2008), colour-blind safe; yellow last, as it is faint on white.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#000000", "#f0e442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
FORMAT_COLORS = {"jpeg": PALETTE[0], "webp": PALETTE[1], "png": PALETTE[2]}
TRANSPORT_COLORS = {"data_url": PALETTE[4], "url": PALETTE[5], "file_id": PALETTE[3]}
# detail -> line style, marker fill, marker size: hollow markers drawn larger, so a filled
# one on the same point (low and high alike on a model) still shows inside it
DETAIL_STYLES = {
    "low": (":", "none", 9),
    "auto": ("-.", "left", 7),
    "high": ("-", "full", 5),
    "original": ("--", "top", 7),
}
UNKNOWN_COLOR = "#7f7f7f"
LOG_SPAN = 30  # a log axis once the largest value is at least 30 times the smallest
FIGURE_DPI = 110  # modest: figures are embedded in every report page


def series_styles(names) -> dict[str, dict]:
    """A distinct colour and marker per name (models, categories), in sorted order, so the
    same names get the same styles in every figure."""
    ordered = sorted(set(names))
    return {
        name: {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[(i + i // 8) % 8]}
        for i, name in enumerate(ordered)
    }


def color_for(name: str) -> str:
    """The fixed colour of a format (`jpeg`, `webp`, `png`) or a transport (`data_url`, `url`,
    `file_id`); grey if unknown (models: `series_styles`)."""
    return FORMAT_COLORS.get(name) or TRANSPORT_COLORS.get(name) or UNKNOWN_COLOR


def money_axis(ax: Axes, axis: str = "y") -> None:
    """Dollar tick labels ($0.25, $1.5k) on a linear axis that starts at zero (call it once
    the data is drawn; bars start at zero by themselves)."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(
        FuncFormatter(lambda value, _: short_usd(value))
    )
    if axis == "y":
        ax.set_ylim(bottom=0)


def _is_money(column: str) -> bool:
    return column.endswith(("_usd", "usd_per_1k")) or column == "usd"


def _valid(df: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Rows without an error and with every needed column present."""
    if "error" in df.columns:
        df = df[df["error"].isna()]
    return df.dropna(subset=list(columns))


def bytes_axis(ax: Axes, axis: str = "y") -> None:
    """Label byte counts with SI prefixes (kB, MB) so tick labels stay short; on a log scale
    the 2s and 5s between the powers of ten too."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(EngFormatter(unit="B"))
    if target.get_scale() == "log":
        target.set_minor_locator(LogLocator(subs=(2, 5)))
        target.set_minor_formatter(EngFormatter(unit="B"))


def auto_log(ax: Axes, values: Sequence[float] | pd.Series, axis: str = "y") -> None:
    """Use a log scale on `axis` when the values are all positive and span `LOG_SPAN` or more
    (a log axis cannot show a zero)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size and values.min() > 0 and values.max() >= LOG_SPAN * values.min():
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")


def legend_outside(ax: Axes, title: str | None = None) -> None:
    """A legend to the right of the axes, where it cannot hide data."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(title=title, loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)


def facet_axes(axes, n: int) -> list[Axes]:
    """The first `n` axes of a grid, row by row; the others are hidden."""
    axes = list(np.ravel(axes))
    if n > len(axes):
        raise ValueError(f"{n} panels but only {len(axes)} axes")
    for ax in axes[n:]:
        ax.set_visible(False)
    return axes[:n]


def plot_facets(
    fig: Figure,
    summary: pd.DataFrame,
    by: str,
    plot: Callable[..., list],
    *,
    title: str = "",
    columns: int = 3,
    panel: tuple[float, float] = (4.2, 3.2),
    **options,
) -> list[Axes]:
    """One panel in `fig` per value of `by` (sorted), at most `columns` a row, each `panel`
    inches (the figure sized to fit, with room for a legend): `plot(ax, rows, legend=...,
    **options)` with the legend beside the first row's last panel, and the value followed by
    `title` as the panel's title. Returns the panels."""
    keys = sorted(summary[by].unique())
    ncols = min(columns, len(keys))
    nrows = -(-len(keys) // ncols)
    fig.set_size_inches(panel[0] * ncols + 1.2, panel[1] * nrows)
    axes = facet_axes(fig.subplots(nrows, ncols, squeeze=False), len(keys))
    for i, (ax, key) in enumerate(zip(axes, keys, strict=True)):
        plot(ax, summary[summary[by] == key], legend=i == ncols - 1, **options)
        ax.set_title(f"{key}{title}")
    return axes


def _lines(ax: Axes, data: pd.DataFrame, by, x: str, y: str, style) -> list:
    """One marked line per group of `data` by `by` (sorted); `style(key)` gives its colour,
    label and so on."""
    lines = []
    for key, group in data.groupby(by, sort=True):
        (line,) = ax.plot(group[x], group[y], **{"marker": "o", **style(key)})
        lines.append(line)
    return lines


def _named_style(name: str) -> dict:
    """A series' colour and label from its name (a format or a transport)."""
    return {"color": color_for(name), "label": name}


def _points_by_model(ax: Axes, data: pd.DataFrame, x: str, y: str) -> list:
    """One scatter per model, in the model's colour and marker."""
    styles = series_styles(data["model"])
    return [
        ax.scatter(g[x], g[y], label=m, **styles[m]) for m, g in data.groupby("model", sort=True)
    ]


def _scale(ax: Axes, values: pd.Series, axis: str, column: str) -> None:
    """Dollars on a linear `$` axis; otherwise a log scale when `values` span widely, with SI
    byte labels when `column` is bytes."""
    if _is_money(column):
        money_axis(ax, axis)
        return
    auto_log(ax, values, axis)
    if column.startswith("bytes") or column.endswith("bytes"):
        bytes_axis(ax, axis)


def _ticks_at(ax: Axes, values: pd.Series) -> None:
    """x ticks at exactly the values measured (log scale when they span widely), slanted
    when there are many."""
    auto_log(ax, values, axis="x")
    ticks = sorted(set(values))
    ax.set_xticks(ticks, [f"{v:g}" for v in ticks], rotation=45 if len(ticks) > 5 else 0)
    ax.xaxis.set_minor_locator(NullLocator())


def _label(ax: Axes, xlabel: str, ylabel: str, legend_title: str | None) -> None:
    """Axis labels, and the legend outside unless `legend_title` is None."""
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if legend_title is not None:
        legend_outside(ax, legend_title)


def plot_by_quality(
    ax: Axes,
    summary: pd.DataFrame,
    *,
    y: str = "bytes_mean",
    ylabel: str = "encoded size, mean per image (bytes)",
    legend: bool = True,
) -> list:
    """`y` (default: bytes) against the quality setting, one line per format (a summary by
    format, quality), x ticks at the qualities measured."""
    data = _valid(summary, "quality", y)
    lines = _lines(ax, data, "format", "quality", y, _named_style)
    _scale(ax, data[y], "y", y)
    _ticks_at(ax, data["quality"])
    _label(ax, "encoder quality (Pillow's 1-95 scale)", ylabel, "format" if legend else None)
    return lines


def plot_fidelity(
    ax: Axes,
    summary: pd.DataFrame,
    *,
    x: str = "bytes_mean",
    y: str = "compression_ssim_min",
    xlabel: str = "encoded size, mean per image (bytes)",
    ylabel: str = "SSIM, worst image (1 = identical)",
    legend: bool = True,
) -> list:
    """Fidelity against size, one line per format, one point per quality (a summary by
    format, quality)."""
    data = _valid(summary, x, y).sort_values(["format", "quality"])
    lines = _lines(ax, data, "format", x, y, _named_style)
    _scale(ax, data[x], "x", x)
    _label(ax, xlabel, ylabel, "format" if legend else None)
    return lines


def plot_tokens_vs_max_side(
    ax: Axes,
    summary: pd.DataFrame,
    *,
    y: str = "tokens_mean",
    ylabel: str = "image tokens, mean per image (tokens)",
    legend: bool = True,
) -> list:
    """`y` against the max side on linear axes (dollars with `$` ticks), colour and marker
    per model, line style and marker fill per detail, x ticks at the sides measured (a
    summary by model, detail, max side)."""
    data = _valid(summary, "max_side", y)
    styles = series_styles(data["model"])

    def style(key: tuple[str, str]) -> dict:
        model, detail = key
        line, fill, size = DETAIL_STYLES.get(detail, ("-", "full", 5))
        return {
            **styles[model],
            "linestyle": line,
            "fillstyle": fill,
            "markersize": size,
            "label": f"{model} · {detail}",
        }

    lines = _lines(ax, data, ["model", "detail"], "max_side", y, style)
    _halo(lines, list(styles))
    if _is_money(y):
        money_axis(ax)
    _ticks_at(ax, data["max_side"])
    _label(ax, "longest side sent (px)", ylabel, "model · detail" if legend else None)
    return lines


def _halo(lines: list, models: list[str]) -> None:
    """Lines of earlier models drawn wider, with larger markers and below later ones: where
    two models' lines coincide, both still show."""
    for line in lines:
        rank = models.index(line.get_label().split(" · ")[0])
        behind = len(models) - 1 - rank
        line.set(
            linewidth=1.5 + behind,
            markersize=line.get_markersize() + 2 * behind,
            zorder=2 + rank,
        )


def plot_floor_curve(ax: Axes, curve: pd.DataFrame, *, legend: bool = True) -> list:
    """Dollars per 1,000 images against the fidelity floor (a `toolkit.fidelity_curve` table,
    one model): a colour per category, solid with dots for one pick per category, dashed with
    crosses for each image at its own setting; a floor no setting keeps leaves a gap."""
    data = curve.sort_values("min_fidelity")
    colors = {c: style["color"] for c, style in series_styles(data["category"]).items()}
    lines = []
    for category, group in data.groupby("category", sort=True):
        for column, style, marker, picked in (
            ("cost_usd_per_1k", "-", "o", "one pick"),
            ("adaptive_cost_usd_per_1k", "--", "x", "per image"),
        ):
            (line,) = ax.plot(
                group["min_fidelity"],
                group[column],
                marker=marker,
                linestyle=style,
                color=colors[category],
                label=f"{category} · {picked}",
            )
            lines.append(line)
    money_axis(ax)
    _label(
        ax,
        "fidelity floor (share of the model's ceiling SSIM)",
        "$ per 1,000 images",
        "category · settings" if legend else None,
    )
    return lines


def plot_cost_by_model(
    ax: Axes,
    df: pd.DataFrame,
    *,
    value: str = "cost_usd",
    label: str = "settings",
    xlabel: str = "dollars (USD)",
) -> list:
    """Horizontal bars of dollars `value` per model (one row per model and `label` in `df`) on
    a linear `$` axis, each labelled with its amount (at most 4 significant digits).

    `df` is already aggregated: one bar per row, coloured by model, grouped by `label`.
    """
    data = _valid(df, "model", label, value).sort_values([label, "model"])
    styles = series_styles(data["model"])
    y = np.arange(len(data))
    bars = ax.barh(y, data[value], color=[styles[m]["color"] for m in data["model"]])
    ax.set_yticks(y, [f"{m} · {s}" for m, s in zip(data["model"], data[label], strict=True)])
    ax.invert_yaxis()
    money_axis(ax, "x")
    ax.set(xlabel=xlabel)
    ax.bar_label(bars, labels=[short_usd(v) for v in data[value]], padding=3, fontsize=8)
    ax.margins(x=0.2)
    return list(bars)


MONTHLY_BARS = {  # projection column -> (settings, tier)
    "seed_monthly_usd": ("seed recipe", "standard"),
    "seed_monthly_batch_usd": ("seed recipe", "Batch"),
    "monthly_usd": ("one pick per category", "standard"),
    "monthly_batch_usd": ("one pick per category", "Batch"),
    "adaptive_monthly_usd": ("per image (adaptive)", "standard"),
    "adaptive_monthly_batch_usd": ("per image (adaptive)", "Batch"),
}


def plot_monthly(ax: Axes, projection: pd.DataFrame) -> list:
    """Monthly dollars per model (a `toolkit.monthly_projection` table): the seed recipe, one
    pick per category and each image its own setting, each at standard prices (solid) and
    Batch prices (hatched) side by side, every bar labelled with its amount."""
    styles = series_styles(projection["model"])
    rows = [
        (model, *MONTHLY_BARS[column], value)
        for model, group in projection.groupby("model", sort=True)
        for column in MONTHLY_BARS
        for value in [group[column].iloc[0]]
        if pd.notna(value)
    ]
    y = np.arange(len(rows))
    bars = ax.barh(
        y,
        [value for *_, value in rows],
        color=[styles[model]["color"] for model, *_ in rows],
        hatch=["//" if tier == "Batch" else "" for _, _, tier, _ in rows],
        edgecolor="white",
    )
    ax.set_yticks(y, [f"{model} · {settings}, {tier}" for model, settings, tier, _ in rows])
    ax.invert_yaxis()
    money_axis(ax, "x")
    ax.set(xlabel="$ a month (image input tokens)")
    ax.bar_label(bars, labels=[short_usd(value) for *_, value in rows], padding=3, fontsize=8)
    ax.margins(x=0.2)
    return list(bars)


def plot_billed_vs_estimate(ax: Axes, df: pd.DataFrame) -> list:
    """Billed input tokens against the image-token estimate, one point per request.

    The dashed line is "billed = estimate"; points sit above it by the text tokens.
    """
    data = _valid(df, "estimated_image_tokens", "input_tokens")
    points = _points_by_model(ax, data, "estimated_image_tokens", "input_tokens")
    values = pd.concat([data["estimated_image_tokens"], data["input_tokens"]])
    if len(values):
        ax.axline((values.min(), values.min()), slope=1, color=UNKNOWN_COLOR, linestyle="--")
    auto_log(ax, values, axis="x")
    auto_log(ax, values, axis="y")
    _label(
        ax,
        "estimated image tokens per request (tokens)",
        "billed input tokens per request (tokens)",
        "model",
    )
    return points


def plot_latency_vs_bytes(ax: Axes, df: pd.DataFrame) -> list:
    """Latency of each answered request against the size of its body."""
    data = _valid(df, "body_bytes", "latency_ms")
    points = _points_by_model(ax, data, "body_bytes", "latency_ms")
    auto_log(ax, data["body_bytes"], axis="x")
    bytes_axis(ax, "x")
    _label(ax, "request body (bytes)", "latency (ms)", "model")
    return points


def plot_bytes_by_questions(ax: Axes, table: pd.DataFrame, *, legend: bool = True) -> list:
    """Bytes the client sends (uploads once, then the request bodies) against the questions
    asked about each image, one line per transport (`toolkit.transport.bytes_per_questions`)."""
    data = _valid(table, "questions", "total_bytes")
    lines = _lines(ax, data, "transport", "questions", "total_bytes", _named_style)
    _ticks_at(ax, data["questions"])
    _scale(ax, data["total_bytes"], "y", "bytes")
    _label(
        ax,
        "questions asked about each image (count)",
        "bytes sent (bytes)",
        "transport" if legend else None,
    )
    return lines


def plot_latency_by_bandwidth(
    ax: Axes, summary: pd.DataFrame, *, y: str = "request_ms_mean", legend: bool = True
) -> list:
    """Time per question against the emulated link speed, one line per transport (a summary
    by transport and `bandwidth_mbit`)."""
    data = _valid(summary, "bandwidth_mbit", y)
    lines = _lines(ax, data, "transport", "bandwidth_mbit", y, _named_style)
    _ticks_at(ax, data["bandwidth_mbit"])
    auto_log(ax, data[y])
    _label(
        ax,
        "emulated link speed (Mbit/s)",
        "time per question, mean per image (ms)",
        "transport" if legend else None,
    )
    return lines


def plot_calibration(
    ax: Axes,
    rows: pd.DataFrame,
    *,
    thresholds: Mapping[str, float | None],
    floor: float = 0.95,
    legend: bool = True,
) -> list:
    """One model's calibration (`toolkit.score_calibration` rows): the share of its words the
    model keeps in each view (relative to its best view) against the reader's word recall of
    the same view, one point per view counted, coloured by max side; the model's floor
    (horizontal) and the reader's threshold found for the model (vertical, from
    `thresholds`: model -> value or None)."""
    data = _valid(rows[rows["counted"]], "reader_word_recall", "model_word_recall_relative")
    sides = data["max_side"].nunique()
    colours = colormaps["viridis"](np.linspace(0, 0.8, sides))  # its yellow end is faint
    points = [
        ax.scatter(
            group["reader_word_recall"],
            group["model_word_recall_relative"],
            color=mcolors.to_hex(colours[i]),
            marker=MARKERS[i % len(MARKERS)],
            label=f"{side} px",
        )
        for i, (side, group) in enumerate(data.groupby("max_side", sort=True))
    ]
    ax.axhline(floor, color=UNKNOWN_COLOR, linestyle="--", label=f"model keeps {floor:g}")
    threshold = thresholds.get(str(rows["model"].iloc[0])) if len(rows) else None
    if threshold is not None:
        ax.axvline(threshold, color=PALETTE[4], label=f"reader threshold {threshold:.2f}")
    ax.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03))
    _label(
        ax,
        "reader word recall of the view (share of words)",
        "model's words kept (share of its best view's)",
        "max side sent" if legend else None,
    )
    return points


def plot_detail_grid(axes: Sequence[Axes], views: Sequence[tuple[str, object]]) -> list:
    """Show images side by side, one per axes, titled with their label (image at true pixels).

    `views` holds (label, PIL image or array) pairs, for example what a model keeps of one
    image at each detail level. Extra axes are hidden.
    """
    shown = []
    for ax, (label, image) in zip(facet_axes(axes, len(views)), views, strict=True):
        pixels = np.asarray(image)
        shown.append(
            ax.imshow(pixels, cmap="gray" if pixels.ndim == 2 else None, vmin=0, vmax=255)
        )
        ax.set_title(label, fontsize=9)
        ax.set_axis_off()
    return shown


def save_figure(fig: Figure, name: str, out_dir: str | Path) -> Path:
    """Save `fig` as `<out_dir>/figures/<name>.png` (modest dpi, tight box) and return the path."""
    path = Path(out_dir) / "figures" / f"{name}.png"
    with atomic_path(path) as temp:  # whole or not at all
        fig.savefig(
            temp, format="png", dpi=FIGURE_DPI, bbox_inches="tight", metadata={"Software": None}
        )
    return path
