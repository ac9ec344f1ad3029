"""The `neural` reader: PP-OCR's text detection finds an original's lines, its recognition
network reads each line image (RapidOCR on ONNX Runtime, CPU).

The weights ship in the `rapidocr` wheel (PP-OCRv6 small detection and recognition): nothing
is downloaded, and a missing model file is an error, never a download. One engine per thread,
one ONNX thread each (parallelism comes from the sweep's workers). Recognition gives one
score per line (0-1): each word of the line gets it, as a confidence of 0-100. A line found
standing (taller than 1.5 times its width) is read both ways up on the original, and the
turn that reads better is kept for every view.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.errors import SettingsError
from toolkit.readers import Detected, Words

MODELS = ("PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx")  # in rapidocr/models/
STANDING = 1.5  # a box this many times taller than wide holds a line turned a quarter
_PARAMS = {
    "Global.log_level": "error",
    "Global.use_cls": False,
    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
}
_local = threading.local()


def _models_dir() -> Path | None:
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "models"


class NeuralReader:
    name = "neural"
    margin = 0.0  # PP-OCR's detection boxes already hold a margin (unclip ratio 1.6)
    canvas = 0.0  # its recognizer scales a line to 48 px high: more room, smaller letters

    def unavailable(self) -> str | None:
        """Why the neural reader cannot run here (packages looked for, not loaded), or None."""
        folder = _models_dir()
        if folder is None or importlib.util.find_spec("onnxruntime") is None:
            return "rapidocr and onnxruntime are not installed (pip install 'toolkit[neural]')"
        missing = [name for name in MODELS if not (folder / name).is_file()]
        if missing:
            return f"the rapidocr wheel lacks its models {missing} (reinstall rapidocr)"
        return None

    def version(self) -> str:
        from importlib.metadata import version

        models = ", ".join(name.removesuffix(".onnx") for name in MODELS)
        return f"rapidocr {version('rapidocr')} ({models}; onnxruntime {version('onnxruntime')})"

    def _engine(self):
        if not hasattr(_local, "engine"):
            reason = self.unavailable()
            if reason:
                raise SettingsError(f"OCR unavailable: {reason}")
            from rapidocr import RapidOCR

            _local.engine = RapidOCR(params=_PARAMS)
        return _local.engine

    def detect(self, image: Image.Image) -> list[Detected]:
        found = self._engine()(image.convert("RGB"), use_det=True, use_cls=False, use_rec=False)
        if found.boxes is None:
            return []
        lines = []
        for quad in found.boxes:
            left, top = map(int, np.floor(quad.min(axis=0)))  # Python ints: cached as JSON
            right, bottom = map(int, np.ceil(quad.max(axis=0)))
            box = (max(0, left), max(0, top), min(image.width, right), min(image.height, bottom))
            if box[2] > box[0] and box[3] > box[1]:
                lines.append(Detected(box, self._turn(image, box)))
        return lines

    def _turn(self, image: Image.Image, box) -> int:
        """0 for a lying line; for a standing one, the quarter turn that reads better."""
        width, height = box[2] - box[0], box[3] - box[1]
        if height < STANDING * width:
            return 0
        line = image.crop(box)
        scores = [self._read([line.rotate(turn, expand=True)])[0][1] for turn in (90, 270)]
        return 90 if scores[0] >= scores[1] else 270

    def _read(self, lines: Sequence[Image.Image]) -> list[tuple[str, float]]:
        from rapidocr.ch_ppocr_rec.typings import TextRecInput

        if not lines:
            return []
        read = self._engine()._load_rec_model()(TextRecInput(img=[_pixels(i) for i in lines]))
        return list(zip(read.txts, read.scores, strict=True))

    def recognize(self, lines: Sequence[Image.Image]) -> list[Words]:
        return [
            [(word, 100 * float(score)) for word in text.split()]
            for text, score in self._read(lines)
        ]


def _pixels(image: Image.Image) -> np.ndarray:
    """BGR pixels, as PP-OCR's recognizer takes them."""
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


READER = NeuralReader()
