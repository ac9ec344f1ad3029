"""Readers: the registry, their combination, the neural reader, recombining a sweep's rows."""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw, ImageFont

from toolkit import legibility, quality
from toolkit.errors import SettingsError
from toolkit.paths import SAMPLES_DIR
from toolkit.reader_columns import with_readers
from toolkit.readers import READERS, THIN_WORDS, ReaderSpec, get_reader, reader_unavailable
from toolkit.sweep import SweepGrid, run_sweep

needs_neural = pytest.mark.skipif(
    reader_unavailable("neural") is not None or reader_unavailable("tesseract") is not None,
    reason="the neural reader (or Tesseract) cannot run here",
)
LINES = [
    "Quarterly invoice 4821 for Acme Supplies payable within thirty days",
    "Total due 93.50 euros by bank transfer with reference ACME-2026",
    "Questions about this invoice go to the accounts team by email",
]


def text_page(path=None, size: int = 16) -> Image.Image:
    image = Image.new("RGB", (900, 60 + 2 * size * len(LINES)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(LINES):
        draw.text((20, 30 + 2 * size * i), line, fill="black", font=ImageFont.load_default(size))
    if path is not None:
        image.save(path)
    return image


def test_a_spec_names_one_or_two_readers_and_how_two_combine():
    assert ReaderSpec().describe() == "auto" and ReaderSpec.parse("tesseract").describe() == (
        "tesseract"
    )
    both = ReaderSpec.parse("tesseract, neural", "stricter")
    assert (
        both.names == ("tesseract", "neural")
        and both.describe() == "stricter of tesseract, neural"
    )
    assert (
        both.pick([0.9, 0.7]) == 0.7
        and ReaderSpec.parse("tesseract,neural").pick([0.9, 0.7]) == 0.9
    )
    assert both.pick([math.nan, 0.8]) == 0.8  # a reader that found no text does not count
    assert math.isnan(both.pick([math.nan, math.nan]))
    for bad, match in (
        ("easyocr", "unknown reader 'easyocr'"),
        ("tesseract,tesseract", "two different"),
    ):
        with pytest.raises(SettingsError, match=match):
            ReaderSpec.parse(bad)
    with pytest.raises(SettingsError, match="combine"):
        ReaderSpec.parse("tesseract", "mean")
    with pytest.raises(SettingsError, match="takes two readers"):
        ReaderSpec.parse("neural", "auto")
    assert set(READERS) == {"tesseract", "neural"} and get_reader("neural").name == "neural"


def test_auto_judges_by_tesseract_unless_it_reads_few_words_and_pp_ocr_reads_more():
    auto = ReaderSpec.parse("auto", "stricter")  # a combination does not apply to auto
    assert auto == ReaderSpec() and auto.names == ("tesseract", "neural")
    assert auto.required == ("tesseract",) and auto.reads("tesseract", {})
    assert not auto.reads("neural", {"tesseract": THIN_WORDS})
    assert auto.complete({"tesseract": THIN_WORDS}) and not auto.complete({})
    assert auto.pick([0.9, 0.7], [THIN_WORDS, 40]) == 0.9  # enough words: Tesseract's
    assert auto.pick([0.9, 0.7], [THIN_WORDS - 1, 40]) == 0.7  # too few, PP-OCR reads more
    assert auto.pick([0.9, math.nan], [12, None]) == 0.9  # PP-OCR did not read it
    assert auto.pick([0.9, 0.7], [12, 10]) == 0.9  # PP-OCR reads fewer still
    assert auto.pick([math.nan, 0.7], [3, 15]) == 0.7  # text for PP-OCR only
    assert not auto.reads("neural", {"tesseract": 0}) and auto.complete({"tesseract": 0})
    assert math.isnan(auto.pick([math.nan, 0.7], [0, 15]))  # no word at all: a picture


@needs_neural
def test_the_neural_reader_reads_an_original_fully_and_loses_words_when_it_shrinks():
    original = text_page()
    truth = legibility.read_text(original, "neural")
    assert truth.reader == "neural" and truth.has_text and "4821" in truth.confident_words
    assert legibility.legibility(truth, original).word_recall == 1.0
    kept = quality.seen_view(original, (original.width // 4, original.height // 4), original.size)
    assert legibility.legibility(truth, kept).word_recall < 0.6
    assert "PP-OCRv6" in get_reader("neural").version()


@needs_neural
def test_a_sweep_read_by_two_readers_keeps_each_and_combines_them(tmp_path):
    text_page(tmp_path / "page.png")
    noise = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "a.jpg")
    grid = SweepGrid(
        max_sides=(300, 900),
        formats=("jpeg",),
        qualities=(85,),
        models=("gpt-4o",),
        ocr=True,
        reader="tesseract,neural",
        combine="stricter",
    )
    with ThreadPoolExecutor(2) as threads:
        df = run_sweep([tmp_path / "page.png", tmp_path / "a.jpg"], grid, threads, progress=False)
    page = df[df["image"] == "page.png"]
    assert (page["reader"] == "stricter of tesseract, neural").all()
    each = page[["tesseract_word_recall", "neural_word_recall"]]
    assert each.notna().all().all()
    assert list(page["seen_word_recall"]) == list(each.min(axis=1))
    assert list(page["text_words"]) == list(
        page[["tesseract_text_words", "neural_text_words"]].max(axis=1)
    )
    assert df[df["image"] == "a.jpg"]["seen_word_recall"].isna().all()  # no text: not 0
    looser = with_readers(df, "tesseract,neural", "looser")
    assert list(looser.loc[page.index, "seen_word_recall"]) == list(each.max(axis=1))
    alone = with_readers(df, "neural")
    assert list(alone.loc[page.index, "seen_word_recall"]) == list(page["neural_word_recall"])
    assert (alone.loc[page.index, "reader"] == "neural").all()


@needs_neural
def test_an_auto_sweep_reads_a_chart_with_pp_ocr_and_a_page_with_tesseract_alone(tmp_path):
    text_page(tmp_path / "page.png")
    chart = SAMPLES_DIR / "chart" / "bar_grouped.png"  # 13 words for Tesseract, 40 for PP-OCR
    grid = SweepGrid(
        max_sides=(512, 1024), formats=("webp",), qualities=(85,), models=("gpt-4o",), ocr=True
    )
    assert grid.readers.combine == "auto"  # the default
    df = run_sweep([tmp_path / "page.png", chart], grid, progress=False)
    assert (df["reader"] == "auto").all()
    page, bars = df[df["image"] == "page.png"], df[df["image"] == "bar_grouped.png"]
    assert page["neural_text_words"].isna().all() and page["neural_word_recall"].isna().all()
    assert list(page["seen_word_recall"]) == list(page["tesseract_word_recall"])
    assert (bars["tesseract_text_words"] < THIN_WORDS).all()
    assert (bars["neural_text_words"] > bars["tesseract_text_words"]).all()
    assert list(bars["seen_word_recall"]) == list(bars["neural_word_recall"])
    assert list(bars["text_words"]) == list(bars["neural_text_words"])
    again = with_readers(df.assign(seen_word_recall=math.nan), "auto")
    assert list(again["seen_word_recall"]) == list(df["seen_word_recall"])
    tesseract = with_readers(df, "tesseract")  # judged as Tesseract alone read it
    assert list(tesseract.loc[bars.index, "seen_word_recall"]) == list(
        bars["tesseract_word_recall"]
    )


def test_recombining_needs_the_readers_to_have_run():
    rows = pd.DataFrame(
        {
            "reader": ["tesseract", None],
            "text_words": [40, None],
            "tesseract_text_words": [40, None],
            "tesseract_word_recall": [0.9, None],
            "tesseract_char_accuracy": [0.95, None],
            "neural_text_words": [None, None],
            "neural_word_recall": [None, None],
            "neural_char_accuracy": [None, None],
            "seen_word_recall": [0.9, None],
            "seen_char_accuracy": [0.95, None],
        }
    )
    assert with_readers(rows, "tesseract")["seen_word_recall"].iloc[0] == 0.9
    with pytest.raises(
        SettingsError, match="no legibility read by neural.*--reader tesseract,neural"
    ):
        with_readers(rows, "tesseract,neural")
    assert with_readers(rows, "auto")["seen_word_recall"].iloc[0] == 0.9  # 40 words: enough
    thin = rows.assign(path="chart.png", tesseract_text_words=[12, None])
    with pytest.raises(SettingsError, match="1 image tesseract reads in fewer than 20 words"):
        with_readers(thin, "auto")  # read by Tesseract alone: auto would need PP-OCR's
    swept = with_readers(thin.assign(reader=["auto", None]), "auto")  # no PP-OCR where swept
    assert swept["seen_word_recall"].iloc[0] == 0.9
