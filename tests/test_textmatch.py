"""Word matching that no reader's spacing or punctuation decides."""

import math

from toolkit.textmatch import (
    aligned_found,
    char_accuracy,
    edit_distance,
    found_anywhere,
    normalize,
    run_of,
)


def test_words_are_their_letters_and_digits():
    assert normalize("Multi-dimensional,") == "multidimensional"
    assert normalize("(default:") == "default"
    assert normalize("--") == ""
    assert run_of("Total due: 93.50 EUR") == "totaldue9350eur"


def test_a_line_read_without_spaces_still_reads_its_words():
    words = ["the", "quick", "brown", "fox"]
    assert aligned_found(words, "the quick brown fox") == [True] * 4
    assert aligned_found(words, "thequickbrownfox") == [True] * 4  # PP-OCR drops spaces
    assert aligned_found(words, "the qu ick brown, fox.") == [True] * 4  # a stray space


def test_one_wrong_letter_loses_the_word_and_only_that_word():
    words = ["truncate", "wrapped", "lines"]
    assert aligned_found(words, "Truncote wrapped lines.") == [False, True, True]
    assert aligned_found(words, "truncate wropped lines") == [True, False, True]
    assert aligned_found(words, "") == [False, False, False]


def test_a_letter_added_inside_a_word_breaks_its_run():
    assert aligned_found(["hello", "world"], "helxlo world") == [False, True]
    assert aligned_found(["hello", "world"], "hello wor ld") == [True, True]


def test_a_transcription_in_any_order_uses_each_copy_once():
    words = ["total", "due", "total", "is", "this"]
    assert found_anywhere(words, "this is the total due") == [True, True, False, True, True]
    assert found_anywhere(words, "Total: 2x total. Due this") == [True, True, True, False, True]
    # "is" may not take the "is" of "this": the longest words are placed first
    assert found_anywhere(["is", "this"], "this") == [False, True]


def test_edit_distance_and_char_accuracy():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("flaw", "lawn") == 2
    assert char_accuracy("ab cd", "abcd") == 1.0  # spacing does not count
    assert char_accuracy("abcd", "abxd") == 0.75
    assert char_accuracy("ab", "something else entirely") == 0.0
    assert math.isnan(char_accuracy("--", "x"))
