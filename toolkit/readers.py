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
combined: the `looser` (a view is as legible as the better reader finds it) or the `stricter`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from toolkit.errors import SettingsError

Box = tuple[int, int, int, int]  # left, top, right, bottom
Words = list[tuple[str, float]]  # (word, confidence 0-100) in reading order

READERS = {"tesseract": "toolkit.tesseract_reader", "neural": "toolkit.neural_reader"}
DEFAULT_READER = "tesseract"  # chosen by measurement: README, "Readers"
COMBINE = ("looser", "stricter")


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
    """Why reader `name` cannot run here, or None when it can."""
    return get_reader(name).unavailable()


@dataclass(frozen=True)
class ReaderSpec:
    """The reader (or two) a legibility measurement uses, and how two are combined."""

    names: tuple[str, ...] = (DEFAULT_READER,)
    combine: str = "looser"

    def __post_init__(self) -> None:
        names = (self.names,) if isinstance(self.names, str) else tuple(self.names)
        object.__setattr__(self, "names", names)
        if not names or len(set(names)) != len(names):
            raise SettingsError(f"readers must name one or two different readers, not {names}")
        for name in names:
            get_reader(name)
        if self.combine not in COMBINE:
            raise SettingsError(f"combine must be one of {COMBINE}, not {self.combine!r}")

    @classmethod
    def parse(cls, text: str, combine: str = "looser") -> ReaderSpec:
        """`"tesseract"` or `"tesseract,neural"`."""
        return cls(tuple(name.strip() for name in text.split(",") if name.strip()), combine)

    def unavailable(self) -> str | None:
        return next(filter(None, (reader_unavailable(name) for name in self.names)), None)

    def describe(self) -> str:
        """For tables and assumptions: "tesseract", "neural", "looser of tesseract, neural"."""
        if len(self.names) == 1:
            return self.names[0]
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

    def pick(self, values: Sequence[float]) -> float:
        """The combined value of the readers' values (NaN: that reader found no text)."""
        known = [v for v in values if v == v]
        if not known:
            return float("nan")
        return max(known) if self.combine == "looser" else min(known)
