"""Render HTML pages to images: headless Chromium for screens, Chromium's PDF and poppler's
`pdftoppm` for A4 pages. Pages are local files with no external resources, and the browser
runs with a fresh profile and its background networking off.

Each image carries its truth text in `image.info["truth"]`: the words it shows, one line of
the page a line. A screen's is what the browser lays out inside the window, word by word (a
word cut by the window or by an element that clips its overflow, as an ellipsis does, is not
shown, so it is not in the truth); a page's is `pdftotext` of the PDF's first page."""

import html as markup
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} not found: see 'Regenerating' in data/SOURCES.md")
    return path


def _chromium(html: str, folder: Path, *args: str) -> str:
    """Run Chromium on the page; what it printed (the DOM, with --dump-dom)."""
    page = folder / "page.html"
    page.write_text(html, encoding="utf-8")
    command = [_tool("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={folder / 'profile'}"]
    done = subprocess.run(
        [*command, *args, page.as_uri()], check=True, capture_output=True, timeout=180
    )
    return done.stdout.decode("utf-8", "replace")


# Collects every word the window shows, whole, into <pre id="truth"> (dumped with the DOM).
VISIBLE_WORDS = """<script>
addEventListener("load", () => {
  const inside = (r, b) => r.left >= b.left - 0.5 && r.right <= b.right + 0.5 &&
    r.top >= b.top - 0.5 && r.bottom <= b.bottom + 0.5;
  const window_box = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
  const clips = (el) => {
    const boxes = [];
    for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
      const s = getComputedStyle(e);
      const clipped = s.overflowX !== "visible" || s.overflowY !== "visible";
      if (clipped) boxes.push(e.getBoundingClientRect());
    }
    return boxes;
  };
  const words = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walk.nextNode()) {
    const node = walk.currentNode, el = node.parentElement, s = getComputedStyle(el);
    if (s.visibility === "hidden" || s.display === "none" || +s.opacity === 0) continue;
    const boxes = [window_box, ...clips(el)];
    for (const m of node.data.matchAll(/\\S+/g)) {
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0);
      if (rects.length && rects.every((r) => boxes.every((b) => inside(r, b))))
        words.push([rects[0].top, rects[0].bottom, rects[0].left, m[0]]);
    }
  }
  words.sort((a, b) => a[0] - b[0] || a[2] - b[2]);
  const lines = [];
  for (const w of words) {
    const last = lines[lines.length - 1];
    if (last && w[0] < last.bottom - 0.5 * (last.bottom - last.top)) last.words.push(w);
    else lines.push({top: w[0], bottom: w[1], words: [w]});
  }
  const pre = document.createElement("pre");
  pre.id = "truth";
  const text = (l) => l.words.sort((a, b) => a[2] - b[2]).map((w) => w[3]).join(" ");
  pre.textContent = lines.map(text).join("\\n");
  document.body.append(pre);
});
</script>"""


def screenshot(html: str, size: tuple[int, int], scale: int = 1) -> Image.Image:
    """The page's viewport at `size` CSS px, `scale` device pixels per CSS px, as RGB, with
    the words it shows (`info["truth"]`)."""
    window = (f"--window-size={size[0]},{size[1]}", f"--force-device-scale-factor={scale}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shot = folder / "shot.png"
        _chromium(html, folder, f"--screenshot={shot}", *window)
        with Image.open(shot) as image:
            rgb = image.convert("RGB")
        counted = html.replace("</body>", VISIBLE_WORDS + "</body>")
        dom = _chromium(counted, folder, "--dump-dom", *window)
    found = re.search(r'<pre id="truth">(.*?)</pre>', dom, re.S)
    if found is None:
        raise SystemExit("chromium did not list the page's words (--dump-dom)")
    rgb.info["truth"] = markup.unescape(found.group(1))
    return rgb


def a4_page(html: str, dpi: int, gray: bool = False) -> Image.Image:
    """The first page of the HTML printed to PDF (its CSS sets the A4 page), at `dpi`, as
    8-bit grayscale or RGB (`pdftoppm -gray` applies to PGM output only), with its text
    (`info["truth"]`)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pdf = folder / "page.pdf"
        _chromium(html, folder, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
        out = folder / "page"
        raster = [_tool("pdftoppm"), "-r", str(dpi), "-png", "-f", "1", "-l", "1", "-singlefile"]
        subprocess.run([*raster, pdf, out], check=True, capture_output=True)
        text = [_tool("pdftotext"), "-f", "1", "-l", "1", pdf, "-"]
        truth = subprocess.run(text, check=True, capture_output=True).stdout.decode()
        with Image.open(out.with_suffix(".png")) as image:
            page = image.convert("L" if gray else "RGB")
        page.info["truth"] = truth
        return page
