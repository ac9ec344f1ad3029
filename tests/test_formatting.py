"""One formatter for every table, page and figure label: numbers for reading, never changed
(the CSVs keep them whole), never in scientific notation; and a page rendered from a
notebook (the report itself is built in test_notebooks.py)."""

import math
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.formatting import (
    NO_VALUE_NOTE,
    format_column,
    money,
    relative_path,
    short_usd,
    signed_percent,
    table_html,
    usd,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (14364.0, "$14,364.00"),
        (12345.678, "$12,345.68"),
        (148.75, "$148.75"),
        (0.2125, "$0.2125"),
        (0.98554, "$0.9855"),
        (0.00012345, "$0.0001234"),
        (0.387, "$0.3870"),
        (0.0000123456, "$0.00001235"),
        (-3.5, "-$3.50"),
        (0.0, "$0.00"),
    ],
)
def test_dollars_in_prose_are_plain_with_four_significant_digits_under_a_dollar(value, text):
    assert usd(value) == text


@given(st.floats(min_value=1e-8, max_value=1e12))
def test_no_dollar_amount_is_ever_in_scientific_notation(value):
    for text in (usd(value), money(value), short_usd(value)):
        assert "e" not in text.lower(), text
    assert float(usd(value)[1:].replace(",", "")) == pytest.approx(value, rel=1e-3, abs=1e-8)


def test_no_price_and_no_amount_are_said_not_shown_as_nan():
    assert money(math.nan) == "no price" and usd(None) == "–" and usd(math.nan) == "–"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0003744, "$0.0003744"),
        (14.3649, "$14.36"),
        (1436.4, "$1,436"),
        (14364, "$14.36k"),
        (2_500_000, "$2.5M"),
        (0.5, "$0.5"),
    ],
)
def test_figure_labels_have_at_most_four_significant_digits(value, text):
    assert short_usd(value) == text


def test_a_change_carries_its_sign_more_expensive_positive():
    assert signed_percent(27.6) == "+28 %" and signed_percent(-3.1, 1) == "−3.1 %"
    assert signed_percent(0.2) == "0 %" and signed_percent(math.nan) == "–"


def test_dollars_down_a_column_share_their_decimals():
    header, cells = format_column("cost_usd_per_1k", [0.3744, 143.6, math.nan])
    assert header == "$ per 1,000 images"
    assert cells == ["$0.3744", "$143.6000", "–"]  # 4 significant digits on the smallest
    assert format_column("monthly_usd", [106.25, 74.375])[1] == ["$106.25", "$74.38"]


def test_units_go_in_the_headers_and_values_read_as_their_kind():
    assert format_column("bytes_mean", [48213.4, 120.2]) == ("bytes (kB), mean", ["48.2", "0.1"])
    assert format_column("body_bytes", [300, 420]) == ("body (bytes)", ["300", "420"])
    assert format_column("useful_side_px", [800.0, 512.0]) == ("useful side (px)", ["800", "512"])
    assert format_column("latency_ms", [12.345])[0] == "latency (ms)"
    assert format_column("seen_word_recall_min", [0.5]) == (
        "words read (%), worst image",
        ["50.0"],
    )
    assert format_column("change_pct", [27.63, -3.1])[1] == ["+27.6", "−3.1"]
    assert format_column("complete", [True, False])[1] == ["yes", "no"]
    assert format_column("binding", ["grid"])[0] == "binding rule"


def test_a_header_is_aligned_as_its_column_reads():
    frame = pd.DataFrame({"model": ["gpt-4o"], "tokens": [85], "cost_usd_per_1k": [0.21]})
    html = table_html(frame, notes={"cost_usd_per_1k": ["a flat 85 tokens"]})
    headers = re.findall(r"<th( class=\"text\")?>([^<]*)</th>", html)
    # text and noted values left (as their cells), numbers right
    assert headers == [
        (' class="text"', "model"),
        ("", "tokens per image"),
        (' class="text"', "$ per 1,000 images"),
    ]
    assert '<td data-column="tokens">85</td>' in html


def test_paths_are_shown_relative_to_the_folder_given_and_never_whole():
    assert relative_path("/data/photos/a/x.png", "/data/photos") == "a/x.png"
    assert relative_path("/elsewhere/y.png", "/data/photos") == "y.png"
    assert format_column("path", ["/work/data/x.png"])[1] == ["x.png"]


def test_a_table_has_no_index_column_and_a_footnote_for_its_dashes():
    frame = pd.DataFrame(
        {"model": ["gpt-4o", "gpt-5.5"], "cost_usd_per_1k": [1.91, math.nan]},
        index=pd.Index(["x", "y"], name="index"),
    )
    html = table_html(frame, labels={"model": "the model"}, notes={"model": ["a", ""]})
    assert re.findall(r"<th[^>]*>([^<]*)</th>", html) == ["the model", "$ per 1,000 images"]
    assert "<tbody><tr><td" in html and "<th>x</th>" not in html and ">x<" not in html
    assert '<span class="note">a</span>' in html
    assert html.count("<tr>") == 3 and NO_VALUE_NOTE in html and "NaN" not in html
    assert NO_VALUE_NOTE not in table_html(frame.dropna())


def test_a_widget_shows_its_static_html_in_a_page_even_with_saved_widget_state(tmp_path):
    import nbformat

    from toolkit.reports import render_page

    view = {"version_major": 2, "version_minor": 0, "model_id": "m1"}
    output = nbformat.v4.new_output(
        "display_data",
        data={
            "application/vnd.jupyter.widget-view+json": view,
            "text/html": "<p>static first view</p>",
            "text/plain": "Explorer(...)",
        },
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[output])])
    state = {"state": {"m1": {"model_name": "VBoxModel", "state": {}}}, "version_major": 2}
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": state}
    nbformat.write(notebook, tmp_path / "run.ipynb")
    render_page(tmp_path / "run.ipynb", tmp_path / "page.html")
    page = (tmp_path / "page.html").read_text()
    assert "<p>static first view</p>" in page
    assert 'href="index.html#glossary"' in page  # every page links the report's glossary
