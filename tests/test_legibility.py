"""Legibility: lines found once, cut tight, read alone; sampled, weighted, exact near a floor."""

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from toolkit import legibility, quality, tesseract_reader
from toolkit.errors import SettingsError
from toolkit.images import EncodeSettings, encode_pixels
from toolkit.legibility import Line, Reading
from toolkit.paths import SAMPLES_DIR
from toolkit.readers import Detected
from toolkit.textmatch import normalize

needs_ocr = pytest.mark.skipif(legibility.ocr_unavailable() is not None, reason="no OCR here")

LINES = [
    "Quarterly invoice 4821 for Acme Supplies payable within thirty days",
    "Total due 93.50 euros by bank transfer with reference ACME-2026",
    "Questions about this invoice go to the accounts team by email",
    "Deliveries arrive on Tuesdays and Thursdays before noon",
]
MANY = [f"{line} row {i}" for i in range(8) for line in LINES[:3]]  # > SAMPLE_LINES


def page(size: int = 16, lines=LINES, dark: bool = False, spacing: float = 2.0) -> Image.Image:
    """Dark text on white (or light on dark) at `size` px, one sentence per line."""
    step = round(spacing * size)
    image = Image.new("L", (1000, 60 + step * len(lines)), 30 if dark else 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size)
    for i, line in enumerate(lines):
        draw.text((30, 30 + step * i), line, fill=230 if dark else 0, font=font)
    return image


def encoded_view(original: Image.Image, kept: tuple[int, int], fmt: str, q: int) -> Image.Image:
    """What a provider keeps of `original` sent whole as `fmt` at quality `q`."""
    data = encode_pixels(original, EncodeSettings(max_side=None, format=fmt, quality=q))
    return quality.to_size(quality.decode_image(data, original.mode), kept)


@needs_ocr
def test_the_original_reads_itself_fully_and_small_views_lose_words():
    original = page(16)
    truth = legibility.read_text(original)
    assert truth.reader == "tesseract" and truth.has_text and "4821" in truth.confident_words
    assert legibility.legibility(truth, original) == legibility.Legibility(1.0, 1.0)
    kept = quality.seen_view(original, (original.width // 4, original.height // 4), original.size)
    shrunk = legibility.legibility(truth, kept)
    assert shrunk.word_recall < 0.5 and shrunk.char_accuracy < 0.8


@needs_ocr
def test_light_text_on_dark_reads_like_dark_on_light():
    for dark in (False, True):
        original = page(14, MANY, dark=dark)
        truth = legibility.read_text(original)
        assert len(truth.lines) == len(MANY) and truth.sampled == legibility.SAMPLE_LINES
        assert legibility.legibility(truth, original).word_recall == 1.0
        half = (original.width // 2, original.height // 2)
        blurred = legibility.legibility(truth, quality.seen_view(original, half, original.size))
        assert blurred.word_recall < 1.0


@needs_ocr
def test_dense_text_reads_as_a_whole_page_does_and_alike_in_jpeg_and_webp():
    """The cut of a line holds no slice of its neighbours, so a slightly blurred view of
    dense text is not read worse than a whole-page read finds it (the old reading, lines with
    half a line of margin, read 0.52 where whole pages read 0.99), whatever the encoder."""
    original = page(13, MANY, spacing=1.25).convert("RGB")
    truth = legibility.read_text(original)
    kept = (round(original.width * 0.8), round(original.height * 0.8))
    views = {f: encoded_view(original, kept, f, q) for f, q in (("jpeg", 85), ("webp", 70))}
    scores = {
        f: legibility.legibility(truth, v, original.size).word_recall for f, v in views.items()
    }
    assert abs(scores["jpeg"] - scores["webp"]) <= 0.10
    engine = tesseract_reader.READER._recognized  # an independent whole-page read
    page_words = [w for w, c in engine(original, "AUTO").MapWordConfidences() if c >= 80]
    for fmt, view in views.items():
        read = engine(quality.to_size(view, original.size), "AUTO").MapWordConfidences()
        found = {normalize(w) for w, _ in read}
        whole = sum(normalize(w) in found for w in page_words) / len(page_words)
        assert abs(scores[fmt] - whole) <= 0.05, (fmt, scores[fmt], whole)


@needs_ocr
def test_a_sample_keeps_the_smallest_text():
    big = [f"Heading number {i} of the annual report" for i in range(30)]
    original = Image.new("L", (1100, 2200), 255)
    draw = ImageDraw.Draw(original)
    for i, line in enumerate(big):
        draw.text((30, 20 + 70 * i), line, fill=0, font=ImageFont.load_default(size=40))
    draw.text((30, 2140), "fine print about refunds", fill=0, font=ImageFont.load_default(12))
    truth = legibility.read_text(original)
    sample = truth.lines[: truth.sampled]
    assert truth.sampled == legibility.SAMPLE_LINES < len(truth.lines)
    heights = [line.box[3] - line.box[1] for line in sample]
    assert min(heights) < 25 and "refunds" in sample[heights.index(min(heights))].text


@needs_ocr
def test_a_view_is_read_on_every_line_unless_it_reads_the_whole_sample(monkeypatch):
    original = page(14, MANY)
    truth = legibility.read_text(original)
    assert Reading.from_dict(truth.to_dict()) == truth  # what the sweep cache keeps
    sample, rest = truth.lines[: truth.sampled], truth.lines[truth.sampled :]
    read: list[tuple] = []
    real = legibility._read
    monkeypatch.setattr(
        legibility, "_read", lambda t, v, lines, s: read.append(lines) or real(t, v, lines, s)
    )
    assert legibility.legibility(truth, original).word_recall == 1.0
    assert read == [sample]  # every sampled word read: not read past the sample
    read.clear()
    half = (original.width // 2, original.height // 2)
    blurred = legibility.legibility(truth, quality.seen_view(original, half, original.size))
    assert blurred.word_recall < 1.0 and read == [sample, rest]  # every line, none twice
    assert len({line.box for lines in read for line in lines}) == len(MANY)
    scores = [(sum(line.confident), 0, 0.0) for line in truth.lines]  # nothing read
    assert legibility._score(scores) == legibility.Legibility(0.0, 0.0)


def test_a_line_is_cut_with_a_margin_that_stops_short_of_its_neighbours():
    found = [
        Detected((10, 10, 200, 30)),
        Detected((10, 34, 200, 54)),
        Detected((300, 10, 400, 90)),
    ]
    above, below, alone = legibility._margins(found, (1000, 1000), 0.25)
    assert above == (5, 5, 205, 32) and below == (5, 32, 205, 59)  # half the 4 px gap
    assert alone == (280, 0, 420, 110)  # a quarter of its height, 20 px, clipped at the top
    assert legibility._margins(found, (1000, 1000), 0.0)[0] == (10, 10, 200, 30)


@needs_ocr
def test_a_line_standing_on_its_side_is_read_upright():
    label = Image.new("L", (520, 50), 255)
    font = ImageFont.load_default(size=28)
    ImageDraw.Draw(label).text((5, 8), "response time milliseconds", fill=0, font=font)
    original = Image.new("L", (1180, 400), 255)
    original.paste(page(16).convert("L"), (0, 0))
    original.paste(label.rotate(90, expand=True), (1100, 10))  # reads bottom to top
    truth = legibility.read_text(original)
    standing = next(line for line in truth.lines if "milliseconds" in line.words)
    assert standing.turn == 270 and "milliseconds" in truth.confident_words


@needs_ocr
def test_an_image_without_text_has_no_legibility_not_zero():
    blank = Image.new("RGB", (400, 300), "white")
    truth = legibility.read_text(blank)
    assert truth == Reading("tesseract") and not truth.has_text
    assert Reading.from_dict(truth.to_dict()) == truth
    score = legibility.legibility(truth, blank)
    assert math.isnan(score.word_recall) and math.isnan(score.char_accuracy)


def test_a_malformed_reading_is_refused():
    line = Line((0, 0, 10, 10), 0, "ab cd", ("ab", "cd"), (True, True))
    good = Reading("tesseract", (line,), 1).to_dict()
    assert Reading.from_dict(good).confident_words == ("ab", "cd")
    good["lines"][0][4] = [True]  # a flag short
    with pytest.raises(ValueError):
        Reading.from_dict(good)


def test_ocr_unavailable_names_what_to_install(monkeypatch):
    monkeypatch.setattr(tesseract_reader, "tessdata_dir", lambda: None)
    assert "tesseract-ocr-eng" in legibility.ocr_unavailable()
    monkeypatch.setattr(tesseract_reader._local, "engines", {}, raising=False)
    with pytest.raises(SettingsError, match="OCR unavailable"):
        legibility.read_text(page())


def test_tessdata_prefix_wins(monkeypatch, tmp_path):
    (tmp_path / "eng.traineddata").write_bytes(b"model")
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    assert tesseract_reader.tessdata_dir() == tmp_path


@needs_ocr
def test_native_library_messages_stay_out_of_the_terminal(capfd):
    screenshot = next(SAMPLES_DIR.rglob("jupyter_notebook_edit.png"))  # leptonica complains
    legibility.read_text(Image.open(screenshot).convert("RGB"))
    assert "Error in" not in capfd.readouterr().err


def test_lines_are_scaled_where_they_are_as_the_whole_view_would_be():
    rng = np.random.default_rng(0)
    view = Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))
    size = (1000, 750)
    whole = np.asarray(view.resize(size, Image.Resampling.LANCZOS)).astype(int)
    for box in ((100, 200, 600, 260), (0, 0, 1000, 40), (5, 700, 999, 750)):
        part = np.asarray(legibility._scaled_crop(view, box, size)).astype(int)
        left, top, right, bottom = box
        diff = np.abs(whole[top:bottom, left:right] - part)
        assert diff.max() <= 2 and (diff > 0).mean() < 0.01  # a level, at an edge
