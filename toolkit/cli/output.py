"""Shared output for subcommands: JSON lines with `--json`, a readable table without.

Names come from the file system and may hold anything. In tables and messages, control
characters (which a terminal would obey: colours, titles, cursor moves, a forged row) are
shown escaped (`\\x1b`, `\\n`, `\\u202e`), as is each byte of a name that is not UTF-8
(`\\xff`). JSON lines are valid UTF-8 whatever the names: such a byte is the escape
`\\udcff` (Python's surrogateescape: `os.fsencode` gives the name back) and a row whose
`path` holds one also carries `path_bytes`, the name's bytes in Base64.
"""

import base64
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

from toolkit.formatting import significant

_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 controls, DEL, line and paragraph separators, bidirectional overrides and
# isolates, and surrogates (bytes of a name that were not UTF-8)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the byte that was not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    return _SHORT.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """`text` safe to show on a terminal: unsafe characters escaped (see the module)."""
    return _UNSAFE.sub(_escape, text)


def error_row(path: object, exc: BaseException) -> dict:
    """The contract's failure line: the path and the error's type and message."""
    return {"path": str(path), "error": {"type": type(exc).__name__, "message": str(exc)}}


def json_line(row: Mapping) -> str:
    """One row as a line of valid UTF-8 JSON (see the module for names that are not UTF-8)."""
    path = row.get("path")
    if isinstance(path, str) and _SURROGATE.search(path):
        row = {**row, "path_bytes": base64.b64encode(os.fsencode(path)).decode()}
    text = json.dumps(row, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def print_json_lines(rows: Iterable[Mapping], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    for row in rows:
        out.write(json_line(row))
        out.flush()


def format_cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):  # plain notation: never 1.235e-05
        return significant(value, 6).replace(",", "")
    if isinstance(value, list | tuple):
        return printable(",".join(map(str, value))) or "-"
    return printable(str(value))


def print_table(
    rows: Sequence[Mapping], columns: Sequence[str], out: TextIO | None = None
) -> None:
    """Left-aligned columns sized to their widest cell; failed rows show their error."""
    out = out or sys.stdout
    cells = []
    for row in rows:
        if "error" in row:
            err = row["error"]
            message = printable(f"ERROR {err['type']}: {err['message']}")
            cells.append([format_cell(row.get("path", "")), message])
        else:
            cells.append([format_cell(row.get(c)) for c in columns])
    widths = [len(c) for c in columns]
    for line in cells:
        if len(line) == len(columns):
            widths = [max(w, len(c)) for w, c in zip(widths, line, strict=True)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for line in cells:
        out.write(
            "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=False)).rstrip() + "\n"
        )


def print_rows(rows: Sequence[Mapping], as_json: bool, columns: Sequence[str]) -> None:
    """One JSON object per row when `as_json`, else a table of `columns`."""
    if as_json:
        print_json_lines(rows)
    else:
        print_table(rows, columns)


def print_recommendations(frame, as_json: bool) -> None:
    """`toolkit.recommend` output: every column as JSON lines, or the summary columns as a
    table with rows resting on few images marked `*`."""
    from toolkit.recommend import FEW_IMAGES, SUMMARY, to_records

    records = to_records(frame)
    if not as_json:
        for row in records:
            row["images"] = f"{row['images']}{'*' if row['images'] < FEW_IMAGES else ''}"
    print_rows(records, as_json, SUMMARY)
