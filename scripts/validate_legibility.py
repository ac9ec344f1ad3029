"""Check the toolkit's legibility against independent readings, on text images it has never
seen, with code that shares nothing with the toolkit's.

    .venv/bin/python scripts/validate_legibility.py --out /tmp/validation --seeds 7 8 9

1. `make_samples.py --held-out` writes fresh screenshots, A4 pages and charts for each seed.
2. The toolkit measures them as a user would: `toolkit sweep --ocr` (max sides 512 to 2048
   px, JPEG and WebP at 70 and 85, the sizes gpt-4o, gpt-4.1-mini and gpt-5.4-mini keep at
   `low` and `high`) and `toolkit recommend --json`. Only the CSV's columns are used.
3. Independently, with Pillow, the `tesseract` command and RapidOCR: every distinct view
   with text sent as JPEG 85 or WebP 70 (image x encoding x kept size) is rebuilt (longest
   side scaled with LANCZOS, encoded, decoded, shrunk to the kept size and brought back to
   the original's size) and read as whole pages, by two engines:
   - Tesseract (`page`): a view's recall is the share of the words the original's
     whole-page reading holds with confidence >= 80 (at least 2 letters or digits) that the
     view's reading still holds, as a multiset. A whole page is read three ways
     (Tesseract's automatic layout with its global and with its adaptive threshold, and as
     sparse text: `PAGE_READS`), and a word counts as read when any reading holds it: one
     page layout that loses a block of a blurred page, grey text a global threshold drops,
     or the tick labels of a chart, does not decide.
   - PP-OCR (`neural_page`): RapidOCR's own text detection and recognition on the whole
     view, no line of the toolkit's. PP-OCR drops spaces between words, differently from
     view to view, so its words are matched by aligning letters (`aligned_recall`). This is
     the engine of the toolkit's `neural` reader, so it is independent of the default
     (Tesseract) reading, not of `--reader neural`.
   Each view is also read as lines (`lines`): every line of the original's Tesseract
   whole-page reading holding a confident word, cut out tight from the original and from
   the view, stacked with white between them and read as one block: the same lines, none of
   the page layout.

Reports (and writes as CSV/JSON in --out):
- **agreement**: how many views have a toolkit `seen_word_recall` within +-0.05 of each
  independent reading, by category, and of either whole-page reading (target: >= 95 %);
  the views where the toolkit reads more than both whole-page readings (the direction that
  would pass a view the model cannot read) and how many it reads less than both; a sweep
  read with both readers (`--reader tesseract,neural`) is also scored reader by reader;
- **encoders**: at the same kept size, WebP 70 against JPEG 85: every pair's difference, for
  the toolkit (target: within +-0.10 on every pair) and for the whole-page readings;
- **recommendations**: each model's recommended setting read whole-page by both engines on
  every held-out image of its category (images the toolkit sends as crops are read crop by
  crop); a check fails when both read below the 0.95 floor.
Readings are kept in --out (`independent.json`, `checks.json`): a run again reads only views
it has not read.
Exits 1 when a target is missed.
"""

import argparse
import csv
import difflib
import importlib.util
import io
import json
import math
import re
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, ImageStat

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MIN_CONFIDENCE = 80
FLOOR = 0.95
AGREEMENT, AGREEING_SHARE, PAIR_LIMIT = 0.05, 0.95, 0.10
SIDES = ("512", "768", "1024", "1536", "2048")
MODELS = ("gpt-4o", "gpt-4.1-mini", "gpt-5.4-mini")
# (page segmentation mode, thresholding): automatic layout with Otsu's global threshold and
# with Sauvola's adaptive one, and sparse text (charts, scattered UI labels) with Sauvola's
PAGE_READS = ((3, 0), (3, 2), (11, 2))
VIEW_ENCODINGS = (("jpeg", 85), ("webp", 70))  # the views compared: the encoder pairs
PAIR_FIELDS = ("toolkit", "page", "neural_page", "lines")
READERS = ("tesseract", "neural")  # the toolkit's readers, when a sweep holds both
THIN_WORDS = 20  # the toolkit's `auto`: PP-OCR judges an original Tesseract reads less of
MIN_SCORE = 0.8  # a PP-OCR line's recognition score (0-1) for its words to count in an original
RAPIDOCR = {  # no angle classifier (with it, near-lossless views of set 8 read 0.89 to 0.94)
    "Global.log_level": "error",
    "Global.use_cls": False,
    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
}
_engines = threading.local()


def run(*cmd: object) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True).stdout


def tesseract_words(image: Image.Image, psm: int, threshold: int) -> list[tuple[str, float]]:
    """(word, confidence) of every word the `tesseract` command reads in `image`."""
    png = io.BytesIO()
    image.save(png, format="PNG", dpi=(300, 300))
    options = ["--psm", str(psm), "-c", f"thresholding_method={threshold}"]
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", *options, "tsv"],
        input=png.getvalue(),
        capture_output=True,
        check=True,
    )
    rows = csv.DictReader(
        io.StringIO(done.stdout.decode()), delimiter="\t", quoting=csv.QUOTE_NONE
    )
    return [(r["text"], float(r["conf"])) for r in rows if r["level"] == "5" and r["text"].strip()]


def clean(word: str) -> str:
    """A word's letters and digits, lower case."""
    return re.sub(r"[\W_]+", "", word.lower())


def page_readings(image: Image.Image) -> list[tuple[Counter, Counter]]:
    """Each whole-page reading (`PAGE_READS`): the words read with confidence, every word."""
    readings = []
    for psm, threshold in PAGE_READS:
        words = tesseract_words(image, psm, threshold)
        confident = Counter(
            w for w in (clean(t) for t, c in words if c >= MIN_CONFIDENCE) if len(w) > 1
        )
        readings.append((confident, Counter(clean(t) for t, _ in words)))
    return readings


def page_reading(image: Image.Image) -> tuple[Counter, Counter]:
    """The whole-page readings as one: each word as many times as the most any one read."""
    confident, every = Counter(), Counter()
    for one in page_readings(image):
        confident |= one[0]
        every |= one[1]
    return confident, every


def page_recall(original: Counter, view: Counter) -> float:
    total = sum(original.values())
    return sum(min(n, view[w]) for w, n in original.items()) / total if total else math.nan


def line_boxes(original: Image.Image) -> list[tuple[int, int, int, int]]:
    """The box of every text line of the original's whole-page reading (automatic layout,
    global threshold) that holds a confident word of 2 letters or digits."""
    png = io.BytesIO()
    original.save(png, format="PNG", dpi=(300, 300))
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "--psm", "3", "tsv"],
        input=png.getvalue(),
        capture_output=True,
        check=True,
    )
    table = io.StringIO(done.stdout.decode())
    lines: dict[tuple, list] = {}
    for r in csv.DictReader(table, delimiter="\t", quoting=csv.QUOTE_NONE):
        if r["level"] == "5" and r["text"].strip():
            left, top = int(r["left"]), int(r["top"])
            box = (left, top, left + int(r["width"]), top + int(r["height"]))
            confident = float(r["conf"]) >= MIN_CONFIDENCE and len(clean(r["text"])) > 1
            key = (r["block_num"], r["par_num"], r["line_num"])
            lines.setdefault(key, []).append((box, confident))
    return [
        (
            min(b[0] for b, _ in words),
            min(b[1] for b, _ in words),
            max(b[2] for b, _ in words),
            max(b[3] for b, _ in words),
        )
        for words in lines.values()
        if any(confident for _, confident in words)
    ]


def lines_strip(image: Image.Image, boxes) -> Image.Image:
    """Each line cut out tight (a quarter of its height around it, never more than half the
    gap to a line above or below it), dark on light, stacked with a line's height of white
    between them."""
    grey, pieces = image.convert("L"), []
    for left, top, right, bottom in boxes:
        pad = max(2, (bottom - top) // 4)
        beside = [b for b in boxes if b[0] < right and b[2] > left]
        up = min([pad, *(max(1, (top - b[3]) // 2) for b in beside if b[3] <= top)])
        down = min([pad, *(max(1, (b[1] - bottom) // 2) for b in beside if b[1] >= bottom)])
        piece = grey.crop((max(0, left - pad), max(0, top - up), right + pad, bottom + down))
        if ImageStat.Stat(piece).mean[0] < 128:
            piece = ImageOps.invert(piece)
        pieces.append(piece)
    gap = max(8, max(p.height for p in pieces))
    width = max(p.width for p in pieces) + 2 * gap
    strip = Image.new("L", (width, sum(p.height + gap for p in pieces) + gap), 255)
    y = gap
    for piece in pieces:
        strip.paste(piece, (gap, y))
        y += piece.height + gap
    return strip


def lines_recall(original: Image.Image, view: Image.Image, boxes) -> float:
    """The share of the confident words of the original's lines, read as one block of tight
    lines, that the same lines of the view still read."""
    read = tesseract_words(lines_strip(original, boxes), 6, 0)
    truth = Counter(w for w in (clean(t) for t, c in read if c >= MIN_CONFIDENCE) if len(w) > 1)
    found = Counter(clean(t) for t, _ in tesseract_words(lines_strip(view, boxes), 6, 0))
    return page_recall(truth, found)


def neural_lines(image: Image.Image) -> list[tuple[str, float]]:
    """(text, score) of every line that PP-OCR reads in `image` as a whole page: RapidOCR's
    own text detection, then its recognition (one engine per thread, one ONNX thread)."""
    if not hasattr(_engines, "engine"):
        from rapidocr import RapidOCR

        _engines.engine = RapidOCR(params=RAPIDOCR)
    pixels = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])  # BGR
    read = _engines.engine(pixels, use_cls=False)
    return [] if read.txts is None else list(zip(read.txts, map(float, read.scores), strict=True))


def aligned_recall(original: list[tuple[str, float]], view: list[tuple[str, float]]) -> float:
    """The share of the words of the original's confident lines (score >= `MIN_SCORE`; words
    of 2 letters or digits or more) that the view's reading still holds, whatever its spacing:
    each line's letters and digits are aligned, in order, with all of the view's (`difflib`),
    and a word counts when one matching run covers it whole. PP-OCR drops the spaces between
    words, and where it does so differs from view to view."""
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2("|".join(clean(text) for text, _ in view))
    found = total = 0
    for text, score in original:
        if score < MIN_SCORE:
            continue
        letters, spans = "", []
        for word in filter(None, map(clean, text.split())):
            spans.append((len(letters), len(letters) + len(word), len(word) > 1))
            letters += word
        matcher.set_seq1(letters)
        runs = [(a, a + n) for a, _, n in matcher.get_matching_blocks() if n]
        for start, end, counted in spans:
            total += counted
            found += counted and any(a <= start and end <= b for a, b in runs)
    return found / total if total else math.nan


def load(path: Path) -> Image.Image:
    """The original as the toolkit normalizes a plain RGB or grey PNG: upright, RGB or L."""
    image = ImageOps.exif_transpose(Image.open(path))
    return image if image.mode == "L" else image.convert("RGB")


def view_of(original: Image.Image, side: int, fmt: str, quality: int, kept) -> Image.Image:
    """Pillow alone, with the recipe the README documents (longest side scaled down with
    LANCZOS, JPEG with `optimize`, WebP method 4): encode, decode, shrink to the kept size,
    back to the original's size."""
    scale = min(1.0, side / max(original.size))
    size = tuple(max(1, round(n * scale)) for n in original.size)
    image = original if size == original.size else original.resize(size, Image.LANCZOS)
    encoded = io.BytesIO()
    options = {"optimize": True} if fmt == "jpeg" else {"method": 4}
    image.save(encoded, format=fmt.upper(), quality=quality, **options)
    sent = Image.open(io.BytesIO(encoded.getvalue()))
    sent = sent.convert(original.mode)
    return sent.resize(kept, Image.LANCZOS).resize(original.size, Image.LANCZOS)


def measured_views(rows: list[dict]) -> dict[tuple, dict]:
    """The sweep's distinct views with text: (path, format, quality, kept size) -> a row."""
    views = {}
    for r in rows:
        if r["error"] or not r["seen_word_recall"]:
            continue
        kept = (int(r["provider_width"]), int(r["provider_height"]))
        views.setdefault((r["path"], r["format"], int(r["quality"]), kept), r)
    return views


def independent(path: str, views: list[tuple[tuple, dict]], known: dict) -> dict[str, dict]:
    """One image's views read whole-page (Tesseract: `page`, PP-OCR: `neural_page`) and as
    lines, by view key (`view_key`); readings already in `known` are kept, not read again."""
    image = load(Path(path))
    tesseract = neural = None
    values = {}
    for key, r in views:
        done = dict(known.get(view_key(key), {}))
        if "page" in done and "neural_page" in done:
            values[view_key(key)] = done
            continue
        _, fmt, quality, kept = key
        view = view_of(image, int(r["max_side"]), fmt, quality, kept)
        if "page" not in done:
            tesseract = tesseract or (page_readings(image), line_boxes(image))
            done.update(tesseract_values(image, view, *tesseract))
        if "neural_page" not in done:
            neural = neural or neural_lines(image)
            done["neural_page"] = round(aligned_recall(neural, neural_lines(view)), 4)
        values[view_key(key)] = done
    print(f"  {Path(path).name}: {len(views)} views read", flush=True)
    return values


def tesseract_values(image: Image.Image, view: Image.Image, truths, boxes) -> dict:
    """A view's Tesseract readings: whole-page (`page`, and how far its three page readings
    differ: `page_reads_spread`) and as lines (`lines`)."""
    read = page_readings(view)
    one_by_one = [page_recall(t[0], v[1]) for t, v in zip(truths, read, strict=True)]
    truth, found = Counter(), Counter()
    for t, v in zip(truths, read, strict=True):
        truth, found = truth | t[0], found | v[1]
    return {
        "page": round(page_recall(truth, found), 4),
        "page_reads_spread": round(max(one_by_one) - min(one_by_one), 4),
        "lines": round(lines_recall(image, view, boxes), 4) if boxes else math.nan,
    }


def view_key(key: tuple) -> str:
    path, fmt, quality, kept = key
    return f"{path}|{fmt}|{quality}|{kept[0]}x{kept[1]}"


def read_independently(by_image: dict[str, list], out: Path, workers: int) -> dict[str, dict]:
    """Every view's independent readings, kept in `out/independent.json` as each image's are
    done, so that a run again (another toolkit version, the same views) reads only new ones."""
    store = out / "independent.json"
    known = json.loads(store.read_text()) if store.is_file() else {}
    fields = ("page", "neural_page")
    missing = {
        path: views
        for path, views in by_image.items()
        if any(f not in known.get(view_key(key), {}) for key, _ in views for f in fields)
    }
    with ThreadPoolExecutor(workers) as pool:
        for values in pool.map(independent, missing, missing.values(), [known] * len(missing)):
            known.update(values)
            write_whole(store, json.dumps(known))
    return known


def agreement(
    rows: list[dict], out: Path, workers: int, judge: str | None = None
) -> tuple[list[dict], dict]:
    """Every view with text sent as JPEG 85 or WebP 70 (the encoder pairs), read whole-page
    and as lines beside the toolkit's value (the sweep's, or as `judge` gives it from the
    sweep's columns); `workers` images at a time (the reading is done by `tesseract`
    processes)."""
    by_image: dict[str, list] = {}
    for key, r in sorted(measured_views(rows).items()):
        if key[1:3] in VIEW_ENCODINGS:
            by_image.setdefault(key[0], []).append((key, r))
    known = read_independently(by_image, out, workers)
    result = []
    for path, views in by_image.items():
        for key, r in views:
            found = known[view_key(key)]
            each = {
                f"{field}_{name}": float(r[f"{name}_{column}"] or "nan")
                for name in READERS
                if f"{name}_text_words" in r
                for field, column in (("toolkit", "word_recall"), ("words", "text_words"))
            }
            toolkit_value = JUDGES[judge](each) if judge else float(r["seen_word_recall"])
            if not toolkit_value >= 0:  # the judge's readers read no text in the original
                continue
            result.append(
                {
                    "image": str(Path(path).relative_to(out)),
                    "category": r["category"],
                    "format": key[1],
                    "quality": key[2],
                    "kept": f"{key[3][0]}x{key[3][1]}",
                    "toolkit": round(toolkit_value, 4),
                    **{field: round(value, 4) for field, value in each.items()},
                    "difference": round(toolkit_value - found["page"], 4),
                    "neural_difference": round(toolkit_value - found["neural_page"], 4),
                    **found,
                }
            )
    write_csv(out / "views.csv", result)
    references = {
        "the Tesseract whole-page reading": near("page"),
        "the PP-OCR whole-page reading": near("neural_page"),
        "either whole-page reading": nearest_page_agrees,
        "the Tesseract tight-lines reading": near("lines"),
    }
    steady = [v for v in result if v["page_reads_spread"] <= AGREEMENT]
    summary = {
        "views": len(result),
        "within_0.05_of": {name: tally(result, test) for name, test in references.items()},
        "share_within_either": sum(map(nearest_page_agrees, result)) / len(result)
        if result
        else math.nan,
        "within_tesseract_page_where_its_3_reads_agree": tally(steady, near("page")),
        "reads_more_than_both_pages": [
            v for v in result if v["toolkit"] > max(v["page"], v["neural_page"]) + AGREEMENT
        ],
        "reads_less_than_both_pages": tally(
            result, lambda v: v["toolkit"] < min(v["page"], v["neural_page"]) - AGREEMENT
        ),
        "within_either_by_reader": {
            name: tally(read, nearest_page_agrees) for name, read in by_reader(result).items()
        },
    }
    return result, summary


def auto(view: dict) -> float:
    """The toolkit's `auto` reader, from its two readers' values: PP-OCR's where Tesseract
    read some but fewer than 20 confident words of the original and PP-OCR read more."""
    tesseract, neural = (view[f"words_{name}"] for name in READERS)
    thin = 0 < tesseract < THIN_WORDS and neural > tesseract  # (NaN compares False)
    return view["toolkit_neural"] if thin else view["toolkit_tesseract"]


JUDGES = {
    "tesseract": lambda v: v["toolkit_tesseract"],
    "neural": lambda v: v["toolkit_neural"],
    "looser of both": lambda v: max(
        known([v["toolkit_tesseract"], v["toolkit_neural"]]), default=math.nan
    ),
    "stricter of both": lambda v: min(
        known([v["toolkit_tesseract"], v["toolkit_neural"]]), default=math.nan
    ),
    "auto": auto,
}


def by_reader(views: list[dict]) -> dict[str, list[dict]]:
    """When the sweep read with both readers (every original, or as `auto` does): per reader,
    for the looser and the stricter of the two and for `auto`, the views it reads text in,
    with its value as the toolkit's."""
    ran = {name for name in READERS if any(v.get(f"toolkit_{name}", -1) >= 0 for v in views)}
    usable = [name for name in JUDGES if ran == set(READERS) or name in ran]
    return {
        name: [v | {"toolkit": value} for v in views if (value := JUDGES[name](v)) >= 0]
        for name in usable
    }


def known(values) -> list[float]:
    """The values that are not NaN (a reader that found no text)."""
    return [v for v in values if v == v]


def near(field: str):
    """A test of a view: the toolkit's value is within +-0.05 of its reading `field`."""
    return lambda view: abs(view["toolkit"] - view[field]) <= AGREEMENT


def nearest_page_agrees(view: dict) -> bool:
    """The toolkit's value is within +-0.05 of one of the two whole-page readings at least."""
    return near("page")(view) or near("neural_page")(view)


def tally(views: list[dict], test) -> dict[str, str]:
    """How many views pass `test`, in all and by category ("k of n")."""
    groups = {"all": views} | {
        c: [v for v in views if v["category"] == c] for c in sorted({v["category"] for v in views})
    }
    return {name: f"{sum(map(test, vs))} of {len(vs)}" for name, vs in groups.items()}


def pairs_of(views: list[dict]) -> list[tuple[dict, dict]]:
    """(JPEG 85, WebP 70) views of the same image at the same kept size."""
    by_key = {(v["image"], v["kept"], v["format"], v["quality"]): v for v in views}
    return [
        (by_key[(image, kept, "jpeg", 85)], webp)
        for (image, kept, fmt, quality), webp in sorted(by_key.items())
        if (fmt, quality) == ("webp", 70) and (image, kept, "jpeg", 85) in by_key
    ]


def encoder_pairs(views: list[dict], out: Path) -> dict:
    """WebP 70 against JPEG 85 at the same image and kept size."""
    pairs = [
        {
            "image": webp["image"],
            "kept": webp["kept"],
            **{f"{f}_difference": round(webp[f] - jpeg[f], 4) for f in PAIR_FIELDS},
        }
        for jpeg, webp in pairs_of(views)
    ]
    write_csv(out / "pairs.csv", pairs)
    toolkit = [abs(p["toolkit_difference"]) for p in pairs]
    readers = {
        name: [abs(webp["toolkit"] - jpeg["toolkit"]) for jpeg, webp in pairs_of(read)]
        for name, read in by_reader(views).items()
    }
    page = [abs(p["page_difference"]) for p in pairs]
    return {
        "pairs": len(pairs),
        "toolkit_max_difference": max(toolkit, default=math.nan),
        "toolkit_within": sum(d <= PAIR_LIMIT for d in toolkit),
        "page_max_difference": max(page, default=math.nan),
        "page_within": sum(d <= PAIR_LIMIT for d in page),
        "neural_page_max_difference": max(
            (abs(p["neural_page_difference"]) for p in pairs), default=math.nan
        ),
        "toolkit_within_by_reader": {
            name: f"{sum(d <= PAIR_LIMIT for d in gaps)} of {len(gaps)}"
            for name, gaps in readers.items()
        },
        "lines_max_difference": max(
            (
                abs(p["lines_difference"])
                for p in pairs
                if p["lines_difference"] == p["lines_difference"]
            ),
            default=math.nan,
        ),
    }


CROPS = re.compile(
    r"(?P<name>[^;]+?): (?:(?P<columns>\d+)x(?P<rows>\d+) crops of|the whole image at) "
    r"(?P<width>\d+)x(?P<height>\d+) px"
)


def crop_grids(pick: dict) -> dict[str, tuple[int, int, int, int]]:
    """Per cropped image, (columns, rows, crop width, crop height) from the pick's
    `crops_setting` ("code.png: 2x3 crops of 1296x502 px, jpeg 85, detail high; ...")."""
    return {
        m["name"].strip(): (
            int(m["columns"] or 1),
            int(m["rows"] or 1),
            int(m["width"]),
            int(m["height"]),
        )
        for m in CROPS.finditer(str(pick.get("crops_setting") or ""))
    }


def crop_views(original: Image.Image, grid: tuple[int, int, int, int]) -> list[Image.Image]:
    """The crops `toolkit recommend` says it sends: evenly spread, row by row."""
    columns, rows, width, height = grid
    lefts = spread(original.width, width, columns)
    tops = spread(original.height, height, rows)
    return [
        original.crop((x, y, min(x + width, original.width), min(y + height, original.height)))
        for y in tops
        for x in lefts
    ]


def spread(length: int, crop: int, count: int) -> list[int]:
    return [0] if count == 1 else [round(i * (length - crop) / (count - 1)) for i in range(count)]


def recommendations(rows: list[dict], picks: list[dict], out: Path, workers: int) -> dict:
    """Each recommended setting read whole-page, by Tesseract and by PP-OCR, on every image of
    its category (an image sent as crops is read crop by crop); `workers` images at a time,
    each check kept in `out/checks.json` so that a run again reads only new ones."""
    by_image: dict[str, list[tuple[dict, str, tuple]]] = {}
    for pick in picks:
        grids = crop_grids(pick)
        for path in sorted({r["path"] for r in rows if r["category"] == pick["category"]}):
            check = pick_check(rows, pick, path, grids)
            if check is not None:
                by_image.setdefault(path, []).append((pick, *check))
    store = out / "checks.json"
    known = json.loads(store.read_text()) if store.is_file() else {}
    missing = {
        path: checks
        for path, checks in by_image.items()
        if any(check_key(path, spec) not in known for _, _, spec in checks)
    }
    with ThreadPoolExecutor(workers) as pool:
        for values in pool.map(read_checks, missing, missing.values(), [known] * len(missing)):
            known.update(values)
            write_whole(store, json.dumps(known))
    result = [
        {
            "model": pick["model"],
            "category": pick["category"],
            "image": Path(path).name,
            "setting": setting,
            **known[check_key(path, spec)],
        }
        for path, checks in by_image.items()
        for pick, setting, spec in checks
        if known[check_key(path, spec)]
    ]
    write_csv(out / "recommendations.csv", result)
    return {
        "checks": len(result),
        "below_floor_by_tesseract_page": sum(r["page_recall"] < FLOOR for r in result),
        "below_floor_by_neural_page": sum(r["neural_page_recall"] < FLOOR for r in result),
        "below_floor_by_both": [
            r for r in result if max(r["page_recall"], r["neural_page_recall"]) < FLOOR
        ],
    }


def pick_check(rows: list[dict], pick: dict, path: str, grids: dict) -> tuple[str, tuple] | None:
    """What `pick` sends of the image at `path`: (the setting in words, the view to rebuild:
    ("crops", grid) or ("view", side, format, quality, kept size)), None when it sends none."""
    name = Path(path).name
    if name in grids:
        return f"{grids[name][0]}x{grids[name][1]} crops", ("crops", grids[name])
    if pick["max_side"] is None:
        return None
    row = next(
        r
        for r in rows
        if r["path"] == path
        and r["model"] == pick["model"]
        and r["max_side"] == str(pick["max_side"])
        and r["format"] == pick["format"]
        and r["quality"] == str(pick["quality"])
        and r["detail"] == pick["detail"]
    )
    kept = (int(row["provider_width"]), int(row["provider_height"]))
    side, fmt, quality = int(pick["max_side"]), pick["format"], int(pick["quality"])
    return f"{side} px {fmt} {quality} {pick['detail']}", ("view", side, fmt, quality, kept)


def check_key(path: str, spec: tuple) -> str:
    return "|".join(map(str, (path, *spec)))


def read_checks(path: str, checks: list[tuple], known: dict) -> dict[str, dict | None]:
    """One image's checks not in `known`: each view read whole-page by both engines against
    the original (None: Tesseract reads no confident word in the original)."""
    original = load(Path(path))
    truth, neural_truth = page_reading(original)[0], neural_lines(original)
    values: dict[str, dict | None] = {}
    for _, _, spec in checks:
        key = check_key(path, spec)
        if key in known or key in values:
            continue
        if not sum(truth.values()):
            values[key] = None
            continue
        if spec[0] == "crops":
            views = crop_views(original, spec[1])
        else:
            views = [view_of(original, *spec[1:])]
        read = sum((page_reading(view)[1] for view in views), Counter())
        neural_read = [line for view in views for line in neural_lines(view)]
        values[key] = {
            "page_recall": round(page_recall(truth, read), 4),
            "neural_page_recall": round(aligned_recall(neural_truth, neural_read), 4),
        }
    print(f"  {Path(path).name}: {len(checks)} recommendation checks read", flush=True)
    return values


def write_csv(path: Path, rows: list[dict]) -> None:
    text = io.StringIO(newline="")
    if rows:
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    write_whole(path, text.getvalue())


def write_whole(path: Path, text: str) -> None:
    """`text` in `path`, whole or not at all: written beside it, then renamed over it."""
    temp = path.with_name(path.name + ".partial")
    temp.write_text(text, newline="")
    temp.replace(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, required=True, help="working folder: held-out sets, sweep, readings"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9], help="held-out sets")
    parser.add_argument("--reader", default="auto", help="the toolkit's OCR reader")
    parser.add_argument(
        "--judge",
        choices=["tesseract", "neural", "auto"],
        help="judge the sweep as this reader gives it (toolkit recommend --reader), from a "
        "sweep read by both (--reader tesseract,neural); default: as swept",
    )
    parser.add_argument("--workers", type=int, default=2, help="images read at once")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the sweep already in --out (else sweep again); only --seeds' views are read, "
        "against the picks of the whole sweep",
    )
    args = parser.parse_args()
    if importlib.util.find_spec("rapidocr") is None:
        needs = "the PP-OCR reading needs rapidocr: .venv/bin/pip install -e '.[neural]'"
        print(needs, file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    folders = [args.out / f"held-out-{seed}" for seed in args.seeds]
    results = args.out / "results.csv"
    make = ROOT / "scripts" / "make_samples.py"
    for seed, folder in zip(args.seeds, folders, strict=True):
        if not folder.is_dir():
            run(BIN / "python", make, "--held-out", folder, "--seed", seed)
    if not (args.reuse and results.is_file()):
        grid = ["--max-sides", *SIDES, "--formats", "jpeg", "webp", "--qualities", "70", "85"]
        grid += ["--models", *MODELS, "--details", "low", "high", "--reader", args.reader]
        run(BIN / "toolkit", "sweep", *folders, *grid, "--ocr", "--no-cache", "-o", results)
    held_out = {str(folder) for folder in folders}  # a kept sweep may hold other seeds
    rows = [
        r for r in csv.DictReader(results.open()) if str(Path(r["path"]).parents[1]) in held_out
    ]
    print("agreement with whole-page reading:", flush=True)
    views, agreed = agreement(rows, args.out, args.workers, args.judge)
    pairs = encoder_pairs(views, args.out)
    judged = ["--reader", args.judge] if args.judge else []
    picks = [
        json.loads(line)
        for line in run(BIN / "toolkit", "recommend", results, *judged, "--json").splitlines()
    ]
    checked = recommendations(rows, picks, args.out, args.workers)
    summary = {"agreement": agreed, "encoders": pairs, "recommendations": checked}
    write_whole(args.out / "summary.json", json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))
    missed = (
        agreed["share_within_either"] < AGREEING_SHARE
        or pairs["toolkit_within"] < pairs["pairs"]
        or checked["below_floor_by_both"]
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
