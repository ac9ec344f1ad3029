"""The report index's number formatting (the report itself is built in test_notebooks.py)."""

import pytest

from toolkit.report_index import _number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (14364.0, "14,364"),
        (12345.678, "12,345.68"),
        (148.75, "148.75"),
        (0.2125, "0.2125"),
        (0.98554, "0.9855"),
        (512.0, "512"),
        (0.00012345, "0.0001234"),
    ],
)
def test_headline_numbers_are_plain_and_never_scientific(value, text):
    assert _number(value) == text
