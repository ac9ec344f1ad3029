"""Is the text still legible? A reader's reading of each text line of a view against its
reading of the same line in the original.

Legibility is relative: the full-resolution original is read once, and each view the provider
keeps (brought back to the original's size) is read the same way and scored against it. The
reader (`toolkit.readers`: `tesseract` or `neural`) finds the original's text lines once;
every line is then cut out tight (its box and the reader's margin, less where a neighbouring
line is nearer, so no slice of a neighbour is read), turned upright, made dark
on light, set on a plain canvas and read as one line, in the original and, cut from the same
place, in every view: the same procedure on both sides, and no page layout to go wrong on a
blurred view. Ground truth is what the reader reads in the original, so an image whose text
it cannot read at full size has *no text* (`Reading.has_text` is False, scores are NaN),
never a legibility of 0.

Two scores, both in 0..1, over the lines read:
- **word recall**: the share of the original's *confident* words (confidence >=
  `MIN_CONFIDENCE`, at least 2 letters or digits) that the view still reads. Each line of the
  view is aligned with the same line of the original as runs of letters and digits
  (`toolkit.textmatch`), so neither a reader's spacing nor its punctuation decides; one wrong
  character loses the word. The recommendations use this one.
- **character accuracy**: 1 - edit distance / length over the same runs, line by line.

**A sample of the lines first, then every line.** Reading a line costs about 15 ms with
Tesseract (a 2560x1440 code screenshot has 90 lines), and a sweep reads every view the
providers keep, most of which keep their text whole. So the original's lines are sampled once:
`SAMPLE_LINES` lines spread evenly over the lines sorted by height (every text size is in, the
smallest always). A view is read on the sample first; one that reads every sampled word is
legible as far as the sample can tell and is not read further (its value 1); any other is read
on the rest of the lines too, and its value counts every line. No line is read twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from toolkit.readers import (
    DEFAULT_READER,
    ENGINE,
    Box,
    Detected,
    Words,
    get_reader,
    reader_unavailable,
)
from toolkit.textmatch import aligned_found, edit_distance, normalize, run_of

MIN_CONFIDENCE = 80  # word confidence (0-100) for a word of the original to count
MIN_TEXT_WORDS = 8  # confident words the original needs before legibility is judged
# SAMPLE_LINES: on 374 held-out views (seeds 7-9) a view that reads every word of a sample of
# 16 lines lost at most 0.04 of all its words; the sample saves 36 % of the lines read
SAMPLE_LINES = 16  # text lines every view is read on first
METHOD = 5  # how views are read; changed with it, so caches read views again (4: tight lines,
# a sample then every line; 5: Tesseract no longer reads a line a second time inverted)


@dataclass(frozen=True)
class Line:
    """One text line of an original: where it is cut (`box`, margin included), the `turn` that
    makes it upright, what the reader read there (`text`), its words normalized (`words`,
    the alignment's units) and which of them count (`confident`)."""

    box: Box
    turn: int
    text: str
    words: tuple[str, ...]
    confident: tuple[bool, ...]


@dataclass(frozen=True)
class Reading:
    """What a reader reads in an original: its text lines, the first `sampled` of them the
    sample views are read on first (see the module docstring)."""

    reader: str
    lines: tuple[Line, ...] = ()
    sampled: int = 0

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def confident_words(self) -> tuple[str, ...]:
        return tuple(
            word
            for line in self.lines
            for word, counts in zip(line.words, line.confident, strict=True)
            if counts
        )

    @property
    def has_text(self) -> bool:
        return len(self.confident_words) >= MIN_TEXT_WORDS

    def to_dict(self) -> dict:
        """JSON-ready (a sweep caches the original's reading instead of reading it again)."""
        lines = [
            [list(line.box), line.turn, line.text, list(line.words), list(line.confident)]
            for line in self.lines
        ]
        return {"reader": self.reader, "lines": lines, "sampled": self.sampled}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reading:
        lines = tuple(
            Line(
                tuple(int(v) for v in box),  # type: ignore[arg-type]
                int(turn),
                str(text),
                tuple(map(str, words)),
                tuple(map(bool, confident)),
            )
            for box, turn, text, words, confident in data["lines"]
        )
        sampled = int(data["sampled"])
        if not 0 <= sampled <= len(lines) or any(
            len(line.box) != 4 or len(line.words) != len(line.confident) for line in lines
        ):
            raise ValueError("malformed reading")
        return cls(str(data["reader"]), lines, sampled)


@dataclass(frozen=True)
class Legibility:
    """A view's text against the original's: word recall and character accuracy (0..1)."""

    word_recall: float
    char_accuracy: float


def ocr_unavailable(reader: str = DEFAULT_READER) -> str | None:
    """Why OCR with `reader` cannot run here, or None when it can."""
    return reader_unavailable(reader)


def _margins(found: list[Detected], size: tuple[int, int], share: float) -> list[Box]:
    """Each line's box with `share` of its height around it (at least 2 px when `share` is
    not 0), but never more than half the gap to a neighbouring line beside it (lines that
    overlap it already are no help)."""
    boxes = [d.box for d in found]
    out = []
    for left, top, right, bottom in boxes:
        margin = max(2, round(share * min(bottom - top, right - left))) if share else 0
        room = [margin] * 4  # left, top, right, bottom
        for other in boxes:
            across = other[0] < right and other[2] > left  # above or below this line
            along = other[1] < bottom and other[3] > top  # beside it
            gaps = [
                left - other[2] if along else -1,
                top - other[3] if across else -1,
                other[0] - right if along else -1,
                other[1] - bottom if across else -1,
            ]
            room = [
                r if g < 0 else min(r, max(1, g // 2)) for r, g in zip(room, gaps, strict=True)
            ]
        out.append(
            (
                max(0, left - room[0]),
                max(0, top - room[1]),
                min(size[0], right + room[2]),
                min(size[1], bottom + room[3]),
            )
        )
    return out


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


def line_image(
    image: Image.Image, box: Box, turn: int, size: tuple[int, int], canvas: float
) -> Image.Image:
    """Line `box` (in an original of `size`) cut out of `image` brought to `size`, upright,
    grey, dark on light, with `canvas` of its height of its own background colour around."""
    piece = image.crop(box) if image.size == size else _scaled_crop(image, box, size)
    piece = piece.convert("L")
    if turn:
        piece = piece.rotate(turn, expand=True)
    pixels = np.asarray(piece)
    if pixels.mean() < 128:
        piece, pixels = ImageOps.invert(piece), 255 - pixels
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    pad = max(2, round(canvas * min(piece.size)))
    plain = Image.new("L", (piece.width + 2 * pad, piece.height + 2 * pad), int(np.median(border)))
    plain.paste(piece, (pad, pad))
    return plain


def _line(box: Box, turn: int, words: Words) -> Line:
    normalized = [(normalize(word), confidence) for word, confidence in words]
    kept = [(word, confidence) for word, confidence in normalized if word]
    return Line(
        box,
        turn,
        " ".join(word for word, _ in words),
        tuple(word for word, _ in kept),
        tuple(len(word) >= 2 and c >= MIN_CONFIDENCE for word, c in kept),
    )


def _sampled_first(lines: list[Line]) -> list[Line]:
    """The lines with a sample of `SAMPLE_LINES` first: spread evenly over the lines sorted by
    height (the smallest and the largest included), then the rest in reading order."""
    by_height = sorted(lines, key=lambda ln: (ln.box[3] - ln.box[1], ln.box[1], ln.box[0]))
    if len(lines) <= SAMPLE_LINES:
        return by_height
    step = (len(by_height) - 1) / (SAMPLE_LINES - 1)
    sample = [by_height[i] for i in sorted({round(i * step) for i in range(SAMPLE_LINES)})]
    chosen = {id(line) for line in sample}
    return sample + [line for line in lines if id(line) not in chosen]


def read_text(image: Image.Image, reader: str = ENGINE) -> Reading:
    """Read an original with `reader`: its lines found, cut tight and read one by one; the
    lines holding a confident word are kept, the sample first.

    Raises:
        SettingsError: the reader cannot run here (a package or model is missing).
    """
    engine = get_reader(reader)
    found = engine.detect(image)
    boxes = _margins(found, image.size, engine.margin)
    turns = [d.turn for d in found]
    lines_read = engine.recognize(
        [
            line_image(image, box, turn, image.size, engine.canvas)
            for box, turn in zip(boxes, turns, strict=True)
        ]
    )
    every = [
        _line(box, turn, words) for box, turn, words in zip(boxes, turns, lines_read, strict=True)
    ]
    lines = [line for line in every if any(line.confident)]
    ordered = _sampled_first(sorted(lines, key=lambda ln: (ln.box[1], ln.box[0])))
    return Reading(reader, tuple(ordered), min(SAMPLE_LINES, len(ordered)))


def _line_scores(lines: tuple[Line, ...], read: list[Words]) -> list[tuple[int, int, float]]:
    """Per line: confident words of the original, how many the view read, and the share of
    the line's characters read (1 - edit distance / length)."""
    scores = []
    for line, words in zip(lines, read, strict=True):
        text = " ".join(word for word, _ in words)
        hits = aligned_found(line.words, text)
        found = sum(hit for hit, counts in zip(hits, line.confident, strict=True) if counts)
        expected = "".join(line.words)
        chars = 1 - min(len(expected), edit_distance(expected, run_of(text))) / len(expected)
        scores.append((sum(line.confident), found, chars))
    return scores


def _score(scores: list[tuple[int, int, float]]) -> Legibility:
    """Every line's score counted, by its confident words."""
    wanted = sum(w for w, _, _ in scores)
    recall = sum(f for _, f, _ in scores) / wanted
    return Legibility(recall, sum(w * c for w, _, c in scores) / wanted)


def _read(truth: Reading, view: Image.Image, lines: tuple[Line, ...], size) -> list[Words]:
    engine = get_reader(truth.reader)
    return engine.recognize(
        [line_image(view, line.box, line.turn, size, engine.canvas) for line in lines]
    )


def legibility(
    truth: Reading, view_image: Image.Image, size: tuple[int, int] | None = None
) -> Legibility:
    """Read `view_image` (a kept view, as if brought to `size`: the original's, by default the
    view's own) on `truth`'s sample of lines, then, unless it read every sampled word, on the
    rest of them, and score it against `truth`."""
    if not truth.has_text:
        return Legibility(math.nan, math.nan)
    size = size or view_image.size
    sample, rest = truth.lines[: truth.sampled], truth.lines[truth.sampled :]
    scores = _line_scores(sample, _read(truth, view_image, sample, size))
    if rest and any(found < wanted for wanted, found, _ in scores):
        scores += _line_scores(rest, _read(truth, view_image, rest, size))
    return _score(scores)
