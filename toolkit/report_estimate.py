"""A rough duration for a report run, said before it starts, and the bar that follows it.

A notebook's time is its fixed part (a kernel, imports, work that does not depend on the
images) plus seconds per image, both fitted to a default and a smoke run on the project's
2-CPU machine (`MEASURED`), the per-image part scaled by its grid: the product of the lengths
of its list parameters named in `GRID`, against the same product for its defaults. A notebook
that takes a `sample` works on at most that many images. A guide, not a promise: OCR time
follows how much text the images hold, and a busy machine is slower.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping

from tqdm.auto import tqdm

# notebook -> (fixed seconds, seconds per image): fitted to two cold runs on the project's
# 2-CPU machine (2026-12-07, quiet), the default preset on the 29 sample images (8.1 min) and
# the smoke preset (65 s); 03 reuses most of 02's sweep through the report's cache
MEASURED: dict[str, tuple[float, float]] = {
    "00-explore": (6.8, 0.53),
    "01-quality": (6.5, 1.30),
    "02-max-size": (7.1, 2.45),
    "03-detail-levels": (6.2, 0.09),
    "04-cost-projection": (7.7, 3.30),
    "05-live-check": (4.5, 0.10),
    "06-video-frames": (7.0, 0.0),
    "07-transport": (4.6, 0.10),
    "08-calibration": (5.7, 4.12),
    "09-providers": (4.3, 6.28),
}
UNMEASURED = (10.0, 2.0)  # a notebook of one's own
GRID = ("max_sides", "formats", "qualities", "models", "details", "sizes", "fps_values")


def _cells(values: Mapping[str, object]) -> int:
    return math.prod(len(v) for k, v in values.items() if k in GRID and isinstance(v, list))


def estimate_seconds(
    name: str, parameters: Mapping, declared: Mapping[str, Mapping], images: int
) -> float:
    """Rough seconds for notebook `name` with `parameters` (papermill's `declared` defaults
    for the rest) on `images` images."""
    defaults = {k: ast.literal_eval(v["default"]) for k, v in declared.items()}
    values = {**defaults, **parameters}
    fixed, per_image = MEASURED.get(name, UNMEASURED)
    count = images if "images_dir" in declared else 0
    sample = values.get("sample")
    if isinstance(sample, int) and not isinstance(sample, bool) and sample > 0:
        count = min(count, sample)
    scale = _cells(values) / max(1, _cells(defaults))
    return fixed + per_image * count * scale


def duration_text(seconds: float) -> str:
    """ "about 40 s", "about 3 min", "about 1.5 h"."""
    if seconds < 90:
        return f"about {round(seconds / 10) * 10 or 10:.0f} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60):.0f} min"
    return f"about {seconds / 3600:.1f} h"


def report_bar(total_s: float, enabled: bool) -> tqdm:
    """A bar over a report's estimated seconds (a widget in Jupyter, text on stderr in a
    terminal): each notebook advances it by its estimate, so its ETA is the estimate left,
    corrected by how fast the run has gone so far."""
    return tqdm(
        total=total_s,
        desc="report",
        unit="s",
        disable=not enabled,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} so far, ETA {remaining} {postfix}",
    )
