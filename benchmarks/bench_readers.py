"""The OCR readers as instruments: accuracy against truth text, agreement, cost per view.

    .venv/bin/python benchmarks/bench_readers.py --out /tmp/readers --seeds 7 8 9

On held-out sets (`scripts/make_samples.py --held-out`, which writes each image's truth text:
the words the browser lays out, `pdftotext` of the page, the texts matplotlib draws), for
every reader (`toolkit.readers.READERS`):

1. **Accuracy** on the originals at full size: the share of the truth's words (2 letters or
   digits or more, as a multiset, in any order: `toolkit.textmatch.found_anywhere`) that the
   reader's reading holds (`truth_recall`), and the share of its confident words that are
   truth words (`confident_precision`: a confident word that is not in the truth is a misread
   legibility would count as text).
2. **Agreement** on views: what gpt-4o (`high`) keeps of each image sent as JPEG 85 at 768,
   1024 and 1536 px, scored by each reader (`toolkit.legibility`); the share of views where
   the two are within 0.05 of each other, and which one reads more where they are not.
3. **Cost**: seconds to read an original (finding its lines and reading each) and a view.

Prints a table per category and overall; writes `originals.csv` and `views.csv`. Run it on a
quiet machine: the times are wall-clock, two images at a time on 2 workers.
"""

import argparse
import csv
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from toolkit import legibility, quality
from toolkit.images import EncodeSettings, encode_pixels, load_image, resize_image
from toolkit.readers import READERS, reader_unavailable
from toolkit.textmatch import found_anywhere, normalize
from toolkit.tokens import image_tokens

ROOT = Path(__file__).resolve().parents[1]
SIDES = (768, 1024, 1536)
MODEL, DETAIL = "gpt-4o", "high"


def truth_words(path: Path) -> list[str] | None:
    text = path.parent / "truth" / f"{path.stem}.txt"
    if not text.is_file():
        return None
    words = (normalize(w) for w in text.read_text(encoding="utf-8").split())
    return [w for w in words if len(w) >= 2]


def kept_views(image):
    """(side, view) for each max side: what gpt-4o keeps of the JPEG 85 sent at that side."""
    for side in SIDES:
        resized = resize_image(image, side)
        data = encode_pixels(resized, EncodeSettings(max_side=side, format="jpeg", quality=85))
        estimate = image_tokens(*resized.size, MODEL, DETAIL)
        kept = (estimate.provider_width, estimate.provider_height)
        yield side, quality.to_size(quality.decode_image(data, resized.mode), kept)


def measure(path: Path, readers: tuple[str, ...]) -> tuple[list[dict], list[dict]]:
    """One image: each reader's reading of the original against the truth, and its views."""
    image = load_image(path, EncodeSettings()).image
    truth = truth_words(path) or []
    originals, views = [], {}
    for name in readers:
        start = time.perf_counter()
        reading = legibility.read_text(image, name)
        seconds = time.perf_counter() - start
        confident = list(reading.confident_words)
        hits = found_anywhere(truth, reading.text)
        in_truth = found_anywhere(confident, " ".join(truth))
        originals.append(
            {
                "image": path.name,
                "category": path.parent.name,
                "reader": name,
                "truth_words": len(truth),
                "truth_recall": round(sum(hits) / len(truth), 4) if truth else None,
                "confident_words": len(confident),
                "confident_precision": round(sum(in_truth) / len(confident), 4)
                if confident
                else None,
                "has_text": reading.has_text,
                "read_original_s": round(seconds, 3),
            }
        )
        for side, view in kept_views(image):
            start = time.perf_counter()
            score = legibility.legibility(reading, view, image.size)
            row = views.setdefault(side, {"image": path.name, "category": path.parent.name})
            row.update(
                max_side=side,
                kept=f"{view.width}x{view.height}",
                **{f"{name}_recall": round(score.word_recall, 4)},
                **{f"{name}_s": round(time.perf_counter() - start, 3)},
            )
    return originals, list(views.values())


def summary(originals: list[dict], views: list[dict], readers: tuple[str, ...]) -> None:
    print("\nreader     category    images  truth recall  confident precision  original s")
    for name in readers:
        for category in sorted({o["category"] for o in originals}) + ["all"]:
            rows = [
                o
                for o in originals
                if o["reader"] == name and category in (o["category"], "all") and o["truth_words"]
            ]
            if not rows:
                continue
            words = sum(o["truth_words"] for o in rows)
            recall = sum(o["truth_recall"] * o["truth_words"] for o in rows) / words
            confident = [o for o in rows if o["confident_words"]]
            precision = sum(o["confident_precision"] * o["confident_words"] for o in confident)
            precision /= max(1, sum(o["confident_words"] for o in confident))
            seconds = sum(o["read_original_s"] for o in rows) / len(rows)
            print(
                f"{name:10} {category:11} {len(rows):6}  {recall:12.3f}  {precision:19.3f}  "
                f"{seconds:10.2f}"
            )
    scored = [v for v in views if all(v[f"{n}_recall"] == v[f"{n}_recall"] for n in readers)]
    print(f"\nviews: {len(views)} ({len(scored)} with text for every reader)")
    for name in readers:
        seconds = [v[f"{name}_s"] for v in views if f"{name}_s" in v]
        print(f"  {name}: {sum(seconds) / len(seconds):.2f} s a view (mean)")
    if len(readers) == 2:
        a, b = readers
        close = [v for v in scored if abs(v[f"{a}_recall"] - v[f"{b}_recall"]) <= 0.05]
        more = [v for v in scored if v[f"{b}_recall"] - v[f"{a}_recall"] > 0.05]
        less = [v for v in scored if v[f"{a}_recall"] - v[f"{b}_recall"] > 0.05]
        print(
            f"  agree within 0.05: {len(close)} of {len(scored)}; {b} reads more in "
            f"{len(more)}, {a} in {len(less)}"
        )


def write_csv(path: Path, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="working folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    readers = tuple(name for name in READERS if reader_unavailable(name) is None)
    args.out.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in args.seeds:
        folder = args.out / f"held-out-{seed}"
        if not folder.is_dir():
            make = ROOT / "scripts" / "make_samples.py"
            command = [sys.executable, make, "--held-out", folder, "--seed", str(seed)]
            subprocess.run(command, check=True, capture_output=True)
        paths += sorted(p for p in folder.glob("*/*.png"))
    originals, views = [], []
    with ProcessPoolExecutor(args.workers) as pool:
        for done in pool.map(measure, paths, [readers] * len(paths)):
            originals += done[0]
            views += done[1]
            print(f"{done[0][0]['image']}: done", flush=True)
    write_csv(args.out / "originals.csv", originals)
    write_csv(args.out / "views.csv", views)
    summary(originals, views, readers)


if __name__ == "__main__":
    main()
