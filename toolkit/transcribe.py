"""The transcription a calibration asks a model for, and the emulator's stand-in for it.

`toolkit calibrate` sends each view with `TRANSCRIBE_PROMPT` alone as its text. Offline, the
emulator (`ServerSettings(transcribe_with=READER)`) answers a request whose text is exactly
that prompt by playing the model: it decodes each image it received, applies the provider's
resize for the model and detail (`toolkit.tokens`: the size the provider keeps), brings the
kept view back to the size it was sent at, reads it whole with the reader (its lines found,
then read) and answers with the text under `emulated_mark`, a first line no model writes.
`emulated_reader` finds that line again, so that every output made from such an answer says
it is emulated, never a model's reading.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TRANSCRIBE_PROMPT = (
    "Transcribe every piece of text in this image exactly as written, line by line. "
    "Output only the text."
)
_MARK = "[emulated transcription: the {reader} reader read what the model keeps; not a model]"
_MARKED = re.compile(
    r"\A\[emulated transcription: the (\w+) reader read what the model keeps; not a model\]\n?"
)
MODEL = "model"  # the transcriber of an answer without the mark


def asks_transcription(texts: Iterable[str]) -> bool:
    """Whether a request's text blocks are exactly the transcription prompt."""
    return list(texts) == [TRANSCRIBE_PROMPT]


def emulated_mark(reader: str) -> str:
    """The first line of an emulated answer."""
    return _MARK.format(reader=reader)


def emulated_reader(text: str | None) -> tuple[str | None, str]:
    """(the reader that emulated the answer, or None for a model's answer; the transcription
    without the mark)."""
    text = text or ""
    marked = _MARKED.match(text)
    return (marked[1], text[marked.end() :]) if marked else (None, text)


def transcriber(reader: str | None, emulator: bool) -> str:
    """What a row says read the view: "emulated (tesseract reading)" (`reader` emulated the
    answer), "emulator, no transcription" (the emulator answered without a reader: its
    description of the image), or "model"."""
    if reader is not None:
        return f"emulated ({reader} reading)"
    return "emulator, no transcription" if emulator else MODEL


def read_view(data: bytes, kept: tuple[int, int], reader: str) -> str:
    """What `reader` reads in the view a provider keeps (`kept`: its size) of an encoded
    image, brought back to the size it was sent at and read whole (lines found, then read)."""
    from toolkit.legibility import read_text
    from toolkit.quality import decode_image, seen_view

    image = decode_image(data)
    return read_text(seen_view(image, kept, image.size), reader).text


def emulated_answer(reader: str, texts: Iterable[str]) -> str:
    """The emulator's answer: the mark, then each image's text, apart by a blank line."""
    return "\n".join([emulated_mark(reader), "\n\n".join(texts)])
