"""OCR readers, the instruments legibility is measured with.

A reader does two things (`Reader`): it finds the text lines of an original, once per
original (`detect`), and it reads images of single lines (`recognize`), as many as a view
needs. Legibility (`toolkit.legibility`) cuts the same lines out of the original and out of
every view and compares what the reader reads in each, so a reader never lays out a view.

Two readers ship:
- `tesseract` (`toolkit.tesseract_reader`): Tesseract's page layout finds the lines, its LSTM
  reads each line as a single line. Fast (about 15 ms a line here), weak on small UI text.
- `neural` (`toolkit.neural_reader`): PP-OCR's detection and recognition networks on ONNX
  Runtime, through RapidOCR, whose wheel ships the weights (nothing is downloaded). Reads
  small and low-contrast text Tesseract misses, at about 3x its cost a line, plus about 1-2 s
  of detection per original.

`ReaderSpec` names the reader a measurement uses, or two readers and how their values are
combined: the `looser` (a view is as legible as the better reader finds it), the `stricter`,
or `auto`: the first reader, and the second for an image whose original the first reads in
fewer than `THIN_WORDS` confident words (but some) when the second reads more. `auto`
(Tesseract, and PP-OCR for such images: charts, whose tick and bar labels Tesseract does not
find) is the default, chosen by measurement (README, "Which reader").
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from toolkit.errors import SettingsError

Box = tuple[int, int, int, int]  # left, top, right, bottom
Words = list[tuple[str, float]]  # (word, confidence 0-100) in reading order

READERS = {"tesseract": "toolkit.tesseract_reader", "neural": "toolkit.neural_reader"}
AUTO = "auto"  # the readers `AUTO_READERS` combined `auto`
AUTO_READERS = ("tesseract", "neural")
DEFAULT_READER = AUTO  # chosen by measurement: README, "Which reader"
ENGINE = "tesseract"  # the reader where one engine reads alone (calibration, the explorer)
COMBINE = ("looser", "stricter", AUTO)
# An original read in fewer confident words than this is judged by `auto`'s second reader
# when it reads more: below 20 words, one word lost moves a reading by more than 0.05, the
# tolerance a 0.95 floor is judged to, so the verdict would rest on a single word.
THIN_WORDS = 20


@dataclass(frozen=True)
class Detected:
    """A text line found in an original: its box and the turn (degrees counter-clockwise:
    0, 90, 180 or 270) that makes it upright."""

    box: Box
    turn: int = 0


class Reader(Protocol):
    """What legibility needs of an OCR engine."""

    name: str
    margin: float  # of a detected line's height, cut around it (0: its box already has one)
    canvas: float  # plain background set around a line image, as a share of its height

    def unavailable(self) -> str | None:
        """Why this reader cannot run here (a missing package or model), or None."""

    def version(self) -> str:
        """The engine and model versions: readings are cached under it."""

    def detect(self, image: Image.Image) -> list[Detected]:
        """The text lines of an original."""

    def recognize(self, lines: Sequence[Image.Image]) -> list[Words]:
        """The words read in each image of one upright line."""


def get_reader(name: str) -> Reader:
    """The reader called `name` (its module is imported now, its engine on first use).

    Raises:
        SettingsError: no such reader.
    """
    if name not in READERS:
        raise SettingsError(f"unknown reader {name!r}; the readers are {', '.join(READERS)}")
    return importlib.import_module(READERS[name]).READER


def reader_unavailable(name: str) -> str | None:
    """Why reader `name` (or a reader spec: "auto", "tesseract,neural") cannot run here, or
    None when it can."""
    if name in READERS:
        return get_reader(name).unavailable()
    return ReaderSpec.parse(name).unavailable()


def _check_combine(combine: str) -> None:
    if combine not in COMBINE:
        raise SettingsError(f"combine must be one of {COMBINE}, not {combine!r}")


@dataclass(frozen=True)
class ReaderSpec:
    """The reader (or two) a legibility measurement uses, and how two are combined."""

    names: tuple[str, ...] = AUTO_READERS
    combine: str = AUTO

    def __post_init__(self) -> None:
        names = (self.names,) if isinstance(self.names, str) else tuple(self.names)
        object.__setattr__(self, "names", names)
        if not names or len(set(names)) != len(names):
            raise SettingsError(f"readers must name one or two different readers, not {names}")
        for name in names:
            get_reader(name)
        _check_combine(self.combine)
        if self.combine == AUTO and len(names) != 2:
            raise SettingsError(f"combine {AUTO!r} takes two readers, not {names}")

    @classmethod
    def parse(cls, text: str, combine: str = "looser") -> ReaderSpec:
        """`"tesseract"`, `"tesseract,neural"` (combined as `combine`) or `"auto"`."""
        if text.strip() == AUTO:
            _check_combine(combine)  # a combination given is checked, though auto ignores it
            return cls(AUTO_READERS, AUTO)
        return cls(tuple(name.strip() for name in text.split(",") if name.strip()), combine)

    @property
    def required(self) -> tuple[str, ...]:
        """The readers that must run (`auto`'s second reads where it can)."""
        return self.names[:1] if self.combine == AUTO else self.names

    def unavailable(self) -> str | None:
        return next(filter(None, (reader_unavailable(name) for name in self.required)), None)

    def reads(self, name: str, words: Mapping[str, int]) -> bool:
        """Whether reader `name` reads an original of which the readers before it read
        `words` confident words (reader -> words)."""
        if self.combine != AUTO or name == self.names[0]:
            return True
        return self._thin(words.get(self.names[0], 0)) and reader_unavailable(name) is None

    @staticmethod
    def _thin(words: float) -> bool:
        """An original the first reader reads in some words, but fewer than `THIN_WORDS`
        (none: a picture, as the first reader sees it; not worth a second reader's time)."""
        return 0 < words < THIN_WORDS

    def complete(self, words: Mapping[str, int]) -> bool:
        """Whether readings of an original, `words` (reader -> confident words), hold all
        this spec reads."""
        return all(name in words or not self.reads(name, words) for name in self.names)

    def describe(self) -> str:
        """For tables and assumptions: "tesseract", "looser of tesseract, neural", "auto"."""
        if len(self.names) == 1:
            return self.names[0]
        if self.combine == AUTO:
            return AUTO
        return f"{self.combine} of {', '.join(self.names)}"

    def versions(self) -> dict[str, str]:
        """Each reader's engine and model versions ("unavailable" where it cannot run)."""
        readers = [get_reader(name) for name in self.names]
        return {r.name: "unavailable" if r.unavailable() else r.version() for r in readers}

    def settings(self) -> dict[str, list]:
        """What decides each reader's readings: its versions and how its lines are cut."""
        return {
            name: [version, get_reader(name).margin, get_reader(name).canvas]
            for name, version in self.versions().items()
        }

    def judge(self, words: Sequence[float | None]) -> int:
        """With `auto`, which reader's values count (its index in `names`), given the
        confident words each read in the original (None or NaN: it did not read): the second
        where the first read fewer than `THIN_WORDS` and the second more."""
        first, second = (0 if w is None or w != w else w for w in words)
        return 1 if self._thin(first) and second > first else 0

    def pick(self, values: Sequence[float], words: Sequence[float | None] = ()) -> float:
        """The combined value of the readers' values (NaN: that reader found no text);
        `auto` needs `words`, each reader's confident words in the original."""
        if self.combine == AUTO:
            return values[self.judge(words)]
        known = [v for v in values if v == v]
        if not known:
            return float("nan")
        return max(known) if self.combine == "looser" else min(known)
