"""Images x settings grid -> one tidy row per observation, computed once, cached, in parallel.

The work unit is one image with all of its cells. A worker decodes the image once (JPEG
draft-decoded for the largest size it needs), resizes it once per max side and encodes that
once per format x quality; the quality metrics compare each encode with precomputed
reference statistics (`toolkit.quality.Reference`). Tokens and dollars per model x detail are
then computed in the parent from the encoded geometry alone, so they never cost an encode.

Units run on any `concurrent.futures.Executor` (default: a process pool over the machine's
CPUs, started with `forkserver`; `sweep_executor` gives a Dask cluster's), a bounded number at
a time, so memory stays flat whatever the number of images. Images are local files, read here
once and sent as bytes, or URLs the workers read (`toolkit.sources`). Each original is read
by OCR once: readings are kept by content, not by grid (`_Readings`). With a cache folder
each image's results are written as soon as they arrive, one JSON file per image and
configuration (temp file + rename: concurrent sweeps can share the folder), keyed by the
image's SHA-256, the encode knobs that are not swept, the reference size and the toolkit
version. A rerun, an interrupted run or an extended grid
computes only the encodes that are missing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import itertools
import json
import math
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypedDict

import pandas as pd
from tqdm import tqdm
from tqdm.auto import tqdm as auto_tqdm

from toolkit import legibility, quality
from toolkit.dataurl import base64_chars
from toolkit.errors import (
    ImageError,
    ImageRejectedError,
    OutputError,
    SettingsError,
    ToolkitError,
    WorkerDiedError,
)
from toolkit.files import MAX_CACHE_BYTES, MAX_IMAGE_BYTES, open_regular, read_regular
from toolkit.images import (
    DEFAULT_SETTINGS,
    EncodeSettings,
    SourceImage,
    encode_pixels,
    fit_size,
    format_name,
    load_image,
    read_size,
    resize_image,
)
from toolkit.legibility import Reading, read_text
from toolkit.locks import locked
from toolkit.outputs import atomic_path, write_atomic
from toolkit.pricing import TIERS, cost_or_none, load_prices
from toolkit.readers import DEFAULT_READER, READERS, ReaderSpec, reader_unavailable
from toolkit.rulesets import SEED_DETAIL, find_model
from toolkit.runtime import ProcessPool, available_cpus
from toolkit.sources import (
    Source,
    display_name,
    folder_name,
    iter_sources,
    list_images,
    read_url,
    url_fingerprint,
)
from toolkit.tokens import image_tokens

if TYPE_CHECKING:
    from toolkit.cluster import DaskExecutor

SWEPT = ("max_side", "format", "quality")  # EncodeSettings fields the grid sets per cell
READER_COLUMNS = ("text_words", "word_recall", "char_accuracy")  # per reader: <name>_<column>
OBSERVATION = ["path", "max_side", "format", "quality", "model", "detail"]  # one row each
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
    "ceiling_ssim",
    "reader",
    "text_words",
    "seen_word_recall",
    "seen_char_accuracy",
    *(f"{name}_{column}" for name in READERS for column in READER_COLUMNS),
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
    "text_words",
    *(f"{name}_text_words" for name in READERS),
    "reference_width",
    "reference_height",
)  # nullable (pandas Int64): a failed row has no value
FLOATS = (
    "cost_usd",
    "compression_ssim",
    "compression_psnr_db",
    "seen_ssim",
    "seen_psnr_db",
    "ceiling_ssim",
    "seen_word_recall",
    "seen_char_accuracy",
    *(f"{name}_{column}" for name in READERS for column in READER_COLUMNS[1:]),
)  # NaN when switched off or failed
TIMINGS = ("load_ms", "reference_ms", "resize_ms", "encode_ms", "metrics_ms")
LOOKAHEAD = 256  # images whose headers are read ahead to start the largest first
READINGS_KEPT = 1024  # originals' OCR readings a process keeps in memory (a few kB each)
_SHA256 = re.compile(r"[0-9a-f]{64}")


class SourceRecord(TypedDict, total=False):
    """What a cache entry keeps about the image itself (per-image values of `COLUMNS`)."""

    source_width: int
    source_height: int
    source_bytes: int
    source_format: str
    flags: str  # ";"-joined
    load_ms: float
    reference_ms: float
    reference_width: int  # seen metrics: the size the original is compared at
    reference_height: int
    ceiling: dict[str, float]  # "WxH" kept -> seen SSIM of the original sent whole
    text_words: dict[str, int]  # OCR: per reader, confident words read in the original
    reading: dict[str, dict]  # OCR: per reader, the original's `legibility.Reading` (the
    # parent keeps them: `_Readings`)


class EncodeRecord(TypedDict, total=False):
    """One encode (max side x format x quality) of an image, with its metrics; `seen` maps
    each size a provider keeps ("WxH") to the seen metrics of that view."""

    width: int
    height: int
    bytes: int
    base64_chars: int
    resize_ms: float
    encode_ms: float
    metrics_ms: float
    compression_ssim: float
    compression_psnr_db: float
    seen: dict[str, dict[str, float]]
    error: str


class ImageResult(TypedDict, total=False):
    """One image's results: its `source` values and `encodes` by key ("800/jpeg/85"), or the
    `error` that stopped it; a worker that read a URL adds the `image_sha256` it read."""

    source: SourceRecord
    encodes: dict[str, EncodeRecord]
    error: str
    image_sha256: str


class CacheEntry(TypedDict):
    """One image's cache file: its results, the settings they were computed with
    (`SweepGrid.cache_settings`) and the SHA-256 of the three."""

    settings: dict
    source: SourceRecord
    encodes: dict[str, EncodeRecord]
    sha256: str


Category = Callable[[Source], str] | Mapping[str, str] | None


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

    Metric switches (see `docs/METRICS.md` for which view each metric compares):
    `compression_metrics` (each encode vs the same-size uncompressed pixels); `seen_metrics`
    (what the provider keeps, brought to the reference size, vs the original at that size,
    plus `ceiling_ssim`: the same for the original sent whole at the model's most generous
    detail); `ocr` (legibility of what the provider keeps, at the original's full resolution,
    vs the original, read by `reader`: "auto" (the default: Tesseract, and PP-OCR for an
    original Tesseract reads in few words, `readers.ReaderSpec`), "tesseract", "neural", or
    both, "tesseract,neural", whose values are combined as `combine` says, the looser or the
    stricter; images whose original reads fewer than `legibility.MIN_TEXT_WORDS` confident
    words are "no text" and skipped). The reference size is the original's, its longest side
    capped at `reference_side`; None caps it at the largest max side in the grid, so no size
    the grid sends is above it and every resize shows.
    `rules`/`prices` pick rule-set and price-table files (None: the newest); `tier` is the price
    tier.
    """

    max_sides: tuple[int | None, ...] = (512, 768, 1024, 2048)
    formats: tuple[str, ...] = ("jpeg", "webp")
    qualities: tuple[int, ...] = (50, 60, 70, 80, 90, 95)
    models: tuple[str, ...] = ("gpt-4o",)
    details: tuple[str, ...] = (SEED_DETAIL,)
    compression_metrics: bool = True
    seen_metrics: bool = True
    ocr: bool = False
    reader: str = DEFAULT_READER
    combine: str = "looser"
    reference_side: int | None = None
    base: EncodeSettings = field(default_factory=lambda: DEFAULT_SETTINGS)
    rules: str | None = None
    prices: str | None = None
    tier: str = "standard"

    def __post_init__(self) -> None:
        for name in ("max_sides", "formats", "qualities", "models", "details"):
            object.__setattr__(self, name, _tuple(name, getattr(self, name)))
        object.__setattr__(self, "formats", tuple(format_name(f) for f in self.formats))
        _tuple("formats", self.formats)
        if not isinstance(self.base, EncodeSettings):
            raise SettingsError(f"base must be an EncodeSettings, not {type(self.base).__name__}")
        for key in self.encode_keys():
            self.settings(key)  # EncodeSettings validates each side, format and quality
        self._check_reference_side()
        readers = self.readers  # validates the names and the combination
        if self.ocr and (reason := readers.unavailable()):
            raise SettingsError(f"ocr=True but {reason}")
        for model, detail in itertools.product(self.models, self.details):
            image_tokens(512, 512, model, detail, rules=self.rules)  # unknown model/detail
        if self.tier not in TIERS:
            raise SettingsError(f"tier must be one of {TIERS}, not {self.tier!r}")
        load_prices(self.prices)  # a missing or malformed price file fails here

    def _check_reference_side(self) -> None:
        side = self.reference_side
        if side is None:
            return
        minimum = 2 * quality.RADIUS + 1
        if isinstance(side, bool) or not isinstance(side, int) or side < minimum:
            raise SettingsError(f"reference_side must be None or an integer >= {minimum}")
        above = [s for s in self.max_sides if s is None or s > side]
        if above:
            raise SettingsError(
                f"reference_side {side} is below max sides {above}: seen fidelity would be "
                "blind to what those sizes keep; raise it or leave it None"
            )

    @property
    def readers(self) -> ReaderSpec:
        return ReaderSpec.parse(self.reader, self.combine)

    @property
    def reference_limit(self) -> int | None:
        """Longest side of the reference (None: the original's own size)."""
        if self.reference_side is not None:
            return self.reference_side
        sides = [side for side in self.max_sides if side is not None]
        return None if len(sides) < len(self.max_sides) else max(sides)

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
        ocr = [
            legibility.MIN_CONFIDENCE,
            legibility.MIN_TEXT_WORDS,
            legibility.SAMPLE_LINES,
            legibility.METHOD,
            self.readers.settings(),
        ]
        settings = {
            "toolkit": __version__,
            "encode": knobs,
            "reference_side": self.reference_limit,
            "ocr": ocr,
        }
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
    """One image's work. Its bytes travel with it (`run_job`'s `data`) unless `name` is a
    URL, which the worker reads itself: a worker never opens a local path."""

    name: str  # the path or URL, for messages
    grid: SweepGrid
    keys: tuple[tuple[int | None, str, int | None], ...]
    readings: dict[str, dict] | None = None  # the original's OCR per reader, read before
    ceilings: bool = True  # False: another part of the image's work computes them
    part_of: str | None = None  # the image's SHA-256 when its work is split in parts


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
    """The side JPEGs may be draft-decoded to; None (a full decode) when a metric compares
    with the original."""
    sides = [key[0] for key in keys]
    if grid.seen_metrics or grid.ocr or None in sides:
        return None
    return max(sides)


@dataclass
class _Originals:
    """What every encode of one image is compared with."""

    seen_ref: quality.Reference | None = None  # the original at the reference size
    truths: dict[str, Reading] = field(default_factory=dict)  # per reader: what it reads in
    # the full-resolution original
    size: tuple[int, int] = (0, 0)  # the original's (width, height)


class _Prepared(NamedTuple):
    source: SourceImage
    load_ms: float
    originals: _Originals
    reference_ms: float  # reference statistics and OCR truth


def _named_bytes(data: bytes, name: str) -> io.BytesIO:
    """`data` as a file object whose errors name `name`."""
    stream = io.BytesIO(data)
    stream.name = name
    return stream


# A worker's (process or thread) last split image (`_Job.part_of`): decoded, with what its
# encodes are compared with. Its parts are submitted one after another, so the next part a
# worker takes is often of the same image: decoded and measured once per worker, not per part.
_last_split = threading.local()


def _prepared(job: _Job, data: bytes | None, read: ImageResult) -> _Prepared:
    """The job's image decoded and what its encodes are compared with, with the time each
    took; a split image's from this worker's last part of it when there was one."""
    grid = job.grid
    key = (job.part_of, grid.base, grid.reference_limit, grid.seen_metrics, grid.ocr, grid.reader)
    last = getattr(_last_split, "image", None)
    if job.part_of is not None and last is not None and last[0] == key:
        return last[1]
    _last_split.image = None  # let it go before decoding another: one image at most
    if data is None:
        data = _read_source(job.name)
        read["image_sha256"] = hashlib.sha256(data).hexdigest()
    source, load_ms = _timed(
        load_image, _named_bytes(data, job.name), grid.base, draft_side=_draft_side(grid, job.keys)
    )
    del data
    originals, reference_ms = _timed(_compared, grid, source.image, job.readings)
    prepared = _Prepared(source, load_ms, originals, reference_ms)
    if job.part_of is not None:
        _last_split.image = (key, prepared)
    return prepared


def run_job(job: _Job, data: bytes | None = None) -> ImageResult:
    """One image's missing encodes with their metrics, as a JSON-ready dict (worker side).
    Without `data` the job's URL is read here, and the result carries its `image_sha256`."""
    grid = job.grid
    read: ImageResult = {}
    try:
        source, load_ms, originals, reference_ms = _prepared(job, data, read)
    except (ToolkitError, OSError, MemoryError) as exc:
        return {**read, "error": _error_text(exc)}
    del data
    entry: ImageResult = {
        **read,
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
    _, record_ms = _timed(_record, grid, source.image, originals, entry["source"], job.ceilings)
    entry["source"]["reference_ms"] = reference_ms + record_ms
    for keys in _same_pixels(job.keys, source.image.size):
        resized, resize_ms = _timed(
            resize_image, source.image, keys[0][0], grid.base.resample, grid.base.reducing_gap
        )
        compression_ref = _reference(resized) if grid.compression_metrics else None
        results: dict = {}  # (format, quality) -> result, shared by sides giving these pixels
        for key in keys:
            if key[1:] not in results:
                results[key[1:]] = _encode(
                    grid, key, resized, resize_ms, compression_ref, originals, source.name
                )
            entry["encodes"][_key_text(key)] = results[key[1:]]
        del resized, compression_ref
    return entry


def _read_source(url: str) -> bytes:
    try:
        return read_url(url)
    except OSError as exc:
        raise ImageError(url, f"cannot read: {exc.strerror or exc}") from exc


def _same_pixels(keys, size: tuple[int, int]) -> list[list]:
    """Keys grouped by the resized size they give (sides at or above the image's own size all
    give the original), largest first."""
    groups: dict[tuple[int, int], list] = {}
    for key in sorted(keys, key=_side_order):
        groups.setdefault(fit_size(*size, key[0]), []).append(key)
    return list(groups.values())


def _parts(keys: tuple, text_source: SourceRecord | None) -> list[tuple]:
    """An image's missing `keys` as jobs: one per distinct encode for an image known to have
    text (`text_source`, its cached values, given only then), whose OCR makes each encode
    seconds of work, so that the workers share its encodes; else one. The keys of sides that
    give the same pixels, at one format and quality, stay together: encoded once."""
    if not text_source:
        return [keys]
    size = (text_source["source_width"], text_source["source_height"])
    parts: dict[tuple, list] = {}
    for key in keys:
        parts.setdefault((fit_size(*size, key[0]), *key[1:]), []).append(key)
    return [tuple(part) for part in parts.values()]


def _merge(parts: list[ImageResult]) -> ImageResult:
    """The results of an image's parts as one: the first error, or every encode with the
    source values of the part that computed the ceilings."""
    for part in parts:
        if "error" in part:
            return part
    merged: ImageResult = {**parts[0], "encodes": {}}
    for part in parts:
        merged["encodes"].update(part["encodes"])
        if "ceiling" in part["source"]:
            merged["source"] = part["source"]
    return merged


def _encode(grid, key, resized, resize_ms, compression_ref, originals, name: str) -> EncodeRecord:
    """One encode of `resized` with its size, timings and metrics."""
    result: EncodeRecord = {
        "width": resized.width,
        "height": resized.height,
        "resize_ms": resize_ms,
    }
    try:
        data, result["encode_ms"] = _timed(encode_pixels, resized, grid.settings(key), name=name)
    except ToolkitError as exc:
        result["error"] = _error_text(exc)
        return result
    result["bytes"] = len(data)
    result["base64_chars"] = base64_chars(len(data))
    start = time.perf_counter()
    result.update(_metrics(grid, data, resized, compression_ref, originals))
    result["metrics_ms"] = (time.perf_counter() - start) * 1000
    return result


def _compared(grid: SweepGrid, image, readings: dict[str, dict] | None) -> _Originals:
    """Reference statistics and OCR truth of one image (`readings`: per reader, the truth
    read before)."""
    originals = _Originals(size=image.size)
    if grid.seen_metrics:
        reference = resize_image(
            image, grid.reference_limit, grid.base.resample, grid.base.reducing_gap
        )
        originals.seen_ref = _reference(reference)
    if grid.ocr:
        readings = readings or {}
        for name in grid.readers.names:
            words = {n: len(t.confident_words) for n, t in originals.truths.items()}
            if grid.readers.reads(name, words):
                originals.truths[name] = (
                    Reading.from_dict(readings[name])
                    if name in readings
                    else read_text(image, name)
                )
    return originals


def _record(
    grid: SweepGrid, image, originals: _Originals, source: SourceRecord, ceilings: bool
) -> None:
    """Record the reference size, OCR truth and (with `ceilings`, computed here) the ceilings
    of one image in `source`."""
    if originals.seen_ref is not None:
        source["reference_width"], source["reference_height"] = originals.seen_ref.size
        if ceilings:
            source["ceiling"] = {
                _size_text(size): originals.seen_ref.ssim(
                    quality.seen_view(image, size, originals.seen_ref.size)
                )
                for size in _ceiling_sizes(grid, image.size)
            }
    if grid.ocr:
        truths = originals.truths
        source["text_words"] = {name: len(t.confident_words) for name, t in truths.items()}
        source["reading"] = {name: truth.to_dict() for name, truth in truths.items()}


def _side_order(key) -> tuple:
    """Each side's keys together, largest side first, None (no resize) last."""
    return (key[0] is None, -(key[0] or 0))


def _metrics(grid, data, resized, compression_ref, originals: _Originals) -> EncodeRecord:
    """Compression metrics and, per provider-kept size, seen metrics of one encode."""
    if not (grid.compression_metrics or grid.seen_metrics or grid.ocr):
        return {}
    decoded = quality.decode_image(data, resized.mode)  # a grey image's WebP comes back as RGB
    out: EncodeRecord = {}
    if grid.compression_metrics:
        fidelity = _compare(compression_ref, decoded)
        out["compression_ssim"], out["compression_psnr_db"] = fidelity["ssim"], fidelity["psnr_db"]
    if grid.seen_metrics or grid.ocr:
        seen = out.setdefault("seen", {})
        for kept_size in _provider_sizes(grid, resized.size):
            seen[_size_text(kept_size)] = _seen(
                grid, quality.to_size(decoded, kept_size), originals
            )
    return out


def _seen(grid: SweepGrid, kept, originals: _Originals) -> dict:
    """Seen fidelity of one kept view: SSIM/PSNR at the reference size, legibility at the
    original's size."""
    metrics: dict = {}
    if grid.seen_metrics:
        metrics = {"ssim": math.nan, "psnr_db": math.nan}
        if originals.seen_ref is not None:
            metrics = _compare(originals.seen_ref, quality.to_size(kept, originals.seen_ref.size))
    for name, truth in originals.truths.items():
        if truth.has_text:
            score = legibility.legibility(truth, kept, originals.size)
            metrics[f"{name}_word_recall"] = score.word_recall
            metrics[f"{name}_char_accuracy"] = score.char_accuracy
    return metrics


def _size_text(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


# --- tokens and prices (cheap, from geometry) --------------------------------------------


@lru_cache(maxsize=65536)
def estimate_or_error(width: int, height: int, model: str, detail: str, rules: str | None):
    """The token estimate, or the error text when the provider would refuse the image."""
    try:
        return image_tokens(width, height, model, detail, rules=rules)
    except ImageRejectedError as exc:
        return _error_text(exc)


@lru_cache(maxsize=4096)
def cost_or_nan(tokens: int, model: str, tier: str, prices: str | None) -> float:
    """Dollars for `tokens` input tokens; NaN when the price table has no price for `model`."""
    cost = cost_or_none(tokens, model, tier, prices)
    return math.nan if cost is None else cost


def _provider_sizes(grid: SweepGrid, size: tuple[int, int]) -> set[tuple[int, int]]:
    sizes = set()
    for model, detail in itertools.product(grid.models, grid.details):
        estimate = estimate_or_error(*size, model, detail, grid.rules)
        if not isinstance(estimate, str):
            sizes.add((estimate.provider_width, estimate.provider_height))
    return sizes


@lru_cache(maxsize=4096)
def _ceiling_size(
    width: int, height: int, model: str, rules: str | None, sides: tuple[int | None, ...]
) -> tuple[int, int] | None:
    """The most `model` keeps of a `width` x `height` original: sent whole (or, when the
    provider would refuse that, fitted to the largest max side it accepts) at whichever
    supported detail keeps the most pixels. None when every size is refused."""
    details = find_model(model, rules)[1].supported_details
    for side in sorted(set(sides) | {None}, key=lambda s: math.inf if s is None else -s):
        fitted = fit_size(width, height, side)
        kept = [estimate_or_error(*fitted, model, d, rules) for d in details]
        sizes = [(e.provider_width, e.provider_height) for e in kept if not isinstance(e, str)]
        if sizes:
            return max(sizes, key=lambda size: size[0] * size[1])
    return None


def _ceiling_sizes(grid: SweepGrid, size: tuple[int, int]) -> set[tuple[int, int]]:
    sizes = (_ceiling_size(*size, model, grid.rules, grid.max_sides) for model in grid.models)
    return {kept for kept in sizes if kept is not None}


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
        self.base = Path(root)
        self.root = self.base / grid.cache_tag()
        self.settings = grid.cache_settings()

    def _file(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.json"

    def load(self, digest: str) -> ImageResult | None:
        """The entry (`source`, `encodes`); {} when there is none, None when it is unusable."""
        try:
            text = _read_cached(self._file(digest))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):  # a FIFO, a device, too large, not UTF-8
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

    def store(self, digest: str, entry: ImageResult) -> None:
        previous = self.load(digest) or {}  # keep what a concurrent sweep added meanwhile
        merged: CacheEntry = {
            "settings": self.settings,
            "source": entry["source"],
            "encodes": {**previous.get("encodes", {}), **entry["encodes"]},
            "sha256": "",
        }
        merged["sha256"] = _content_sha256(merged)
        _write_cached(self._file(digest), json.dumps(merged))

    def _url_file(self, fingerprint: str) -> Path:
        return self.base / "urls" / f"{_text_sha256(fingerprint)}.txt"

    def url_digest(self, fingerprint: str) -> str | None:
        """The content SHA-256 last read at a URL whose `sources.url_fingerprint` this is."""
        try:
            text = _read_cached(self._url_file(fingerprint))
        except (OSError, ValueError):
            return None
        return text if _SHA256.fullmatch(text) else None

    def remember_url(self, fingerprint: str, digest: str) -> None:
        _write_cached(self._url_file(fingerprint), digest)


def _write_cached(path: Path, text: str) -> None:
    """Keep a cache file, whole or not at all. Where a folder holds its name the result is
    used but not kept, and the folder is left alone (it is not ours)."""
    try:
        write_atomic(path, text)
    except OutputError as exc:
        if exc.errno != errno.EISDIR:
            raise


def _read_cached(path: Path) -> str:
    """A cache file's text: a regular file of at most `MAX_CACHE_BYTES`, UTF-8."""
    return read_regular(path, MAX_CACHE_BYTES).decode("utf-8")


def _text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Readings:
    """The originals' OCR readings by image content, reader and what decides a reading (the
    OCR constants, the reader's version, the toolkit version, the knobs that change an
    original's pixels), not by grid: kept for this process (the last `READINGS_KEPT`) and,
    with a cache folder, on disk, so no original is read twice by the same reader: not by a
    second round, another notebook or another grid."""

    _kept: OrderedDict[str, dict] = OrderedDict()  # this process's, shared by every sweep
    _lock = threading.Lock()  # sweeps may run in threads at once

    def __init__(
        self, grid: SweepGrid, root: str | os.PathLike | None, stats: SweepStats | None = None
    ):
        settings = grid.cache_settings()
        decisive = {k: settings["encode"][k] for k in ("background", "keep_grayscale")}
        readers = settings["ocr"][-1]
        self.tags = {
            name: _text_sha256(
                json.dumps(
                    [settings["toolkit"], settings["ocr"][:-1], reader, decisive], sort_keys=True
                )
            )[:16]
            for name, reader in readers.items()
        }
        self.root = None if root is None else Path(root) / "readings"
        self.stats = stats if stats is not None else SweepStats()

    def get(self, digest: str) -> dict[str, dict]:
        """Per reader, the reading of the image with this content known so far."""
        return {
            name: reading for name in self.tags if (reading := self._get(name, digest)) is not None
        }

    def _get(self, name: str, digest: str) -> dict | None:
        key = f"{self.tags[name]}/{digest}"
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        if self.root is None:
            return None
        try:
            stored = json.loads(_read_cached(self.root / self.tags[name] / f"{digest}.json"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            stored = None
        reading = self._checked(name, digest, stored)
        if reading is None:  # damaged or edited: read again, never trusted
            self.stats.invalid_cache_entries += 1
            return None
        self._remember(key, reading)
        return reading

    def _checked(self, name: str, digest: str, stored: object) -> dict | None:
        """The reading a stored file holds, if its checksum covers exactly that content and
        it is `name`'s."""
        if not isinstance(stored, dict) or stored.keys() != {"reading", "sha256"}:
            return None
        reading = stored["reading"]
        if stored["sha256"] != self._sha256(name, digest, reading):
            return None
        try:
            if Reading.from_dict(reading).reader != name:
                return None
        except (ValueError, KeyError, TypeError, IndexError):
            return None
        return reading

    def _sha256(self, name: str, digest: str, reading: object) -> str:
        return _text_sha256(json.dumps([self.tags[name], digest, reading], sort_keys=True))

    def put(self, digest: str, readings: dict[str, dict]) -> None:
        for name, reading in readings.items():
            self._remember(f"{self.tags[name]}/{digest}", reading)
            if self.root is not None:
                stored = {"reading": reading, "sha256": self._sha256(name, digest, reading)}
                _write_cached(self.root / self.tags[name] / f"{digest}.json", json.dumps(stored))

    def _remember(self, key: str, reading: dict) -> None:
        with self._lock:
            self._kept[key] = reading
            while len(self._kept) > READINGS_KEPT:
                self._kept.popitem(last=False)


def original_readings(
    digest: str, grid: SweepGrid, cache: str | os.PathLike | None = None
) -> dict[str, Reading]:
    """Per reader of `grid`, its reading of the original with this SHA-256 as a sweep with
    `grid` made it (kept in this process, or in `cache`); a reader missing has none yet."""
    known = _Readings(grid, cache).get(digest)
    return {name: Reading.from_dict(reading) for name, reading in known.items()}


def _content_sha256(entry: Mapping[str, object]) -> str:
    content = {key: entry[key] for key in ("settings", "source", "encodes")}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _source_complete(grid: SweepGrid, source: SourceRecord | None) -> bool:
    """True when a cached image entry holds the per-image values this grid asks for."""
    if not source:
        return False
    if grid.seen_metrics and "reference_width" in source:
        size = (source["source_width"], source["source_height"])
        ceilings = source.get("ceiling", {})
        if any(_size_text(s) not in ceilings for s in _ceiling_sizes(grid, size)):
            return False
    words = source.get("text_words")
    return not grid.ocr or (isinstance(words, dict) and grid.readers.complete(words))


def _readers_with_text(grid: SweepGrid, source: SourceRecord | None) -> list[str]:
    """The grid's readers that read text in the original, as far as the cache knows."""
    words = (source or {}).get("text_words") or {}
    return [n for n in grid.readers.names if words.get(n, 0) >= legibility.MIN_TEXT_WORDS]


def _complete(grid: SweepGrid, has_text: list[str], result: EncodeRecord | None) -> bool:
    """True when a cached encode holds every value this grid asks of it (`has_text`: the
    readers whose values it must hold)."""
    if not result or "error" in result:
        return False
    if grid.compression_metrics and "compression_ssim" not in result:
        return False
    wanted = ["ssim"] if grid.seen_metrics else []
    wanted += [f"{name}_word_recall" for name in has_text]
    seen = result.get("seen", {})
    return all(
        key in seen.get(_size_text(size), {})
        for size in _provider_sizes(grid, (result["width"], result["height"]))
        for key in wanted
    )


def _category_of(source: Source, category: Category) -> str:
    if callable(category):
        return str(category(source))
    if category is not None:
        for key in (str(source), display_name(source)):
            if key in category:
                return str(category[key])
    return folder_name(source)


@dataclass
class SweepStats:
    """What a sweep did: images seen, images sent to workers, encodes computed, cache hits."""

    images: int = 0
    computed_images: int = 0
    computed_encodes: int = 0
    cached_encodes: int = 0
    failed_images: int = 0
    invalid_cache_entries: int = 0  # malformed, altered or other settings: recomputed
    workers_died: int = 0  # images whose pool worker died under them (error rows)


def _rows(
    image: Source, digest: str | None, category: str, grid: SweepGrid, entry: ImageResult
) -> list[dict]:
    """The grid's rows for one image, in grid order."""
    source = entry.get("source", {})
    image_error = entry.get("error")
    rows = []
    for side, fmt, q, model, detail in itertools.product(
        grid.max_sides, grid.formats, grid.qualities, grid.models, grid.details
    ):
        row = dict.fromkeys(COLUMNS)
        row.update(image=display_name(image), path=str(image), category=category)
        row.update(image_sha256=digest, max_side=side, format=fmt, quality=q, model=model)
        row.update(detail=detail, error=image_error)
        row.update({k: v for k, v in source.items() if k in row and k != "text_words"})
        if grid.ocr and "text_words" in source:
            _text_words(row, grid, source["text_words"])
        result = entry.get("encodes", {}).get(_key_text((side, fmt, None if fmt == "png" else q)))
        if result is not None:
            _fill(row, grid, result)
        row["ceiling_ssim"] = _ceiling(grid, source, model)
        rows.append(row)
    return rows


def _ceiling(grid: SweepGrid, source: SourceRecord, model: str) -> float | None:
    """Seen SSIM of the original sent whole at the model's most generous detail."""
    if "ceiling" not in source:
        return None
    size = _ceiling_size(
        source["source_width"], source["source_height"], model, grid.rules, grid.max_sides
    )
    return None if size is None else source["ceiling"].get(_size_text(size))


def _text_words(row: dict, grid: SweepGrid, words: dict[str, int]) -> None:
    """The reader and the confident words of the original, per reader and combined (the
    most any reader read: an image has text when some reader reads it)."""
    row["reader"] = grid.readers.describe()
    for name in grid.readers.names:
        row[f"{name}_text_words"] = words.get(name)
    row["text_words"] = max(words.get(name, 0) for name in grid.readers.names)


def _fill(row: dict, grid: SweepGrid, result: EncodeRecord) -> None:
    row.update({k: v for k, v in result.items() if k in row and k != "error"})
    if "error" in result:
        row["error"] = result["error"]
        return
    estimate = estimate_or_error(
        result["width"], result["height"], row["model"], row["detail"], grid.rules
    )
    if isinstance(estimate, str):
        row["error"] = estimate
        return
    row.update(provider_width=estimate.provider_width, provider_height=estimate.provider_height)
    row.update(tokens=estimate.tokens, rules=estimate.rules, tier=grid.tier)
    row["cost_usd"] = cost_or_nan(estimate.tokens, row["model"], grid.tier, grid.prices)
    seen = result.get("seen", {}).get(
        _size_text((estimate.provider_width, estimate.provider_height)), {}
    )
    row.update(seen_ssim=seen.get("ssim"), seen_psnr_db=seen.get("psnr_db"))
    if grid.ocr:
        readers = grid.readers
        for name in readers.names:
            for measure in READER_COLUMNS[1:]:
                row[f"{name}_{measure}"] = seen.get(f"{name}_{measure}")
        words = [row.get(f"{name}_text_words") for name in readers.names]
        recall, chars = (
            readers.pick(
                [seen.get(f"{name}_{measure}", math.nan) for name in readers.names], words
            )
            for measure in ("word_recall", "char_accuracy")
        )
        row.update(seen_word_recall=recall, seen_char_accuracy=chars)


def default_executor(workers: int | None = None) -> ProcessPool:
    """The toolkit's process pool (`runtime.ProcessPool`) over `workers` CPUs (default: all),
    its workers preloaded with this module."""
    return ProcessPool(workers, preload=[__name__])


def sweep_executor(
    scheduler: str | None = None, workers: int | None = None, *, readers: str | None = None
) -> ProcessPool | DaskExecutor:
    """Where a sweep's images are computed: the Dask cluster whose scheduler is at
    `scheduler` (`toolkit.cluster.DaskExecutor`, checked on connection; `readers`, e.g.
    "tesseract": the OCR readers its workers must be able to run), else
    `default_executor(workers)`. Use it in a `with` block: it is shut down at the end (a
    cluster is only disconnected from)."""
    if scheduler:
        from toolkit.cluster import DaskExecutor

        names: tuple[str, ...] = ()
        if readers:
            spec = ReaderSpec.parse(readers)
            # every reader that runs here must run there (`auto` reads with both where it can)
            names = tuple(n for n in spec.names if n in spec.required or not reader_unavailable(n))
        return DaskExecutor(scheduler, readers=names)
    return default_executor(workers)


def executor_slots(executor: Executor) -> int:
    """Jobs an executor runs at once: its `slots` (the toolkit's pools say), else the CPUs."""
    return getattr(executor, "slots", None) or available_cpus()


@dataclass
class _Pending:
    """An image sent to a worker, with what its rows need when it comes back."""

    index: int
    source: Source
    label: str
    digest: str | None  # None: a URL whose content the worker hashes
    fingerprint: str | None  # a URL's, to find its digest next time
    entry: ImageResult  # what the cache already had
    parts: int = 1  # jobs the image was split into
    done: list = field(default_factory=list)  # their results so far


def _read_local(path: Path) -> bytes:
    return read_regular(path, MAX_IMAGE_BYTES)


def _identify(source: Source, store: _Cache | None) -> tuple[str | None, bytes | None, str | None]:
    """(content SHA-256, bytes to send, URL fingerprint) of one image. A local file is read
    here (`OSError` when it cannot be); a URL is left to the worker, its digest known only
    when the cache saw the same version of it before."""
    if isinstance(source, Path):
        data = _read_local(source)
        return hashlib.sha256(data).hexdigest(), data, None
    if store is None:
        return None, None, None
    try:
        fingerprint = url_fingerprint(source)
    except OSError:  # not reachable from here: the worker says whether it is from there
        return None, None, None
    return store.url_digest(fingerprint), None, fingerprint


def _largest_first(
    sources: Iterator[tuple[int, Source]], window: int = LOOKAHEAD
) -> Iterator[tuple[int, Source]]:
    """`sources` `window` at a time, each window's largest images (in pixels, from the
    header; URLs and unreadable files count 0) first: the images that take longest start
    early and the workers finish together instead of waiting for one last large image."""
    while chunk := list(itertools.islice(sources, window)):
        yield from sorted(chunk, key=lambda item: -_pixels(item[1]))


def _pixels(source: Source) -> int:
    if not isinstance(source, Path):
        return 0
    try:
        width, height = read_size(source)
    except (ToolkitError, OSError):
        return 0  # its job says what is wrong with it
    return width * height


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
    executor = default_executor() if executor is None else executor
    limit = max_in_flight or 2 * executor_slots(executor)
    store = _Cache(cache, grid) if cache is not None else None
    readings = _Readings(grid, cache, stats)
    keys = grid.encode_keys()
    pending: dict[Future, _Pending] = {}

    def finish(future: Future) -> Iterator[tuple[int, list[dict]]]:
        """The image's rows once its last part is back."""
        item = pending.pop(future)
        try:
            item.done.append(future.result())
        except Exception as exc:  # a worker died or could not run: record, carry on
            stats.workers_died += isinstance(exc, WorkerDiedError)
            item.done.append({"error": _error_text(exc)})
        if len(item.done) == item.parts:
            yield rows_of(item, _merge(item.done))

    def rows_of(item: _Pending, new: ImageResult) -> tuple[int, list[dict]]:
        digest = item.digest or new.get("image_sha256")
        if "error" in new:
            stats.failed_images += 1
            return item.index, _rows(item.source, digest, item.label, grid, new)
        assert digest is not None  # a local file was hashed here, a URL by the worker
        stats.computed_encodes += len(new["encodes"])
        read = new["source"].pop("reading", None)
        if read is not None:
            readings.put(digest, read)
        if store is not None:
            store.store(digest, new)
            if item.fingerprint is not None:
                store.remember_url(item.fingerprint, digest)
        merged: ImageResult = {
            "source": new["source"],
            "encodes": {**item.entry.get("encodes", {}), **new["encodes"]},
        }
        return item.index, _rows(item.source, digest, item.label, grid, merged)

    try:
        for index, source in _largest_first(enumerate(iter_sources(images))):
            stats.images += 1
            label = _category_of(source, category)
            try:
                digest, data, fingerprint = _identify(source, store)
            except OSError as exc:
                stats.failed_images += 1
                error = ImageError(str(source), f"cannot read: {exc.strerror or exc}")
                yield index, _rows(source, None, label, grid, {"error": _error_text(error)})
                continue
            entry = store.load(digest) if store is not None and digest else {}
            if entry is None:
                stats.invalid_cache_entries += 1
                entry = {}
            cached_source = entry.get("source")
            cached = entry.get("encodes", {}) if _source_complete(grid, cached_source) else {}
            has_text = _readers_with_text(grid, cached_source if cached else None)
            missing = tuple(
                k for k in keys if not _complete(grid, has_text, cached.get(_key_text(k)))
            )
            stats.cached_encodes += len(keys) - len(missing)
            if not missing:
                yield index, _rows(source, digest, label, grid, entry)
                continue
            stats.computed_images += 1
            known = readings.get(digest) if grid.ocr and digest else {}
            complete = has_text and grid.readers.complete(
                {n: len(Reading.from_dict(r).confident_words) for n, r in known.items()}
            )
            parts = _parts(missing, cached_source if complete else None)
            item = _Pending(index, source, label, digest, fingerprint, entry, len(parts))
            part_of = digest if len(parts) > 1 else None
            for number, part in enumerate(parts):
                job = _Job(str(source), grid, part, known or None, number == 0, part_of)
                future = executor.submit(run_job, job, *([data] if data is not None else []))
                pending[future] = item
            del data
            while len(pending) >= limit:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield from finish(future)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield from finish(future)
    finally:
        for future in pending:
            future.cancel()
        if owned:
            executor.shutdown(wait=True, cancel_futures=True)


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with `COLUMNS` and nullable integer columns."""
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype({**dict.fromkeys(INTEGERS, "Int64"), **dict.fromkeys(FLOATS, float)})


def progress_bar(total: int, enabled: bool = True, desc: str = "sweep") -> tqdm:
    """A bar counting `total` images with its ETA: a widget in Jupyter, text on stderr in a
    terminal; disabled (nothing shown) when not `enabled`, as in report runs."""
    return auto_tqdm(total=total, desc=desc, unit="image", disable=not enabled)


def run_sweep(
    images: Iterable[str | os.PathLike] | str | os.PathLike,
    grid: SweepGrid,
    executor: Executor | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool | tqdm = True,
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
        progress: True for a `progress_bar` over the images, False for none, or a bar to
            advance (one bar for several sweeps: its total is the caller's).
        max_in_flight: images submitted at once (default twice the CPUs).

    Returns:
        A DataFrame with `COLUMNS`, in input order and grid order; a failed image or cell has
        its `error` set and its values NaN. `df.attrs["sweep"]` holds the `SweepStats`.
    """
    stats = SweepStats()
    chunks: dict[int, list[dict]] = {}
    paths = list_images([images] if isinstance(images, str | os.PathLike) else images)
    bar: tqdm = progress if isinstance(progress, tqdm) else progress_bar(len(paths), progress)
    with contextlib.nullcontext(bar) if isinstance(progress, tqdm) else bar:
        for index, rows in iter_sweep(
            paths,
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


def partial_path(output: str | os.PathLike) -> Path:
    """Where `write_sweep` keeps the rows of a sweep into `output` until it is complete."""
    output = Path(output)
    return output.with_name(output.name + ".partial")


def write_sweep(
    images: Iterable[str | os.PathLike] | str | os.PathLike,
    grid: SweepGrid,
    output: str | os.PathLike,
    *,
    cache: str | os.PathLike | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    stats: SweepStats | None = None,
) -> pd.DataFrame:
    """`run_sweep` into a CSV file, resumably: rows are appended to `partial_path(output)` as
    each image finishes, then put in input order and written whole to `output` (a temporary
    file renamed into place); the rows are returned as read back. Computed on
    `sweep_executor(scheduler, workers)`. One sweep at a time writes a given output: the
    partial file is locked for the run, and a second sweep into it is an `OutputError`. An
    error removes the partial file. Ctrl-C stops the workers at once (on a cluster: cancels
    what is not finished), keeps the partial file (and the cache) and raises
    `KeyboardInterrupt` saying so."""
    output = Path(output)
    partial = partial_path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with locked(partial):  # before anything is written: another sweep's file is left alone
        try:
            readers = grid.reader if grid.ocr else None
            executor = sweep_executor(scheduler, workers, readers=readers)
        except BaseException:  # a bad address: no file left behind
            if partial.stat().st_size == 0:
                partial.unlink()
            raise
        order = _append_rows(images, grid, partial, executor, cache, progress, stats)
        frame = pd.read_csv(partial)
        frame.index = order
        frame = frame.sort_index(kind="stable").reset_index(drop=True)
        with atomic_path(output) as temp:
            frame.to_csv(temp, index=False)
        partial.unlink()
    return frame


def _append_rows(
    images: Iterable[str | os.PathLike] | str | os.PathLike,
    grid: SweepGrid,
    partial: Path,
    executor: ProcessPool | DaskExecutor,
    cache: str | os.PathLike | None,
    progress: bool,
    stats: SweepStats | None,
) -> list[int]:
    """Each image's rows appended to `partial` as it finishes; the input index of each row."""
    order: list[int] = []
    try:
        pd.DataFrame(columns=list(COLUMNS)).to_csv(partial, index=False)
        paths = list_images([images] if isinstance(images, str | os.PathLike) else images)
        results = iter_sweep(paths, grid, executor, cache, stats=stats)
        with tqdm(
            total=len(paths), desc="sweep", unit="image", file=sys.stderr, disable=not progress
        ) as bar:
            for index, rows in results:
                to_frame(rows).to_csv(partial, mode="a", header=False, index=False)
                order.extend([index] * len(rows))
                bar.update()
    except KeyboardInterrupt:
        executor.terminate()  # the images in flight are dropped; finished ones are kept
        kept = "the cache and " if cache is not None else ""
        raise KeyboardInterrupt(
            f"{len(set(order))} images done are in {kept}{partial}; run again to resume"
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return order
