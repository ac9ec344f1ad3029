"""The smoke report's pages open in headless Chromium at 1280 px with no broken images or
error cells, and paste into a review: nothing wider than the window, no NaN, no dollar amount
in scientific notation, no index columns, no paths of the machine in a table, no table a
reviewer would have to scroll through, a link to the glossary on every page."""

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from smoke_report import smoke_report

pytestmark = [pytest.mark.browser, pytest.mark.notebooks]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=10000",
    "--window-size=1280,900",  # the narrowest desktop a reviewer reads the report on
)
# Runs on the page's load event and writes its findings into the DOM that Chromium dumps.
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const broken = images.filter((i) => !(i.complete && i.naturalWidth > 0));
  const errors = document.querySelectorAll(
    ".celltag_papermill-error-cell-tag, [data-mime-type='application/vnd.jupyter.stderr']");
  const tables = [...document.querySelectorAll("table")];
  document.body.dataset.probe = JSON.stringify({
    images: images.length,
    broken: broken.map((i) => (i.getAttribute("src") || "").slice(0, 60)),
    errors: [...errors].map((e) => e.textContent.trim().slice(0, 200)),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    wide: tables.filter((t) => t.getBoundingClientRect().right > window.innerWidth)
      .map((t) => t.textContent.trim().slice(0, 80)),
    index_cells: document.querySelectorAll("tbody th").length,
    longest: Math.max(0, ...tables.map((t) => t.querySelectorAll("tbody tr").length)),
    cells: [...document.querySelectorAll("td")].map((c) => c.textContent.trim()),
    text: document.body.innerText,
    glossary: !!document.querySelector("a[href='index.html#glossary'], #glossary"),
  });
});
</script>"""


@pytest.fixture(scope="session")
def report(tmp_path_factory) -> Path:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (python3 scripts/dev.py test installs it as root)")
    out, exit_code = smoke_report(tmp_path_factory.getbasetemp())
    assert exit_code == 0, f"the smoke report failed: see {out / 'manifest.json'}"
    return out


def probe(page: Path, profile: Path) -> dict:
    """Open a copy of `page` (same folder, so relative links hold) with the probe script."""
    copy = page.with_name(f".probe-{page.name}")
    head, body_end, tail = page.read_text().rpartition("</body>")
    copy.write_text(head + PROBE + body_end + tail)
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", copy.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    copy.unlink()
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found, f"no probe result for {page.name}: {done.stderr[-500:]}"
    return json.loads(html.unescape(found.group(1)))


def pages(report: Path) -> list[Path]:
    return [report / "index.html", *sorted(report.glob("[0-9]*.html"))]


SCIENTIFIC_MONEY = re.compile(r"\$\s?-?\d[\d,.]*[eE][-+]?\d")
MAX_ROWS = 30  # a longer table goes to its CSV, with a figure or a summary on the page


def test_every_page_loads_without_broken_images_or_errors(report, tmp_path):
    checked = {}
    for page in pages(report):
        result = probe(page, tmp_path / page.stem)
        name = page.name
        assert result["broken"] == [], f"{name}: broken images {result['broken']}"
        assert result["errors"] == [], f"{name}: error cells {result['errors']}"
        assert result["overflow"] <= 0, f"{name} scrolls sideways by {result['overflow']} px"
        assert result["wide"] == [], f"{name}: tables wider than the window {result['wide']}"
        assert result["index_cells"] == 0, f"{name}: a table with index cells"
        assert result["longest"] <= MAX_ROWS, f"{name}: a table of {result['longest']} rows"
        assert "NaN" not in result["text"], f"{name} shows NaN"
        assert not SCIENTIFIC_MONEY.search(result["text"]), f"{name}: $ in e-notation"
        # Markdown left raw (a $ taken for LaTeX swallows what follows) or a Python repr
        assert "**" not in result["text"] and "PosixPath(" not in result["text"], name
        paths = [c for c in result["cells"] if c.startswith("/") or str(report) in c]
        assert paths == [], f"{name}: paths of the machine in a table {paths}"
        assert result["glossary"], f"{name} does not link the glossary"
        checked[name] = result["images"]
    assert len(checked) == 1 + len(list((report / "notebooks").glob("*.ipynb")))
    assert all(n > 0 for n in checked.values()), f"pages without any figure: {checked}"
