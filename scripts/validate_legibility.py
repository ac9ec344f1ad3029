"""Check the recommendations on text images the project has never seen, with an OCR that
shares no code with the toolkit's.

    .venv/bin/python scripts/validate_legibility.py --out /tmp/validation --seed 7

1. `make_samples.py --held-out` writes fresh screenshots (11-13 px text), A4 pages and charts.
2. The toolkit recommends for them, as a user would: `toolkit sweep --ocr` and
   `toolkit recommend --json` (only the provider-kept size is taken from its CSV).
3. Independently, for every image and model: Pillow resizes and encodes with the
   recommended settings, shrinks to the kept size and back, and the `tesseract` command reads
   it two ways: every text line of the original that holds a confident word, cut out of both
   and read as one column (`lines_recall`: all lines, where the toolkit reads a sample), and
   the whole page (`page_recall`, which also counts Tesseract's page-layout failures on charts).
   Recall = the share of the original's words read with confidence >= 80 that the view still
   reads. Images the toolkit sends as crops are read crop by crop (words pooled).

Writes `validation.csv` (one row per model x image) and prints a summary; exits 1 when a
recommended setting keeps less than the floor of the words on some image, read line by line.
"""

import argparse
import csv
import io
import json
import math
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MIN_CONFIDENCE = 80
FLOOR = 0.95
SIDES = ("512", "768", "1024", "1536", "2048")


def run(*cmd: object) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True).stdout


def tesseract_tsv(image: Image.Image, psm: int) -> list[dict]:
    """The word rows (level 5) of the `tesseract` command's TSV output for `image`."""
    png = io.BytesIO()
    image.save(png, format="PNG")
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "--psm", str(psm), "tsv"],
        input=png.getvalue(),
        capture_output=True,
        check=True,
    )
    rows = csv.DictReader(
        io.StringIO(done.stdout.decode()), delimiter="\t", quoting=csv.QUOTE_NONE
    )
    return [r for r in rows if r["level"] == "5" and r["text"].strip()]


def tesseract_words(image: Image.Image) -> list[tuple[str, float]]:
    """(word, confidence) of every word `tesseract` reads in the whole page."""
    return [(r["text"], float(r["conf"])) for r in tesseract_tsv(image, 3)]


def line_boxes(original: Image.Image) -> list[tuple[int, int, int, int]]:
    """The box of every text line of the original holding a word read with confidence."""
    lines: dict[tuple, list] = {}
    for r in tesseract_tsv(original, 3):
        box = (int(r["left"]), int(r["top"]), int(r["width"]), int(r["height"]))
        lines.setdefault((r["block_num"], r["par_num"], r["line_num"]), []).append((box, r))
    out = []
    for words in lines.values():
        if any(float(r["conf"]) >= MIN_CONFIDENCE for _, r in words):
            left = min(b[0] for b, _ in words)
            top = min(b[1] for b, _ in words)
            right = max(b[0] + b[2] for b, _ in words)
            bottom = max(b[1] + b[3] for b, _ in words)
            out.append((left, top, right, bottom))
    return out


def line_words(image: Image.Image, boxes) -> list[tuple[str, float]]:
    """Every listed line cut out with a margin (dark on light), stacked, read as one column."""
    grey, pieces = image.convert("L"), []
    for left, top, right, bottom in boxes:
        pad = max(4, (bottom - top) // 2)
        piece = grey.crop((left - pad, top - pad, right + pad, bottom + pad))
        dark = (
            sum(piece.histogram()[i] * i for i in range(256)) / (piece.width * piece.height) < 128
        )
        pieces.append(ImageOps.invert(piece) if dark else piece)
    strip = Image.new("L", (max(p.width for p in pieces), sum(p.height for p in pieces)), 255)
    y = 0
    for piece in pieces:
        strip.paste(piece, (0, y))
        y += piece.height
    return [(r["text"], float(r["conf"])) for r in tesseract_tsv(strip, 4)]


def clean(word: str) -> str:
    """Lower case, without leading or trailing punctuation (any script's quotes included)."""
    return re.sub(r"^\W+|\W+$", "", word).lower()


def recall(original: list[tuple[str, float]], view: list[tuple[str, float]]) -> float:
    wanted = Counter(
        w for w in (clean(t) for t, c in original if c >= MIN_CONFIDENCE) if len(w) > 1
    )
    found = Counter(clean(t) for t, _ in view)
    total = sum(wanted.values())
    return sum(min(n, found[w]) for w, n in wanted.items()) / total if total else float("nan")


def kept_view(original: Image.Image, row: dict, pick: dict) -> Image.Image:
    """Pillow alone, with the recipe the README documents (longest side scaled down with
    LANCZOS, JPEG with `optimize`, WebP method 4): encode, decode, shrink to the kept size,
    back to full size."""
    scale = min(1.0, int(pick["max_side"]) / max(original.size))
    size = tuple(max(1, round(side * scale)) for side in original.size)
    image = original if size == original.size else original.resize(size, Image.LANCZOS)
    encoded = io.BytesIO()
    options = {"optimize": True} if pick["format"] == "jpeg" else {"method": 4}
    image.save(encoded, format=pick["format"].upper(), quality=int(pick["quality"]), **options)
    sent = Image.open(io.BytesIO(encoded.getvalue())).convert("RGB")
    kept = sent.resize((int(row["provider_width"]), int(row["provider_height"])), Image.LANCZOS)
    return kept.resize(original.size, Image.Resampling.LANCZOS)


def crop_views(original: Image.Image, model: str, detail: str) -> list[Image.Image]:
    from toolkit.crops import split_for_legibility  # the crop geometry only

    plan = split_for_legibility(*original.size, model, detail)
    return [original.crop(box) for box in plan.boxes(*original.size)]


def check(pick: dict, path: str, rows: list[dict]) -> dict:
    """One image under one model's recommendation: word recall read line by line (every line
    of the original with a confident word) and read as whole pages."""
    original, name = load(Path(path)), Path(path).name
    result = {
        "model": pick["model"],
        "category": pick["category"],
        "image": name,
        "toolkit_ocr_relative_min": pick["ocr_relative_min"],
        "lines_recall": math.nan,
    }
    truth = tesseract_words(original)
    if name in str(pick["cropped_images"]).split("; ") or pick["max_side"] is None:
        if not pick["crops_detail"]:
            return {**result, "setting": "none", "page_recall": math.nan}
        views = crop_views(original, pick["model"], pick["crops_detail"])
        read = [word for view in views for word in tesseract_words(view)]
        return {**result, "setting": f"{len(views)} crops", "page_recall": recall(truth, read)}
    row = next(
        r
        for r in rows
        if r["path"] == path
        and r["model"] == pick["model"]
        and int(r["max_side"]) == pick["max_side"]
        and r["format"] == pick["format"]
        and int(r["quality"]) == pick["quality"]
        and r["detail"] == pick["detail"]
    )
    view = kept_view(original, row, pick)
    boxes = line_boxes(original)
    if boxes:
        result["lines_recall"] = recall(line_words(original, boxes), line_words(view, boxes))
    setting = f"{pick['max_side']} px {pick['format']} {pick['quality']} {pick['detail']}"
    return {**result, "setting": setting, "page_recall": recall(truth, tesseract_words(view))}


def load(path: Path) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(path)).convert("RGB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="working folder (new or empty)")
    parser.add_argument("--seed", type=int, default=7, help="held-out set seed")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the held-out set and sweep already in --out"
    )
    parser.add_argument("--models", nargs="+", default=["gpt-4o", "gpt-4.1-mini", "gpt-5.4-mini"])
    args = parser.parse_args()
    images, results = args.out / "held-out", args.out / "results.csv"
    if not args.reuse:
        make = ROOT / "scripts" / "make_samples.py"
        run(BIN / "python", make, "--held-out", images, "--seed", args.seed)
        grid = ["--max-sides", *SIDES, "--formats", "jpeg", "webp", "--qualities", "70", "85"]
        grid += ["--models", *args.models, "--details", "low", "high"]
        run(BIN / "toolkit", "sweep", images, *grid, "--ocr", "--no-cache", "-o", results)
    picks = [
        json.loads(line)
        for line in run(BIN / "toolkit", "recommend", results, "--json").splitlines()
    ]
    rows = list(csv.DictReader(results.open()))
    out = [
        check(pick, path, rows)
        for pick in picks
        for path in sorted({r["path"] for r in rows if r["category"] == pick["category"]})
    ]
    with (args.out / "validation.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(out[0]))
        writer.writeheader()
        writer.writerows(out)
    checked = [o for o in out if not math.isnan(o["lines_recall"])]
    failing = [o for o in checked if o["lines_recall"] < FLOOR]
    page_low = [o for o in out if o["page_recall"] < FLOOR]
    for o in out:
        print(o)
    print(
        f"{len(checked)} image x model checks read line by line, {len(failing)} below {FLOOR}; "
        f"{len(page_low)} of {len(out)} below it when whole pages are read"
    )
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
