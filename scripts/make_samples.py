"""Make the generated images in data/samples/, or a held-out set for validation.

    .venv/bin/python scripts/make_samples.py                          # rewrite data/samples/
    .venv/bin/python scripts/make_samples.py --held-out DIR --seed 7  # a fresh set in DIR
    .venv/bin/python scripts/make_samples.py --inventory [DIR]        # sizes and OCR words

data/samples/ has one folder per category (the toolkit takes a file's category from its
folder's name). The files copied from packages are listed in data/SOURCES.md; this script
writes the others: two photos derived from the committed ones (`samplegen/photos.py`),
UI screenshots rendered by headless Chromium (`samplegen/screens.py`), A4 pages printed to PDF
by Chromium and rasterized by poppler's `pdftoppm` (`samplegen/pages.py`) and matplotlib
charts (`samplegen/charts.py`), from permissively licensed text (`samplegen/texts.py`).

`--held-out DIR --seed N` writes screenshots, A4 pages and charts that the committed samples
never use: other layouts, fonts, text sources, sizes and seeds, chosen by N, with a
`manifest.json` saying what each file is and, beside each image, its truth text
(`<category>/truth/<name>.txt`: the words the browser lays out in the window, `pdftotext` of
the page, the texts matplotlib draws). Write it outside the repository; it is not committed.

Output is deterministic for a given seed and given versions of Python, numpy, Pillow,
matplotlib, Pygments, Chromium, poppler and the Debian fonts (see data/SOURCES.md).
"""

import argparse
import json
import random
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path

import numpy as np
from PIL import Image
from samplegen import charts, pages, photos, render, screens, texts

from toolkit.images import iter_image_files
from toolkit.paths import SAMPLES_DIR, shown_path

SEED = 20260
TEXT_CATEGORIES = ("chart", "document", "screenshot")


@dataclass(frozen=True)
class Sample:
    """One file to write: its path under the output folder and how to draw it."""

    path: str
    draw: Callable[[], Image.Image]
    about: dict = field(default_factory=dict)

    def write(self, folder: Path, truth: bool = False) -> Path:
        """Draw and save the image; with `truth`, its truth text too, as
        `<category>/truth/<name>.txt` (what `toolkit calibrate` and the validation read)."""
        image, target = self.draw(), folder / self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target, optimize=True)
        if truth and "truth" in image.info:
            text = target.parent / "truth" / f"{target.stem}.txt"
            text.parent.mkdir(exist_ok=True)
            text.write_text(image.info["truth"].strip() + "\n", encoding="utf-8")
        return target


def seeded(name: str, seed: int) -> random.Random:
    """A generator of its own per sample, so that adding one sample changes no other."""
    return random.Random(f"{seed}:{name}")


def numpy_seeded(name: str, seed: int) -> np.random.Generator:
    return np.random.default_rng(seeded(name, seed).getrandbits(64))


def screen(path: str, html: str, size: tuple[int, int], scale: int, **about) -> Sample:
    draw = partial(render.screenshot, html, size, scale)
    return Sample(path, draw, {"css_px": list(size), "scale": scale, **about})


def a4(path: str, html: str, dpi: int, gray: bool, **about) -> Sample:
    return Sample(
        path, partial(render.a4_page, html, dpi, gray), {"dpi": dpi, "gray": gray, **about}
    )


# --- the committed samples ---------------------------------------------------------------------


def committed(seed: int = SEED) -> list[Sample]:
    """The generated text samples in data/samples/ (the derived photos are written apart)."""
    return [
        screen("screenshot/code_editor_1x.png", screens.code_editor(), (2560, 1440), 1),
        screen(
            "screenshot/data_table_1x.png",
            screens.data_table(seeded("table", seed)),
            (1920, 1080),
            1,
        ),
        screen("screenshot/settings_form_2x.png", screens.settings_form(), (1280, 800), 2),
        screen(
            "screenshot/terminal_2x.png",
            screens.terminal(seeded("terminal", seed)),
            (1280, 800),
            2,
        ),
        a4(
            "document/report_a4_150dpi.png",
            pages.cost_review(seeded("report", seed)),
            150,
            gray=False,
        ),
        a4(
            "document/paper_two_column_a4_200dpi_gray.png",
            pages.two_column_paper(),
            200,
            gray=True,
        ),
        a4("document/notices_a4_300dpi_gray.png", pages.licence_notices(), 300, gray=True),
        Sample("chart/bar_grouped.png", partial(charts.grouped_bars, numpy_seeded("bar", seed))),
        Sample(
            "chart/line_annotated.png",
            partial(charts.annotated_lines, numpy_seeded("line", seed)),
        ),
        Sample(
            "chart/scatter_legend.png",
            partial(charts.scatter_with_legend, numpy_seeded("scatter", seed)),
        ),
    ]


def write_committed() -> None:
    photos.write_camera_12mp(SAMPLES_DIR / "photo/camera_12mp.jpg")
    photos.write_exif_rotated(SAMPLES_DIR / "photo/grace_hopper_exif_rotated.jpg")
    for sample in committed():
        print(shown_path(sample.write(SAMPLES_DIR)))


# --- the held-out set --------------------------------------------------------------------------

SCREEN_SIZES = (
    ((1280, 800), 2),
    ((1280, 720), 2),
    ((1440, 900), 1),
    ((1680, 1050), 1),
    ((1920, 1080), 1),
    ((2560, 1440), 1),
)
HELD_OUT_SCREENS = ("mail_client", "dashboard", "code_review", "issue_tracker")
SOURCES_PER_SCREEN = 2  # documentation sources whose prose fills one screen
HELD_OUT_PAGES = {"invoice": 1, "newsletter": 3, "memo": 1}  # documentation sources used
HELD_OUT_CHARTS = ("histogram", "stacked_area", "box_plot", "horizontal_bars")


def held_out(seed: int) -> list[Sample]:
    """Screenshots (11-13 px text), A4 pages (10-12 pt) and charts, all chosen by `seed`."""
    rng = random.Random(f"held-out:{seed}")
    needed = SOURCES_PER_SCREEN * len(HELD_OUT_SCREENS) + sum(HELD_OUT_PAGES.values())
    sources = iter(rng.sample(texts.HELD_OUT_PROSE, needed))
    samples = []
    for name in HELD_OUT_SCREENS:
        (width, height), scale = rng.choice(SCREEN_SIZES)
        px, picked = rng.choice((11, 12, 13)), list(islice(sources, SOURCES_PER_SCREEN))
        extra = {"module": rng.choice(texts.HELD_OUT_CODE)} if name == "code_review" else {}
        paragraphs = [p for source in picked for p in texts.doc_prose(source)]
        html = getattr(screens, name)(seeded(name, seed), paragraphs, px, **extra)
        path = f"screenshot/{name}_{width}x{height}_{scale}x_{px}px.png"
        about = {"text_px": px, "text": picked, **extra}
        samples.append(screen(path, html, (width, height), scale, **about))
    for name, count in HELD_OUT_PAGES.items():
        dpi, gray, pt = rng.choice((150, 200, 300)), rng.random() < 0.5, rng.choice((10, 11, 12))
        articles = {s.split(":")[-1]: texts.doc_prose(s) for s in islice(sources, count)}
        html = getattr(pages, name)(seeded(name, seed), articles, f"{pt}pt")
        path = f"document/{name}_a4_{dpi}dpi{'_gray' if gray else ''}_{pt}pt.png"
        samples.append(a4(path, html, dpi, gray, text_pt=pt, text=list(articles)))
    for name in HELD_OUT_CHARTS:
        draw = partial(getattr(charts, name), seeded(name, seed))
        samples.append(Sample(f"chart/{name}.png", draw))
    return samples


def write_held_out(folder: Path, seed: int) -> None:
    if folder.resolve().is_relative_to(SAMPLES_DIR.resolve()):
        raise SystemExit(f"{folder}: the held-out set must not go into {SAMPLES_DIR}")
    manifest = []
    for sample in held_out(seed):
        target = sample.write(folder, truth=True)
        with Image.open(target) as image:
            size = image.size
        manifest.append(
            {
                "path": sample.path,
                "category": sample.path.split("/")[0],
                "width": size[0],
                "height": size[1],
                **sample.about,
            }
        )
        print(target)
    (folder / "manifest.json").write_text(json.dumps({"seed": seed, "files": manifest}, indent=1))


# --- inventory ---------------------------------------------------------------------------------


def ocr_words(path: Path) -> int:
    """Words Tesseract reads in the image at full resolution (English, default page mode)."""
    done = subprocess.run(
        ["tesseract", str(path), "-"], capture_output=True, text=True, check=True
    )
    return len(done.stdout.split())


def inventory(folder: Path) -> None:
    """Per file: category, bytes, size, mode, and OCR words for the text categories."""
    if not folder.is_dir():
        raise SystemExit(f"{folder}: not a folder")
    total = 0
    for path in iter_image_files([folder]):
        with Image.open(path) as image:
            size, mode = image.size, image.mode
        category = path.parent.name
        words = ocr_words(path) if category in TEXT_CATEGORIES else ""
        total += path.stat().st_size
        print(
            f"{path.relative_to(folder)}\t{category}\t{path.stat().st_size}\t"
            f"{size[0]}x{size[1]}\t{mode}\t{words}"
        )
    print(f"total\t\t{total}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--held-out", type=Path, metavar="DIR", help="write a held-out set here")
    mode.add_argument(
        "--inventory",
        type=Path,
        nargs="?",
        const=SAMPLES_DIR,
        metavar="DIR",
        help="list a sample folder with Tesseract word counts",
    )
    parser.add_argument("--seed", type=int, default=1, help="held-out seed (default 1)")
    args = parser.parse_args()
    if args.inventory:
        inventory(args.inventory)
    elif args.held_out:
        write_held_out(args.held_out, args.seed)
    else:
        write_committed()


if __name__ == "__main__":
    main()
