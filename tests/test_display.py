"""Rich displays (encoded images, token estimates, sweep summaries) and sweep progress bars."""

import base64
import importlib
import io
import math
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image
from tqdm import tqdm

import toolkit
from toolkit import formatting, sweep
from toolkit.display import sweep_summary
from toolkit.formatting import column_kind, money, percent, table_html
from toolkit.sweep import SweepGrid, run_sweep

recommend = importlib.import_module("toolkit.recommend")  # `toolkit.recommend` is the function


def pictures_in(html: str) -> list[Image.Image]:
    found = re.findall(r'src="data:image/(?:png|jpeg);base64,([^"]+)"', html)
    return [Image.open(io.BytesIO(base64.b64decode(data))) for data in found]


def cell(html: str, key: str) -> str:
    return re.search(rf'data-key="{key}"><td class="label">[^<]*</td><td>([^<]*)<', html)[1]


@pytest.fixture
def photo_path(tmp_path):
    path = tmp_path / "photo.png"
    Image.effect_mandelbrot((1600, 1200), (-2, -1.2, 1, 1.2), 100).convert("RGB").save(path)
    return path


def test_an_encoded_image_shows_a_thumbnail_and_its_facts(photo_path):
    encoded = toolkit.encode_image(photo_path, toolkit.EncodeSettings(max_side=1024, quality=70))
    html = encoded._repr_html_()
    (thumbnail,) = pictures_in(html)
    assert thumbnail.size == (256, 192)
    assert cell(html, "bytes") == f"{encoded.bytes:,} ({encoded.bytes / 1000:,.1f} kB)"
    assert cell(html, "base64_chars") == f"{encoded.base64_chars:,}"
    assert cell(html, "sent") == "1024 × 768 px, JPEG quality 70"
    png = Image.open(io.BytesIO(encoded._repr_png_()))
    assert png.format == "PNG" and png.size == (256, 192)


def test_a_token_estimate_shows_what_is_kept_and_billed():
    html = toolkit.image_tokens(4000, 3000, "gpt-4o", "high")._repr_html_()
    assert cell(html, "kept") == "1024 × 768 px"
    assert cell(html, "tokens") == "765"
    assert cell(html, "scheme") == "tile, 4 tiles"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0019125, "$0.001912"),
        (1.9125, "$1.91"),
        (191250.0, "$191,250.00"),
        (1.235e-05, "$0.00001235"),  # never 1.235e-05
        (math.nan, "no price"),
    ],
)
def test_money_is_rounded_for_its_size(value, text):
    assert money(value) == text


def test_summary_tables_carry_units_and_rounding():
    import pandas as pd

    table = pd.DataFrame(
        {
            "model": ["gpt-4o"],
            "images": [3],
            "bytes_mean": [48213.4],
            "cost_usd_per_1k": [1.91254],
            "seen_ssim_min": [0.912345],
            "seen_word_recall_min": [math.nan],
        }
    )
    html = table_html(table)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert headers == [
        "model",
        "images",
        "bytes (kB), mean",
        "$ per 1,000 images",
        "seen SSIM, worst image",
        "words read (%), worst image",
    ]
    assert re.findall(r"<td[^>]*>([^<]*)</td>", html) == [
        "gpt-4o",
        "3",
        "48.2",
        "$1.91",
        "0.9123",
        "–",
    ]
    assert column_kind("unknown_text", ["a"])[1] is None and percent(0.9512) == "95.1 %"


def test_a_sweep_summary_lists_settings_failures_and_the_cache(tmp_path, photo_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    grid = SweepGrid(max_sides=[512], formats=["jpeg"], qualities=[60, 85], reference_side=512)
    with ThreadPoolExecutor(2) as threads:
        results = run_sweep(tmp_path, grid, threads, progress=False)
    summary = sweep_summary(results)
    assert summary.images == 2 and list(summary.failed) == ["broken.png"]
    assert summary.table["quality"].tolist() == [60, 85]
    assert "seen_word_recall_min" not in summary.table  # OCR was off
    html = summary._repr_html_()
    assert "2 images; 2 encodes computed, 0 from the cache" in html
    assert "broken.png" in html and "$ per 1,000 images" in html


def test_a_sweep_has_one_bar_counting_its_images(tmp_path, photo_path, capsys):
    for name in ("b.png", "c.png"):
        (tmp_path / name).write_bytes(photo_path.read_bytes())
    grid = SweepGrid(max_sides=[256], formats=["jpeg"], qualities=[80], reference_side=256)
    with ThreadPoolExecutor(2) as threads:
        run_sweep(tmp_path, grid, threads)  # not in Jupyter: tqdm's text bar on stderr
        err = capsys.readouterr().err
        assert "sweep: 100%" in err and "3/3" in err
        run_sweep(tmp_path, grid, threads, progress=False)
        assert capsys.readouterr().err == ""
        shared = tqdm(total=6, file=io.StringIO())
        run_sweep(tmp_path, grid, threads, progress=shared)
        run_sweep(tmp_path, grid, threads, progress=shared)
        assert (shared.n, shared.total) == (6, 6)


@pytest.fixture
def bars(monkeypatch) -> list:
    """Every progress bar the sweeps make, recorded (drawn into a string)."""
    made = []

    def recording(total, enabled=True, desc="sweep"):
        made.append(tqdm(total=total, desc=desc, file=io.StringIO()))
        return made[-1]

    monkeypatch.setattr(sweep, "progress_bar", recording)
    monkeypatch.setattr(recommend, "progress_bar", recording)
    return made


def test_the_bar_has_the_images_as_total(tmp_path, photo_path, bars):
    (tmp_path / "b.png").write_bytes(photo_path.read_bytes())
    grid = SweepGrid(max_sides=[256], formats=["jpeg"], qualities=[80], reference_side=256)
    with ThreadPoolExecutor(2) as threads:
        run_sweep(tmp_path, grid, threads)
    assert [(bar.total, bar.n) for bar in bars] == [(2, 2)]


def test_a_two_round_search_shows_one_bar(tmp_path, photo_path, bars):
    for category in ("photo", "graphic"):
        (tmp_path / "images" / category).mkdir(parents=True)
        (tmp_path / "images" / category / "a.png").write_bytes(photo_path.read_bytes())
    grid = SweepGrid(max_sides=[256, 512], formats=["jpeg"], qualities=[95], reference_side=512)
    with ThreadPoolExecutor(2) as threads:
        recommend.search_settings(tmp_path / "images", grid, ("jpeg",), (60, 80), executor=threads)
    assert len(bars) == 1  # not one per round or per category
    assert (bars[0].n, bars[0].total) == (2, 2)  # the second round: both categories
    assert bars[0].desc.startswith("search 2/2")


def test_counts_and_sizes_are_rounded_with_their_units():
    assert formatting.count(64284) == "64,284" and formatting.kilobytes(48213) == "48.2 kB"
    assert formatting.pixels(1024, 768) == "1024 × 768 px"
    assert formatting.decimal(4)(0.91234) == "0.9123"


def test_table_html_rounds_measures_it_has_no_unit_for():
    import pandas as pd

    table = pd.DataFrame(
        {
            "fidelity_relative_min": [0.954887123],
            "dropped_px_pct_mean": [65.3111111],
            "n": [3.0],
            "r": [0.12345678],
        }
    )
    html = table_html(table)
    assert "fidelity kept, worst image (%)" in html and ">95.5<" in html  # a known share
    assert ">3<" in html  # a bare count
    assert "sent pixels dropped (%), mean" in html and ">65.3<" in html
    assert ">0.1235<" in html  # a measure with no unit here: 4 decimals at most
    crops = table_html(pd.DataFrame({"crops_images": [2], "crops_mean": [4.5]}))
    assert "images sent as crops" in crops and ">4.5<" in crops


def test_prose_shows_dollar_amounts_as_dollars_in_the_report():
    """nbconvert's Markdown takes `$131.16** → $` for a formula and leaves the bold raw."""
    markdown2html = pytest.importorskip("nbconvert.filters.markdown_mistune").markdown2html_mistune
    text = "gpt-4o: **$131.16** → $189.05 a month"
    assert "**$131.16**" in markdown2html(text)  # what the pages showed before
    html = markdown2html(toolkit.prose(text).data)
    assert "<strong>$131.16</strong> → $189.05 a month" in html and "**" not in html
