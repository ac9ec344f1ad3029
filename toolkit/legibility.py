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
- **character accuracy**: 1 - Levenshtein distance / length over the whole text read in
  reading order (every word, confident or not).

Why confident words only: the low-confidence "words" Tesseract finds in icons, rules and
photos change from one read to the next. Measured on a 1920x1080 screenshot with 11-13 px text,
a view resized 1920 -> 2048 -> 1920 px reads 0.94 of *all* the original's words but 0.98-0.99 of
its confident ones, so noise stays well under the 0.95 decision floor.

Tesseract runs in process through `tesserocr`, one engine per thread kept for the life of the
process (sweep workers are persistent, so a sweep loads the model once per worker), with
OpenMP limited to one thread because parallelism comes from the workers.
"""

from __future__ import annotations

import glob
import importlib.util
import math
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.errors import SettingsError

MIN_CONFIDENCE = 80  # Tesseract word confidence (0-100) for a word to count as read
MIN_TEXT_WORDS = 8  # confident words the original needs before legibility is judged
LANGUAGE = "eng"
TESSDATA_GLOBS = (
    "/usr/share/tesseract-ocr/*/tessdata",  # Debian, Ubuntu (tesseract-ocr-eng)
    "/usr/share/tessdata",  # Fedora, Arch
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)
_EDGE_PUNCTUATION = re.compile(r"^\W+|\W+$")
_local = threading.local()


@dataclass(frozen=True)
class Reading:
    """What Tesseract read in one image: every word in reading order, and the confident ones
    (normalized: lower case, no leading or trailing punctuation)."""

    text: str
    confident_words: tuple[str, ...]

    @property
    def has_text(self) -> bool:
        return len(self.confident_words) >= MIN_TEXT_WORDS


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


def _engine():
    """This thread's Tesseract engine, created on first use."""
    engine = getattr(_local, "engine", None)
    if engine is None:
        reason = ocr_unavailable()
        if reason:
            raise SettingsError(f"OCR unavailable: {reason}")
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        import tesserocr

        engine = tesserocr.PyTessBaseAPI(
            path=str(tessdata_dir()), lang=LANGUAGE, psm=tesserocr.PSM.AUTO
        )
        _local.engine = engine
    return engine


def normalize_word(word: str) -> str:
    return _EDGE_PUNCTUATION.sub("", word).lower()


def read_text(image: Image.Image) -> Reading:
    """OCR `image` (page segmentation: automatic).

    Raises:
        SettingsError: tesserocr or the English model is not installed.
    """
    engine = _engine()
    engine.SetImage(image if image.mode in ("L", "RGB") else image.convert("RGB"))
    engine.Recognize()
    if not engine.GetUTF8Text().strip():  # (tesserocr prints an error when asked for no words)
        return Reading(text="", confident_words=())
    words = engine.MapWordConfidences()
    confident = (normalize_word(w) for w, confidence in words if confidence >= MIN_CONFIDENCE)
    return Reading(
        text=" ".join(w for w, _ in words),
        confident_words=tuple(w for w in confident if len(w) >= 2),
    )


def word_recall(truth: Reading, view: Reading) -> float:
    """Share of the original's confident words the view reads (any confidence); NaN without
    text."""
    if not truth.has_text:
        return math.nan
    wanted = Counter(truth.confident_words)
    found = Counter(normalize_word(w) for w in view.text.split())
    return sum(min(n, found[w]) for w, n in wanted.items()) / sum(wanted.values())


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


def legibility(truth: Reading, view_image: Image.Image) -> Legibility:
    """Read `view_image` (the kept view at the original's size) and score it against `truth`."""
    if not truth.has_text:
        return Legibility(math.nan, math.nan)
    view = read_text(view_image)
    return Legibility(word_recall(truth, view), char_accuracy(truth.text, view.text))
