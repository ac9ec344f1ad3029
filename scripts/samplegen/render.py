"""Render HTML pages to images: headless Chromium for screens, Chromium's PDF and poppler's
`pdftoppm` for A4 pages. Pages are local files with no external resources, and the browser
runs with a fresh profile and its background networking off."""

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


def _chromium(html: str, folder: Path, *args: str) -> None:
    page = folder / "page.html"
    page.write_text(html, encoding="utf-8")
    command = [_tool("chromium"), *CHROMIUM_FLAGS, f"--user-data-dir={folder / 'profile'}"]
    subprocess.run([*command, *args, page.as_uri()], check=True, capture_output=True, timeout=180)


def screenshot(html: str, size: tuple[int, int], scale: int = 1) -> Image.Image:
    """The page's viewport at `size` CSS px, `scale` device pixels per CSS px, as RGB."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shot = folder / "shot.png"
        _chromium(
            html,
            folder,
            f"--screenshot={shot}",
            f"--window-size={size[0]},{size[1]}",
            f"--force-device-scale-factor={scale}",
        )
        with Image.open(shot) as image:
            return image.convert("RGB")


def a4_page(html: str, dpi: int, gray: bool = False) -> Image.Image:
    """The first page of the HTML printed to PDF (its CSS sets the A4 page), at `dpi`, as
    8-bit grayscale or RGB (`pdftoppm -gray` applies to PGM output only)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pdf = folder / "page.pdf"
        _chromium(html, folder, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
        out = folder / "page"
        raster = [_tool("pdftoppm"), "-r", str(dpi), "-png", "-f", "1", "-l", "1", "-singlefile"]
        subprocess.run([*raster, pdf, out], check=True, capture_output=True)
        with Image.open(out.with_suffix(".png")) as image:
            return image.convert("L" if gray else "RGB")
