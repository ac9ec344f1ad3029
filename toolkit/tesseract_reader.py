"""The `tesseract` reader: Tesseract's page layout finds an original's lines, its LSTM reads
each line image as a single line (page segmentation mode 7).

Tesseract runs in process through `tesserocr`, one engine per thread and page segmentation
mode, kept for the life of the process (sweep workers are persistent, so a sweep loads the
model once per worker), with OpenMP limited to one thread because parallelism comes from the
workers. Word confidences are Tesseract's own (0-100).
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from toolkit.errors import SettingsError
from toolkit.readers import Detected, Words
from toolkit.textmatch import normalize

LANGUAGE = "eng"
TESSDATA_GLOBS = (
    "/usr/share/tesseract-ocr/*/tessdata",  # Debian, Ubuntu (tesseract-ocr-eng)
    "/usr/share/tessdata",  # Fedora, Arch
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)
# Tesseract's block orientation -> the counter-clockwise turn that makes its lines upright
DETECT_CONFIDENCE = 50  # a line is read when its page read holds a word this sure
_UPRIGHT = {0: 0, 1: 90, 2: 180, 3: 270}  # PAGE_UP, PAGE_RIGHT, PAGE_DOWN, PAGE_LEFT
_local = threading.local()


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


class TesseractReader:
    name = "tesseract"
    margin = 0.25  # Tesseract's line boxes are tight to the ink: blur spills past them
    canvas = 0.5  # Tesseract finds a line best with white space around it

    def unavailable(self) -> str | None:
        """Why Tesseract cannot run here (tesserocr is looked for, not loaded), or None."""
        if importlib.util.find_spec("tesserocr") is None:
            return "the Python package tesserocr is not installed (pip install tesserocr)"
        if tessdata_dir() is None:
            return (
                f"no {LANGUAGE}.traineddata found (Debian/Ubuntu: apt install tesseract-ocr-eng;"
                " or set TESSDATA_PREFIX to the folder that holds it)"
            )
        return None

    def version(self) -> str:
        import tesserocr

        return f"tesseract {tesserocr.tesseract_version().split()[1]} ({LANGUAGE})"

    def _engine(self, psm: str):
        """This thread's engine for a page segmentation mode, created on first use."""
        engines = _local.__dict__.setdefault("engines", {})
        if psm not in engines:
            reason = self.unavailable()
            if reason:
                raise SettingsError(f"OCR unavailable: {reason}")
            os.environ.setdefault("OMP_THREAD_LIMIT", "1")
            import tesserocr

            engine = tesserocr.PyTessBaseAPI(
                path=str(tessdata_dir()), lang=LANGUAGE, psm=getattr(tesserocr.PSM, psm)
            )
            if psm == "SINGLE_LINE":
                # Tesseract 5.3+ reads a line again inverted when its mean confidence is below
                # `invert_threshold` (0.7), as blurred views' lines are. Legibility sets every
                # line dark on light first, so that reading is time lost: 14 % of the reading
                # of held-out set 7's views at 512-1024 px (README, "How long a first
                # recommendation takes"). The page layout that finds lines keeps it, for
                # light-on-dark UI text.
                engine.SetVariable("tessedit_do_invert", "0")
            engines[psm] = engine
        return engines[psm]

    def _recognized(self, image: Image.Image, psm: str):
        """The engine after recognizing `image`, or None when it found no text."""
        engine = self._engine(psm)
        engine.SetImage(image if image.mode in ("L", "RGB") else image.convert("RGB"))
        with _native_stderr_muted():
            engine.Recognize()
        if not engine.GetUTF8Text().strip():  # (tesserocr prints an error when asked for none)
            return None
        return engine

    def detect(self, image: Image.Image) -> list[Detected]:
        """Lines of the page layout holding a word of two letters or digits read with
        confidence `DETECT_CONFIDENCE` or more (icons, rules and photos give lines of
        low-confidence marks, not worth reading)."""
        import tesserocr

        engine = self._recognized(image, "AUTO")
        if engine is None:
            return []
        lines: list[tuple[Detected, float]] = []
        word_level, line_level = tesserocr.RIL.WORD, tesserocr.RIL.TEXTLINE
        for word in tesserocr.iterate_level(engine.GetIterator(), word_level):
            if not lines or word.IsAtBeginningOf(line_level):
                turn = _UPRIGHT.get(word.Orientation()[0], 0)
                lines.append((Detected(tuple(word.BoundingBox(line_level)), turn), 0.0))
            if len(normalize(word.GetUTF8Text(word_level) or "")) >= 2:
                lines[-1] = (lines[-1][0], max(lines[-1][1], word.Confidence(word_level)))
        return [line for line, confidence in lines if confidence >= DETECT_CONFIDENCE]

    def recognize(self, lines: Sequence[Image.Image]) -> list[Words]:
        out = []
        for image in lines:
            engine = self._recognized(image, "SINGLE_LINE")
            out.append(engine.MapWordConfidences() if engine is not None else [])
        return out


READER = TesseractReader()
