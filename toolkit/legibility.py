"""Is the text still legible? Tesseract OCR of a view against the same OCR of the original.

Legibility is always relative: the full-resolution original is read once, and each view the
provider keeps (brought back to the original's size) is read the same way and scored against
it. Ground truth is what Tesseract reads in the original, so an image whose text Tesseract
cannot read at full size has *no text* (`Reading.has_text` is False, scores are NaN), never a
legibility of 0.

Two scores, both in 0..1:
- **word recall**: the share of the original's *confident* words (Tesseract confidence >=
  `MIN_CONFIDENCE`, at least 2 characters) that the view still reads, counted as a multiset
  and independent of reading order. It is the stricter measure (one wrong character loses the
  word) and the one recommendations use.
- **character accuracy**: 1 - Levenshtein distance / length over the text read, in order.

Why confident words only: the low-confidence "words" Tesseract finds in icons, rules and
photos change from one read to the next. Measured on a 1920x1080 screenshot with 11-13 px text,
a view resized 1920 -> 2048 -> 1920 px reads 0.94 of *all* the original's words but 0.98-0.99 of
its confident ones, so noise stays well under the 0.95 decision floor.

**A sample of the text lines, read in stages.** Reading a whole text-dense view costs 1-4 s
(a 2560x1440 code screenshot with 650 words, an A4 page with 800; Tesseract's time goes with
the words read, ~2 ms each on the project's machine), and a sweep reads every view the
providers keep. So the original's text lines are sampled once: at most `SAMPLE_LINES` lines,
spread evenly over the lines sorted by text height, so every text size is represented and the
smallest always is.
Lines are cut out (with a margin of half a line; light-on-dark lines turned dark-on-light) and
stacked into strips, read for the original and, cut from the same places, for every view:
the same procedure on both sides. A view is read strip by strip, and scored on every strip
read so far:
1. half the sample (every other line by height, the smallest included). A view that keeps
   less than `FAR_BELOW` of those words is far below any floor and is not read further;
2. the other half: the view's value on the whole sample;
3. near a floor, where a sample can misjudge a view by a few points (a sampled recall in
   `EXACT_BAND`: 0.90 or more, one word missed or more), the *rest* of the lines, so the
   values decisions turn on count every line. (A sample of ~100 words that reads 0.99 can
   stand for 0.95 of all of them: seen on a held-out mail-client screenshot,
   `scripts/validate_legibility.py`.)
No line is read twice, and only the views that need it pay for more.

Tesseract runs in process through `tesserocr`, one engine per thread kept for the life of the
process (sweep workers are persistent, so a sweep loads the model once per worker), with
OpenMP limited to one thread because parallelism comes from the workers.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import math
import os
import re
import sys
import threading
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from toolkit import quality
from toolkit.errors import SettingsError

MIN_CONFIDENCE = 80  # Tesseract word confidence (0-100) for a word to count as read
MIN_TEXT_WORDS = 8  # confident words the original needs before legibility is judged
# SAMPLE_LINES and FAR_BELOW: with them every pick of the held-out check keeps >= 0.95 read
# independently (`scripts/validate_legibility.py --seed 7`, 33 of 33; docs/METRICS.md)
SAMPLE_LINES = 12  # text lines of the original every view is read on
FAR_BELOW = 0.7  # a view keeping less of half the sample's words is not read further
EXACT_BAND = (0.9, 1.0)  # sampled recalls in [0.9, 1) are measured on every line
METHOD = 2  # how views are read; changed with it, so caches read views again (2: in stages)
LANGUAGE = "eng"
TESSDATA_GLOBS = (
    "/usr/share/tesseract-ocr/*/tessdata",  # Debian, Ubuntu (tesseract-ocr-eng)
    "/usr/share/tessdata",  # Fedora, Arch
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)
_EDGE_PUNCTUATION = re.compile(r"^\W+|\W+$")
_local = threading.local()


Box = tuple[int, int, int, int]  # left, top, right, bottom


@dataclass(frozen=True)
class LineSet:
    """Text lines of an original (`boxes`; none: the whole image) and what they read there:
    every word in order (`text`) and the confident ones, normalized (`words`)."""

    boxes: tuple[Box, ...]
    text: str
    words: tuple[str, ...]

    @classmethod
    def from_dict(cls, data: dict) -> LineSet:
        boxes = tuple((int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in data["boxes"])
        return cls(boxes, data["text"], tuple(data["words"]))


@dataclass(frozen=True)
class Reading:
    """What Tesseract reads in an original: every word in reading order (`text`) and the
    confident ones, normalized (`confident_words`); and the strips views are read on (see
    the module docstring): the `sample` (in two halves, or one strip when half would hold
    too few words; a strip with no boxes is the whole image), and the `rest` of the lines
    when the sample does not hold them all."""

    text: str
    confident_words: tuple[str, ...]
    sample: tuple[LineSet, ...] = ()
    rest: LineSet | None = None

    @property
    def has_text(self) -> bool:
        return len(self.confident_words) >= MIN_TEXT_WORDS

    def to_dict(self) -> dict:
        """JSON-ready (a sweep caches the original's reading instead of reading it again)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Reading:
        return cls(
            text=data["text"],
            confident_words=tuple(data["confident_words"]),
            sample=tuple(LineSet.from_dict(strip) for strip in data["sample"]),
            rest=LineSet.from_dict(data["rest"]) if data["rest"] else None,
        )


@dataclass(frozen=True)
class Legibility:
    """A view's text against the original's: word recall and character accuracy (0..1)."""

    word_recall: float
    char_accuracy: float


def tessdata_dir() -> Path | None:
    """The folder holding `eng.traineddata`: `$TESSDATA_PREFIX`, else the usual places."""
    candidates = [os.environ.get("TESSDATA_PREFIX", "")]
    candidates += sorted(
        (p for pattern in TESSDATA_GLOBS for p in glob.glob(pattern)), reverse=True
    )
    for folder in filter(None, candidates):
        if (Path(folder) / f"{LANGUAGE}.traineddata").is_file():
            return Path(folder)
    return None


def ocr_unavailable() -> str | None:
    """Why OCR cannot run here, or None when it can (tesserocr is looked for, not loaded)."""
    if importlib.util.find_spec("tesserocr") is None:
        return "the Python package tesserocr is not installed (pip install tesserocr)"
    if tessdata_dir() is None:
        return (
            f"no {LANGUAGE}.traineddata found (Debian/Ubuntu: apt install tesseract-ocr-eng; "
            "or set TESSDATA_PREFIX to the folder that holds it)"
        )
    return None


def engine_version() -> str:
    """The Tesseract version OCR runs with (for the report's assumptions)."""
    import tesserocr

    return tesserocr.tesseract_version().split()[1]


def _engine(psm: str):
    """This thread's Tesseract engine for a page segmentation mode, created on first use."""
    engines = _local.__dict__.setdefault("engines", {})
    if psm not in engines:
        reason = ocr_unavailable()
        if reason:
            raise SettingsError(f"OCR unavailable: {reason}")
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        import tesserocr

        engines[psm] = tesserocr.PyTessBaseAPI(
            path=str(tessdata_dir()), lang=LANGUAGE, psm=getattr(tesserocr.PSM, psm)
        )
    return engines[psm]


def normalize_word(word: str) -> str:
    return _EDGE_PUNCTUATION.sub("", word).lower()


def _confident(words) -> tuple[str, ...]:
    """Normalized words of at least 2 characters read with `MIN_CONFIDENCE` or more."""
    normalized = (normalize_word(w) for w, confidence in words if confidence >= MIN_CONFIDENCE)
    return tuple(w for w in normalized if len(w) >= 2)


@contextlib.contextmanager
def _native_stderr_muted():
    """Leptonica writes harmless "Error in boxClipToRectangle" lines for some layouts straight
    to file descriptor 2, where a terminal or a notebook would show them: mute it meanwhile."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _recognize(image: Image.Image, psm: str):
    """The engine after recognizing `image`, or None when it found no text."""
    engine = _engine(psm)
    engine.SetImage(image if image.mode in ("L", "RGB") else image.convert("RGB"))
    with _native_stderr_muted():
        engine.Recognize()
    if not engine.GetUTF8Text().strip():  # (tesserocr prints an error when asked for no words)
        return None
    return engine


def _words(image: Image.Image, psm: str) -> list[tuple[str, int]]:
    """(word, confidence) in reading order."""
    engine = _recognize(image, psm)
    return engine.MapWordConfidences() if engine is not None else []


def _lines(engine) -> list[tuple[Box, list[tuple[str, float]]]]:
    """Each text line's box and (word, confidence) pairs, from a recognized page."""
    import tesserocr

    lines: list[tuple[Box, list[tuple[str, float]]]] = []
    iterator = engine.GetIterator()
    level = tesserocr.RIL.WORD
    for word in tesserocr.iterate_level(iterator, level):
        text = word.GetUTF8Text(level)
        if not lines or word.IsAtBeginningOf(tesserocr.RIL.TEXTLINE):
            lines.append((word.BoundingBox(tesserocr.RIL.TEXTLINE), []))
        if text:
            lines[-1][1].append((text, word.Confidence(level)))
    return lines


def _by_height(boxes) -> list[Box]:
    return sorted(boxes, key=lambda b: (b[3] - b[1], b[1], b[0]))


def _reading_order(boxes) -> tuple[Box, ...]:
    return tuple(sorted(boxes, key=lambda b: (b[1], b[0])))


def _sample(boxes: list[Box]) -> tuple[tuple[Box, ...], tuple[Box, ...]]:
    """At most `SAMPLE_LINES` boxes, evenly spread over them sorted by height (the smallest
    and the largest included), in two halves (every other one by height, the smallest in the
    first), each in reading order."""
    by_height = _by_height(boxes)
    if len(boxes) > SAMPLE_LINES:
        step = (len(by_height) - 1) / (SAMPLE_LINES - 1)
        by_height = _by_height({by_height[round(i * step)] for i in range(SAMPLE_LINES)})
    return _reading_order(by_height[::2]), _reading_order(by_height[1::2])


def _strip(image: Image.Image, lines: tuple[Box, ...], size: tuple[int, int]) -> Image.Image:
    """The lines (boxes in an original of `size`) cut out of `image` brought to `size`, with
    half a line of margin, dark text on light, stacked."""
    width, height = size
    pieces = []
    for left, top, right, bottom in lines:
        margin = max(4, (bottom - top) // 2)
        box = (
            max(0, left - margin),
            max(0, top - margin),
            min(width, right + margin),
            min(height, bottom + margin),
        )
        piece = image.crop(box) if image.size == size else _scaled_crop(image, box, size)
        piece = piece.convert("L")
        pieces.append(ImageOps.invert(piece) if np.asarray(piece).mean() < 128 else piece)
    strip = Image.new("L", (max(p.width for p in pieces), sum(p.height for p in pieces)), 255)
    top = 0
    for piece in pieces:
        strip.paste(piece, (0, top))
        top += piece.height
    return strip


def _scaled_crop(image: Image.Image, box: Box, size: tuple[int, int]) -> Image.Image:
    """`box` of `image.resize(size, LANCZOS)`, computed there only: the rows the filter
    reaches, scaled across, then down, as Pillow's resize does (the same pixels but for a
    level of rounding here and there at the image's edges; a whole view upscaled for a few
    lines of text is most of a view's OCR time otherwise)."""
    left, top, right, bottom = box
    scale_x, scale_y = image.width / size[0], image.height / size[1]
    reach = 3 * max(1.0, scale_y) + 1  # LANCZOS reaches 3 pixels (scaled when shrinking)
    first = max(0, math.floor(top * scale_y - reach))
    last = min(image.height, math.ceil(bottom * scale_y + reach))
    rows = image.crop((0, first, image.width, last))
    across = rows.resize(
        (right - left, rows.height),
        Image.Resampling.LANCZOS,
        box=(left * scale_x, 0, right * scale_x, rows.height),
    )
    return across.resize(
        (right - left, bottom - top),
        Image.Resampling.LANCZOS,
        box=(0, top * scale_y - first, right - left, bottom * scale_y - first),
    )


def _read_view(
    image: Image.Image, boxes: tuple[Box, ...], size: tuple[int, int]
) -> list[tuple[str, int]]:
    """Words of `image`, brought to `size`, read the way its original was: on the strip of
    `boxes`, or whole."""
    if not boxes:
        return _words(quality.to_size(image, size), "AUTO")
    return _words(_strip(image, boxes, size), "SINGLE_COLUMN")


def _line_set(image: Image.Image, boxes: tuple[Box, ...]) -> LineSet:
    words = _read_view(image, boxes, image.size)
    return LineSet(boxes, " ".join(w for w, _ in words), _confident(words))


def read_text(image: Image.Image) -> Reading:
    """OCR an original: all of it (page segmentation: automatic), then the strips views are
    read on (`legibility`): half a sample of its lines, the other half, the rest (a strip
    with too few words to judge by is merged into the next; text Tesseract finds no lines for,
    such as rotated text, is read whole).

    Raises:
        SettingsError: tesserocr or the English model is not installed.
    """
    engine = _recognize(image, "AUTO")
    if engine is None:
        return Reading(text="", confident_words=())
    lines = _lines(engine)
    words = [pair for _, pairs in lines for pair in pairs]
    whole = Reading(text=" ".join(w for w, _ in words), confident_words=_confident(words))
    if not whole.has_text:
        return whole
    boxes = [box for box, pairs in lines if _confident(pairs)]
    first, second = _sample(boxes)
    sample = [_line_set(image, first)] if len(boxes) >= 2 else []
    if sample and len(sample[0].words) < MIN_TEXT_WORDS:  # too few to stop on: one strip
        sample = [_line_set(image, _reading_order(first + second))]
    elif sample:
        sample.append(_line_set(image, second))
    if sum(len(strip.words) for strip in sample) < MIN_TEXT_WORDS:  # rotated text...
        return replace(whole, sample=(LineSet((), whole.text, whole.confident_words),))
    sampled = set(first + second)
    rest = tuple(box for box in boxes if box not in sampled)
    return replace(whole, sample=tuple(sample), rest=_line_set(image, rest) if rest else None)


def word_recall(wanted: tuple[str, ...], view_words: list[str]) -> float:
    """Share of the `wanted` words (the original's confident ones) the view reads, at any
    confidence, as a multiset; NaN when nothing is wanted."""
    if not wanted:
        return math.nan
    needed = Counter(wanted)
    found = Counter(normalize_word(w) for w in view_words)
    return sum(min(n, found[w]) for w, n in needed.items()) / sum(needed.values())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one numpy row per character of `a`."""
    if not a or not b:
        return len(a) + len(b)
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for i, char in enumerate(a, start=1):
        subst = row[:-1] + (codes_b != ord(char))
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(subst, row[1:] + 1)
        # insertions: best[j] = min_k<=j best[k] + (j - k), a running minimum
        row = np.minimum.accumulate(best - steps) + steps
    return int(row[-1])


def char_accuracy(truth: str, text: str) -> float:
    """1 - edit distance / length of the truth, clipped at 0; NaN when there is no truth."""
    if not truth:
        return math.nan
    return max(0.0, 1.0 - edit_distance(truth, text) / len(truth))


def _score(strips: list[LineSet], read: list[list[str]]) -> Legibility:
    """The words `read` on each of `strips` in a view, against what the original read there."""
    wanted = tuple(word for lines in strips for word in lines.words)
    words = [word for words in read for word in words]
    truth = " ".join(lines.text for lines in strips)
    return Legibility(word_recall(wanted, words), char_accuracy(truth, " ".join(words)))


def legibility(
    truth: Reading, view_image: Image.Image, size: tuple[int, int] | None = None
) -> Legibility:
    """Read `view_image` (a kept view, as if brought to `size`: the original's, by default
    the view's own) where `truth` was read and score it against `truth`, strip by strip: past
    the first half of the sample unless it keeps less than `FAR_BELOW`, past the sample only
    in `EXACT_BAND` (near any floor a recommendation would use)."""
    if not truth.has_text or not truth.sample:
        return Legibility(math.nan, math.nan)
    size = size or view_image.size
    strips: list[LineSet] = []
    read: list[list[str]] = []

    def read_on(strip: LineSet) -> Legibility:
        strips.append(strip)
        read.append([w for w, _ in _read_view(view_image, strip.boxes, size)])
        return _score(strips, read)

    score = read_on(truth.sample[0])
    for strip in truth.sample[1:]:
        if score.word_recall < FAR_BELOW:
            return score
        score = read_on(strip)
    if truth.rest is not None and EXACT_BAND[0] <= score.word_recall < EXACT_BAND[1]:
        score = read_on(truth.rest)
    return score
