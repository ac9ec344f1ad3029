"""Images x settings grid -> one tidy row per observation, computed once, cached, in parallel.

The work unit is one image with all of its cells. A worker decodes the image once (JPEG
draft-decoded for the largest size it needs), resizes it once per max side and encodes that
once per format x quality; the quality metrics compare each encode with precomputed
reference statistics (`toolkit.quality.Reference`). Tokens and dollars per model x detail are
then computed in the parent from the encoded geometry alone, so they never cost an encode.

Units run on any `concurrent.futures.Executor` (default: a process pool over the machine's
CPUs, started with `forkserver`), a bounded number at a time, so memory stays flat whatever
the number of images. With a cache folder each image's results are written as soon as they
arrive, one JSON file per image and configuration (temp file + rename: concurrent sweeps can
share the folder), keyed by the image's SHA-256, the encode knobs that are not swept, the
reference size and the toolkit version. A rerun, an interrupted run or an extended grid
computes only the encodes that are missing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from toolkit import quality
from toolkit.dataurl import base64_chars
from toolkit.errors import (
    ImageError,
    ImageRejectedError,
    RulesError,
    SettingsError,
    ToolkitError,
    UnsupportedDetailError,
)
from toolkit.files import open_regular
from toolkit.images import (
    DEFAULT_SETTINGS,
    EncodeSettings,
    encode_pixels,
    fit_size,
    iter_image_files,
    load_image,
    resize_image,
)
from toolkit.pricing import TIERS, cost_usd, load_prices
from toolkit.runtime import available_cpus, init_worker
from toolkit.tokens import image_tokens

SEED = {"max_side": 800, "format": "jpeg", "quality": 85, "detail": "high"}  # the brief's recipe
SWEPT = ("max_side", "format", "quality")  # EncodeSettings fields the grid sets per cell
# Columns in the order they appear; metrics are NaN when switched off.
COLUMNS = (
    "image",
    "path",
    "category",
    "image_sha256",
    "source_width",
    "source_height",
    "source_bytes",
    "source_format",
    "flags",
    "max_side",
    "format",
    "quality",
    "model",
    "detail",
    "width",
    "height",
    "bytes",
    "base64_chars",
    "provider_width",
    "provider_height",
    "tokens",
    "cost_usd",
    "rules",
    "tier",
    "compression_ssim",
    "compression_psnr_db",
    "seen_ssim",
    "seen_psnr_db",
    "seen_ocr_accuracy",
    "reference_width",
    "reference_height",
    "load_ms",
    "reference_ms",
    "resize_ms",
    "encode_ms",
    "metrics_ms",
    "error",
)
INTEGERS = (
    "source_width",
    "source_height",
    "source_bytes",
    "max_side",
    "quality",
    "width",
    "height",
    "bytes",
    "base64_chars",
    "provider_width",
    "provider_height",
    "tokens",
    "reference_width",
    "reference_height",
)  # nullable (pandas Int64): a failed row has no value
TIMINGS = ("load_ms", "reference_ms", "resize_ms", "encode_ms", "metrics_ms")
Category = Callable[[Path], str] | Mapping[str, str] | None


def _tuple(name: str, values: Iterable, allow_empty: bool = False) -> tuple:
    values = (values,) if isinstance(values, str | int) or values is None else tuple(values)
    if not values and not allow_empty:
        raise SettingsError(f"{name} must list at least one value")
    if len(set(values)) != len(values):
        raise SettingsError(f"{name} lists a value twice: {values}")
    return values


@dataclass(frozen=True)
class SweepGrid:
    """The settings to sweep, validated on creation (`SettingsError`, or the token model's
    `UnknownModelError`/`UnsupportedDetailError` for a model or detail it does not know).

    Every combination of `max_sides` x `formats` x `qualities` x `models` x `details` is one
    row per image. `base` holds every other encode knob (optimize, WebP method, background…).
    PNG ignores `quality`: it is encoded once per max side and its rows repeat that encode.
    Metric switches: `compression_metrics` (encode vs the same-size uncompressed pixels),
    `seen_metrics` (what the provider keeps, brought to `reference_side`, vs the original at
    that size; 1024 px is the most a tile model keeps of a 4:3 photo at `high`: 768 px short
    side), `ocr` (Tesseract character accuracy of what the provider keeps vs the decoded
    original; slow, off by default). `rules`/`prices` pick rule-set and price-table files
    (None: the newest); `tier` is the price tier.
    """

    max_sides: tuple[int | None, ...] = (512, 768, 1024, 2048)
    formats: tuple[str, ...] = ("jpeg", "webp")
    qualities: tuple[int, ...] = (50, 60, 70, 80, 90, 95)
    models: tuple[str, ...] = ("gpt-4o",)
    details: tuple[str, ...] = ("high",)
    compression_metrics: bool = True
    seen_metrics: bool = True
    ocr: bool = False
    reference_side: int = 1024
    base: EncodeSettings = field(default_factory=lambda: DEFAULT_SETTINGS)
    rules: str | None = None
    prices: str | None = None
    tier: str = "standard"

    def __post_init__(self) -> None:
        for name in ("max_sides", "formats", "qualities", "models", "details"):
            object.__setattr__(self, name, _tuple(name, getattr(self, name)))
        object.__setattr__(self, "formats", tuple(f.lower() for f in self.formats))
        _tuple("formats", self.formats)
        if not isinstance(self.base, EncodeSettings):
            raise SettingsError(f"base must be an EncodeSettings, not {type(self.base).__name__}")
        for key in self.encode_keys():
            self.settings(key)  # EncodeSettings validates each side, format and quality
        minimum = 2 * quality.RADIUS + 1
        if not isinstance(self.reference_side, int) or self.reference_side < minimum:
            raise SettingsError(f"reference_side must be an integer >= {minimum}")
        if self.ocr and (reason := quality.ocr_unavailable()):
            raise SettingsError(f"ocr=True but {reason}")
        for model, detail in itertools.product(self.models, self.details):
            image_tokens(512, 512, model, detail, rules=self.rules)  # unknown model/detail
        if self.tier not in TIERS:
            raise SettingsError(f"tier must be one of {TIERS}, not {self.tier!r}")
        load_prices(self.prices)  # a missing or malformed price file fails here

    def encode_keys(self) -> list[tuple[int | None, str, int | None]]:
        """(max side, format, quality) of each distinct encode; PNG's quality is None."""
        keys = []
        for side, fmt, q in itertools.product(self.max_sides, self.formats, self.qualities):
            key = (side, fmt, None if fmt == "png" else q)
            if key not in keys:
                keys.append(key)
        return keys

    def settings(self, key: tuple[int | None, str, int | None]) -> EncodeSettings:
        side, fmt, q = key
        return replace(
            self.base, max_side=side, format=fmt, quality=self.base.quality if q is None else q
        )

    @property
    def cells(self) -> int:
        """Rows per image."""
        return math.prod(
            len(v)
            for v in (self.max_sides, self.formats, self.qualities, self.models, self.details)
        )

    def cache_settings(self) -> dict:
        """What, besides the image and the cell, decides a cached value (as JSON values)."""
        from toolkit import __version__

        knobs = {k: v for k, v in asdict(self.base).items() if k not in SWEPT}
        settings = {"toolkit": __version__, "encode": knobs, "reference_side": self.reference_side}
        return json.loads(json.dumps(settings, default=str))

    def cache_tag(self) -> str:
        """A short digest of `cache_settings`: the cache folder of this configuration."""
        text = json.dumps(self.cache_settings(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _key_text(key: tuple[int | None, str, int | None]) -> str:
    return "/".join(map(str, key))


# --- worker side -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    path: str
    grid: SweepGrid
    keys: tuple[tuple[int | None, str, int | None], ...]


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _timed(fn, *args, **kwargs):
    """`fn(*args, **kwargs)` and the milliseconds it took."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, (time.perf_counter() - start) * 1000


def _reference(image) -> quality.Reference | None:
    """Statistics of `image`, or None when it is too small for the SSIM window."""
    try:
        return quality.Reference(image)
    except SettingsError:
        return None


def _compare(ref: quality.Reference | None, image) -> dict:
    if ref is None:
        return {"ssim": math.nan, "psnr_db": math.nan}
    fidelity = ref.compare(image)
    return {"ssim": fidelity.ssim, "psnr_db": fidelity.psnr_db}


def _draft_side(grid: SweepGrid, keys) -> int | None:
    sides = [key[0] for key in keys]
    if grid.seen_metrics:
        sides.append(grid.reference_side)
    return None if None in sides else max(sides)


def run_job(job: _Job) -> dict:
    """One image's missing encodes with their metrics, as a JSON-ready dict (worker side)."""
    grid = job.grid
    try:
        draft_side = _draft_side(grid, job.keys)
        source, load_ms = _timed(load_image, job.path, grid.base, draft_side=draft_side)
    except (ToolkitError, OSError, MemoryError) as exc:
        return {"error": _error_text(exc)}
    entry = {
        "source": {
            "source_width": source.source_width,
            "source_height": source.source_height,
            "source_bytes": source.source_bytes,
            "source_format": source.source_format,
            "flags": ";".join(source.flags),
            "load_ms": load_ms,
        },
        "encodes": {},
    }
    seen_ref, truth = None, ""
    if grid.seen_metrics:
        start = time.perf_counter()
        reference = resize_image(
            source.image, grid.reference_side, grid.base.resample, grid.base.reducing_gap
        )
        seen_ref = _reference(reference)
        if grid.ocr:
            truth = quality.ocr_text(source.image)
        entry["source"]["reference_ms"] = (time.perf_counter() - start) * 1000
        if seen_ref is not None:
            entry["source"]["reference_width"], entry["source"]["reference_height"] = seen_ref.size
    for side, keys in itertools.groupby(sorted(job.keys, key=_side_order), key=lambda k: k[0]):
        resized, resize_ms = _timed(
            resize_image, source.image, side, grid.base.resample, grid.base.reducing_gap
        )
        compression_ref = _reference(resized) if grid.compression_metrics else None
        for key in keys:
            result = {"width": resized.width, "height": resized.height, "resize_ms": resize_ms}
            try:
                data, result["encode_ms"] = _timed(
                    encode_pixels, resized, grid.settings(key), name=source.name
                )
            except ToolkitError as exc:
                result["error"] = _error_text(exc)
            else:
                result["bytes"] = len(data)
                result["base64_chars"] = base64_chars(len(data))
                start = time.perf_counter()
                result.update(_metrics(grid, data, resized, compression_ref, seen_ref, truth))
                result["metrics_ms"] = (time.perf_counter() - start) * 1000
            entry["encodes"][_key_text(key)] = result
        del resized, compression_ref
    return entry


def _side_order(key) -> tuple:
    """Each side's keys together, largest side first, None (no resize) last."""
    return (key[0] is None, -(key[0] or 0))


def _metrics(grid, data, resized, compression_ref, seen_ref, truth) -> dict:
    """Compression metrics and, per provider-kept size, seen metrics of one encode."""
    if not (grid.compression_metrics or grid.seen_metrics):
        return {}
    decoded = quality.decode(data, resized.mode)  # a grey image's WebP comes back as RGB
    out: dict = {}
    if grid.compression_metrics:
        fidelity = _compare(compression_ref, decoded)
        out["compression_ssim"], out["compression_psnr_db"] = fidelity["ssim"], fidelity["psnr_db"]
    if grid.seen_metrics:
        seen = out.setdefault("seen", {})
        for kept_size in _provider_sizes(grid, resized.size):
            kept = quality.to_size(decoded, kept_size)
            metrics = {"ssim": math.nan, "psnr_db": math.nan}
            if seen_ref is not None:
                metrics = _compare(seen_ref, quality.to_size(kept, seen_ref.size))
            if grid.ocr:
                metrics["ocr_accuracy"] = quality.char_accuracy(truth, quality.ocr_text(kept))
            seen[_size_text(kept_size)] = metrics
    return out


def _size_text(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


# --- tokens and prices (cheap, from geometry) --------------------------------------------


@lru_cache(maxsize=65536)
def _tokens(width: int, height: int, model: str, detail: str, rules: str | None):
    """The token estimate, or the error text when the provider would refuse the image."""
    try:
        return image_tokens(width, height, model, detail, rules=rules)
    except ImageRejectedError as exc:
        return _error_text(exc)


@lru_cache(maxsize=4096)
def _cost(tokens: int, model: str, tier: str, prices: str | None) -> float:
    """Dollars for `tokens` input tokens; NaN when the price table has no price for `model`."""
    try:
        return cost_usd(tokens, model, tier=tier, prices=prices)
    except RulesError:
        return math.nan


def _provider_sizes(grid: SweepGrid, size: tuple[int, int]) -> set[tuple[int, int]]:
    sizes = set()
    for model, detail in itertools.product(grid.models, grid.details):
        estimate = _tokens(*size, model, detail, grid.rules)
        if not isinstance(estimate, str):
            sizes.add((estimate.provider_width, estimate.provider_height))
    return sizes


# --- parent side: cache, scheduling, rows ------------------------------------------------


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a regular file (anything else is an `OSError`, never read)."""
    with open_regular(path) as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class _Cache:
    """One JSON file per image and configuration; written atomically, merged on write.

    Each entry carries the settings it was computed with and the SHA-256 of its content. An
    entry that is not such an object, was computed with other settings or was altered since
    (a hand edit, a torn copy) is not used: `load` returns None and it is recomputed.
    """

    def __init__(self, root: str | os.PathLike, grid: SweepGrid):
        self.root = Path(root) / grid.cache_tag()
        self.settings = grid.cache_settings()

    def _file(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.json"

    def load(self, digest: str) -> dict | None:
        """The entry (`source`, `encodes`); {} when there is none, None when it is unusable."""
        try:
            text = self._file(digest).read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return None
        try:
            entry = json.loads(text)
        except ValueError:
            return None
        return entry if self._valid(entry) else None

    def _valid(self, entry: object) -> bool:
        return (
            isinstance(entry, dict)
            and entry.keys() == {"settings", "source", "encodes", "sha256"}
            and entry["settings"] == self.settings
            and isinstance(entry["source"], dict)
            and isinstance(entry["encodes"], dict)
            and all(isinstance(result, dict) for result in entry["encodes"].values())
            and entry["sha256"] == _content_sha256(entry)
        )

    def store(self, digest: str, entry: dict) -> None:
        merged = self.load(digest) or {}  # keep what a concurrent sweep added meanwhile
        merged = {
            "settings": self.settings,
            "source": entry["source"],
            "encodes": {**merged.get("encodes", {}), **entry["encodes"]},
        }
        merged["sha256"] = _content_sha256(merged)
        target = self._file(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(merged, f)
        os.replace(temp, target)


def _content_sha256(entry: dict) -> str:
    content = {key: entry[key] for key in ("settings", "source", "encodes")}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _complete(grid: SweepGrid, result: dict | None) -> bool:
    """True when a cached encode holds every value this grid asks of it."""
    if not result or "error" in result:
        return False
    if grid.compression_metrics and "compression_ssim" not in result:
        return False
    if grid.seen_metrics:
        seen = result.get("seen", {})
        for size in _provider_sizes(grid, (result["width"], result["height"])):
            metrics = seen.get(_size_text(size))
            if metrics is None or (grid.ocr and "ocr_accuracy" not in metrics):
                return False
    return True


def _category_of(path: Path, category: Category) -> str:
    if callable(category):
        return str(category(path))
    if category is not None:
        for key in (str(path), path.name):
            if key in category:
                return str(category[key])
    return path.parent.name


@dataclass
class SweepStats:
    """What a sweep did: images seen, images sent to workers, encodes computed, cache hits."""

    images: int = 0
    computed_images: int = 0
    computed_encodes: int = 0
    cached_encodes: int = 0
    failed_images: int = 0
    invalid_cache_entries: int = 0  # malformed, altered or other settings: recomputed


def _rows(path: Path, digest: str | None, category: str, grid: SweepGrid, entry: dict) -> list:
    """The grid's rows for one image, in grid order."""
    source = entry.get("source", {})
    image_error = entry.get("error")
    rows = []
    for side, fmt, q, model, detail in itertools.product(
        grid.max_sides, grid.formats, grid.qualities, grid.models, grid.details
    ):
        row = dict.fromkeys(COLUMNS)
        row.update(image=path.name, path=str(path), category=category)
        row.update(image_sha256=digest, max_side=side, format=fmt, quality=q, model=model)
        row.update(detail=detail, error=image_error)
        row.update({k: v for k, v in source.items() if k in row})
        result = entry.get("encodes", {}).get(_key_text((side, fmt, None if fmt == "png" else q)))
        if result is not None:
            _fill(row, grid, result)
        rows.append(row)
    return rows


def _fill(row: dict, grid: SweepGrid, result: dict) -> None:
    row.update({k: v for k, v in result.items() if k in row and k != "error"})
    if "error" in result:
        row["error"] = result["error"]
        return
    estimate = _tokens(result["width"], result["height"], row["model"], row["detail"], grid.rules)
    if isinstance(estimate, str):
        row["error"] = estimate
        return
    row.update(provider_width=estimate.provider_width, provider_height=estimate.provider_height)
    row.update(tokens=estimate.tokens, rules=estimate.rules, tier=grid.tier)
    row["cost_usd"] = _cost(estimate.tokens, row["model"], grid.tier, grid.prices)
    seen = result.get("seen", {}).get(
        _size_text((estimate.provider_width, estimate.provider_height))
    )
    if seen:
        row.update(seen_ssim=seen["ssim"], seen_psnr_db=seen["psnr_db"])
        row["seen_ocr_accuracy"] = seen.get("ocr_accuracy")


class SweepPool(ProcessPoolExecutor):
    """A process pool whose workers exit when this process dies, however it dies: each holds
    the read end of a pipe whose only writer this process keeps (`runtime.init_worker`).
    `terminate()` closes that pipe on purpose: the workers stop at once (Ctrl-C)."""

    def __init__(self, workers: int, context):
        reader, self._alive = multiprocessing.Pipe(duplex=False)
        super().__init__(workers, context, initializer=init_worker, initargs=(reader,))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait, cancel_futures=cancel_futures)
        if wait:
            self._alive.close()

    def terminate(self) -> None:
        """Cancel what has not started and stop the running workers now."""
        self._alive.close()
        self.shutdown(wait=True, cancel_futures=True)


def default_executor(workers: int | None = None) -> SweepPool:
    """A process pool over the CPUs, started with `forkserver` (safe after threads or libvips
    have started, unlike `fork`), workers preloaded with this module and allocator-tuned;
    they ignore Ctrl-C (the parent stops the pool) and exit if the parent dies."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__])
    return SweepPool(workers or available_cpus(), context)


def iter_sweep(
    images: Iterable[str | os.PathLike] | str | os.PathLike,
    grid: SweepGrid,
    executor: Executor | None = None,
    cache: str | os.PathLike | None = None,
    *,
    category: Category = None,
    max_in_flight: int | None = None,
    stats: SweepStats | None = None,
) -> Iterator[tuple[int, list[dict]]]:
    """Yield `(image index, rows)` for each image as soon as its rows exist (completion
    order). Cached images yield without touching a worker. See `run_sweep`."""
    if isinstance(images, str | os.PathLike):
        images = [images]
    stats = stats if stats is not None else SweepStats()
    owned = executor is None
    executor = default_executor() if owned else executor
    limit = max_in_flight or 2 * available_cpus()
    store = _Cache(cache, grid) if cache is not None else None
    keys = grid.encode_keys()
    pending: dict[Future, tuple] = {}

    def finish(future: Future) -> tuple[int, list[dict]]:
        index, path, digest, label, entry = pending.pop(future)
        try:
            new = future.result()
        except Exception as exc:  # a worker died or could not run: record, carry on
            new = {"error": _error_text(exc)}
        if "error" in new:
            stats.failed_images += 1
            return index, _rows(path, digest, label, grid, new)
        stats.computed_encodes += len(new["encodes"])
        if store is not None:
            store.store(digest, new)
        merged = {
            "source": new["source"],
            "encodes": {**entry.get("encodes", {}), **new["encodes"]},
        }
        return index, _rows(path, digest, label, grid, merged)

    try:
        for index, path in enumerate(iter_image_files(images)):
            stats.images += 1
            label = _category_of(path, category)
            try:
                digest = file_sha256(path)
            except OSError as exc:
                stats.failed_images += 1
                error = ImageError(str(path), f"cannot read: {exc.strerror or exc}")
                yield index, _rows(path, None, label, grid, {"error": _error_text(error)})
                continue
            entry = store.load(digest) if store is not None else {}
            if entry is None:
                stats.invalid_cache_entries += 1
                entry = {}
            cached = entry.get("encodes", {})
            missing = tuple(k for k in keys if not _complete(grid, cached.get(_key_text(k))))
            stats.cached_encodes += len(keys) - len(missing)
            if not missing:
                yield index, _rows(path, digest, label, grid, entry)
                continue
            stats.computed_images += 1
            future = executor.submit(run_job, _Job(str(path), grid, missing))
            pending[future] = (index, path, digest, label, entry)
            while len(pending) >= limit:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield finish(future)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield finish(future)
    finally:
        for future in pending:
            future.cancel()
        if owned:
            executor.shutdown(wait=True, cancel_futures=True)


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with `COLUMNS` and nullable integer columns."""
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(dict.fromkeys(INTEGERS, "Int64"))


def run_sweep(
    images: Iterable[str | os.PathLike] | str | os.PathLike,
    grid: SweepGrid,
    executor: Executor | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = True,
    *,
    category: Category = None,
    max_in_flight: int | None = None,
) -> pd.DataFrame:
    """Sweep `grid` over image files and folders (walked) -> one row per image x cell.

    Args:
        images: files and folders; a file's category is its parent folder's name unless
            `category` (a function of the path, or a mapping from path or file name) says.
        grid: the settings to sweep.
        executor: any `concurrent.futures.Executor` (a Dask client's `get_executor()` works);
            default: `default_executor()`, shut down at the end.
        cache: folder for the content-addressed cache; None computes everything.
        progress: a tqdm bar on stderr.
        max_in_flight: images submitted at once (default twice the CPUs).

    Returns:
        A DataFrame with `COLUMNS`, in input order and grid order; a failed image or cell has
        its `error` set and its values NaN. `df.attrs["sweep"]` holds the `SweepStats`.
    """
    stats = SweepStats()
    chunks: dict[int, list[dict]] = {}
    with tqdm(desc="sweep", unit="image", file=sys.stderr, disable=not progress) as bar:
        for index, rows in iter_sweep(
            images,
            grid,
            executor,
            cache,
            category=category,
            max_in_flight=max_in_flight,
            stats=stats,
        ):
            chunks[index] = rows
            bar.update()
    frame = to_frame([row for index in sorted(chunks) for row in chunks[index]])
    frame.attrs["sweep"] = asdict(stats)
    return frame


# --- decisions ---------------------------------------------------------------------------


def pareto_front(
    df: pd.DataFrame,
    cost: str = "cost_usd",
    quality: str = "seen_ssim",
    by: str | list | None = None,
) -> pd.DataFrame:
    """Rows no other row beats on both cost (lower) and quality (higher), sorted by cost.

    `by` computes one front per group (e.g. "category" or "image"). Failed rows are ignored.
    """
    ok = (df[df["error"].isna()] if "error" in df else df).dropna(subset=[cost, quality])
    if by is not None:
        parts = [pareto_front(group, cost, quality) for _, group in ok.groupby(by, sort=True)]
        return pd.concat(parts) if parts else ok.iloc[:0]
    ordered = ok.sort_values([cost, quality], ascending=[True, False], kind="stable")
    best = ordered[quality].cummax().shift(fill_value=-math.inf)
    return ordered[ordered[quality] > best]


def _seed_cost(row: pd.Series, prices: str | None) -> float:
    """What the seed recipe (800 px, `high`) costs for this row's image and model; a model
    with no `high` level (Claude, Gemini 2.0: one level only) is priced at its `auto`."""
    size = fit_size(int(row["source_width"]), int(row["source_height"]), SEED["max_side"])
    try:
        estimate = _tokens(*size, row["model"], SEED["detail"], row["rules"])
    except UnsupportedDetailError:
        estimate = _tokens(*size, row["model"], "auto", row["rules"])
    if isinstance(estimate, str):
        return math.nan
    return _cost(estimate.tokens, row["model"], row["tier"], prices)


def recommend(
    df: pd.DataFrame,
    min_quality: float,
    model: str | None = None,
    detail: str | None = None,
    quality: str = "seen_ssim",
    agg: str = "min",
    prices: str | None = None,
) -> pd.DataFrame:
    """Per image category, the cheapest settings that keep `quality` >= `min_quality`.

    A setting (max side, format, quality, detail; `detail` fixes it) qualifies for a category
    when it succeeded on every image of the category and the `agg` ("min": every image;
    "mean", "median") of their `quality` column reaches the floor. Ties in dollars (format and
    JPEG/WebP quality do not change tokens) go to fewer bytes. The saving is against the seed
    recipe (800 px, JPEG 85, `high`) on the same images, model, rule set and price tier, priced
    with `prices` (pass the sweep's own price file if it had one); a category with no
    qualifying setting gets a row with empty settings.
    """
    models = df["model"].dropna().unique()
    if model is None and len(models) != 1:
        raise SettingsError(f"several models in the results, choose one of {sorted(models)}")
    model = model or models[0]
    rows = df[(df["model"] == model) & df["error"].isna()]
    if detail is not None:
        rows = rows[rows["detail"] == detail]
    if rows.empty:
        raise SettingsError(f"no successful rows for model {model!r} and detail {detail!r}")
    settings = ["max_side", "format", "quality", "detail"]
    per_image = rows.drop_duplicates("path").copy()
    per_image["seed_cost_usd"] = per_image.apply(_seed_cost, axis=1, prices=prices)
    out = []
    for label, group in rows.groupby("category", sort=True):
        images = group["path"].nunique()
        table = group.groupby(settings, dropna=False).agg(
            images=("path", "nunique"),
            bytes=("bytes", "mean"),
            tokens=("tokens", "mean"),
            cost_usd=("cost_usd", "mean"),
            score=(quality, agg),
        )
        table = table[(table["images"] == images) & (table["score"] >= min_quality)]
        seed = per_image.loc[per_image["category"] == label, "seed_cost_usd"].mean()
        pick = {"category": label, "model": model, "images": images, "seed_cost_usd": seed}
        if not table.empty:
            best = table.sort_values(["cost_usd", "bytes", "score"], ascending=[True, True, False])
            values = best.iloc[0]
            pick.update(zip(settings, best.index[0], strict=True))
            pick.update(values.drop(["images", "score"]).to_dict(), **{quality: values["score"]})
            pick["saving_usd"] = seed - values["cost_usd"]
            pick["saving_pct"] = 100 * pick["saving_usd"] / seed if seed else math.nan
        out.append(pick)
    columns = [
        "category",
        "model",
        *settings,
        "images",
        "bytes",
        "tokens",
        "cost_usd",
        quality,
        "seed_cost_usd",
        "saving_usd",
        "saving_pct",
    ]
    return pd.DataFrame(out, columns=columns)
