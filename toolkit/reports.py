"""Reports: run every notebook with papermill, render it to HTML without code, write a manifest.

A preset is one YAML file in `notebooks/params/` (or any path) with literal values only:

    report:            # how the runner behaves
      timeout_s: 600   # per-cell execution timeout
      watermark: "smoke preset — not for citation"   # optional: on every page
    shared:            # given to every notebook that declares the parameter
      images_dir: data/samples
    notebooks:         # per notebook stem; every key must be a declared parameter
      01-quality:
        qualities: [60, 85]

The runner always passes `out_dir` (the report folder), `show_progress=False` and
`cache_dir` (a sweep cache the notebooks share, removed when the report is done), and
`images_dir` when `--images` is given, `scheduler` (a Dask cluster the notebooks sweep on)
when `--scheduler` is. Notebooks write their tables and figures through
`save_table` and `toolkit.plots.save_figure`, so the report collects them. Each notebook's
exact parameters are also written to `parameters/<notebook>.yaml`, ready for `papermill -f`.
"""

from __future__ import annotations

import ast
import json
import math
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from toolkit import __version__, safe_yaml
from toolkit.errors import ImageError, ReportError, SettingsError
from toolkit.files import MAX_SETTINGS_BYTES, read_regular
from toolkit.images import iter_image_files, load_image
from toolkit.outputs import atomic_path, write_atomic
from toolkit.paths import (
    CHECKOUT_DIR,
    NOTEBOOKS_DIR,
    PARAMS_DIR,
    SHIPPED_DIR,
    input_path,
    presets,
    reports_dir,
)
from toolkit.report_estimate import estimate_seconds, report_bar
from toolkit.report_index import NAV_HTML, PAGE_CSS, render_index, watermark_html
from toolkit.sweep import file_sha256

KERNEL = "python3"
DEFAULT_TIMEOUT_S = 600
PRESET_SECTIONS = ("report", "shared", "notebooks")
REPORT_SETTINGS = ("timeout_s", "watermark")
INPUT_SUFFIXES = ("_dir", "_path")  # parameters naming the files a notebook reads ...
NOT_INPUTS = ("out_dir", "cache_dir")  # ... except the runner's own folders
# A notebook's parameter annotation -> the preset values it takes (`bool` only for `bool`).
DECLARED_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}
PACKAGES = (
    "pillow",
    "pyvips",
    "pyvips-binary",
    "openai",
    "pandas",
    "numpy",
    "papermill",
    "nbconvert",
    "matplotlib",
    "av",
)

# The lab template without its CDN scripts: reports open offline, and MathJax would turn the
# dollar amounts in the prose into maths.
_PAGE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block body_header -%}{{ super() }}{{ resources.nav }}{{ resources.watermark }}
{%- endblock body_header -%}
{%- block extra_css -%}<style>{{ resources.page_css }}</style>{%- endblock extra_css -%}
"""


@dataclass
class NotebookRun:
    """What happened to one notebook in a report run."""

    name: str
    status: str = "pending"  # ok | failed
    seconds: float = 0.0
    parameters: dict = field(default_factory=dict)
    error: dict | None = None  # {"type", "message", "cell"} when failed
    page: str | None = None  # HTML page, relative to the report folder
    executed: str | None = None  # executed .ipynb, relative to the report folder
    tables: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)


def notebook_output(out_dir: str | Path = "") -> Path:
    """Where a notebook writes its tables/ and figures/: `out_dir` (the report folder the
    runner passes), else `reports/interactive` in the working folder when run by hand."""
    return Path(out_dir).absolute() if out_dir else reports_dir() / "interactive"


def notebook_images(images_dir: str | Path, limit: int = 0) -> list[Path]:
    """The image files a notebook works on: under `images_dir` (`toolkit.input_path`: from
    the working folder, else the shipped samples), sorted, the first `limit` of them (0:
    all). `SettingsError` when there is none."""
    folder = input_path(images_dir)
    images = list(iter_image_files([folder]))[: limit or None]
    if not images:
        raise SettingsError(f"no images in {images_dir} ({folder}): give a folder of images")
    return images


def save_table(df: pd.DataFrame, name: str, out_dir: str | Path) -> Path:
    """Write `df` to `<out_dir>/tables/<name>.csv` (no index) and return the path."""
    path = Path(out_dir) / "tables" / f"{name}.csv"
    with atomic_path(path) as temp:
        df.to_csv(temp, index=False)
    return path


def load_preset(preset: str | Path) -> dict:
    """Read a preset by name (`notebooks/params/<name>.yaml`) or by path to a YAML file.

    A preset is data, never code: it is read with `toolkit.safe_yaml` (plain values only, no
    tags, aliases bounded) from a regular file of at most `files.MAX_SETTINGS_BYTES`.
    `ReportError` names the file and what is wrong: not UTF-8 YAML, not plain data, sections
    other than
    report/shared/notebooks or not mappings, runner keys other than `timeout_s` and
    `watermark`, a timeout that is not a positive number of seconds, a watermark not text.
    """
    path = _preset_path(preset)
    if not path.exists():
        raise ReportError(f"no preset {str(preset)!r}; known presets: {', '.join(presets())}")
    try:
        data = safe_yaml.load(read_regular(path, MAX_SETTINGS_BYTES).decode("utf-8")) or {}
    except (OSError, ValueError, yaml.YAMLError) as exc:  # ValueError: not UTF-8, not data
        reason = exc.strerror if isinstance(exc, OSError) else exc
        raise ReportError(f"{path}: not a readable YAML preset: {reason}") from None
    if not isinstance(data, dict) or set(data) - set(PRESET_SECTIONS):
        raise ReportError(f"{path}: top-level keys must be report, shared, notebooks; got {data}")
    config = {key: data.get(key) or {} for key in PRESET_SECTIONS}
    for key, section in config.items():
        if not isinstance(section, dict):
            raise ReportError(f"{path}: {key} must be a mapping, not {section!r}")
    unknown = sorted(set(config["report"]) - set(REPORT_SETTINGS))
    if unknown:
        known = ", ".join(REPORT_SETTINGS)
        raise ReportError(f"{path}: unknown report settings {unknown}; known: {known}")
    watermark = config["report"].get("watermark")
    if watermark is not None and not isinstance(watermark, str):
        raise ReportError(f"{path}: watermark must be text, not {watermark!r}")
    timeout = config["report"].setdefault("timeout_s", DEFAULT_TIMEOUT_S)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 0 < timeout < math.inf
    ):
        raise ReportError(
            f"{path}: timeout_s must be a positive number of seconds, not {timeout!r}"
        )
    return config


def check_images(folder: Path) -> None:
    """`ReportError` unless `folder` holds at least one image that loads: a report on none
    would run every notebook only to fail in each."""
    if not folder.is_dir():
        raise ReportError(
            f"images folder {folder}: not a folder (a relative path is looked for in the "
            f"working folder, then in the toolkit's files, {SHIPPED_DIR}); give --images DIR"
        )
    failures = []
    for path in iter_image_files([folder]):
        try:
            load_image(path, draft_side=64)
            return
        except ImageError as exc:
            failures.append(str(exc))
    listed = f": {'; '.join(failures[:3])}" + (" ..." if len(failures) > 3 else "")
    raise ReportError(f"images folder {folder} holds no usable image{listed if failures else ''}")


def check_scheduler(address: str) -> None:
    """`ReportError` unless a Dask scheduler with usable workers answers at `address`: every
    notebook would otherwise fail the same way."""
    from toolkit.sweep import sweep_executor

    try:
        sweep_executor(address).shutdown()
    except SettingsError as exc:
        raise ReportError(str(exc)) from None


def notebook_parameters(
    preset: Mapping, notebook: Path, declared: Mapping[str, Mapping], runner: Mapping
) -> dict:
    """Parameters for one notebook: shared keys it declares, then its own section, then runner.

    A key in the notebook's own section that the notebook does not declare is an error (papermill
    would only warn and the value would be silently ignored), and so is a value whose type is
    not the one the notebook declares for it (`limit: int`, `models: list`, ...; an integer
    passes for a float): papermill writes values into the notebook as code, so only plain
    values of the declared type reach it. `declared` is `papermill.inspect_notebook`'s answer.
    """
    own = dict(preset["notebooks"].get(notebook.stem) or {})
    undeclared = sorted(set(own) - set(declared))
    if undeclared:
        raise ReportError(f"{notebook.name}: preset sets undeclared parameters {undeclared}")
    shared = {k: v for k, v in preset["shared"].items() if k in declared}
    extra = {k: v for k, v in runner.items() if k in declared}
    parameters = {**shared, **own, **extra}
    for name, value in parameters.items():
        kind = declared[name].get("inferred_type_name")
        wanted = DECLARED_TYPES.get(str(kind), (object,))
        if isinstance(value, bool) != (bool in wanted) or not isinstance(value, wanted):
            raise ReportError(
                f"{notebook.name}: parameter {name} is declared {kind}, not {value!r}"
            )
    return parameters


def render_page(executed: Path, page: Path, watermark: str | None = None) -> None:
    """Convert an executed notebook to standalone HTML without code cells or prompts (with the
    preset's watermark, if it has one)."""
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"toolkit-report.html.j2": _PAGE_TEMPLATE})],
        template_file="toolkit-report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources = {"watermark": watermark_html(watermark), "nav": NAV_HTML, "page_css": PAGE_CSS}
    notebook = nbformat.read(executed, as_version=4)
    notebook.metadata.pop("widgets", None)  # no widget scripts offline: widgets show their HTML
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    write_atomic(page, body)


def run_notebook(
    notebook: Path, run: NotebookRun, out: Path, timeout_s: float, watermark: str | None = None
) -> None:
    """Execute one notebook into `out/notebooks/`, render its page; record the outcome in `run`."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    executed = out / "notebooks" / notebook.name
    before = _listing(out)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=run.parameters,
            kernel_name=KERNEL,
            progress_bar=False,
            cwd=str(out),
            execution_timeout=timeout_s,
            store_widget_state=False,  # a report has no live kernel: widgets show their HTML
            # the kernel's own start-up log (e.g. its note that local TCP is not encrypted)
            # is not the report's: errors only
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        run.status = "ok"
    except PapermillExecutionError as exc:
        run.status = "failed"
        run.error = {"type": exc.ename, "message": exc.evalue, "cell": exc.exec_count}
    except Exception as exc:  # kernel death, timeouts, unreadable notebook: still report it
        run.status = "failed"
        run.error = {"type": type(exc).__name__, "message": str(exc), "cell": None}
    run.seconds = round(time.perf_counter() - started, 3)
    if executed.exists():
        run.executed = executed.relative_to(out).as_posix()
        page = out / f"{notebook.stem}.html"
        render_page(executed, page, watermark)
        run.page = page.name
    added = sorted(_listing(out) - before)
    run.tables = [p for p in added if p.startswith("tables/")]
    run.figures = [p for p in added if p.startswith("figures/")]


@dataclass
class ReportPlan:
    """What a report run will do, known before its first notebook starts."""

    out: Path
    runs: list[NotebookRun]
    images: dict  # the images folder, how many images it holds and how many are used
    estimates: dict[str, float]  # notebook -> rough seconds (`toolkit.report_estimate`)

    @property
    def estimate_s(self) -> float:
        return sum(self.estimates.values())


def build_report(
    preset: str | Path = "default",
    images: str | Path | None = None,
    out: str | Path | None = None,
    *,
    notebooks: Iterable[str | Path] | None = None,
    on_start: Callable[[ReportPlan], None] | None = None,
    on_notebook: Callable[[NotebookRun], None] | None = None,
    progress: bool = False,
    scheduler: str | None = None,
    reader: str | None = None,
    combine: str | None = None,
) -> Path:
    """Run the notebooks with a preset and write `reports/<run-id>/`; return that folder.

    Every notebook runs even when an earlier one fails; the index shows each one's status.
    Raises `ReportError` after writing the whole report if any notebook failed.

    Args:
        preset: a preset name in `notebooks/params/` or a path to a YAML file.
        images: folder of input images (overrides the preset's `images_dir`).
        out: the report folder (default `reports/<preset>-<UTC time>` in the working
            folder); must be new or empty.
        notebooks: notebook files to run (default: every `notebooks/*.ipynb`, sorted).
        on_start: called with the `ReportPlan` (images used, estimated duration) before the
            first notebook runs.
        on_notebook: called with each `NotebookRun` as it finishes.
        progress: a bar over the estimated duration, with its ETA (terminal or Jupyter).
        scheduler: the address of a Dask scheduler the notebooks' sweeps run on (overrides
            the preset's).
        reader, combine: the OCR reader(s) legibility is read with, and how two combine
            (`toolkit.readers.ReaderSpec`; override the preset's).
    """
    config = load_preset(preset)
    preset_name = Path(preset).stem
    started_at = datetime.now(UTC)
    run_id = f"{preset_name}-{started_at:%Y%m%dT%H%M%SZ}"
    readers = _readers_given(reader, combine) if reader or combine else {}
    plan, paths = _plan(
        config, images, out or reports_dir() / run_id, notebooks, scheduler, readers
    )
    out = plan.out
    for sub in ("notebooks", "parameters", "tables", "figures"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for run in plan.runs:  # for `papermill NOTEBOOK OUT -k python3 -f parameters/<name>.yaml`
        text = yaml.safe_dump(run.parameters, sort_keys=True, allow_unicode=True)
        write_atomic(out / "parameters" / f"{run.name}.yaml", text)
    if on_start is not None:
        on_start(plan)
    timeout_s = float(config["report"]["timeout_s"])
    watermark = config["report"].get("watermark")
    try:
        with report_bar(plan.estimate_s, progress) as bar:
            for path, run in zip(paths, plan.runs, strict=True):
                bar.set_postfix_str(run.name)
                run_notebook(path, run, out, timeout_s, watermark)
                bar.update(plan.estimates[run.name])
                if on_notebook is not None:
                    on_notebook(run)
    finally:
        shutil.rmtree(out / ".sweep-cache", ignore_errors=True)

    manifest = {
        "run_id": run_id,
        "preset": preset_name,
        "preset_sha256": file_sha256(_preset_path(preset)),
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(sum(r.seconds for r in plan.runs), 3),
        "estimate_s": round(plan.estimate_s, 1),
        "timeout_s": timeout_s,
        "watermark": watermark,
        "images": plan.images,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "rule_sets": _rule_sets(out),
        "readers": _readers(out),
        "inputs": input_hashes(sorted(_inputs(plan.runs))),
        "notebooks": [
            {**asdict(r), "sha256": file_sha256(p)} for p, r in zip(paths, plan.runs, strict=True)
        ],
    }
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
    write_atomic(out / "index.html", render_index(manifest, out))
    failed = [r for r in plan.runs if r.status != "ok"]
    if failed:
        names = ", ".join(f"{r.name} ({(r.error or {}).get('type')})" for r in failed)
        raise ReportError(
            f"{len(failed)} of {len(plan.runs)} notebooks failed: {names}; see {out}"
        )
    return out


def _plan(
    config: Mapping,
    images: str | Path | None,
    out: str | Path,
    notebooks: Iterable[str | Path] | None,
    scheduler: str | None,
    readers: Mapping[str, str],
) -> tuple[ReportPlan, list[Path]]:
    """Every check made before anything is written (the report folder, the images, the
    notebooks and their parameters, the scheduler) and the plan of the run."""
    import papermill

    out = Path(out).absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReportError(f"report folder {out} is not an empty folder; give --out a new one")
    given = images if images is not None else config["shared"].get("images_dir")
    folder = input_path(given) if isinstance(given, str | Path) else None
    if folder is not None:
        check_images(folder)
    paths = sorted(Path(p).resolve() for p in notebooks) if notebooks is not None else _notebooks()
    if not paths:
        raise ReportError(f"no notebooks to run in {NOTEBOOKS_DIR}")
    runner = {"out_dir": str(out), "show_progress": False, "cache_dir": str(out / ".sweep-cache")}
    if images is not None:
        runner["images_dir"] = str(folder)
    if scheduler:
        check_scheduler(scheduler)
        runner["scheduler"] = scheduler
    runner.update(readers)
    runs, declarations = [], {}
    for path in paths:
        declared = papermill.inspect_notebook(str(path))
        params = notebook_parameters(config, path, declared, runner)
        params.update(input_parameters(declared, params))
        runs.append(NotebookRun(name=path.stem, parameters=params))
        declarations[path.stem] = declared
    used = images_used(folder, config["shared"])
    estimates = {
        run.name: estimate_seconds(run.name, run.parameters, declarations[run.name], used["used"])
        for run in runs
    }
    return ReportPlan(out, runs, used, estimates), paths


def package_versions() -> dict[str, str | None]:
    """Installed versions of the toolkit and the packages its numbers depend on."""
    versions: dict[str, str | None] = {"toolkit": __version__}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def input_parameters(declared: Mapping[str, Mapping], parameters: Mapping) -> dict[str, str]:
    """The files and folders a notebook reads, as absolute paths: its `*_dir` and `*_path`
    parameters (given, or declared defaults) but the runner's own folders, each found by
    `toolkit.input_path` (the working folder, else the toolkit's shipped files). The kernel
    runs in the report folder, so it is given where they are."""
    values = {k: ast.literal_eval(v["default"]) for k, v in declared.items()}
    values.update(parameters)
    return {
        key: str(input_path(value))
        for key, value in values.items()
        if key.endswith(INPUT_SUFFIXES) and key not in NOT_INPUTS and isinstance(value, str)
        if value
    }


def _inputs(runs: Iterable[NotebookRun]) -> set[Path]:
    return {
        Path(value)
        for run in runs
        for key, value in run.parameters.items()
        if key.endswith(INPUT_SUFFIXES) and key not in NOT_INPUTS and value
    }


def images_used(folder: Path | None, shared: Mapping) -> dict:
    """How many images of `folder` the notebooks use, by the preset's shared `limit` (the
    first N by path) and `sample` (a random N of those), and a sentence that says so."""
    if folder is None:
        return {"folder": None, "available": 0, "used": 0, "text": "images as each notebook says"}
    available = sum(1 for _ in iter_image_files([folder]))
    limit, sample = int(shared.get("limit") or 0), int(shared.get("sample") or 0)
    used = min(limit or available, available)
    how = [f"the preset's limit: the first {limit} by path"] if used < available else []
    if sample and sample < used:
        how.append(f"a random sample of {sample} (seed {shared.get('seed', 0)})")
        used = sample
    shown = _shown(folder)
    text = (
        f"{used} of {available} images in {shown} ({'; '.join(how)})"
        if used < available
        else f"all {available} images in {shown}"
    )
    return {"folder": shown, "available": available, "used": used, "text": text}


def input_hashes(paths: Iterable[Path]) -> list[dict]:
    """Path, size and SHA-256 of every non-hidden file in `paths` (files, or folders walked).

    Paths inside the project are given relative to it.
    """
    files = set()
    for path in paths:
        if path.is_file():
            files.add(path)
        elif path.is_dir():
            files.update(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
    return [
        {"path": _shown(p), "bytes": p.stat().st_size, "sha256": file_sha256(p)}
        for p in sorted(files)
    ]


def _shown(path: Path) -> str:
    """A recorded path: relative to the toolkit's shipped files (`data/samples/...`) or the
    working folder when inside them, else absolute."""
    for base in (SHIPPED_DIR, Path.cwd()):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return str(path)


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def _listing(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.glob("*/*") if p.is_file()}


def _preset_path(preset: str | Path) -> Path:
    return (
        Path(preset) if str(preset).endswith((".yaml", ".yml")) else PARAMS_DIR / f"{preset}.yaml"
    )


def _rule_sets(out: Path) -> list[str]:
    """Rule-set ids the report's tables actually used (their `rules` column)."""
    ids: set[str] = set()
    for table in (out / "tables").glob("*.csv"):
        columns = pd.read_csv(table, nrows=0).columns
        if "rules" in columns:
            ids.update(pd.read_csv(table, usecols=["rules"])["rules"].dropna().astype(str))
    return sorted(ids)


def _readers_given(reader: str | None, combine: str | None) -> dict[str, str]:
    """The runner's reader parameters, checked (`ReportError` naming what is wrong)."""
    from toolkit.readers import DEFAULT_READER, ReaderSpec

    given = {k: v for k, v in {"reader": reader, "combine": combine}.items() if v}
    try:
        spec = ReaderSpec.parse(given.get("reader", DEFAULT_READER), combine or "looser")
    except SettingsError as exc:
        raise ReportError(str(exc)) from None
    if reason := spec.unavailable():
        raise ReportError(f"reader {spec.describe()} cannot run here: {reason}")
    return given


def _readers(out: Path) -> dict:
    """The OCR readers the report's tables were read with (their `reader` column) and the
    version of each reader that ran (its `<name>_text_words` column holds values)."""
    from toolkit.readers import READERS, get_reader

    described: set[str] = set()
    ran: set[str] = set()
    for table in (out / "tables").glob("*.csv"):
        columns = pd.read_csv(table, nrows=0).columns
        if "reader" not in columns:
            continue
        used = [f"{name}_text_words" for name in READERS if f"{name}_text_words" in columns]
        frame = pd.read_csv(table, usecols=["reader", *used])
        described.update(frame["reader"].dropna().astype(str))
        ran.update(c.removesuffix("_text_words") for c in used if frame[c].notna().any())
    return {
        "described": sorted(described),
        "versions": {name: get_reader(name).version() for name in sorted(ran)},
    }


def _git_commit() -> str | None:
    """The checkout's commit; None for an installed toolkit (its version is recorded)."""
    if CHECKOUT_DIR is None:
        return None
    try:
        result = subprocess.run(
            ["git", "-C", str(CHECKOUT_DIR), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None
