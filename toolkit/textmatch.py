"""Which words of a text another reading still holds, whatever its spacing and punctuation.

Readers differ in what they put between words: Tesseract splits "multi-dimensional" at the
hyphen, PP-OCR can drop the spaces between English words, a model's transcription adds
Markdown. So words are compared as their letters and digits only (`normalize`: lower case,
everything else removed), and a reading is compared as one run of characters without spaces:

- **line against line** (`aligned_found`): a line of an original against the same line read
  in a view. The two runs are aligned (difflib's matching blocks); a word of the original is
  read when each of its characters is matched, in one unbroken run of the view.
- **text against text** (`found_anywhere`): an original's words against a transcription in
  any order (a model's). Each word is looked for in the transcription's run of characters,
  longest words first, and a match is used up, so a word found twice needs two copies.

`char_accuracy` is 1 - Levenshtein distance / length over the same runs of characters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from difflib import SequenceMatcher

import numpy as np

_NOT_ALNUM = re.compile(r"[\W_]+")


def normalize(word: str) -> str:
    """A word's letters and digits, lower case ("Multi-dimensional," -> "multidimensional")."""
    return _NOT_ALNUM.sub("", word.lower())


def run_of(text: str) -> str:
    """`text` as one run of characters: every word normalized, nothing between them."""
    return "".join(normalize(word) for word in text.split())


def aligned_found(words: Sequence[str], text: str) -> list[bool]:
    """For each of `words` (normalized, in reading order), whether `text` reads it: all its
    characters matched in one unbroken run by the alignment of the two runs."""
    original = "".join(words)
    read = run_of(text)
    where = np.full(len(original) + 1, -2)  # position in `read` of each matched character
    matcher = SequenceMatcher(None, original, read, autojunk=False)
    for start, at, size in matcher.get_matching_blocks():
        where[start : start + size] = np.arange(at, at + size)
    found, start = [], 0
    for word in words:
        span = where[start : start + len(word)]
        found.append(bool(len(word)) and bool((span >= 0).all() and (np.diff(span) == 1).all()))
        start += len(word)
    return found


def found_anywhere(words: Sequence[str], text: str) -> list[bool]:
    """For each of `words` (normalized), whether `text` holds it somewhere, each copy in
    `text` used once (longest words first, so "is" cannot take the "is" of "this")."""
    rest = run_of(text)
    found = [False] * len(words)
    for index in sorted(range(len(words)), key=lambda i: -len(words[i])):
        at = rest.find(words[index]) if words[index] else -1
        if at >= 0:
            found[index] = True
            rest = rest[:at] + "\0" + rest[at + len(words[index]) :]
    return found


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one numpy row per character of `a`."""
    if not a or not b:
        return len(a) + len(b)
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for i, char in enumerate(a, start=1):
        subst = row[:-1] + (codes_b != ord(char))
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(subst, row[1:] + 1)
        # insertions: best[j] = min_k<=j best[k] + (j - k), a running minimum
        row = np.minimum.accumulate(best - steps) + steps
    return int(row[-1])


def char_accuracy(truth: str, text: str) -> float:
    """1 - edit distance / length of `truth`'s run of characters against `text`'s, clipped
    at 0; NaN when the truth has no letter or digit."""
    expected = run_of(truth)
    if not expected:
        return math.nan
    return max(0.0, 1.0 - edit_distance(expected, run_of(text)) / len(expected))
