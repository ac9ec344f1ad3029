"""Charts with small text, drawn by matplotlib from seeded data.

Tick labels, legends and annotations are 6-7.5 pt at 100 dpi, i.e. 8-10 px: the size of
dashboard and report figures, which a provider's resize easily makes unreadable.
"""

import io
import random
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.text import Text
from PIL import Image

from samplegen import texts

DPI = 100
SMALL = {
    "font.size": 7,
    "axes.titlesize": 9,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.labelsize": 7.5,
}


def rendered(fig: plt.Figure, dpi: int = DPI) -> Image.Image:
    """The figure as an RGB image, without matplotlib's version in the metadata, with the
    text it shows (`info["truth"]`: `shown_text`)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    truth = shown_text(fig)
    plt.close(fig)
    buffer.seek(0)
    with Image.open(buffer) as image:
        rgb = image.convert("RGB")
    rgb.info["truth"] = truth
    return rgb


def shown_text(fig: plt.Figure) -> str:
    """Every visible text of a drawn figure, one a line: titles, labels, legends, notes and
    the tick labels inside the axes' view (matplotlib keeps labels for ticks it does not
    draw)."""
    undrawn = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for minor in (False, True):
                locations = axis.get_ticklocs(minor=minor)
                labels = axis.get_ticklabels(minor=minor)
                undrawn |= {
                    id(label)
                    for where, label in zip(locations, labels, strict=True)
                    if not low - 1e-9 <= where <= high + 1e-9
                }
    shown = (
        t.get_text()
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and id(t) not in undrawn
    )
    return "\n".join(shown)


def figure(size_px: tuple[int, int], font: str = "DejaVu Sans", dpi: int = DPI):
    """A figure `size_px` pixels large with the small-text style."""
    plt.rcParams.update({**SMALL, "font.family": font})
    return plt.subplots(
        figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi, layout="constrained"
    )


def note(ax: plt.Axes, text: str, xy: tuple[float, float], text_at: tuple[float, float]):
    """An arrow from `text` (placed in axes fractions) to the data point `xy`."""
    ax.annotate(
        text,
        xy=xy,
        xytext=text_at,
        textcoords="axes fraction",
        fontsize=6.5,
        arrowprops={"arrowstyle": "->", "linewidth": 0.7},
    )


# --- committed charts --------------------------------------------------------------------------

MODELS = ("Model A", "Model B", "Model C")


def grouped_bars(rng: np.random.Generator) -> Image.Image:
    """Tokens per image for five categories and three models, values printed on the bars."""
    fig, ax = figure((800, 480))
    categories = [c.lower() for c in texts.REVIEW_CATEGORIES]
    x = np.arange(len(categories))
    for i, model in enumerate(MODELS):
        values = rng.integers(250, 1600, len(categories))
        bars = ax.bar(x + (i - 1) * 0.27, values, 0.27, label=model)
        ax.bar_label(bars, fontsize=6, padding=1)
    ax.set_xticks(x, categories)
    ax.set_ylabel("image tokens per request (mean)")
    ax.set_title("Image tokens by category and model")
    ax.legend(loc="upper left", ncols=3, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return rendered(fig)


def annotated_lines(rng: np.random.Generator) -> Image.Image:
    """Request latency percentiles over a day, with a legend and two annotated events."""
    fig, ax = figure((960, 540))
    hours = np.arange(0, 24, 0.25)
    base = 180 + 60 * np.sin((hours - 8) / 24 * 2 * np.pi)
    for label, factor in (("p50", 1.0), ("p90", 1.7), ("p99", 2.6)):
        noise = rng.normal(0, 8 * factor, hours.size)
        ax.plot(hours, base * factor + noise, label=f"{label} latency", linewidth=1)
    note(ax, "deploy 2.14 at 09:30", (9.5, 520), (0.12, 0.9))
    note(ax, "cache warm-up finished", (15, 300), (0.68, 0.06))
    ax.set_xticks(range(0, 25, 2), [f"{h:02d}:00" for h in range(0, 25, 2)])
    ax.set_xlabel("time of day (UTC)")
    ax.set_ylabel("latency (ms)")
    ax.set_title("Vision request latency, 30 November")
    ax.grid(alpha=0.3, linewidth=0.5)
    ax.legend(loc="upper right")
    return rendered(fig)


def scatter_with_legend(rng: np.random.Generator) -> Image.Image:
    """Encoded size against fidelity for four encoders, with a legend and labelled points."""
    fig, ax = figure((1200, 800))
    for name, centre in (("JPEG", 0.93), ("WebP", 0.95), ("PNG", 0.99), ("AVIF", 0.96)):
        kib = rng.lognormal(4.5 if name != "PNG" else 6.2, 0.5, 40)
        ssim = np.clip(centre - 0.02 * rng.standard_normal(40), 0.8, 1.0)
        ax.scatter(kib, ssim, s=12, alpha=0.8, label=f"{name} ({len(kib)} images)")
    note(ax, "seed recipe: 800 px, JPEG 85", (95, 0.93), (0.45, 0.12))
    ax.axhline(0.90, color="grey", linewidth=0.7, linestyle="--")
    ax.text(
        0.99,
        0.902,
        "quality floor 0.90",
        fontsize=6.5,
        ha="right",
        va="bottom",
        transform=ax.get_yaxis_transform(),
    )
    ax.set_xscale("log")
    ax.set_xlabel("encoded size (KiB, log scale)")
    ax.set_ylabel("structural similarity (SSIM) to the original")
    ax.set_title("Encoded size against fidelity, 160 sample images")
    ax.grid(alpha=0.3, linewidth=0.5, which="both")
    ax.legend(loc="lower right", title="encoder", title_fontsize=7)
    return rendered(fig)


# --- held-out charts ---------------------------------------------------------------------------

HELD_OUT_FONT = "Liberation Sans"
LIBERATION = Path("/usr/share/fonts/truetype/liberation2")  # Debian fonts-liberation2


def _use_liberation() -> None:
    """Register the Debian font files themselves, whatever matplotlib's font cache holds."""
    for style in ("Regular", "Bold"):
        font_manager.fontManager.addfont(LIBERATION / f"LiberationSans-{style}.ttf")


def _held_out_figure(rng: random.Random):
    _use_liberation()
    size = rng.choice([(900, 560), (1000, 600), (1100, 650), (1280, 720)])
    return figure(size, HELD_OUT_FONT)


def histogram(rng: random.Random) -> Image.Image:
    """Two overlaid histograms with a legend and a labelled median line."""
    fig, ax = _held_out_figure(rng)
    data = np.random.default_rng(rng.getrandbits(32))
    first, second = rng.sample(texts.HELD_OUT_WORDS, 2)
    a = data.gamma(rng.uniform(2, 5), rng.uniform(20, 60), 2000)
    b = data.gamma(rng.uniform(2, 5), rng.uniform(20, 60), 2000)
    ax.hist(a, bins=60, alpha=0.6, label=f"{first} (n=2,000)")
    ax.hist(b, bins=60, alpha=0.6, label=f"{second} (n=2,000)")
    median = float(np.median(a))
    ax.axvline(median, color="black", linewidth=0.8)
    ax.text(median, ax.get_ylim()[1] * 0.95, f" median {first}: {median:.0f} ms", fontsize=6.5)
    ax.set_xlabel("duration (ms)")
    ax.set_ylabel("requests")
    ax.set_title(f"Distribution of {first} and {second} durations")
    ax.legend()
    return rendered(fig)


def stacked_area(rng: random.Random) -> Image.Image:
    """Monthly volumes of four series stacked, with month tick labels and a legend."""
    fig, ax = _held_out_figure(rng)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    names = rng.sample(texts.HELD_OUT_WORDS, 4)
    series = [np.cumsum([rng.randint(5, 40) for _ in months]) for _ in names]
    ax.stackplot(range(12), series, labels=names, alpha=0.85)
    ax.set_xticks(range(12), months)
    ax.set_ylabel("volume (thousands)")
    ax.set_title(f"Monthly {' / '.join(names)} volume, {rng.randint(2019, 2026)}")
    ax.legend(loc="upper left", ncols=2)
    ax.margins(x=0)
    return rendered(fig)


def box_plot(rng: random.Random) -> Image.Image:
    """Box plots for eight groups, with rotated tick labels."""
    fig, ax = _held_out_figure(rng)
    data = np.random.default_rng(rng.getrandbits(32))
    names = rng.sample(texts.HELD_OUT_WORDS, 8)
    groups = [data.lognormal(rng.uniform(3, 5), rng.uniform(0.2, 0.6), 200) for _ in names]
    ax.boxplot(groups, tick_labels=[f"{n} service" for n in names], flierprops={"markersize": 2})
    ax.tick_params(axis="x", rotation=30)
    ax.set_ylabel("response time (ms)")
    ax.set_title("Response time by service, last 7 days")
    ax.grid(axis="y", alpha=0.3, linewidth=0.5)
    return rendered(fig)


def horizontal_bars(rng: random.Random) -> Image.Image:
    """A ranked horizontal bar chart with value labels."""
    fig, ax = _held_out_figure(rng)
    names = [
        f"/{a}/{b}"
        for a, b in zip(
            rng.sample(texts.HELD_OUT_WORDS, 12),
            rng.choices(texts.HELD_OUT_WORDS, k=12),
            strict=True,
        )
    ]
    values = sorted(rng.randint(200, 20_000) for _ in names)
    bars = ax.barh(names, values, color="#4c78a8")
    ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=6.5, padding=2)
    ax.set_xlabel("calls per hour")
    ax.set_title("Busiest endpoints")
    ax.spines[["top", "right"]].set_visible(False)
    return rendered(fig)
