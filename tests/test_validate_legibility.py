"""The validation script's PP-OCR word matching: spacing does not decide, order and
confidence do, and a word counts only when read whole."""

import math
import sys

from toolkit.paths import CHECKOUT_DIR

sys.path.insert(0, str(CHECKOUT_DIR / "scripts"))

from validate_legibility import aligned_recall  # noqa: E402


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
