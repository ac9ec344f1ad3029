"""Plot helpers draw on the Axes they are given, with fixed colours, units and sensible scales."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from PIL import Image

from toolkit import plots
from toolkit.images import fit_size
from toolkit.summary import at_plateau, summarize
from toolkit.tokens import image_tokens


def axes(n: int = 1):
    fig = Figure(layout="constrained")
    return fig, fig.subplots(1, n, squeeze=False)[0]


@pytest.fixture
def sweep() -> pd.DataFrame:
    """A tidy frame shaped like a sweep: 2 images x 2 formats x 3 qualities x 2 sides."""
    rows = []
    for image in ("a", "b"):
        for fmt, factor in (("jpeg", 1.0), ("webp", 0.7)):
            for quality in (50, 70, 90):
                for side in (512, 2048):
                    size = factor * quality * side * (2 if image == "b" else 1)
                    rows.append(
                        {
                            "image": image,
                            "path": f"/data/{image}",
                            "format": fmt,
                            "quality": quality,
                            "max_side": side,
                            "model": "gpt-4o",
                            "detail": "high",
                            "bytes": size,
                            "ssim": 0.8 + quality / 1000,
                            "tokens": 85 if side == 512 else 20_000,
                            "error": None,
                        }
                    )
    rows.append({**rows[0], "bytes": 1e12, "error": "CorruptImageError: truncated"})
    return pd.DataFrame(rows)


def test_bytes_vs_quality_draws_the_summary_it_is_given_without_pyplot(sweep):
    before = plt.get_fignums()
    fig, (ax,) = axes()
    summary = summarize(sweep, ["format", "quality"], means=["bytes"])
    lines = plots.plot_by_quality(ax, summary)
    assert [line.get_label() for line in lines] == ["jpeg", "webp"]
    assert to_hex(lines[0].get_color()) == plots.FORMAT_COLORS["jpeg"]
    jpeg = sweep[(sweep.format == "jpeg") & sweep.error.isna()]
    expected = jpeg.groupby("quality")["bytes"].mean().to_numpy()
    np.testing.assert_allclose(lines[0].get_ydata(), expected)  # the error row is left out
    assert "mean per image" in ax.get_ylabel() and ax.get_xlabel()
    assert ax.get_yscale() == "linear"  # 4x range: no log axis
    assert plt.get_fignums() == before


def test_tokens_stay_linear_with_ticks_at_the_sides_sent_and_the_legend_outside(sweep):
    fig, (ax,) = axes()
    summary = summarize(sweep, ["model", "detail", "max_side"], means=["tokens"])
    lines = plots.plot_tokens_vs_max_side(ax, summary)
    assert ax.get_yscale() == "linear"  # 85 to 20,000 tokens, read as they are
    assert [t.get_text() for t in ax.get_xticklabels()] == ["512", "2048"]
    assert lines[0].get_label() == "gpt-4o · high"
    assert lines[0].get_linestyle() == "-"
    fig.draw_without_rendering()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1


def test_fidelity_plots_one_point_per_quality(sweep):
    fig, (ax,) = axes()
    summary = summarize(sweep, ["format", "quality"], means=["bytes"], minimums=["ssim"])
    lines = plots.plot_fidelity(ax, summary, y="ssim_min")
    assert [len(line.get_xdata()) for line in lines] == [3, 3]
    np.testing.assert_allclose(lines[0].get_ydata(), [0.85, 0.87, 0.89])
    assert "SSIM" in ax.get_ylabel()


def test_summaries_name_their_aggregation_and_count_images(sweep):
    sweep = sweep.assign(
        path=sweep["image"], cost_usd=0.002, seen_word_recall=[0.9, None] * 12 + [0.1]
    )
    table = summarize(
        sweep, ["format"], means=["bytes", "cost_usd"], minimums=["seen_word_recall"]
    )
    assert list(table.columns) == [
        "format",
        "images",
        "few_images",
        "text_images",
        "bytes_mean",
        "cost_usd_per_1k",
        "seen_word_recall_min",
    ]
    assert table["images"].tolist() == [2, 2]
    assert table["cost_usd_per_1k"].tolist() == pytest.approx([2.0, 2.0])
    assert table["seen_word_recall_min"].tolist() == [0.9, 0.9]  # the error row is left out


def test_the_plateau_is_the_smallest_side_past_which_tokens_stop_growing():
    """A 4000x3000 photo: gpt-4o (high) keeps 1024x768 from 1024 px on; gpt-5.5 (high) still
    bills more at 2048 px, the largest side this grid sends."""
    sides = {"gpt-4o": (512, 1024, 2048, 4096), "gpt-5.5": (512, 1024, 2048)}
    summary = pd.DataFrame(
        {
            "model": model,
            "detail": "high",
            "max_side": side,
            "tokens_mean": float(image_tokens(*fit_size(4000, 3000, side), model, "high").tokens),
        }
        for model, swept in sides.items()
        for side in swept
    )
    plateau = at_plateau(summary, ["model", "detail"]).set_index("model")
    assert plateau["max_side"].to_dict() == {"gpt-4o": 1024, "gpt-5.5": 2048}
    assert plateau["still_growing"].to_dict() == {"gpt-4o": False, "gpt-5.5": True}
    assert plateau.loc["gpt-4o", "tokens_mean"] == 765  # 4 tiles + 85
    one_side = at_plateau(summary[summary["max_side"] == 512], ["model", "detail"])
    assert not one_side["still_growing"].any()  # one side swept: nothing to say it grows


def test_each_model_has_its_own_hue_and_marker_whatever_the_order_given():
    models = ["gpt-5.5", "gpt-4o", "gpt-4.1-mini", "gpt-5.4-mini"]
    styles = plots.series_styles(models)
    assert styles == plots.series_styles(sorted(models)) == plots.series_styles(models * 2)
    colors = [styles[m]["color"] for m in models]
    assert len(set(colors)) == len(models) and set(colors) <= set(plots.PALETTE)
    assert len({styles[m]["marker"] for m in models}) == len(models)
    eight = plots.series_styles([f"m{i}" for i in range(8)])  # the full preset's models
    assert len({s["color"] for s in eight.values()}) == 8
    assert plots.color_for("jpeg") != plots.color_for("webp")
    assert plots.color_for("no-such-format") == plots.UNKNOWN_COLOR


def test_cost_bars_are_linear_in_dollars_and_labelled_with_four_significant_digits():
    costs = pd.DataFrame(
        {
            "model": ["gpt-4o", "gpt-5.5"],
            "settings": ["seed", "seed"],
            "cost_usd": [0.5, 0.0003744123],
        }
    )
    fig, (ax,) = axes()
    bars = plots.plot_cost_by_model(ax, costs, xlabel="$ per 1,000 images")
    styles = plots.series_styles(costs["model"])
    assert [to_hex(b.get_facecolor()) for b in bars] == [
        styles["gpt-4o"]["color"],
        styles["gpt-5.5"]["color"],
    ]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["gpt-4o · seed", "gpt-5.5 · seed"]
    assert ax.get_xscale() == "linear" and ax.get_xlim()[0] == 0
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["$0.5", "$0.0003744"]
    fig.draw_without_rendering()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(t.startswith("$") and "e" not in t for t in ticks)


def test_the_monthly_figure_puts_standard_and_batch_side_by_side_for_every_pick():
    projection = pd.DataFrame(
        {
            "model": ["gpt-4o"],
            "seed_monthly_usd": [106.25],
            "seed_monthly_batch_usd": [53.125],
            "monthly_usd": [148.75],
            "monthly_batch_usd": [74.375],
            "adaptive_monthly_usd": [148.75],
            "adaptive_monthly_batch_usd": [74.375],
        }
    )
    fig, (ax,) = axes()
    bars = plots.plot_monthly(ax, projection)
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names[:2] == ["gpt-4o · seed recipe, standard", "gpt-4o · seed recipe, Batch"]
    assert [b.get_width() for b in bars] == [106.25, 53.125, 148.75, 74.375, 148.75, 74.375]
    assert [b.get_hatch() or "" for b in bars[:2]] == ["", "//"]
    assert [t.get_text() for t in ax.texts][:2] == ["$106.2", "$53.12"]


def test_every_axis_of_every_figure_names_its_unit(sweep):
    summary = summarize(sweep, ["format", "quality"], means=["bytes"], minimums=["ssim"])
    priced = sweep.assign(cost_usd=sweep["tokens"] * 2.5e-6)
    by_side = summarize(priced, ["model", "detail", "max_side"], means=["tokens", "cost_usd"])
    fig, axs = axes(4)
    fig.set_size_inches(20, 4)
    plots.plot_by_quality(axs[0], summary)
    plots.plot_fidelity(axs[1], summary, y="ssim_min")
    plots.plot_tokens_vs_max_side(axs[2], by_side)
    plots.plot_tokens_vs_max_side(axs[3], by_side, y="cost_usd_per_1k", ylabel="$ per 1,000")
    for ax in axs:
        for label in (ax.get_xlabel(), ax.get_ylabel()):
            assert re.search(r"\(.+\)|\$", label), f"no unit in {label!r}"
    fig.draw_without_rendering()
    assert all(t.get_text().startswith("$") for t in axs[3].get_yticklabels() if t.get_text())
    assert axs[3].get_ylim()[0] == 0  # dollars from zero


def test_lines_that_coincide_both_show(sweep):
    two = pd.concat([sweep, sweep.assign(model="gpt-5.5")])  # the same numbers, two models
    fig, (ax,) = axes()
    summary = summarize(two, ["model", "detail", "max_side"], means=["tokens"])
    lines = plots.plot_tokens_vs_max_side(ax, summary)
    first, second = lines
    assert first.get_linewidth() > second.get_linewidth()  # the first drawn wider, below
    assert first.get_markersize() > second.get_markersize()
    assert first.get_zorder() < second.get_zorder() and first.get_marker() != second.get_marker()


def test_detail_grid_shows_each_view_and_hides_spare_axes():
    views = [("low", Image.new("RGB", (32, 16), "red")), ("high", Image.new("L", (64, 32), 128))]
    fig, axs = axes(3)
    shown = plots.plot_detail_grid(axs, views)
    assert [im.get_array().shape[:2] for im in shown] == [(16, 32), (32, 64)]
    assert [ax.get_title() for ax in axs[:2]] == ["low", "high"]
    assert not axs[2].get_visible()
    with pytest.raises(ValueError, match="3 panels"):
        plots.plot_detail_grid(axs[:2], [*views, views[0]])


def test_save_figure_writes_a_png_under_figures(tmp_path, sweep):
    fig, (ax,) = axes()
    plots.plot_by_quality(ax, summarize(sweep, ["format", "quality"], means=["bytes"]))
    path = plots.save_figure(fig, "bytes", tmp_path)
    assert path == tmp_path / "figures" / "bytes.png"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 100


def test_a_zero_keeps_the_axis_linear():
    fig, (ax,) = axes()
    plots.auto_log(ax, [0, 1, 100, 1000])
    assert ax.get_yscale() == "linear"
    plots.auto_log(ax, [1, 100, 1000])
    assert ax.get_yscale() == "log"


def test_the_floor_curve_draws_one_pick_and_per_image_per_category():
    curve = pd.DataFrame(
        {
            "model": "gpt-4o",
            "category": ["photo"] * 3 + ["graphic"] * 3,
            "min_fidelity": [0.99, 0.85, 0.95] * 2,
            "cost_usd_per_1k": [np.nan, 0.2, 0.6, 0.2, 0.2, 0.2],
            "adaptive_cost_usd_per_1k": [np.nan, 0.2, 0.4, 0.2, 0.2, 0.2],
        }
    )
    fig, (ax,) = axes()
    lines = plots.plot_floor_curve(ax, curve)
    assert [line.get_label() for line in lines] == [
        "graphic · one pick",
        "graphic · per image",
        "photo · one pick",
        "photo · per image",
    ]
    photo = lines[3]
    assert photo.get_xdata().tolist() == [0.85, 0.95, 0.99]  # sorted by floor
    assert photo.get_ydata()[:2].tolist() == [0.2, 0.4] and np.isnan(photo.get_ydata()[2])
    assert lines[2].get_color() == photo.get_color() != lines[0].get_color()
    assert (lines[2].get_linestyle(), photo.get_linestyle()) == ("-", "--")
    assert ax.get_legend() is not None and "floor" in ax.get_xlabel()
