"""Axes-first matplotlib helpers: each takes an `Axes` (or several) and a tidy DataFrame.

No pyplot state here: helpers draw on the axes they are given, return what they drew, and
never show or close figures. Colours are fixed per format, detail and model, so the same
series has the same colour in every figure of a report. Legends sit outside the data area.
Line plots draw a summary table (`toolkit.summary.summarize`: one row per point, the
aggregation named in the column), so a figure shows exactly what its table shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, LogLocator, NullLocator

from toolkit.outputs import atomic_path

FORMAT_COLORS = {"jpeg": "#1f77b4", "webp": "#ff7f0e", "png": "#2ca02c"}
TRANSPORT_COLORS = {"data_url": "#d62728", "url": "#9467bd", "file_id": "#8c564b"}
DETAIL_STYLES = {"low": ":", "auto": "-.", "high": "-", "original": "--"}
UNKNOWN_COLOR = "#7f7f7f"
LOG_SPAN = 30  # a log axis once the largest value is at least 30 times the smallest
FIGURE_DPI = 110  # modest: figures are embedded in every report page


@cache
def _model_palette() -> dict[str, str]:
    """One colour per model the rule sets know, assigned in sorted order (tab10, then tab20b)."""
    from toolkit.rulesets import known_models, rule_sets

    models = sorted({m for rules in rule_sets() for m in known_models(rules)})
    colors = [*map(str, mcolors.TABLEAU_COLORS.values()), *_tab("tab20b")]
    return {m: colors[i % len(colors)] for i, m in enumerate(models)}


def _tab(name: str) -> list[str]:
    import matplotlib

    colormap = matplotlib.colormaps[name]
    return [mcolors.to_hex(colormap(i)) for i in range(colormap.N)]


def color_for(name: str) -> str:
    """The fixed colour of a format (`jpeg`, `webp`, `png`), a transport (`data_url`, `url`,
    `file_id`) or a model; grey if unknown."""
    return (
        FORMAT_COLORS.get(name)
        or TRANSPORT_COLORS.get(name)
        or _model_palette().get(name, UNKNOWN_COLOR)
    )


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
        (line,) = ax.plot(group[x], group[y], marker="o", **style(key))
        lines.append(line)
    return lines


def _named_style(name: str) -> dict:
    """A series' colour and label from its name (a format or a transport)."""
    return {"color": color_for(name), "label": name}


def _points_by_model(ax: Axes, data: pd.DataFrame, x: str, y: str) -> list:
    """One scatter per model, in the model's colour."""
    return [
        ax.scatter(g[x], g[y], color=color_for(m), label=m)
        for m, g in data.groupby("model", sort=True)
    ]


def _scale(ax: Axes, values: pd.Series, axis: str, column: str) -> None:
    """A log scale when `values` span widely; SI byte labels when `column` is `bytes`."""
    auto_log(ax, values, axis)
    if column == "bytes":
        bytes_axis(ax, axis)


def _ticks_at(ax: Axes, values: pd.Series) -> None:
    """x ticks at exactly the values measured (log scale when they span widely)."""
    auto_log(ax, values, axis="x")
    ticks = sorted(set(values))
    ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
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
    format, quality)."""
    data = _valid(summary, "quality", y)
    lines = _lines(ax, data, "format", "quality", y, _named_style)
    _scale(ax, data[y], "y", "bytes" if y.startswith("bytes") else y)
    _label(ax, "quality setting (1-95)", ylabel, "format" if legend else None)
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
    _scale(ax, data[x], "x", "bytes" if x.startswith("bytes") else x)
    _label(ax, xlabel, ylabel, "format" if legend else None)
    return lines


def plot_tokens_vs_max_side(
    ax: Axes,
    summary: pd.DataFrame,
    *,
    y: str = "tokens_mean",
    ylabel: str = "image tokens, mean per image",
    legend: bool = True,
) -> list:
    """`y` against the max side, colour per model and line style per detail (a summary by
    model, detail, max side)."""
    data = _valid(summary, "max_side", y)

    def style(key: tuple[str, str]) -> dict:
        model, detail = key
        return {
            "color": color_for(model),
            "linestyle": DETAIL_STYLES.get(detail, "-"),
            "label": f"{model} · {detail}",
        }

    lines = _lines(ax, data, ["model", "detail"], "max_side", y, style)
    auto_log(ax, data[y])
    _label(ax, "longest side sent (px)", ylabel, "model · detail" if legend else None)
    return lines


def plot_floor_curve(ax: Axes, curve: pd.DataFrame, *, legend: bool = True) -> list:
    """Dollars per 1,000 images against the fidelity floor (a `toolkit.fidelity_curve` table,
    one model): a colour per category, solid with dots for one pick per category, dashed with
    crosses for each image at its own setting; a floor no setting keeps leaves a gap."""
    data = curve.sort_values("min_fidelity")
    categories = sorted(data["category"].unique())
    colors = dict(zip(categories, mcolors.TABLEAU_COLORS.values(), strict=False))
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
    """Horizontal bars of `value` per model (one row per model and `label` in `df`).

    `df` is already aggregated: one bar per row, coloured by model, grouped by `label`.
    """
    data = _valid(df, "model", label, value).sort_values([label, "model"])
    y = np.arange(len(data))
    bars = ax.barh(y, data[value], color=[color_for(m) for m in data["model"]])
    ax.set_yticks(y, [f"{m} · {s}" for m, s in zip(data["model"], data[label], strict=True)])
    ax.invert_yaxis()
    auto_log(ax, data[value], axis="x")
    ax.set(xlabel=xlabel)
    ax.bar_label(bars, labels=[f"${v:,.4g}" for v in data[value]], padding=3, fontsize=8)
    ax.margins(x=0.25)
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
    _label(ax, "estimated image tokens per request", "billed input tokens per request", "model")
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
    _label(ax, "questions asked about each image", "bytes sent", "transport" if legend else None)
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
    sides = sorted(data["max_side"].unique())
    colours = _tab("viridis")[:210]  # its last, yellow tones hardly show on white
    points = [
        ax.scatter(
            group["reader_word_recall"],
            group["model_word_recall_relative"],
            color=colours[int(i * (len(colours) - 1) / max(1, len(sides) - 1))],
            label=f"{side} px",
        )
        for i, (side, group) in enumerate(data.groupby("max_side", sort=True))
    ]
    ax.axhline(floor, color=UNKNOWN_COLOR, linestyle="--", label=f"model keeps {floor:g}")
    threshold = thresholds.get(str(rows["model"].iloc[0])) if len(rows) else None
    if threshold is not None:
        ax.axvline(threshold, color="#d62728", label=f"reader threshold {threshold:.2f}")
    ax.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03))
    _label(
        ax,
        "reader word recall of the view",
        "model's words kept (of its best view)",
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
