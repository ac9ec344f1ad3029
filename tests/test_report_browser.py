"""The smoke report's pages open in headless Chromium with no broken images or error cells."""

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
  document.body.dataset.probe = JSON.stringify({
    images: images.length,
    broken: broken.map((i) => (i.getAttribute("src") || "").slice(0, 60)),
    errors: [...errors].map((e) => e.textContent.trim().slice(0, 200)),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
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


def test_every_page_loads_without_broken_images_or_errors(report, tmp_path):
    checked = {}
    for page in pages(report):
        result = probe(page, tmp_path / page.stem)
        assert result["broken"] == [], f"{page.name}: broken images {result['broken']}"
        assert result["errors"] == [], f"{page.name}: error cells {result['errors']}"
        if page.name == "index.html":
            assert result["overflow"] <= 0, (
                f"the index scrolls sideways by {result['overflow']} px"
            )
        checked[page.name] = result["images"]
    assert len(checked) == 1 + len(list((report / "notebooks").glob("*.ipynb")))
    assert all(n > 0 for n in checked.values()), f"pages without any figure: {checked}"
