"""Legibility: in-process Tesseract, confident words, sampled lines, relative scores."""

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from toolkit import legibility, quality
from toolkit.errors import SettingsError
from toolkit.legibility import Reading
from toolkit.paths import SAMPLES_DIR

needs_ocr = pytest.mark.skipif(legibility.ocr_unavailable() is not None, reason="no OCR here")

LINES = [
    "Quarterly invoice 4821 for Acme Supplies payable within thirty days",
    "Total due 93.50 euros by bank transfer with reference ACME-2026",
    "Questions about this invoice go to the accounts team by email",
    "Deliveries arrive on Tuesdays and Thursdays before noon",
]


def page(size: int = 16, lines=LINES, dark: bool = False, width: int = 1000) -> Image.Image:
    """Dark text on white (or light on dark) at `size` px, one sentence per line."""
    image = Image.new("L", (width, 60 + 2 * size * len(lines)), 30 if dark else 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size)
    for i, line in enumerate(lines):
        draw.text((30, 30 + 2 * size * i), line, fill=230 if dark else 0, font=font)
    return image


def test_edit_distance_and_char_accuracy():
    assert legibility.edit_distance("kitten", "sitting") == 3
    assert legibility.edit_distance("", "abc") == 3
    assert legibility.edit_distance("flaw", "lawn") == 2
    assert legibility.char_accuracy("abcd", "abcd") == 1.0
    assert legibility.char_accuracy("abcd", "abxd") == 0.75
    assert legibility.char_accuracy("ab", "something else entirely") == 0.0
    assert math.isnan(legibility.char_accuracy("", "x"))


def test_word_recall_counts_confident_words_as_a_multiset_in_any_order():
    wanted = ("total", "due", "total", "euros", "bank", "transfer", "reference", "acme")
    assert legibility.word_recall(wanted, ["Total", "due", "euros.", "bank", "transfer"]) == 5 / 8
    shuffled = ["acme", "reference", "transfer", "bank", "euros", "total", "due", "total"]
    assert legibility.word_recall(wanted, shuffled) == 1.0
    assert legibility.word_recall(wanted, ["total"] * 10) == 2 / 8  # extra copies add nothing
    assert math.isnan(legibility.word_recall((), ["ab"]))
    assert not Reading(text="ab cd", confident_words=("ab", "cd")).has_text


@needs_ocr
def test_the_original_reads_itself_fully_and_small_views_lose_words():
    original = page(16)
    truth = legibility.read_text(original)
    assert truth.has_text and "4821" in truth.confident_words
    assert legibility.legibility(truth, original) == legibility.Legibility(1.0, 1.0)
    kept = quality.seen_view(original, (original.width // 4, original.height // 4), original.size)
    shrunk = legibility.legibility(truth, kept)
    assert shrunk.word_recall < 0.5 and shrunk.char_accuracy < 0.8


@needs_ocr
def test_light_text_on_dark_reads_like_dark_on_light():
    lines = [f"{line} row {i}" for i in range(8) for line in LINES[:3]]  # > SAMPLE_LINES
    for dark in (False, True):
        original = page(14, lines, dark=dark)
        truth = legibility.read_text(original)
        sampled = [box for strip in truth.sample for box in strip.boxes]
        assert len(sampled) == legibility.SAMPLE_LINES  # views are read on a sample
        assert len(sampled) + len(truth.rest.boxes) == len(lines)  # and all lines near a floor
        assert legibility.legibility(truth, original).word_recall == 1.0
        half = (original.width // 2, original.height // 2)
        blurred = legibility.legibility(truth, quality.seen_view(original, half, original.size))
        assert blurred.word_recall < 1.0


@needs_ocr
def test_a_sample_keeps_the_smallest_text():
    big = [f"Heading number {i} of the annual report" for i in range(30)]
    original = Image.new("L", (1100, 2200), 255)
    draw = ImageDraw.Draw(original)
    for i, line in enumerate(big):
        draw.text((30, 20 + 70 * i), line, fill=0, font=ImageFont.load_default(size=40))
    draw.text((30, 2140), "fine print about refunds", fill=0, font=ImageFont.load_default(12))
    truth = legibility.read_text(original)
    first_half = truth.sample[0]  # the first strip a view is read on
    smallest = min(first_half.boxes, key=lambda b: b[3] - b[1])
    assert smallest[3] - smallest[1] < 20 and "refunds" in first_half.text


@needs_ocr
def test_an_image_without_text_has_no_legibility_not_zero():
    blank = Image.new("RGB", (400, 300), "white")
    truth = legibility.read_text(blank)
    assert truth == Reading(text="", confident_words=())
    assert Reading.from_dict(truth.to_dict()) == truth
    assert not truth.has_text
    score = legibility.legibility(truth, blank)
    assert math.isnan(score.word_recall) and math.isnan(score.char_accuracy)


def test_ocr_unavailable_names_what_to_install(monkeypatch):
    monkeypatch.setattr(legibility, "tessdata_dir", lambda: None)
    assert "tesseract-ocr-eng" in legibility.ocr_unavailable()
    monkeypatch.setattr(legibility._local, "engines", {}, raising=False)
    with pytest.raises(SettingsError, match="OCR unavailable"):
        legibility.read_text(page())


def test_tessdata_prefix_wins(monkeypatch, tmp_path):
    (tmp_path / "eng.traineddata").write_bytes(b"model")
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    assert legibility.tessdata_dir() == tmp_path


@needs_ocr
def test_native_library_messages_stay_out_of_the_terminal(capfd):
    screenshot = next(SAMPLES_DIR.rglob("jupyter_notebook_edit.png"))  # leptonica complains
    legibility.read_text(Image.open(screenshot).convert("RGB"))
    assert "Error in" not in capfd.readouterr().err


@needs_ocr
def test_views_near_a_floor_are_scored_on_every_line(monkeypatch):
    lines = [f"{line} row {i}" for i in range(8) for line in LINES[:3]]
    original = page(14, lines)
    truth = legibility.read_text(original)
    assert Reading.from_dict(truth.to_dict()) == truth  # what the sweep cache keeps
    strips = [*truth.sample, truth.rest]
    boxes = [box for strip in strips for box in strip.boxes]
    assert len(strips) == 3 and len(set(boxes)) == len(boxes)  # no line is read twice
    read = []
    real = legibility._read_view
    monkeypatch.setattr(legibility, "_read_view", lambda v, b, s: read.append(b) or real(v, b, s))
    legibility.legibility(truth, original)  # sampled recall 1.0: not read past the sample
    assert read == [strip.boxes for strip in truth.sample]
    monkeypatch.setattr(legibility, "EXACT_BAND", (0.0, 1.01))
    read.clear()
    assert legibility.legibility(truth, original).word_recall == 1.0
    assert read == [strip.boxes for strip in strips]
    # scored on every strip read: words lost in the rest count as lost
    kept = [list(strip.words) for strip in truth.sample] + [[]]
    score = legibility._score(strips, kept)
    sampled = sum(len(strip.words) for strip in truth.sample)
    assert score.word_recall == sampled / (sampled + len(truth.rest.words))


@needs_ocr
def test_a_view_far_below_any_floor_is_read_on_half_the_sample(monkeypatch):
    lines = [f"{line} row {i}" for i in range(8) for line in LINES[:3]]
    original = page(14, lines)
    truth = legibility.read_text(original)
    read = []
    real = legibility._read_view
    monkeypatch.setattr(legibility, "_read_view", lambda v, b, s: read.append(b) or real(v, b, s))
    tiny = quality.seen_view(original, (original.width // 6, original.height // 6), original.size)
    score = legibility.legibility(truth, tiny)
    assert score.word_recall < legibility.FAR_BELOW
    assert read == [truth.sample[0].boxes]


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
