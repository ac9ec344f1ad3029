"""The report's vocabulary, defined once: the index's glossary, `docs/GLOSSARY.md` and the
finding's description of the seed recipe all come from here. Each term names the columns and
options that carry it, so a page, a CSV and the CLI say the same thing.

`python -m toolkit.glossary > docs/GLOSSARY.md` writes the Markdown page.
"""

from __future__ import annotations

import html
from typing import NamedTuple

from toolkit.images import DEFAULT_SETTINGS
from toolkit.legibility import MIN_TEXT_WORDS
from toolkit.rulesets import SEED_DETAIL
from toolkit.summary import FEW_IMAGES


class Term(NamedTuple):
    term: str
    names: str  # the columns and options that carry it ("" when none)
    definition: str


def seed_recipe_text() -> str:
    """The seed recipe spelled out: "longest side 800 px, JPEG quality 85, detail high"."""
    seed = DEFAULT_SETTINGS
    return (
        f"longest side {seed.max_side} px, {seed.format.upper()} quality {seed.quality}, "
        f"detail {SEED_DETAIL}"
    )


TERMS = (
    Term(
        "seed recipe",
        "seed_cost_usd_per_1k, seed_monthly_usd, seed_monthly_batch_usd",
        f"The baseline every change is measured against: {seed_recipe_text()} (resized with "
        "LANCZOS, never enlarged, JPEG optimize on), the way the brief's code sends images. It "
        "is priced on the same images as each pick.",
    ),
    Term(
        "change",
        "change_pct",
        "A pick's dollars against the seed recipe's on the same images: 100 × (pick ÷ seed "
        "− 1). More expensive is positive (+40 % costs 1.4 times the seed recipe), cheaper is "
        "negative. One model's Batch rate is a fixed share of its standard rate, so the change "
        "is the same at either tier.",
    ),
    Term(
        "pick (one pick per category)",
        "toolkit recommend; max_side, format, quality, detail",
        "For each model and image category, the cheapest setting in the grid that keeps every "
        "image of the category above its floor; ties go to fewer bytes.",
    ),
    Term(
        "per image (adaptive)",
        "adaptive_cost_usd_per_1k, adaptive_monthly_usd; toolkit encode --adaptive",
        "Each image gets its own cheapest setting that keeps its own floor (the category rule "
        "applied to one image), as per-title video encoding does.",
    ),
    Term(
        "floor",
        "min_legibility, min_fidelity, text_floor; --min-legibility, --min-fidelity",
        "The least a setting must keep. The text floor: the share of the original's words the "
        "reader still reads in the seen view (images with text). The fidelity floor: the "
        "share of the ceiling SSIM the seen view keeps (photos, graphics). The text floor can "
        "be measured against the model (calibration); the fidelity floor is a choice.",
    ),
    Term(
        "seen view",
        "provider_width, provider_height",
        "What the provider keeps of a sent image: the encode, resized by the model's own rule "
        "for its detail level. Fidelity and legibility are judged on it, against the original.",
    ),
    Term(
        "seen SSIM",
        "seen_ssim",
        "Structural similarity (luma, 1 = identical) of the seen view against the original, "
        "both brought to the report's reference size.",
    ),
    Term(
        "ceiling",
        "ceiling_ssim, fidelity_relative_min",
        "The seen SSIM of the original sent whole at the model's most generous detail level: "
        "the most of the image that model can keep. Fidelity kept is seen SSIM ÷ ceiling.",
    ),
    Term(
        "words kept (legibility)",
        "seen_word_recall, ocr_relative_min",
        "The share of the words the reader reads in the full-resolution original that it "
        "still reads in the seen view. An image with fewer than "
        f"{MIN_TEXT_WORDS} confidently read words has no text to judge.",
    ),
    Term(
        "binding rule",
        "binding, binding_detail",
        "What stopped the next cheaper setting: legibility (an image lost words), fidelity "
        "(an image fell below the fidelity floor), error (the provider refused an image) or "
        "grid (the cheapest setting tried already qualifies: try smaller ones).",
    ),
    Term(
        "crops",
        "crops_images, crops_setting, crops_cost_usd_per_1k; toolkit encode --crops",
        "An image whose text no setting keeps legible is cut into tiles the model keeps whole, "
        "each sent as its own image; the category's dollars include them.",
    ),
    Term(
        "reader",
        "reader; --reader auto|tesseract|neural",
        "The OCR engine legibility is measured with (Tesseract, or a neural PP-OCR model; auto, "
        "the default: Tesseract, and PP-OCR for an image Tesseract reads in few words, such as "
        "a chart). A reader is an instrument: its threshold can be calibrated against the model.",
    ),
    Term(
        "calibration",
        "text_floor_source; toolkit calibrate, --calibration",
        "The model transcribes the seen views; the reader's threshold is set where the model "
        "still keeps its words, and becomes that model's text floor. Emulated: the local "
        "emulator read with a reader instead (a demonstration, not a measurement).",
    ),
    Term(
        "detail",
        "detail, detail_note; --detail",
        "The API's image level. Its meaning depends on the model: on gpt-4o low is a flat "
        "512 px view, on gpt-5.4 low has a larger patch budget than high, on gpt-4.1-mini low "
        "and high are the same. auto stands for one level per model.",
    ),
    Term(
        "tier",
        "tier; --tier standard|batch|cached",
        "The price list: standard, the Batch API (about half, answered within 24 h) or cached "
        "input.",
    ),
    Term(
        "tokens and $ per 1,000 images",
        "tokens, cost_usd, cost_usd_per_1k",
        "Image input tokens by the provider's documented rule, and their dollars, as a mean "
        "per image × 1,000; prompt and answer tokens are the same whatever the encoding and "
        "are left out.",
    ),
    Term(
        "few images (*)",
        "few_images",
        f"A row resting on fewer than {FEW_IMAGES} images: an example, not a measurement.",
    ),
)


def glossary_html() -> str:
    """The glossary as an HTML definition list (the index's `#glossary` section)."""
    items = "".join(
        f'<dt id="term-{html.escape(t.term.split(" (")[0].replace(" ", "-"))}">'
        f"{html.escape(t.term)}</dt><dd>{html.escape(t.definition)}"
        + (f' <span class="note">({html.escape(t.names)})</span>' if t.names else "")
        + "</dd>"
        for t in TERMS
    )
    return f'<dl class="glossary">{items}</dl>'


def glossary_markdown() -> str:
    """The glossary as `docs/GLOSSARY.md`."""
    lines = [
        "# Glossary",
        "",
        "The words the report, the CSVs and the `toolkit` command use (generated by",
        "`python -m toolkit.glossary`; the report's index shows the same list).",
        "",
    ]
    for t in TERMS:
        names = f" (`{'`, `'.join(t.names.replace('; ', ', ').split(', '))}`)" if t.names else ""
        lines += [f"**{t.term}**{names}: {t.definition}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(glossary_markdown(), end="")
