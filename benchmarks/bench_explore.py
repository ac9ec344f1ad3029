"""The explorer's update latency on a 12 MP photo at <= 1024 px, in process and in JupyterLab.

    .venv/bin/python benchmarks/bench_explore.py [--repeats 5] [--browser-repeats 8] [--no-browser]

The photo is `data/samples/photo/camera_12mp.jpg` (4032x3024, 12.2 MP), shown first at
1024 px, JPEG 85, gpt-4o `high`, legibility on (the photo has no text, so only its original is
read), seen SSIM at the 2048 px reference, as notebooks 01-04 compare it.

In process (the kernel's side): each repeat starts a fresh explorer (the first render: decode,
reference statistics, OCR of the original), waits for the background resizes to the slider's
other max sides, then changes each control once, in order (`CHANGES`), as the widget's
callbacks do (`controls[...].value = ...`). Each change is timed in two phases
(`Explorer.timings_ms`): `view` (pictures, bytes, tokens, dollars: what the screen shows
first) and `fidelity` (seen SSIM, shown once measured). Figures are medians and worst cases
over the repeats.

In JupyterLab (the user's side): the same explorer in a notebook in headless Chromium (Debian's,
through Playwright). The quality slider is dragged to a new value `--browser-repeats` times and
the model changed back and forth; each is timed in the page from the slider's release (or the
menu's choice) until the bytes (tokens) shown change and until seen SSIM is shown again.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from lab import Explorer as LabExplorer  # noqa: E402
from lab import chromium_page, lab_server, run_notebook  # noqa: E402

from toolkit.explorer import explore  # noqa: E402
from toolkit.paths import SAMPLES_DIR  # noqa: E402

PHOTO = SAMPLES_DIR / "photo" / "camera_12mp.jpg"
FIRST = dict(image=PHOTO.name, max_side=1024, quality=85, model="gpt-4o", detail="high")
CHANGES = [  # (label, control, value), applied in this order
    ("quality 85 -> 60 (re-encode)", "quality", 60),
    ("format jpeg -> webp (re-encode)", "format", "webp"),
    ("format webp -> jpeg (an encode seen before)", "format", "jpeg"),
    ("model gpt-4o -> gpt-5.4-mini (re-price)", "model", "gpt-5.4-mini"),
    ("model back to gpt-4o (seen before)", "model", "gpt-4o"),
    ("detail high -> low (re-price; keeps 512x384)", "detail", "low"),
    ("max side 1024 -> 768 (encode)", "max_side", 768),
    ("crop zoom 4x -> 8x", "zoom", 8),
    ("crop centre moved", "centre_x", 0.3),
]


def in_process(repeats: int) -> tuple[dict[str, list[float]], dict[str, list[dict]]]:
    """First renders and background resizes (ms), and each change's `timings_ms`."""
    starts: dict[str, list[float]] = {"first": [], "prefetch": []}
    changes: dict[str, list[dict]] = {label: [] for label, _, _ in CHANGES}
    for _ in range(repeats):
        start = time.perf_counter()
        shown = explore(PHOTO.parent, **FIRST)
        shown_at = time.perf_counter()
        shown.session.prefetching.result()  # the slider's other sizes, on the second core
        starts["first"].append(1000 * (shown_at - start))
        starts["prefetch"].append(1000 * (time.perf_counter() - shown_at))
        for label, control, value in CHANGES:
            shown.controls[control].value = value
            assert "toolkit-error" not in shown.status.value, shown.status.value
            changes[label].append(dict(shown.timings_ms))
    return starts, changes


NOTEBOOK_CELL = f"""import toolkit
toolkit.explore(toolkit.SAMPLES_DIR / "photo", image={PHOTO.name!r})"""


def in_browser(repeats: int) -> dict[str, list[float]]:
    import nbformat

    timings: dict[str, list[float]] = {k: [] for k in ("q_view", "q_ssim", "m_view")}
    with tempfile.TemporaryDirectory() as folder:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(NOTEBOOK_CELL)])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(notebook, Path(folder) / "explore.ipynb")
        with lab_server(Path(folder)) as lab, chromium_page() as page:
            run_notebook(page, lab, "explore.ipynb", timeout_s=300)
            explorer = LabExplorer(page)
            for i in range(repeats):
                bytes_before = explorer.number("bytes")
                ssim_before = explorer.number("seen_ssim")
                released = explorer.drag_slider("quality", 0.15 + 0.8 * i / repeats)
                explorer.wait_for_change("bytes", bytes_before)
                timings["q_view"].append(1000 * (time.perf_counter() - released))
                explorer.wait_for_change("seen_ssim", ssim_before)
                timings["q_ssim"].append(1000 * (time.perf_counter() - released))
                tokens = explorer.number("tokens")
                chosen = explorer.select("model", "gpt-5.4-mini" if i % 2 == 0 else "gpt-4o")
                explorer.wait_for_change("tokens", tokens)
                timings["m_view"].append(1000 * (time.perf_counter() - chosen))
    return timings


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.0f} {max(values):7.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh explorers in process")
    parser.add_argument("--browser-repeats", type=int, default=8, help="slider moves in Lab")
    parser.add_argument("--no-browser", action="store_true", help="skip the JupyterLab part")
    args = parser.parse_args()

    starts, changes = in_process(args.repeats)
    print(f"{PHOTO.name}, in process, {args.repeats} repeats (ms: median, worst)")
    print(f"  first render (decode, reference, OCR of the original): {spread(starts['first'])}")
    print(f"  then the other max sides, resized in the background:   {spread(starts['prefetch'])}")
    print(f"  {'change':46} {'view':>15} {'fidelity':>15} {'total':>15}")
    for label, runs in changes.items():
        views = [r["view"] for r in runs]
        fidelity = [r["fidelity"] for r in runs]
        totals = [r["view"] + r["fidelity"] for r in runs]
        print(f"  {label:46} {spread(views)} {spread(fidelity)} {spread(totals)}")
    if args.no_browser:
        return
    timings = in_browser(args.browser_repeats)
    print(f"in JupyterLab (headless Chromium), {args.browser_repeats} changes (ms: median, worst)")
    print(f"  quality slider released -> bytes shown:     {spread(timings['q_view'])}")
    print(f"  quality slider released -> seen SSIM shown: {spread(timings['q_ssim'])}")
    print(f"  model chosen -> tokens shown:               {spread(timings['m_view'])}")


if __name__ == "__main__":
    main()
