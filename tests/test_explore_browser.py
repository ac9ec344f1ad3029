"""00-explore in JupyterLab, in headless Chromium: run it, move the quality slider, change the
model, and see the numbers and the picture follow with no error anywhere."""

import sys
from pathlib import Path

import pytest

from toolkit.paths import CHECKOUT_DIR, NOTEBOOKS_DIR

sys.path.insert(0, str(CHECKOUT_DIR / "scripts"))

from lab import CHROMIUM, Explorer, chromium_page, lab_server, notebook_copy, run_notebook  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.notebooks]
pytest.importorskip("playwright")
pytest.importorskip("ipywidgets")

# A chart with text (legibility is judged), and the folder check on two images.
PARAMETERS = {"image": "bar_grouped.png", "limit": 2, "model": "gpt-4o", "quality": 85}
ERRORS = ", ".join(
    (
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']",
        ".toolkit-explore .toolkit-error",
    )
)


@pytest.fixture
def lab(tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (python3 scripts/dev.py test installs it as root)")
    name = notebook_copy(
        NOTEBOOKS_DIR / "00-explore.ipynb", tmp_path, {**PARAMETERS, "out_dir": str(tmp_path)}
    )
    with lab_server(tmp_path) as server:
        yield server, name
    assert server.process.poll() is not None, "JupyterLab is still running"


def errors_on(page) -> list[str]:
    return [e.inner_text()[:300] for e in page.locator(ERRORS).all()]


def test_the_explorer_runs_and_follows_its_controls_in_jupyterlab(lab, tmp_path):
    server, name = lab
    with chromium_page() as page:
        run_notebook(page, server, name)
        assert errors_on(page) == []
        explorer = Explorer(page)
        assert explorer.number("sent").startswith("800 × 480 px, JPEG quality 85")
        assert explorer.number("seen_word_recall").endswith("%")  # the chart has text
        before = {key: explorer.number(key) for key in ("bytes", "tokens", "cost_usd")}
        kept_crop = explorer.picture(3)

        explorer.drag_slider("quality", 0.25)
        after = explorer.wait_for_change("bytes", before["bytes"])
        assert int(after.split()[0].replace(",", "")) < int(
            before["bytes"].split()[0].replace(",", "")
        )
        assert explorer.picture(3) != kept_crop  # the picture of what the model keeps changed
        assert explorer.number("tokens") == before["tokens"]  # quality does not change tokens
        assert "quality" in explorer.number("sent") and "quality 85" not in explorer.number("sent")

        explorer.select("model", "gpt-5.4-mini")
        assert explorer.wait_for_change("tokens", before["tokens"]) != before["tokens"]
        assert explorer.wait_for_change("cost_usd", before["cost_usd"]) != before["cost_usd"]
        assert (
            explorer.number("kept").endswith("px") and "gpt-5.4-mini" in explorer.root.inner_text()
        )
        assert errors_on(page) == []
    assert (Path(tmp_path) / "tables" / "00-explore-sweep.csv").is_file()
