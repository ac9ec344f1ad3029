"""Shared output for subcommands: JSON lines with `--json`, a readable table without."""

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO


def error_row(path: object, exc: BaseException) -> dict:
    """The contract's failure line: the path and the error's type and message."""
    return {"path": str(path), "error": {"type": type(exc).__name__, "message": str(exc)}}


def print_json_lines(rows: Iterable[Mapping], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()


def format_cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value)) or "-"
    return str(value)


def print_table(
    rows: Sequence[Mapping], columns: Sequence[str], out: TextIO | None = None
) -> None:
    """Left-aligned columns sized to their widest cell; failed rows show their error."""
    out = out or sys.stdout
    cells = []
    for row in rows:
        if "error" in row:
            err = row["error"]
            cells.append([str(row.get("path", "")), f"ERROR {err['type']}: {err['message']}"])
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
