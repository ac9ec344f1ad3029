"""A reader judged against a model: the reader's threshold that stands for the model keeping
its words, the calibration file that records it, and the text floors it gives `recommend`.

`toolkit calibrate` (`toolkit.calibrate`) sends views of images at several sizes to a model
with a verbatim-transcription prompt and scores each answer (`model_word_recall_relative`:
the share of the words the model read in its own best view of the image, its largest size,
that it still reads in this view) beside the reader's legibility of the same view
(`reader_word_recall`, the sweep's `seen_word_recall`). From those rows, per model:

- **threshold**: the lowest reader value, among the calibration views, at or above which every
  view keeps at least `MODEL_FLOOR` (0.95) of the model's words. Conservative: any floor above
  the reader's highest value on a view where the model lost words (`highest_failing`) fits
  the views as well, and the threshold is the lowest value actually seen above it. When the
  model lost words in no view (`bounded` False) the threshold is the lowest reader value
  seen, not a measured boundary. None when even the view the reader reads best lost words.
- **views** it rests on: distinct requests (a size that sends the same bytes as another is
  one view), not counting the largest size (the reference, 1 by definition) nor images in
  whose best view the model reads fewer than `legibility.MIN_TEXT_WORDS` of the truth's
  words (named in `excluded`).
- **agreement** at the default floor (`DecisionRules().min_legibility`): views where reader and
  model agree, where the reader is stricter (it fails a view the model keeps) or looser.

A calibration file (JSON) holds one dated calibration per model; `load_calibrations` reads
one or more, `calibrated_rules` turns them into per-model `DecisionRules` for `recommend`,
each saying where its text floor comes from.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from toolkit.errors import SettingsError
from toolkit.formatting import counted
from toolkit.legibility import METHOD, MIN_TEXT_WORDS
from toolkit.recommend import DecisionRules
from toolkit.transcribe import MODEL

MODEL_FLOOR = 0.95  # share of its own best reading a view must keep for the model
FORMAT = "toolkit-calibration"
VERSION = 1
DEFINITION = (
    "the lowest reader word recall, among the calibration views, at or above which every view "
    "keeps >= {floor:g} of the words the model read in its own best view of the image (its "
    "largest size); that size and images the model reads fewer than {words} truth words in "
    "are not counted"
)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Calibration:
    """One model's calibration of one reader (see the module docstring for each measure)."""

    model: str
    reader: str
    reader_version: str
    threshold: float | None
    bounded: bool
    highest_failing: float | None
    views: int
    images: int
    agree: int
    reader_stricter: int
    reader_looser: int
    transcriber: str  # "model", or "emulated (tesseract reading)"
    base_url_kind: str  # openai | local | custom (never the URL's secrets, never the key)
    date: str  # ISO date the calibration was made (UTC)
    settings: dict  # sizes, detail, format, quality, sample, seed, prompt
    truth: dict  # images per truth source ("truth file", "reader")
    excluded: list[str] = field(default_factory=list)
    model_floor: float = MODEL_FLOOR
    default_floor: float = DecisionRules().min_legibility
    legibility_method: int = METHOD
    toolkit_version: str = ""

    @property
    def live(self) -> bool:
        return self.transcriber == MODEL

    @property
    def status(self) -> str:
        """Either "live" or "emulated"."""
        return "live" if self.live else "emulated"

    def source(self) -> str:
        """Where a text floor set from this comes from, for findings and recommendations."""
        return (
            f"from calibration against {self.model}, {self.status}, {self.date}, "
            f"{self.images} images"
        )

    def to_dict(self) -> dict:
        definition = DEFINITION.format(floor=self.model_floor, words=MIN_TEXT_WORDS)
        return {**asdict(self), "status": self.status, "definition": definition}

    @classmethod
    def from_dict(cls, data: object, where: str) -> Calibration:
        """A calibration read back (`SettingsError` naming `where` when it is not one)."""
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or not {"model", "reader", "threshold"} <= set(data):
            raise SettingsError(f"{where}: not a calibration (model, reader, threshold needed)")
        try:
            calibration = cls(**{k: v for k, v in data.items() if k in names})
        except TypeError as exc:
            raise SettingsError(f"{where}: not a calibration: {exc}") from None
        threshold = calibration.threshold
        if threshold is not None and not (
            isinstance(threshold, int | float) and 0 <= threshold <= 1
        ):
            raise SettingsError(f"{where}: threshold must be null or in [0, 1], not {threshold!r}")
        return calibration


def reader_threshold(reader: pd.Series, kept: pd.Series, floor: float = MODEL_FLOOR) -> dict:
    """`threshold`, `bounded` and `highest_failing` of views whose reader values are `reader`
    and model values `kept` (see the module docstring)."""
    failing = reader[kept < floor]
    highest = float(failing.max()) if len(failing) else None
    above = reader if highest is None else reader[reader > highest]
    return {
        "threshold": float(above.min()) if len(above) else None,
        "bounded": highest is not None,
        "highest_failing": highest,
    }


def agreement(reader: pd.Series, kept: pd.Series, floor: float) -> dict:
    """Views both judge alike at `floor`, and those only the model (`reader_stricter`) or only
    the reader (`reader_looser`) lets pass."""
    reader_passes, model_passes = reader >= floor, kept >= MODEL_FLOOR
    return {
        "agree": int((reader_passes == model_passes).sum()),
        "reader_stricter": int((~reader_passes & model_passes).sum()),
        "reader_looser": int((reader_passes & ~model_passes).sum()),
    }


def calibration_views(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The rows a calibration counts (one per distinct request, the reference size and
    failed requests left out) and the images left out because the model reads too few of
    their words even at its best."""
    answered = rows[(rows["status"] == "ok") & rows["reader_word_recall"].notna()]
    best = answered["model_best_words"].fillna(0)  # NaN: its best view was not answered
    unread = answered.loc[best < MIN_TEXT_WORDS, "image"].unique()
    excluded = [
        f"{image}: the model's best view holds fewer than {MIN_TEXT_WORDS} of its words, or "
        "was not answered"
        for image in sorted(unread)
    ]
    counted = answered[~answered["reference"] & ~answered["image"].isin(unread)]
    return counted.drop_duplicates("request_id"), excluded


def base_url_kind(base_url: str | None) -> str:
    """`openai` (the default endpoint), `local` (this machine) or `custom`."""
    base_url = base_url or os.environ.get("OPENAI_BASE_URL")
    if not base_url:
        return "openai"
    host = urlsplit(base_url).hostname or ""
    if host in LOCAL_HOSTS:
        return "local"
    return "openai" if host == "api.openai.com" else "custom"


def fit(rows: pd.DataFrame, context: Mapping) -> Calibration:
    """One model's calibration from its scored rows (`toolkit.score_calibration`); `context`
    gives the fields the rows do not: reader, reader_version, base_url_kind, date, settings,
    toolkit_version.

    Raises:
        SettingsError: the rows mix a model's answers with emulated ones.
    """
    model = str(rows["model"].iloc[0])
    transcribers = set(rows.loc[rows["status"] == "ok", "transcriber"])
    if len(transcribers) > 1:
        raise SettingsError(
            f"the answers for {model} mix {sorted(transcribers)}: a results file holds one "
            "kind of answer; use another --results file"
        )
    views, excluded = calibration_views(rows)
    default_floor = DecisionRules().min_legibility
    reader, kept = views["reader_word_recall"], views["model_word_recall_relative"]
    truth = rows.drop_duplicates("image")["truth_source"].value_counts()
    return Calibration(
        model=model,
        transcriber=next(iter(transcribers), MODEL),
        views=len(views),
        images=int(views["image"].nunique()),
        truth={str(k): int(v) for k, v in truth.items()},
        excluded=excluded,
        **reader_threshold(reader, kept),
        **agreement(reader, kept, default_floor),
        **{k: context[k] for k in ("reader", "reader_version", "base_url_kind", "date")},
        settings=dict(context["settings"]),
        toolkit_version=str(context["toolkit_version"]),
    )


def write_calibrations(calibrations: Iterable[Calibration], path: str | os.PathLike) -> Path:
    """Write a calibration file (one entry per model) and return its path."""
    path = Path(path)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "calibrations": [c.to_dict() for c in calibrations],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def read_calibrations(path: str | os.PathLike) -> list[Calibration]:
    """The calibrations of one file (`SettingsError` naming it when it is not one)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:  # not UTF-8 or not JSON
        raise SettingsError(f"{path}: not a calibration file: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SettingsError(f"{path}: not a calibration file (toolkit calibrate -o writes them)")
    if document.get("version") != VERSION:
        raise SettingsError(f"{path}: calibration format version {document.get('version')!r}")
    entries = document.get("calibrations")
    if not isinstance(entries, list):
        raise SettingsError(f"{path}: no list of calibrations")
    return [Calibration.from_dict(entry, f"{path} entry {i}") for i, entry in enumerate(entries)]


def load_calibrations(paths: Iterable[str | os.PathLike]) -> dict[str, Calibration]:
    """Per model, its calibration from the files `paths` (a model in two is an error)."""
    by_model: dict[str, Calibration] = {}
    for path in paths:
        for calibration in read_calibrations(path):
            if calibration.model in by_model:
                raise SettingsError(f"{calibration.model} is calibrated twice (again in {path})")
            by_model[calibration.model] = calibration
    return by_model


def calibrated_rules(
    calibrations: Mapping[str, Calibration],
    rules: DecisionRules,
    models: Iterable[str],
    reader: str,
) -> dict[str, DecisionRules]:
    """Per model of `models`, `rules` with its text floor set to its calibration's threshold
    (the others keep `rules`). `reader` is what the results to judge were read with.

    Raises:
        SettingsError: a calibration is of another reader or legibility method than the
            results', or has no threshold to give.
    """
    out = {}
    for model in models:
        calibration = calibrations.get(model)
        if calibration is None:
            out[model] = rules
            continue
        if calibration.reader != reader or calibration.legibility_method != METHOD:
            raise SettingsError(
                f"the calibration of {model} is of the {calibration.reader} reader (legibility "
                f"method {calibration.legibility_method}); these results are read by {reader} "
                f"(method {METHOD}): calibrate that reader, or recommend --reader "
                f"{calibration.reader}"
            )
        threshold = calibration.threshold
        if threshold is None or threshold <= 0:
            raise SettingsError(
                f"the calibration of {model} gives no text floor: the model lost words even in "
                f"views the reader reads at {calibration.highest_failing}; the reader cannot "
                "stand for it"
                if threshold is None
                else f"the calibration of {model} puts the reader's threshold at 0: the model "
                "kept its words where the reader read none; the reader cannot judge it"
            )
        out[model] = replace(rules, min_legibility=threshold, floor_source=calibration.source())
    return out


def results_reader(results: pd.DataFrame) -> str:
    """The reader a sweep's rows were judged by (`SettingsError` unless exactly one)."""
    readers = sorted(set(results["reader"].dropna()))
    if len(readers) != 1:
        raise SettingsError(
            f"a calibration applies to results read by one reader; these are read by {readers}"
        )
    return readers[0]


def status_text(calibrations: Iterable[Calibration]) -> str:
    """The calibration status for a report's front page: "none", "emulated", or "live, DATE"
    (the latest live one)."""
    made = list(calibrations)
    live = sorted(c.date for c in made if c.live)
    if live:
        return f"live, {live[-1]}"
    return "emulated" if made else "none"


def threshold_text(calibration: Calibration) -> str:
    """One line: the threshold, what it rests on and how the reader compares at the default."""
    if calibration.threshold is None:
        value = (
            "no reader threshold (the model lost words even in the views the reader reads best)"
        )
    else:
        value = f"reader threshold {calibration.threshold:.2f}"
    if calibration.threshold is not None and not calibration.bounded:
        value += " (the model lost no words in any view: the lowest reader value seen)"
    disagree = calibration.reader_stricter + calibration.reader_looser
    return (
        f"{calibration.model}: {value} on {counted(calibration.views, 'view')} of "
        f"{counted(calibration.images, 'image')} ({calibration.status}, {calibration.date}); "
        f"at the default floor {calibration.default_floor:g} the reader disagreed on {disagree} "
        f"(stricter {calibration.reader_stricter}, looser {calibration.reader_looser})"
    )
