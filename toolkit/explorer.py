"""Try encode settings on one image, live in JupyterLab: `explore(path_or_folder)`.

The explorer shows the original and what the provider keeps of it side by side, the same crop
of each magnified below, and the numbers: bytes, Base64 characters, tokens, dollars per
image, per 1,000 and per month, the size the provider keeps, seen SSIM and legibility. Its
"copy settings" box gives the `EncodeSettings(...)` and the `toolkit encode` command for what
is on screen.

The work is done by an `ExploreSession` (no widgets; the benchmark and tests drive it
directly), cached stage by stage so a change redoes only what it must: an image is decoded
once (per background colour), resized once per max side (the slider's other stops on a
background thread, right after the image is first shown) and encoded once per format and
quality; a model or detail change only re-prices the encode and, when the provider keeps
another size, compares that view.

The numbers are the sweep's (`toolkit.sweep`, `docs/METRICS.md`): the image is fully decoded
and resized once with LANCZOS; `seen_ssim` compares what the provider keeps, brought to the
reference size, with the original at that size (the original's size, its longest side
capped at `reference_side`: 2048 px, as in notebooks 01-04); legibility reads the kept view
at the original's size against the original, and only when the original has text
(`Reading.has_text`). `toolkit encode` may draft-decode a large JPEG, so its byte count can
differ from the explorer's by a fraction of a percent; tokens and dollars cannot.
"""

from __future__ import annotations

import functools
import html
import math
import os
import shlex
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw

from toolkit import display, formatting
from toolkit.dataurl import base64_chars
from toolkit.errors import SettingsError, SourceError, ToolkitError
from toolkit.images import (
    EncodeSettings,
    SourceImage,
    encode_pixels,
    fit_size,
    iter_image_files,
    load_image,
    resize_image,
)
from toolkit.legibility import MIN_TEXT_WORDS, Reading, legibility, read_text
from toolkit.paths import SAMPLES_DIR, shown_path
from toolkit.quality import RADIUS, Reference, busiest_box, decode_image, seen_view, to_size
from toolkit.readers import ENGINE
from toolkit.rulesets import find_model, known_models
from toolkit.sweep import SweepGrid, cost_or_nan, estimate_or_error

MAX_SIDES = (256, 384, 512, 768, 1024, 1536, 2048)  # px, the max-side slider's stops
ZOOMS = (1, 2, 4, 8, 16)  # magnifications of the crop
FORMATS = ("jpeg", "webp", "png")
REFERENCE_SIDE = 2048  # px: seen SSIM compares at the size notebooks 01-04 use
DISPLAY_SIDE = 400  # px, the longest side of each picture on screen
OUTLINE = (230, 40, 40)  # the crop's outline on the whole pictures


@dataclass(frozen=True)
class Choice:
    """What the explorer shows: one image and how it is sent. `centre` is the crop's centre
    as shares of the width and height; None is the centre of the image's busiest region."""

    image: Path
    max_side: int = 1024
    format: str = "jpeg"
    quality: int = 85
    model: str = "gpt-4o"
    detail: str = "high"
    background: tuple[int, int, int] = (255, 255, 255)
    monthly_images: int = 100_000
    zoom: int = 4
    centre: tuple[float, float] | None = None
    ocr: bool = True  # judge legibility (OCR takes seconds on a large text image)

    @property
    def settings(self) -> EncodeSettings:
        """The encode settings on screen (validated: `SettingsError`)."""
        return EncodeSettings(
            max_side=self.max_side,
            format=self.format,
            quality=self.quality,
            background=self.background,
            backend="pillow",  # the sweep's pixels, so copied settings give the screen's bytes
        )

    def sweep_grid(self, reference_side: int = REFERENCE_SIDE) -> SweepGrid:
        """The one-cell `SweepGrid` that measures any image like this one is measured."""
        return SweepGrid(
            max_sides=(self.max_side,),
            formats=(self.format,),
            qualities=(self.quality,),
            models=(self.model,),
            details=(self.detail,),
            compression_metrics=False,
            ocr=self.ocr,
            reader=ENGINE,  # the explorer reads with Tesseract alone: fast enough to slide
            reference_side=reference_side,
            base=EncodeSettings(background=self.background),
        )

    def python(self) -> str:
        """Python that encodes and prices the image like this."""
        background = f", background={self.background}" if self.background != (255,) * 3 else ""
        return (
            "settings = toolkit.EncodeSettings(\n"
            f"    max_side={self.max_side}, format={self.format!r}, quality={self.quality}"
            f"{background}, backend='pillow'\n)\n"
            f"encoded = toolkit.encode_image({_python_path(self.image)}, settings)\n"
            "toolkit.image_tokens(encoded.width, encoded.height, "
            f"{self.model!r}, {self.detail!r})"
        )

    def command(self) -> str:
        """The `toolkit encode` command line for the same (one line)."""
        words = ["toolkit", "encode", shown_path(self.image), "--max-side", str(self.max_side)]
        words += ["--format", self.format, "--quality", str(self.quality), "--backend", "pillow"]
        if self.background != (255, 255, 255):
            words += ["--background", _hex(self.background)]
        words += ["--model", self.model, "--detail", self.detail]
        return shlex.join(words)


def _scaled(box, scale_x: float, scale_y: float) -> tuple[float, float, float, float]:
    left, top, right, bottom = box
    return left * scale_x, top * scale_y, right * scale_x, bottom * scale_y


def _python_path(path: Path) -> str:
    """A path for Python that works from any folder (a notebook's is `notebooks/`)."""
    path = Path(path).absolute()
    if path.is_relative_to(SAMPLES_DIR):
        return f"toolkit.SAMPLES_DIR / {path.relative_to(SAMPLES_DIR).as_posix()!r}"
    return repr(str(path))


@dataclass(frozen=True)
class Original:
    """A decoded image with what every view of it is compared with, and its resizes."""

    source: SourceImage
    reference: Reference | None  # at the reference size; None when too small for SSIM
    thumbnail: Image.Image  # the whole image at display size
    centre: tuple[float, float]  # of its busiest region, as shares of width and height
    sizes: dict = field(default_factory=dict, compare=False, repr=False)  # max side -> image

    def resized(self, max_side: int | None) -> Image.Image:
        """The image resized to `max_side`, once (two threads asking at once may both
        compute it; either result is the same)."""
        if max_side not in self.sizes:
            self.sizes[max_side] = resize_image(self.source.image, max_side)
        return self.sizes[max_side]


@dataclass(frozen=True)
class Sent:
    """One encode: its bytes and the pixels the provider decodes from them."""

    data: bytes
    pixels: Image.Image


@dataclass(frozen=True)
class Pictures:
    """At display size: the whole original with the crop outlined and the same for what the
    provider keeps (None when it refuses the image), as JPEGs; the crop of each, magnified,
    as lossless PNGs (the crops are where compression shows)."""

    original: bytes
    original_crop: bytes
    kept: bytes | None
    kept_crop: bytes | None


class ExploreSession:
    """The explorer's computation, cached stage by stage (see the module docstring).

    `numbers(choice)` and `pictures(choice)` are the quick part of an update, `fidelity(choice)`
    the slow one (seen SSIM, OCR). Memory: the last two images decoded (a 12 MP photo is
    36 MB, its reference statistics 50 MB) and a few encodes of each. Raises `ToolkitError`s:
    `ImageError` for an image that cannot be used, `SettingsError` for an invalid setting,
    `UnknownModelError`/`UnsupportedDetailError` for a model or detail the rules do not know.
    """

    def __init__(self, reference_side: int = REFERENCE_SIDE, display_side: int = DISPLAY_SIDE):
        if isinstance(reference_side, bool) or not isinstance(reference_side, int):
            raise SettingsError(f"reference_side must be an integer, not {reference_side!r}")
        if reference_side <= 2 * RADIUS:
            raise SettingsError(f"reference_side must be > {2 * RADIUS}, not {reference_side}")
        self.reference_side = reference_side
        self.display_side = display_side
        cache = functools.lru_cache
        self.original = cache(maxsize=2)(self._original)  # (path, background)
        self.truth = cache(maxsize=2)(self._truth)  # (path, background)
        self.sent = cache(maxsize=16)(self._sent)  # (path, settings)
        self.kept = cache(maxsize=8)(self._kept)  # (path, settings, kept size)
        self.original_pictures = cache(maxsize=8)(self._original_pictures)
        self.kept_pictures = cache(maxsize=16)(self._kept_pictures)
        self._fidelity = cache(maxsize=64)(self._measure)
        self._worker: ThreadPoolExecutor | None = None
        self.prefetching: Future | None = None

    # --- stages (each cached under its own key) ----------------------------------------

    def _original(self, path: Path, background: tuple[int, int, int]) -> Original:
        source = load_image(path, EncodeSettings(background=background))
        at_reference = resize_image(source.image, self.reference_side)
        try:
            reference = Reference(at_reference)
        except SettingsError:  # smaller than the SSIM window
            reference = None
        thumbnail = to_size(at_reference, fit_size(*source.image.size, self.display_side))
        left, top, right, bottom = busiest_box(thumbnail, 1 / 4)
        centre = ((left + right) / 2 / thumbnail.width, (top + bottom) / 2 / thumbnail.height)
        return Original(source, reference, thumbnail, centre)

    def _truth(self, path: Path, background: tuple[int, int, int]) -> Reading | str:
        """What OCR reads in the full-size original, or why OCR cannot run."""
        try:
            return read_text(self.original(path, background).source.image)
        except SettingsError as exc:
            return str(exc)

    def prefetch(self, path: Path, background: tuple[int, int, int], sides) -> Future:
        """Resize the image to each of `sides` on a background thread (Pillow lets go of the
        GIL while it resizes), so that a later max-side change only encodes: on a 12 MP
        photo each resize takes about 0.2 s. `prefetching` is the latest such job."""
        original = self.original(path, background)
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="toolkit-explore")
        self.prefetching = self._worker.submit(lambda: [original.resized(s) for s in sides])
        return self.prefetching

    def _sent(self, path: Path, settings: EncodeSettings) -> Sent:
        resized = self.original(path, settings.background).resized(settings.max_side)
        data = encode_pixels(resized, settings, name=str(path))
        return Sent(data, decode_image(data, resized.mode))  # a grey image's WebP comes back RGB

    def _kept(self, path: Path, settings: EncodeSettings, size: tuple[int, int]):
        return to_size(self.sent(path, settings).pixels, size)

    # --- what an update shows ----------------------------------------------------------

    def numbers(self, choice: Choice) -> dict:
        """Sweep columns for `choice`: `width`, `height`, `bytes`, `base64_chars` and, unless
        the provider refuses the image (`error`), `detail` (resolved), `provider_width`,
        `provider_height`, `tokens`, `rules` and `cost_usd` (NaN without a price)."""
        sent = self.sent(choice.image, choice.settings)
        width, height = sent.pixels.size
        row = {"width": width, "height": height, "bytes": len(sent.data)}
        row["base64_chars"] = base64_chars(len(sent.data))
        estimate = estimate_or_error(width, height, choice.model, choice.detail, None)
        if isinstance(estimate, str):
            return {**row, "error": estimate}
        return {
            **row,
            "detail": estimate.detail,
            "provider_width": estimate.provider_width,
            "provider_height": estimate.provider_height,
            "tokens": estimate.tokens,
            "rules": estimate.rules,
            "cost_usd": cost_or_nan(estimate.tokens, choice.model, "standard", None),
        }

    def crop_box(self, choice: Choice) -> tuple[float, float, float, float]:
        """The crop in the original's pixels: 1/zoom of each side around the centre, kept
        inside the image."""
        original = self.original(choice.image, choice.background)
        width, height = original.source.image.size
        centre_x, centre_y = choice.centre or original.centre
        box_w, box_h = width / choice.zoom, height / choice.zoom
        left = min(max(centre_x * width - box_w / 2, 0), width - box_w)
        top = min(max(centre_y * height - box_h / 2, 0), height - box_h)
        return left, top, left + box_w, top + box_h

    def pictures(self, choice: Choice) -> Pictures:
        box = self.crop_box(choice)
        original, original_crop = self.original_pictures(choice.image, choice.background, box)
        numbers = self.numbers(choice)
        if "error" in numbers:
            return Pictures(original, original_crop, None, None)
        size = (numbers["provider_width"], numbers["provider_height"])
        kept, kept_crop = self.kept_pictures(choice.image, choice.settings, size, box)
        return Pictures(original, original_crop, kept, kept_crop)

    def _original_pictures(self, path: Path, background, box) -> tuple[bytes, bytes]:
        original = self.original(path, background)
        return self._whole_and_crop(original, original.source.image, original.thumbnail, box)

    def _kept_pictures(self, path: Path, settings, size, box) -> tuple[bytes, bytes]:
        original = self.original(path, settings.background)
        kept = self.kept(path, settings, size)
        return self._whole_and_crop(original, kept, to_size(kept, original.thumbnail.size), box)

    @staticmethod
    def _whole_and_crop(original: Original, view, whole, box) -> tuple[bytes, bytes]:
        """`whole` (`view`, the original or a kept view of it, at the thumbnail's size) with
        `box` (in the original's pixels) outlined, and that box of `view` magnified to the
        same size."""
        width, height = original.source.image.size
        size = original.thumbnail.size
        whole = whole.convert("RGB")  # a copy: cached pictures stay clean
        outline = _scaled(box, size[0] / width, size[1] / height)
        ImageDraw.Draw(whole).rectangle(outline, outline=OUTLINE, width=2)
        view_box = _scaled(box, view.width / width, view.height / height)
        crop = view.resize(size, Image.Resampling.LANCZOS, box=view_box)
        return display.jpeg_bytes(whole), display.png_bytes(crop)

    def fidelity(self, choice: Choice) -> dict:
        """Seen SSIM (`seen_ssim`, at `reference_width` x `reference_height`) and, with OCR,
        `text_words` and, when the original has text, `seen_word_recall` and
        `seen_char_accuracy`; `ocr_error` says why OCR could not run. Empty when the
        provider refuses the image."""
        numbers = self.numbers(choice)
        if "error" in numbers:
            return {}
        size = (numbers["provider_width"], numbers["provider_height"])
        return self._fidelity(choice.image, choice.settings, size, choice.ocr)

    def _measure(self, path: Path, settings: EncodeSettings, size, ocr: bool) -> dict:
        original = self.original(path, settings.background)
        sent = self.sent(path, settings).pixels
        out: dict = {"seen_ssim": math.nan}
        if original.reference is not None:
            reference = original.reference
            out["seen_ssim"] = reference.ssim(seen_view(sent, size, reference.size))
            out["reference_width"], out["reference_height"] = reference.size
        if not ocr:
            return out
        truth = self.truth(path, settings.background)
        if isinstance(truth, str):
            return {**out, "ocr_error": truth}
        out["text_words"] = len(truth.confident_words)
        if truth.has_text:
            score = legibility(truth, to_size(sent, size), original.source.image.size)
            out["seen_word_recall"] = score.word_recall
            out["seen_char_accuracy"] = score.char_accuracy
        return out


# --- what is shown -------------------------------------------------------------------------


def number_rows(choice: Choice, numbers: dict, fidelity: dict | None) -> list[tuple]:
    """(key, label, value) rows of the numbers; `fidelity` None while it is being measured."""
    how = choice.format.upper() + ("" if choice.format == "png" else f" quality {choice.quality}")
    size = numbers["bytes"]
    rows = [
        ("sent", "sent", f"{formatting.pixels(numbers['width'], numbers['height'])}, {how}"),
        ("bytes", "bytes", f"{formatting.count(size)} ({formatting.kilobytes(size)})"),
        ("base64_chars", "Base64 characters", formatting.count(numbers["base64_chars"])),
    ]
    if "error" in numbers:
        return [*rows, ("error", f"{choice.model} ({choice.detail})", numbers["error"])]
    cost = numbers["cost_usd"]
    kept = formatting.pixels(numbers["provider_width"], numbers["provider_height"])
    rows += [
        ("kept", f"kept by {choice.model} ({numbers['detail']})", kept),
        ("tokens", "image tokens", formatting.count(numbers["tokens"])),
        ("cost_usd", "$ per image", formatting.money(cost)),
        ("cost_usd_per_1k", "$ per 1,000 images", formatting.money(1000 * cost)),
        (
            "cost_usd_per_month",
            f"$ per month ({formatting.count(choice.monthly_images)} images)",
            formatting.money(choice.monthly_images * cost),
        ),
    ]
    return rows + fidelity_rows(choice, fidelity)


def fidelity_rows(choice: Choice, fidelity: dict | None) -> list[tuple]:
    if fidelity is None:
        return [("seen_ssim", "seen SSIM", "measuring…")]
    reference = "reference_width" in fidelity
    label = "seen SSIM" + (
        f" (at {formatting.pixels(fidelity['reference_width'], fidelity['reference_height'])})"
        if reference
        else ""
    )
    ssim = formatting.decimal(4)(fidelity["seen_ssim"]) if reference else "image too small"
    rows = [("seen_ssim", label, ssim)]
    if not choice.ocr:
        return [*rows, ("legibility", "legibility", "off")]
    if "ocr_error" in fidelity:
        return [*rows, ("legibility", "legibility", fidelity["ocr_error"])]
    words = fidelity["text_words"]
    if "seen_word_recall" not in fidelity:
        text = f"no text to judge ({words} words read, {MIN_TEXT_WORDS} needed)"
        return [*rows, ("legibility", "legibility", text)]
    return [
        *rows,
        ("seen_word_recall", f"words still read (of {words})", _percent(fidelity, "word_recall")),
        ("seen_char_accuracy", "characters right", _percent(fidelity, "char_accuracy")),
    ]


def _percent(fidelity: dict, name: str) -> str:
    return formatting.percent(fidelity[f"seen_{name}"])


def settings_html(choice: Choice) -> str:
    """The "copy settings" box: Python and the command line for what is on screen."""
    text = f"{choice.python()}\n\n{choice.command()}"
    return (
        '<div class="toolkit-caption">copy settings</div>'
        '<pre class="toolkit-settings" style="user-select:all;white-space:pre-wrap;'
        "overflow-wrap:anywhere;font-size:12px;margin:0;padding:4px 6px;background:#f5f5f5;"
        f'max-width:1230px">{html.escape(text)}</pre>'
    )


def captions(choice: Choice, original: Original, numbers: dict) -> list[str]:
    """Titles of the four pictures: whole original, whole kept view, and their crops."""
    source = original.source
    kept = (
        f"what {choice.model} keeps: "
        f"{formatting.pixels(numbers['provider_width'], numbers['provider_height'])}"
        if "error" not in numbers
        else f"{choice.model} refuses this image"
    )
    zoom = f"crop at {choice.zoom}×"
    return [
        f"original: {formatting.pixels(source.source_width, source.source_height)}",
        kept,
        f"{zoom}: original",
        f"{zoom}: what {choice.model} keeps",
    ]


# --- the widget ----------------------------------------------------------------------------


class Explorer:
    """The explorer's widgets over an `ExploreSession` (see `explore`). Displayed in a
    notebook it is live; where no kernel is attached (an HTML report) its static view shows
    what was on screen when the cell ran. `choice` is what is on screen now."""

    def __init__(
        self,
        images: Sequence[Path],
        choice: Choice,
        session: ExploreSession,
        models: Sequence[str],
    ):
        try:
            import ipywidgets as widgets  # type: ignore[import-untyped]
        except ImportError as exc:
            raise ImportError(
                "the explorer needs ipywidgets: pip install 'toolkit[notebooks]'"
            ) from exc

        self.session = session
        self.choice = choice
        self._quiet = False
        self._shown: tuple | None = None  # (choice, numbers, fidelity, pictures)
        self.timings_ms: dict[str, float] = {}  # the last update: "view", then "fidelity"
        sides = {*MAX_SIDES, choice.max_side}
        self.sides = sorted(side for side in sides if side <= session.reference_side)
        wide = {"style": {"description_width": "100px"}}
        self.controls = {
            "image": widgets.Dropdown(
                options=[(_label(p, images), p) for p in images],
                description="image",
                layout=widgets.Layout(width="400px"),
                **wide,
            ),
            "model": widgets.Dropdown(options=list(models), description="model", **wide),
            "detail": widgets.Dropdown(
                options=_details(choice.model), description="detail", **wide
            ),
            "max_side": widgets.SelectionSlider(
                options=self.sides,
                description="max side (px)",
                continuous_update=False,
                **wide,
            ),
            "format": widgets.ToggleButtons(
                options=FORMATS,
                description="format",
                style={"description_width": "100px", "button_width": "64px"},
            ),
            "quality": widgets.IntSlider(
                min=1, max=95, description="quality", continuous_update=False, **wide
            ),
            "background": widgets.ColorPicker(description="background", concise=True, **wide),
            "monthly_images": widgets.BoundedIntText(
                min=1, max=10**12, step=1000, description="images/month", **wide
            ),
            "ocr": widgets.Checkbox(description="legibility (OCR)", indent=False),
            "zoom": widgets.SelectionSlider(
                options=[(f"{z}×", z) for z in ZOOMS],
                description="crop zoom",
                continuous_update=False,
                **wide,
            ),
            "centre_x": _share_slider(widgets, "crop x", wide),
            "centre_y": _share_slider(widgets, "crop y", wide),
        }
        self._set_controls(choice)
        self.pictures = [widgets.Image(format=f) for f in ("jpeg", "jpeg", "png", "png")]
        self.captions = [widgets.HTML() for _ in range(4)]
        self.numbers = widgets.HTML()
        self.settings = widgets.HTML()
        self.status = widgets.HTML()
        self.widget = self._layout(widgets)
        self.widget.add_class("toolkit-explore")
        for control in self.controls.values():
            control.observe(self._changed, names="value")

    def _layout(self, widgets):
        c = self.controls
        rows = [
            [c["image"], c["model"], c["detail"]],
            [c["max_side"], c["quality"], c["format"]],
            [c["zoom"], c["centre_x"], c["centre_y"]],
            [c["background"], c["monthly_images"], c["ocr"]],
        ]
        controls = widgets.VBox([widgets.HBox(row) for row in rows])
        cells = [
            widgets.VBox([caption, picture])
            for caption, picture in zip(self.captions, self.pictures, strict=True)
        ]
        grid = widgets.GridBox(
            cells,
            layout=widgets.Layout(
                grid_template_columns="repeat(2, max-content)", grid_gap="4px 8px", flex="none"
            ),
        )
        self.numbers.layout = widgets.Layout(width="410px", flex="none", margin="0 0 0 12px")
        body = widgets.HBox(
            [grid, self.numbers],
            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"),
        )
        return widgets.VBox([controls, body, self.settings, self.status])

    def _set_controls(self, choice: Choice) -> None:
        """Put `choice` on the controls without triggering an update."""
        values = {
            "image": choice.image,
            "model": choice.model,
            "detail": choice.detail,
            "max_side": choice.max_side,
            "format": choice.format,
            "quality": choice.quality,
            "background": _hex(choice.background),
            "monthly_images": choice.monthly_images,
            "ocr": choice.ocr,
            "zoom": choice.zoom,
        }
        if choice.centre is not None:
            values["centre_x"], values["centre_y"] = choice.centre
        self._quiet = True
        try:
            if self.controls["detail"].options != _details(choice.model):
                self.controls["detail"].options = _details(choice.model)
            for name, value in values.items():
                self.controls[name].value = value
            self.controls["quality"].disabled = choice.format == "png"
        finally:
            self._quiet = False

    def _read_controls(self, changed: str | None) -> Choice:
        """The choice the controls show after a change of `changed`: a new model keeps its
        detail when it supports it (else `auto`); a new image or background recentres the
        crop on the busiest region."""
        values = {name: control.value for name, control in self.controls.items()}
        if changed == "model" and values["detail"] not in _details(values["model"]):
            values["detail"] = "auto"
        centre = (values.pop("centre_x"), values.pop("centre_y"))
        recentre = changed in ("image", "background")
        background = _colour(values.pop("background"))
        return Choice(**values, background=background, centre=None if recentre else centre)

    def _changed(self, change) -> None:
        if self._quiet:
            return
        name = next(n for n, c in self.controls.items() if c is change["owner"])
        try:
            self.show(self._read_controls(name))
        except ToolkitError as exc:  # nothing stale stays on screen beside the message
            for widget in self.pictures:
                widget.value = b""
            for widget in (*self.captions, self.numbers, self.settings):
                widget.value = ""
            self._shown = None
            self.status.value = f'<span class="toolkit-error">{type(exc).__name__}: {exc}</span>'

    def show(self, choice: Choice) -> None:
        """Put `choice` on screen: pictures and numbers first, then seen SSIM and legibility
        (`ToolkitError` for an image or setting that cannot be used)."""
        started = time.perf_counter()
        numbers = self.session.numbers(choice)
        pictures = self.session.pictures(choice)
        original = self.session.original(choice.image, choice.background)
        if choice.centre is None:  # a new image (or background): its other sizes come next
            choice = replace(choice, centre=original.centre)
            nearest = sorted(self.sides, key=lambda side: abs(side - choice.max_side))
            self.session.prefetch(choice.image, choice.background, nearest[1:])
        self.choice = choice
        self._set_controls(choice)
        for widget, data in zip(self.pictures, _in_order(pictures), strict=True):
            widget.value = data
        for widget, text in zip(self.captions, captions(choice, original, numbers), strict=True):
            widget.value = f'<div class="toolkit-caption">{text}</div>'
        self.numbers.value = display.facts_table(number_rows(choice, numbers, None))
        self.settings.value = settings_html(choice)
        quick = time.perf_counter()
        fidelity = self.session.fidelity(choice)
        self.numbers.value = display.facts_table(number_rows(choice, numbers, fidelity))
        done = time.perf_counter()
        self._shown = (choice, numbers, fidelity, pictures)
        self.timings_ms = {"view": 1000 * (quick - started), "fidelity": 1000 * (done - quick)}
        self.status.value = (
            f'<span class="toolkit-caption">pictures and cost in {self.timings_ms["view"]:.0f}'
            f" ms, fidelity in {self.timings_ms['fidelity']:.0f} ms</span>"
        )

    def static_html(self) -> str:
        """What is on screen as plain HTML (pictures inline), for pages without a kernel."""
        if self._shown is None:
            return self.status.value
        choice, numbers, fidelity, pictures = self._shown
        original = self.session.original(choice.image, choice.background)
        cells = "".join(
            f'<div><div class="toolkit-caption">{text}</div>{display.img_tag(data, text)}</div>'
            for text, data in zip(
                captions(choice, original, numbers), _in_order(pictures), strict=True
            )
        )
        numbers_html = display.facts_table(number_rows(choice, numbers, fidelity))
        return (
            '<div style="display:flex;gap:16px;flex-wrap:wrap">'
            f'<div style="display:grid;grid-template-columns:repeat(2,max-content);gap:6px">'
            f"{cells}</div><div>{numbers_html}{settings_html(choice)}</div></div>"
        )

    def sweep_grid(self) -> SweepGrid:
        """A one-cell `SweepGrid` of what is on screen, to try it on a whole folder."""
        return self.choice.sweep_grid(self.session.reference_side)

    def _repr_mimebundle_(self, **kwargs) -> dict:
        return {**self.widget._repr_mimebundle_(**kwargs), "text/html": self.static_html()}


def _in_order(pictures: Pictures) -> list[bytes]:
    """The four pictures in screen order; an empty picture where the provider refuses."""
    kept = [pictures.kept or b"", pictures.kept_crop or b""]
    return [pictures.original, kept[0], pictures.original_crop, kept[1]]


def _share_slider(widgets, description: str, style: dict):
    return widgets.FloatSlider(
        min=0,
        max=1,
        step=0.01,
        readout_format=".0%",
        description=description,
        continuous_update=False,
        **style,
    )


def _details(model: str) -> tuple[str, ...]:
    return find_model(model)[1].supported_details


def _label(path: Path, images: Sequence[Path]) -> str:
    """`path` relative to the images' common folder."""
    root = Path(os.path.commonpath([p.parent for p in images]))
    return str(path.relative_to(root))


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _colour(value: str | Sequence[int]) -> tuple[int, int, int]:
    """An (r, g, b) triple from a colour name, `#rrggbb` or a triple."""
    if isinstance(value, str):
        try:
            red, green, blue = ImageColor.getrgb(value)[:3]
        except ValueError:
            raise SettingsError(f"background: not a colour: {value!r}") from None
        return red, green, blue
    red, green, blue = value
    return red, green, blue


def _check(choice: Choice, reference_side: int, models: Sequence[str]) -> None:
    """`SettingsError` (or the rules' errors) for a choice the explorer cannot show."""
    choice.settings  # noqa: B018 (validates max side, format, quality and background)
    if choice.max_side > reference_side:
        raise SettingsError(
            f"max_side {choice.max_side} is above reference_side {reference_side}: seen SSIM "
            "would be blind to what that size keeps"
        )
    for model in {choice.model, *models}:
        find_model(model)  # an unknown model names the known ones
    if choice.model not in models:
        raise SettingsError(f"model {choice.model!r} is not among the models offered")
    find_model(choice.model)[1].resolve_detail(choice.detail)
    if choice.zoom not in ZOOMS:
        raise SettingsError(f"zoom must be one of {ZOOMS}, not {choice.zoom!r}")
    monthly = choice.monthly_images
    if isinstance(monthly, bool) or not isinstance(monthly, int) or monthly < 1:
        raise SettingsError(f"monthly_images must be a positive integer, not {monthly!r}")


def explore(
    path_or_folder: str | os.PathLike,
    *,
    image: str | None = None,
    max_side: int = 1024,
    format: str = "jpeg",
    quality: int = 85,
    model: str = "gpt-4o",
    detail: str = "high",
    background: str | Sequence[int] = "white",
    monthly_images: int = 100_000,
    zoom: int = 4,
    ocr: bool = True,
    models: Sequence[str] | None = None,
    reference_side: int = REFERENCE_SIDE,
) -> Explorer:
    """An explorer over one image file or a folder of them (walked); display it in a cell.

    `image` picks the first image shown (a file name or a path under the folder; default the
    first file). The other arguments are the settings first on screen; `models` are those the
    model menu offers (default: every model the rule sets know). `reference_side` caps the
    size at which seen SSIM is compared (see the module docstring) and the max-side slider.
    The first image is decoded and measured before this returns.

    Raises `SourceError` for a path that does not exist or holds no image, `ImageError` when
    the first image cannot be used, `SettingsError`, `UnknownModelError` or
    `UnsupportedDetailError` for a setting the explorer cannot show.
    """
    root = Path(path_or_folder)
    if not root.exists():
        raise SourceError(str(root), "no such file or folder")
    images = [p.absolute() for p in iter_image_files([root])]
    if not images:
        raise SourceError(str(root), "holds no image file")
    models = list(models) if models is not None else known_models()
    session = ExploreSession(reference_side)
    choice = Choice(
        _pick(images, image, root),
        max_side=max_side,
        format=str(format).lower(),
        quality=quality,
        model=model,
        detail=detail,
        background=_colour(background),
        monthly_images=monthly_images,
        zoom=zoom,
        ocr=ocr,
    )
    _check(choice, reference_side, models)
    explorer = Explorer(images, choice, session, models)
    explorer.show(choice)
    return explorer


def _pick(images: list[Path], image: str | None, root: Path) -> Path:
    """The image named `image` (a file name, or a path relative to `root` or absolute)."""
    if image is None:
        return images[0]
    wanted = [Path(image).absolute(), (root / image).absolute()]
    for path in images:
        if path in wanted or path.name == image:
            return path
    raise SourceError(str(image), f"not an image file in {root}")
