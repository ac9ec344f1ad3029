"""Check the recommendations on text images the project has never seen, with an OCR that
shares no code with the toolkit's.

    .venv/bin/python scripts/validate_legibility.py --out /tmp/validation --seed 7

1. `make_samples.py --held-out` writes fresh screenshots (11-13 px text), A4 pages and charts.
2. The toolkit recommends for them, as a user would: `toolkit sweep --ocr` and
   `toolkit recommend --json` (only the provider-kept size is taken from its CSV).
3. Independently, for every image and model: Pillow resizes and encodes with the
   recommended settings, shrinks to the kept size and back, and the `tesseract` command reads
   the whole view and the whole full-resolution original (TSV output). Word recall = the share
   of the original's words read with confidence >= 80 that the view still reads. A category the
   toolkit sends as crops is checked crop by crop (its words pooled).

Writes `validation.csv` (one row per model x image) and prints a summary; exits 1 when a
recommended setting keeps less than the floor on some image.
"""

import argparse
import csv
import io
import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MIN_CONFIDENCE = 80
FLOOR = 0.95


def run(*cmd: object) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True).stdout


def tesseract_words(image: Image.Image) -> list[tuple[str, float]]:
    """(word, confidence) of every word the `tesseract` command reads in `image`."""
    png = io.BytesIO()
    image.save(png, format="PNG")
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "--psm", "3", "tsv"],
        input=png.getvalue(),
        capture_output=True,
        check=True,
    )
    rows = csv.DictReader(
        io.StringIO(done.stdout.decode()), delimiter="\t", quoting=csv.QUOTE_NONE
    )
    return [(r["text"], float(r["conf"])) for r in rows if r["level"] == "5" and r["text"].strip()]


def clean(word: str) -> str:
    return word.strip(".,;:!?()[]{}\"'`").lower()


def recall(original: list[tuple[str, float]], view: list[tuple[str, float]]) -> float:
    wanted = Counter(
        w for w in (clean(t) for t, c in original if c >= MIN_CONFIDENCE) if len(w) > 1
    )
    found = Counter(clean(t) for t, _ in view)
    total = sum(wanted.values())
    return sum(min(n, found[w]) for w, n in wanted.items()) / total if total else float("nan")


def kept_view(original: Image.Image, row: dict, pick: dict) -> Image.Image:
    """Pillow alone: resize, encode, decode, shrink to the kept size, back to full size."""
    image = original.copy()
    image.thumbnail((int(pick["max_side"]),) * 2, Image.Resampling.LANCZOS)
    encoded = io.BytesIO()
    image.save(encoded, format=pick["format"].upper(), quality=int(pick["quality"]))
    sent = Image.open(io.BytesIO(encoded.getvalue())).convert("RGB")
    kept = sent.resize((int(row["provider_width"]), int(row["provider_height"])), Image.LANCZOS)
    return kept.resize(original.size, Image.Resampling.LANCZOS)


def crop_views(original: Image.Image, model: str, detail: str) -> list[Image.Image]:
    from toolkit.crops import split_for_legibility  # the crop geometry only

    plan = split_for_legibility(*original.size, model, detail)
    return [original.crop(box) for box in plan.boxes(*original.size)]


def load(path: Path) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(path)).convert("RGB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="working folder (new or empty)")
    parser.add_argument("--seed", type=int, default=7, help="held-out set seed")
    parser.add_argument("--models", nargs="+", default=["gpt-4o", "gpt-4.1-mini", "gpt-5.4-mini"])
    args = parser.parse_args()
    images, results = args.out / "held-out", args.out / "results.csv"
    run(
        BIN / "python",
        ROOT / "scripts" / "make_samples.py",
        "--held-out",
        images,
        "--seed",
        args.seed,
    )
    run(
        BIN / "toolkit",
        "sweep",
        images,
        "--ocr",
        "--no-cache",
        "--no-progress",
        "-o",
        results,
        "--models",
        *args.models,
        "--details",
        "low",
        "high",
        "--formats",
        "jpeg",
        "webp",
        "--qualities",
        "70",
        "85",
        "--max-sides",
        "512",
        "768",
        "1024",
        "1536",
        "2048",
    )
    picks = [
        json.loads(line)
        for line in run(BIN / "toolkit", "recommend", results, "--json").splitlines()
    ]
    rows = list(csv.DictReader(results.open()))
    out = []
    for pick in picks:
        paths = sorted({r["path"] for r in rows if r["category"] == pick["category"]})
        for path in paths:
            original = load(Path(path))
            truth = tesseract_words(original)
            if pick["max_side"] is None and pick["crops_detail"]:
                views = crop_views(original, pick["model"], pick["crops_detail"])
                read = [w for view in views for w in tesseract_words(view)]
                how = f"{len(views)} crops"
            elif pick["max_side"] is None:
                read, how = [], "no setting and no crops"
            else:
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
                read = tesseract_words(kept_view(original, row, pick))
                how = f"{pick['max_side']} px {pick['format']} {pick['quality']} {pick['detail']}"
            out.append(
                {
                    "model": pick["model"],
                    "category": pick["category"],
                    "image": Path(path).name,
                    "setting": how,
                    "toolkit_ocr_relative_min": pick["ocr_relative_min"],
                    "independent_recall": round(recall(truth, read), 4),
                }
            )
    with (args.out / "validation.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(out[0]))
        writer.writeheader()
        writer.writerows(out)
    checked = [o for o in out if not math.isnan(o["independent_recall"])]
    failing = [o for o in checked if o["independent_recall"] < FLOOR]
    for o in out:
        print(o)
    print(f"{len(checked)} image x model checks, {len(failing)} below {FLOOR}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
