"""The report index's number formatting and page rendering (the report itself is built in
test_notebooks.py)."""

import pytest

from toolkit.report_index import _number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (14364.0, "14,364"),
        (12345.678, "12,345.68"),
        (148.75, "148.75"),
        (0.2125, "0.2125"),
        (0.98554, "0.9855"),
        (512.0, "512"),
        (0.00012345, "0.0001234"),
        (0.387, "0.3870"),
        (0.24, "0.2400"),
        (0.0000123456, "0.00001235"),
    ],
)
def test_headline_numbers_are_plain_and_never_scientific(value, text):
    assert _number(value) == text


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
    assert "<p>static first view</p>" in (tmp_path / "page.html").read_text()
