"""`toolkit calibrate`: the model reads, and the reader is judged against it.

The loop, in steps a notebook can take one by one (`toolkit.calibrate` takes them all):

1. `plan_calibration`: a reproducible sample of images with text (the first `sample` images,
   in a shuffle of the sorted listing seeded by `seed`, whose original the reader reads
   text in), swept at every size for every model with legibility on (`run_sweep`: what the
   provider keeps of each view and the reader's word recall of it), and one request per
   view: the view encoded as the sweep encoded it, with `TRANSCRIBE_PROMPT` alone.
2. `CalibrationPlan.estimate`: before anything is sent, requests per model and their tokens
   and dollars: image tokens from the rules, the prompt's text tokens and an output estimate
   from the length of the truth (both at about 4 bytes of UTF-8 a token, an approximation;
   a reasoning model's hidden reasoning tokens are not in it).
3. sending, with the toolkit's client (`send_requests`/`run_requests`): resumable, so a rerun
   with the same results file sends nothing twice.
4. `score_calibration`: per (model, image, setting), the model's word recall of the truth words
   (`toolkit.textmatch.found_anywhere`, in any order, whatever the spacing) and relative to
   its own best view (the largest size), beside the reader's; `toolkit.calibration.fit`
   then gives each model's calibration.

The truth of an image is `truth/<image stem>.txt` in the image's folder when there is one
(its words of 2 or more letters or digits), else the reader's reading of the original (its
confident words, as legibility counts them).
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from toolkit.calibration import Calibration, base_url_kind, calibration_views, fit
from toolkit.emulator import REQUEST_ID_PREFIX, text_tokens
from toolkit.errors import SettingsError
from toolkit.images import EncodeSettings, encode_image, format_name, iter_image_files
from toolkit.legibility import MIN_TEXT_WORDS, Reading
from toolkit.payload import CONCURRENCY, ImagePart, Request, RequestSpec
from toolkit.pricing import usage_cost_usd
from toolkit.readers import ENGINE, ReaderSpec
from toolkit.rulesets import SEED_DETAIL, check_detail
from toolkit.sweep import SweepGrid, default_executor, original_readings, progress_bar, run_sweep
from toolkit.textmatch import found_anywhere, normalize
from toolkit.transcribe import TRANSCRIBE_PROMPT, emulated_reader, transcriber

TRUTH_FOLDER = "truth"  # <image folder>/truth/<image stem>.txt
VIEW_COLUMNS = [  # one per (model, image, max side), before sending
    "model",
    "image",
    "path",
    "max_side",
    "format",
    "quality",
    "detail",
    "width",
    "height",
    "bytes",
    "kept_width",
    "kept_height",
    "tokens",
    "reader_word_recall",
    "truth_source",
    "truth_words",
    "request_id",
    "reference",
    "error",  # the sweep's, for a view the provider would refuse (then not sent)
]
ROW_COLUMNS = [  # `score_calibration`: the views with the model's answers
    *VIEW_COLUMNS[:-1],
    "transcriber",
    "model_words",
    "model_best_words",
    "model_word_recall",
    "model_word_recall_relative",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "status",
    "counted",
    "error",
]
ESTIMATE_COLUMNS = [
    "model",
    "requests",
    "answered",
    "to_send",
    "image_tokens",
    "prompt_tokens",
    "output_tokens_estimate",
    "cost_usd_estimate",
]


@dataclass(frozen=True)
class CalibrationSettings:
    """What a calibration sends: `models`, the max sides of the views (`sizes`, two or more:
    the largest is each model's reference reading), the encoding and detail, the sample,
    and the one reader judged. Checked on creation (`SettingsError`, `RulesError`)."""

    models: tuple[str, ...]
    sizes: tuple[int, ...] = (512, 768, 1024, 1536)
    sample: int = 6
    seed: int = 0
    reader: str = ENGINE
    detail: str = SEED_DETAIL
    format: str = "jpeg"
    quality: int = 85

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "format", format_name(self.format))
        object.__setattr__(self, "sizes", tuple(sorted(self.sizes)))
        if len(set(self.sizes)) < 2:
            raise SettingsError(
                f"sizes must name two or more max sides (the largest is the model's best "
                f"reading, the others are judged against it), not {list(self.sizes)}"
            )
        if isinstance(self.sample, bool) or not isinstance(self.sample, int) or self.sample < 1:
            raise SettingsError(f"sample must be a whole number >= 1, not {self.sample!r}")
        readers = ReaderSpec.parse(self.reader)
        if len(readers.names) != 1:
            raise SettingsError(f"calibrate one reader at a time, not {self.reader!r}")
        for model in self.models:
            check_detail(model, self.detail)
        self.encoding(self.sizes[0])  # a bad size, format or quality raises here
        if reason := readers.unavailable():
            raise SettingsError(f"reader {self.reader}: {reason}")

    def encoding(self, side: int) -> EncodeSettings:
        """The encode of a view, as the sweep makes it (Pillow: the bytes the reader judged)."""
        return EncodeSettings(
            max_side=side, format=self.format, quality=self.quality, backend="pillow"
        )

    def grid(self) -> SweepGrid:
        """The sweep that gives each view's kept size, tokens and the reader's legibility."""
        return SweepGrid(
            max_sides=self.sizes,
            formats=(self.format,),
            qualities=(self.quality,),
            models=self.models,
            details=(self.detail,),
            compression_metrics=False,
            seen_metrics=False,
            ocr=True,
            reader=self.reader,
        )

    def spec(self, model: str) -> RequestSpec:
        return RequestSpec(model=model, prompt=TRANSCRIBE_PROMPT)


@dataclass(frozen=True)
class Truth:
    """An image's truth: its words (normalized), its text and where they come from."""

    words: tuple[str, ...]
    text: str
    source: str  # "truth file" or "reader"


@dataclass
class CalibrationPlan:
    """The views to send (`views`, `VIEW_COLUMNS`), their distinct `requests`, each sampled
    image's truth, and how the sample was drawn: `corpus_images` listed, `read_images` whose
    originals were read to find it, `failed` error rows of images that could not be read."""

    settings: CalibrationSettings
    views: pd.DataFrame
    requests: list[Request]
    truths: dict[str, Truth]
    corpus_images: int
    read_images: int
    failed: list[dict] = field(default_factory=list)

    def estimate(self, answered: Iterable[str] = ()) -> pd.DataFrame:
        """Per model (then `all`): requests, those `answered` for good already (the ids a
        results file holds as ok or refused), those to send, and for those their image tokens
        (rules), prompt tokens and output tokens (estimates: about 4 bytes of text a token,
        the output as long as the truth) and dollars."""
        done = set(answered)
        output = {path: text_tokens(truth.text) for path, truth in self.truths.items()}
        prompt = text_tokens(TRANSCRIBE_PROMPT)
        by_id = self.views.drop_duplicates("request_id").set_index("request_id")
        rows = []
        for model in self.settings.models:
            requests = [r for r in self.requests if r.model == model]
            sending = [r for r in requests if r.id not in done]
            images = sum(r.estimated_image_tokens() or 0 for r in sending)
            out = sum(output[by_id.loc[r.id, "path"]] for r in sending)
            cost = usage_cost_usd(model, images + prompt * len(sending), 0, out)
            rows.append(
                {
                    "model": model,
                    "requests": len(requests),
                    "answered": len(requests) - len(sending),
                    "to_send": len(sending),
                    "image_tokens": images,
                    "prompt_tokens": prompt * len(sending),
                    "output_tokens_estimate": out,
                    "cost_usd_estimate": math.nan if cost is None else cost,
                }
            )
        frame = pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)
        total = {c: frame[c].sum(min_count=len(frame)) for c in ESTIMATE_COLUMNS[1:]}
        return pd.concat([frame, pd.DataFrame([{"model": "all", **total}])], ignore_index=True)


def _truth(path: Path, reading: Reading) -> Truth:
    """`truth/<stem>.txt` beside the image when there is one, else the reader's reading."""
    file = path.parent / TRUTH_FOLDER / f"{path.stem}.txt"
    if not file.is_file():
        return Truth(reading.confident_words, reading.text, "reader")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8
        raise SettingsError(f"{file}: cannot read the truth text: {exc}") from None
    words = tuple(w for w in map(normalize, text.split()) if len(w) >= 2)
    return Truth(words, text, "truth file")


def _shuffled(images: Iterable[str | os.PathLike], seed: int) -> list[Path]:
    listing = list(iter_image_files(images))
    return random.Random(seed).sample(listing, len(listing))


def _failure(rows: pd.DataFrame) -> dict:
    message = str(rows["error"].iloc[0])
    kind, _, text = message.partition(": ")
    return {"path": str(rows["path"].iloc[0]), "error": {"type": kind, "message": text}}


def _sample(
    order: list[Path], settings: CalibrationSettings, executor, cache, bar
) -> tuple[list[pd.DataFrame], list[dict], int]:
    """The sweep rows of the first `settings.sample` images of `order` with text, the error
    rows of images that could not be read, and how many images were read to find them. The
    bar's total is the images read so far and in this round: it grows when an image has no
    text and another must be read."""
    grid, read = settings.grid(), 0
    chosen: list[pd.DataFrame] = []
    failed: list[dict] = []
    while len(chosen) < settings.sample and read < len(order):
        batch = order[read : read + settings.sample - len(chosen)]
        read += len(batch)
        bar.total = read
        bar.refresh()
        frame = run_sweep(batch, grid, executor, cache, progress=bar)
        for _, rows in frame.groupby("path", sort=False):
            if rows["source_width"].isna().all():
                failed.append(_failure(rows))
            elif rows["text_words"].max() >= MIN_TEXT_WORDS:
                chosen.append(rows)
    return chosen, failed, read


def _views(rows: pd.DataFrame, settings: CalibrationSettings, truth: Truth) -> list[dict]:
    """One view per sweep row of an image, with its request (None: the row failed)."""
    path = Path(rows["path"].iloc[0])
    parts = {}
    for side in settings.sizes:
        encoded = encode_image(path, settings.encoding(side))
        parts[side] = ImagePart.from_encoded(encoded, settings.detail)
    views = []
    for row in rows.itertuples():
        side = int(row.max_side)
        failed = isinstance(row.error, str)
        request = None if failed else Request(settings.spec(row.model), (parts[side],))
        views.append(
            {
                "model": row.model,
                "image": row.image,
                "path": row.path,
                "max_side": side,
                "format": row.format,
                "quality": row.quality,
                "detail": row.detail,
                "width": row.width,
                "height": row.height,
                "bytes": len(parts[side].data or b""),
                "kept_width": row.provider_width,
                "kept_height": row.provider_height,
                "tokens": row.tokens,
                "reader_word_recall": row.seen_word_recall,
                "truth_source": truth.source,
                "truth_words": len(truth.words),
                "request_id": None if request is None else request.id,
                "error": row.error if failed else None,
                "request": request,
            }
        )
    return views


def plan_calibration(
    images: Iterable[str | os.PathLike] | str | os.PathLike,
    settings: CalibrationSettings,
    *,
    executor: Executor | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = True,
) -> CalibrationPlan:
    """Sample, sweep and build the requests (step 1 of the module docstring).

    Raises:
        SettingsError: no image of `images` has text the reader reads.
    """
    if isinstance(images, str | os.PathLike):
        images = [images]
    order = _shuffled(images, settings.seed)
    owned = executor is None
    executor = default_executor() if executor is None else executor
    try:
        with progress_bar(0, progress, desc="calibrate: sample") as bar:
            chosen, failed, read = _sample(order, settings, executor, cache, bar)
    finally:
        if owned:
            executor.shutdown()
    if not chosen:
        raise SettingsError(
            f"none of the {len(order)} images has text the {settings.reader} reader reads "
            f"(at least {MIN_TEXT_WORDS} confident words in the original)"
        )
    grid, truths, views = settings.grid(), {}, []
    for rows in chosen:
        path = Path(rows["path"].iloc[0])
        readings = original_readings(rows["image_sha256"].iloc[0], grid, cache)
        truths[str(path)] = _truth(path, readings[settings.reader])
        views += _views(rows, settings, truths[str(path)])
    requests = list({v["request_id"]: v["request"] for v in views if v["request"]}.values())
    rank = {model: i for i, model in enumerate(settings.models)}
    frame = pd.DataFrame(views, columns=VIEW_COLUMNS).sort_values(
        ["path", "model", "max_side"], key=lambda c: c.map(rank) if c.name == "model" else c
    )
    # the largest size's request, and any other size sending the same bytes
    best = frame.loc[frame["max_side"] == settings.sizes[-1], "request_id"].dropna()
    frame["reference"] = frame["request_id"].isin(set(best))
    return CalibrationPlan(
        settings,
        frame.reset_index(drop=True),
        requests,
        truths,
        len(order),
        read,
        failed,
    )


def _answers(plan: CalibrationPlan, records: Mapping[str, dict]) -> dict[str, tuple]:
    """Per request answered: (the truth words its answer holds, who answered)."""
    by_id = plan.views.drop_duplicates("request_id").set_index("request_id")["path"]
    answers = {}
    for request in plan.requests:
        record = records.get(request.id, {})
        if record.get("status") == "ok":
            reader, text = emulated_reader(record.get("response_text"))
            words = plan.truths[by_id[request.id]].words
            emulator = str(record.get("request_id")).startswith(REQUEST_ID_PREFIX)
            answers[request.id] = (found_anywhere(words, text), transcriber(reader, emulator))
    return answers


def _outcome(record: Mapping, view: Mapping) -> dict:
    """What became of a view's request: status, error, billed usage."""
    if isinstance(view["error"], str):
        return {"status": "not sent", "error": view["error"]}
    if not record:
        return {"status": "not sent", "error": None}
    error = None
    if record["status"] != "ok":
        error = f"{record.get('error_type')}: {record.get('error_message')}"
    return {
        "status": record["status"],
        "error": error,
        **{k: record.get(k) for k in ("input_tokens", "output_tokens", "cost_usd")},
    }


def score_calibration(plan: CalibrationPlan, records: Mapping[str, dict]) -> pd.DataFrame:
    """The views with their answers (`records`: a results file read back, by request id),
    one row per (model, image, setting) with `ROW_COLUMNS`: the model's word recall of the
    truth, and relative to its best view (its largest size: the share of the words it read
    there that it still reads here), beside the reader's; `counted`: the view is one a
    calibration rests on (`toolkit.calibration.calibration_views`)."""
    answers = _answers(plan, records)
    views = plan.views
    best = views[views["reference"]].drop_duplicates(["model", "path"])
    best = best.set_index(["model", "path"])["request_id"]
    rows = []
    for view in views.to_dict("records"):
        row = {**view, **_outcome(records.get(view["request_id"]) or {}, view)}
        found, row["transcriber"] = answers.get(view["request_id"], (None, None))
        top = answers.get(best.get((view["model"], view["path"])), (None,))[0]
        if found is not None:
            row["model_words"] = sum(found)
            row["model_word_recall"] = sum(found) / max(1, len(found))
        if found is not None and top is not None:
            row["model_best_words"] = sum(top)
            kept = sum(here and there for here, there in zip(found, top, strict=True))
            row["model_word_recall_relative"] = kept / sum(top) if sum(top) else float("nan")
        rows.append(row)
    frame = pd.DataFrame(rows, columns=ROW_COLUMNS)
    frame["counted"] = frame.index.isin(calibration_views(frame)[0].index)
    return frame


def fit_calibrations(
    rows: pd.DataFrame, settings: CalibrationSettings, base_url: str | None = None
) -> list[Calibration]:
    """Each model's calibration from the scored rows (`toolkit.calibration.fit`), dated today
    (UTC), with where the answers came from (`base_url`: its kind only)."""
    from toolkit import __version__
    from toolkit.readers import get_reader

    context = {
        "reader": settings.reader,
        "reader_version": get_reader(settings.reader).version(),
        "base_url_kind": base_url_kind(base_url),
        "date": datetime.now(UTC).date().isoformat(),
        "settings": {
            "sizes": list(settings.sizes),
            "detail": settings.detail,
            "format": settings.format,
            "quality": settings.quality,
            "sample": settings.sample,
            "seed": settings.seed,
            "prompt": TRANSCRIBE_PROMPT,
        },
        "toolkit_version": __version__,
    }
    return [fit(rows[rows["model"] == model], context) for model in settings.models]


@dataclass
class CalibrationRun:
    """What `calibrate` did: its plan, the estimate made before sending, the scored rows and
    each model's calibration (None and empty after a dry run)."""

    plan: CalibrationPlan
    estimate: pd.DataFrame
    rows: pd.DataFrame | None = None
    calibrations: list[Calibration] = field(default_factory=list)


def check_budget(estimate: pd.DataFrame, max_usd: float | None) -> None:
    """`SettingsError` when the estimate's dollars are above `max_usd` (or unknown)."""
    if max_usd is None:
        return
    total = estimate.iloc[-1]
    cost = total["cost_usd_estimate"]
    if pd.isna(cost):
        raise SettingsError(
            "a model has no price: the estimate has no dollars, so --max-usd cannot be kept; "
            "nothing was sent"
        )
    if cost > max_usd:
        raise SettingsError(
            f"the estimate for {int(total['to_send'])} requests is ${cost:.4f}, above "
            f"--max-usd {max_usd:g}; nothing was sent"
        )


def calibrate(
    images: Iterable[str | os.PathLike] | str | os.PathLike,
    settings: CalibrationSettings,
    *,
    results_path: str | os.PathLike,
    base_url: str | None = None,
    api_key: str | None = None,
    max_usd: float | None = None,
    dry_run: bool = False,
    concurrency: int = CONCURRENCY,
    executor: Executor | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = True,
    on_estimate: Callable[[CalibrationPlan, pd.DataFrame], None] | None = None,
) -> CalibrationRun:
    """The whole loop of the module docstring, from synchronous code (in a notebook, whose
    event loop is running, take the steps and `await send_requests`).

    `on_estimate(plan, estimate)` is called before anything is sent; above `max_usd` dollars
    nothing is sent (`SettingsError`), and a `dry_run` stops there. Answers go to
    `results_path` (resumable: what it holds is not sent again) from `base_url` (default:
    `OPENAI_BASE_URL` or OpenAI) with `api_key` (default: `OPENAI_API_KEY`).
    """
    from toolkit.client import FINAL_STATUSES, read_results, resolve_api_key, run_requests

    if not dry_run:
        resolve_api_key(api_key)  # before the sweep, not after it
    records = read_results(results_path)
    plan = plan_calibration(images, settings, executor=executor, cache=cache, progress=progress)
    done = [i for i, r in records.items() if r.get("status") in FINAL_STATUSES]
    estimate = plan.estimate(done)
    if on_estimate is not None:
        on_estimate(plan, estimate)
    check_budget(estimate, max_usd)
    if dry_run:
        return CalibrationRun(plan, estimate)
    try:
        run_requests(
            plan.requests,
            results_path=results_path,
            api_key=api_key,
            base_url=base_url,
            concurrency=concurrency,
            progress=progress,
        )
    except KeyboardInterrupt:  # the requests in flight were answered and recorded
        raise KeyboardInterrupt(
            f"answers so far are in {results_path}; run again to send the rest"
        ) from None
    rows = score_calibration(plan, read_results(results_path))
    return CalibrationRun(plan, estimate, rows, fit_calibrations(rows, settings, base_url))
