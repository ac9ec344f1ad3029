"""One smoke-preset report per test session, shared by the notebook and browser tests."""

import functools
from pathlib import Path

from toolkit.cli import main


@functools.cache
def smoke_report(base: Path) -> tuple[Path, int]:
    """Build the smoke report under `base` with the CLI; return its folder and exit code."""
    out = base / "smoke-report"
    return out, main(["report", "--preset", "smoke", "--out", str(out), "--json"])
