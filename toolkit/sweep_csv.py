"""Reading a sweep's CSV back (`toolkit recommend`): checked before anything is computed.

The file must be a regular file within `files.MAX_TABLE_BYTES`, hold every column of
`toolkit.sweep.COLUMNS`, and its settings and measurements must be what a sweep writes:
whole numbers where a sweep writes them (`max_side`, `quality`, `tokens`, ...), numbers in the
metric and cost columns, and a known `format`. A hand-edited `quality` of "abc"
is a `SettingsError` naming the file, the column, the line and the value, never a
recommendation of quality "abc".
"""

import os

import pandas as pd

from toolkit.errors import SettingsError
from toolkit.files import MAX_TABLE_BYTES, open_regular
from toolkit.images import MIME_TYPES
from toolkit.sweep import COLUMNS, FLOATS, INTEGERS

FORMATS = tuple(MIME_TYPES)


def read_sweep_csv(path: str | os.PathLike) -> pd.DataFrame:
    """A sweep CSV, checked (see the module); `SettingsError` naming what is wrong."""
    try:
        with open_regular(path, MAX_TABLE_BYTES) as handle:
            frame = pd.read_csv(handle)
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:  # not CSV, empty, not UTF-8
        raise SettingsError(f"{path}: not a CSV file: {exc}") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise SettingsError(f"{path} is not a toolkit sweep CSV (missing {missing[:4]}...)")
    for column in (*INTEGERS, *FLOATS):
        _check_numbers(path, frame[column], whole=column in INTEGERS)
    formats = frame["format"]
    _report(path, formats, formats.notna() & ~formats.isin(FORMATS), f"one of {FORMATS}")
    return frame


def _check_numbers(path: str | os.PathLike, values: pd.Series, whole: bool) -> None:
    numbers = pd.to_numeric(values, errors="coerce")
    _report(path, values, values.notna() & numbers.isna(), "a number")
    if whole:
        _report(path, values, numbers.notna() & (numbers % 1 != 0), "a whole number")


def _report(path: str | os.PathLike, values: pd.Series, bad: pd.Series, wanted: str) -> None:
    """`SettingsError` naming the first value of `values` marked `bad`, if any."""
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        value = values.iloc[row]
        value = value.item() if hasattr(value, "item") else value  # numpy's, as Python's
        raise SettingsError(f"{path}: line {row + 2}: {values.name} is {value!r}, not {wanted}")
