"""The validation script's PP-OCR word matching (spacing does not decide, order and
confidence do, and a word counts only when read whole) and its reading of a sweep read by
both readers."""

import math
import sys

from toolkit.paths import CHECKOUT_DIR

sys.path.insert(0, str(CHECKOUT_DIR / "scripts"))

from validate_legibility import aligned_recall, by_reader, encoder_pairs  # noqa: E402


def test_words_are_found_whatever_the_spacing_of_either_reading():
    original = [("Busiest endpoints", 0.97), ("/search/cache 19,605", 0.93)]
    view = [("Busiestendpoints", 0.6), ("/search/ cache19,605", 0.7)]
    assert aligned_recall(original, view) == 1.0


def test_a_word_read_wrong_or_in_part_is_not_found():
    original = [("Invoice total 1,250.00", 0.95)]
    assert aligned_recall(original, [("Invoice totaI 1,25", 0.9)]) == 1 / 3


def test_only_confident_lines_and_words_of_two_characters_count():
    original = [("a 7 kept", 0.9), ("unsure line", 0.79)]
    assert aligned_recall(original, [("kept", 0.9)]) == 1.0
    assert aligned_recall(original, []) == 0.0
    assert math.isnan(aligned_recall([("unsure", 0.5)], [("unsure", 0.9)]))


def test_lines_may_come_in_any_order_but_a_line_is_read_in_order():
    original = [("first line", 0.9), ("second line", 0.9)]
    assert aligned_recall(original, [("second line", 0.9), ("first line", 0.9)]) == 1.0
    assert aligned_recall([("alpha omega", 0.9)], [("omega alpha", 0.9)]) == 0.5


def view(kept: str, fmt: str, quality: int, tesseract: float, neural: float) -> dict:
    """A view of a chart Tesseract reads 12 words of, PP-OCR 30 (NaN: PP-OCR read no text)."""
    return {
        "image": "chart.png",
        "category": "chart",
        "kept": kept,
        "format": fmt,
        "quality": quality,
        "toolkit": max(tesseract, neural),
        "toolkit_tesseract": tesseract,
        "toolkit_neural": neural,
        "words_tesseract": 12,
        "words_neural": 30 if neural == neural else math.nan,
        "page": 0.5,
        "neural_page": 0.9,
        "lines": 0.5,
    }


def test_a_sweep_read_by_both_readers_is_scored_by_each_by_both_and_as_auto(tmp_path):
    views = [
        view("768x480", "jpeg", 85, 0.5, 0.9),
        view("768x480", "webp", 70, 0.3, math.nan),  # PP-OCR found no text in the original
    ]
    values = {name: [v["toolkit"] for v in read] for name, read in by_reader(views).items()}
    assert values == {
        "tesseract": [0.5, 0.3],
        "neural": [0.9],
        "looser of both": [0.9, 0.3],
        "stricter of both": [0.5, 0.3],
        "auto": [0.9, 0.3],  # PP-OCR where it read more of the original, else Tesseract
    }
    pairs = encoder_pairs(views, tmp_path)
    assert pairs["toolkit_within_by_reader"] == {
        "tesseract": "0 of 1",
        "neural": "0 of 0",
        "looser of both": "0 of 1",
        "stricter of both": "0 of 1",
        "auto": "0 of 1",
    }
    assert (tmp_path / "pairs.csv").read_text().count("\n") == 2  # the header and one pair
    alone = [v | {"toolkit_neural": math.nan, "words_neural": math.nan} for v in views]
    assert list(by_reader(alone)) == ["tesseract"]  # a sweep read by Tesseract alone
