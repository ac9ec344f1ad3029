"""The sweep engine: rows, work done once, errors kept, cache and resume, executors, decisions."""

import json
import math
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw, ImageFont

from toolkit import images, legibility, sweep
from toolkit.errors import SettingsError, UnknownModelError
from toolkit.pricing import cost_usd
from toolkit.sweep import COLUMNS, SweepGrid, iter_sweep, run_sweep
from toolkit.tokens import image_tokens

SMALL = dict(
    max_sides=(128, 256),
    formats=("jpeg", "webp"),
    qualities=(40, 90),
    models=("gpt-4o", "gpt-5.4"),
    details=("low", "high"),
    reference_side=256,
)
OBSERVATION = ["path", "max_side", "format", "quality", "model", "detail"]


def photo(path, width=400, height=300, seed=0):
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    base = 30 + 180 * (0.5 * x + 0.3 * y + 0.2 * np.sin(20 * x * y + seed))
    pixels = np.clip(base + rng.normal(0, 10, (height, width, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=92)
    return path


@pytest.fixture
def corpus(tmp_path):
    """Two photos, one screenshot-like PNG and a corrupt JPEG, in category folders."""
    root = tmp_path / "images"
    photo(root / "photos" / "a.jpg", seed=1)
    photo(root / "photos" / "b.jpg", 300, 400, seed=2)
    screen = Image.new("RGB", (320, 200), "white")
    ImageDraw.Draw(screen).text(
        (10, 80), "Total 42.00", fill="black", font=ImageFont.load_default(24)
    )
    (root / "screens").mkdir()
    screen.save(root / "screens" / "s.png")
    (root / "broken").mkdir()
    (root / "broken" / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    return root


@pytest.fixture
def threads():
    with ThreadPoolExecutor(2) as pool:
        yield pool


def test_one_row_per_observation_with_the_agreed_columns(corpus, threads):
    grid = SweepGrid(**SMALL)
    df = run_sweep([corpus], grid, threads, progress=False)
    assert list(df.columns) == list(COLUMNS)
    assert len(df) == 4 * grid.cells == 4 * 2 * 2 * 2 * 2 * 2
    assert not df.duplicated(OBSERVATION).any()
    ok = df[df["error"].isna()]
    assert set(ok["category"]) == {"photos", "screens"}
    assert (ok[["width", "height"]].max(axis=1) <= ok["max_side"]).all()
    assert (ok["base64_chars"] == 4 * np.ceil(ok["bytes"] / 3)).all()
    for row in ok.sample(10, random_state=0).itertuples():
        estimate = image_tokens(int(row.width), int(row.height), row.model, row.detail)
        assert (row.tokens, row.provider_width, row.provider_height) == (
            estimate.tokens,
            estimate.provider_width,
            estimate.provider_height,
        )
        assert row.cost_usd == pytest.approx(cost_usd(int(row.tokens), row.model))
    assert ok["compression_ssim"].between(0, 1).all()
    assert ok["seen_ssim"].between(0, 1).all()
    assert (ok["seen_psnr_db"] > 10).all()
    assert ok["seen_word_recall"].isna().all()  # OCR is off by default
    # higher quality keeps more of the same encode size
    a = ok[(ok["image"] == "a.jpg") & (ok["format"] == "jpeg") & (ok["max_side"] == 256)]
    assert (
        a[a["quality"] == 90]["compression_ssim"].min()
        > a[a["quality"] == 40]["compression_ssim"].max()
    )


def test_a_corrupt_image_gives_rows_with_errors_and_the_sweep_goes_on(corpus, threads):
    grid = SweepGrid(**SMALL)
    df = run_sweep([corpus], grid, threads, progress=False)
    bad = df[df["image"] == "bad.jpg"]
    assert len(bad) == grid.cells
    assert bad["error"].str.contains("CorruptImageError|NotAnImageError").all()
    assert bad["tokens"].isna().all()
    assert df[df["image"] != "bad.jpg"]["error"].isna().all()
    assert df.attrs["sweep"]["failed_images"] == 1


def test_a_size_the_provider_rejects_is_an_error_row_and_the_rest_is_priced(tmp_path, threads):
    strip = tmp_path / "strip.png"
    Image.new("RGB", (8001, 8), "white").save(strip)
    grid = SweepGrid(
        max_sides=(None, 2000),
        formats=("png",),
        qualities=(90,),
        models=("claude-sonnet-4-6",),
        details=("auto",),
        compression_metrics=False,
        seen_metrics=False,
    )
    whole, resized = run_sweep([strip], grid, threads, progress=False).itertuples()
    assert (whole.width, whole.height) == (8001, 8) and pd.isna(whole.tokens)
    assert whole.error.startswith("ImageRejectedError: 8001x8 has a side over 8000 px")
    # 2000x2 is kept as 1568x2 by the standard tier: 56 x 1 visual tokens.
    assert (resized.width, resized.tokens) == (2000, 56) and pd.isna(resized.error)


def test_a_missing_file_and_a_lost_worker_are_recorded(tmp_path):
    class LosingExecutor(Executor):
        def submit(self, fn, *args, **kwargs):
            future = Future()
            future.set_exception(RuntimeError("worker lost"))
            return future

    good = photo(tmp_path / "x" / "ok.jpg")
    grid = SweepGrid(**SMALL)
    df = run_sweep([good, tmp_path / "nope.jpg"], grid, LosingExecutor(), progress=False)
    assert len(df) == 2 * grid.cells
    assert df[df["image"] == "ok.jpg"]["error"].eq("RuntimeError: worker lost").all()
    assert df[df["image"] == "nope.jpg"]["error"].str.startswith("ImageError: ").all()


def test_each_image_is_decoded_once_resized_once_per_side_encoded_once_per_setting(
    corpus, threads, monkeypatch
):
    calls = {"load": 0, "resize": 0, "encode": 0}

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            with lock:
                calls[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    lock = threading.Lock()
    monkeypatch.setattr(sweep, "load_image", counting("load", sweep.load_image))
    monkeypatch.setattr(sweep, "resize_image", counting("resize", sweep.resize_image))
    monkeypatch.setattr(sweep, "encode_pixels", counting("encode", sweep.encode_pixels))
    grid = SweepGrid(**{**SMALL, "formats": ("jpeg", "png")})
    df = run_sweep(corpus / "photos", grid, threads, progress=False)
    assert len(df) == 2 * grid.cells
    assert calls["load"] == 2
    assert calls["resize"] == 2 * (2 + 1)  # two max sides and the seen-view reference
    assert calls["encode"] == 2 * (2 * 2 + 2)  # JPEG per quality, PNG once per side
    png = df[df["format"] == "png"].groupby(["path", "max_side"])["bytes"].nunique()
    assert (png == 1).all()


def test_the_largest_images_start_first_and_rows_keep_the_input_order(tmp_path, threads):
    sizes = [(96, 64), (640, 480), (64, 64), (320, 200)]
    paths = [tmp_path / f"{i}.png" for i in range(len(sizes))]
    for path, size in zip(paths, sizes, strict=True):
        Image.new("RGB", size, "teal").save(path)
    grid = SweepGrid(**{**SMALL, "max_sides": (64,)})
    started = [i for i, _ in iter_sweep(paths, grid, threads, max_in_flight=1)]
    assert started == [1, 3, 0, 2]  # by pixels, largest first
    frame = run_sweep(paths, grid, threads, progress=False)
    assert frame["image"].unique().tolist() == ["0.png", "1.png", "2.png", "3.png"]


def test_resume_after_interruption_computes_nothing_twice(corpus, threads, tmp_path):
    files = sorted(corpus.glob("[ps]*/*")) + [corpus / "broken" / "bad.jpg"]
    grid = SweepGrid(**SMALL)
    cache = tmp_path / "cache"

    first = sweep.SweepStats()
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C once two images are done
        sweeping = iter_sweep(files, grid, threads, cache, max_in_flight=1, stats=first)
        for done, _ in enumerate(sweeping, 1):
            if done == 2:
                raise KeyboardInterrupt
    assert first.computed_encodes == 2 * len(grid.encode_keys())

    df = run_sweep(files, grid, threads, cache, progress=False)
    second = df.attrs["sweep"]
    assert second["cached_encodes"] == first.computed_encodes
    assert first.computed_encodes + second["computed_encodes"] == 3 * len(grid.encode_keys())
    assert len(df) == 4 * grid.cells  # the corrupt file is retried, never cached

    again = run_sweep(files, grid, threads, cache, progress=False)
    assert again.attrs["sweep"]["computed_encodes"] == 0
    assert again.attrs["sweep"]["computed_images"] == 1  # only the corrupt one
    pd.testing.assert_frame_equal(again, df)


def test_an_extended_grid_computes_only_what_is_new(corpus, threads, tmp_path):
    cache = tmp_path / "cache"
    photos = corpus / "photos"
    small = SweepGrid(**{**SMALL, "qualities": (40,)})
    run_sweep(photos, small, threads, cache, progress=False)
    wider = SweepGrid(**SMALL)  # adds quality 90
    stats = run_sweep(photos, wider, threads, cache, progress=False).attrs["sweep"]
    assert stats["computed_encodes"] == 2 * 2 * 2  # images x sides x formats, quality 90 only
    same_sizes = SweepGrid(**{**SMALL, "models": ("gpt-4o", "gpt-5.4", "gpt-4.1")})
    stats = run_sweep(photos, same_sizes, threads, cache, progress=False).attrs["sweep"]
    assert stats["computed_encodes"] == 0  # gpt-4.1 keeps what gpt-4o keeps: nothing new


def test_concurrent_sweeps_can_share_a_cache(corpus, tmp_path):
    cache = tmp_path / "cache"
    grid = SweepGrid(**SMALL)
    photos = corpus / "photos"
    with ThreadPoolExecutor(4) as pool:
        runs = [pool.submit(run_sweep, photos, grid, pool, cache, False) for _ in range(2)]
        frames = [run.result() for run in runs]
    pd.testing.assert_frame_equal(
        frames[0].drop(columns=list(sweep.TIMINGS)), frames[1].drop(columns=list(sweep.TIMINGS))
    )
    files = list(cache.rglob("*"))
    assert not [f for f in files if f.name.endswith(".tmp")]
    for f in (f for f in files if f.suffix == ".json"):
        assert set(json.loads(f.read_text())["encodes"]) == {
            sweep._key_text(k) for k in grid.encode_keys()
        }
    with ThreadPoolExecutor(2) as pool:
        third = run_sweep(photos, grid, pool, cache, progress=False)
    assert third.attrs["sweep"]["computed_encodes"] == 0


def test_the_default_process_pool_and_a_dask_cluster_give_the_same_rows(corpus, threads):
    distributed = pytest.importorskip("distributed")
    grid = SweepGrid(**{**SMALL, "max_sides": (128,), "qualities": (60,)})
    stable = ["image", "category", "width", "height", "bytes", "tokens", "seen_ssim", "error"]
    reference = run_sweep(corpus, grid, threads, progress=False)[stable]
    pooled = run_sweep(corpus, grid, progress=False)[stable]  # default: forkserver pool
    pd.testing.assert_frame_equal(pooled, reference)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = run_sweep(corpus, grid, client.get_executor(), progress=False)[stable]
    pd.testing.assert_frame_equal(on_dask, reference)


def test_categories_from_a_mapping_or_a_function(corpus, threads):
    grid = SweepGrid(**{**SMALL, "max_sides": (128,), "qualities": (60,), "formats": ("jpeg",)})
    photos = corpus / "photos"
    mapped = run_sweep(photos, grid, threads, progress=False, category={"a.jpg": "portrait"})
    assert dict(zip(mapped["image"], mapped["category"], strict=True)) == {
        "a.jpg": "portrait",
        "b.jpg": "photos",
    }
    named = run_sweep(photos, grid, threads, progress=False, category=lambda p: p.stem.upper())
    assert set(named["category"]) == {"A", "B"}


@pytest.mark.skipif(legibility.ocr_unavailable() is not None, reason="no OCR here")
def test_ocr_accuracy_drops_when_the_provider_shrinks_text(tmp_path, threads):
    page = Image.new("RGB", (1200, 300), "white")
    font = ImageFont.load_default(size=14)
    text = "Invoice 4821 total 93.50 due 2026-11-30 paid by transfer to Acme Supplies"
    ImageDraw.Draw(page).text((30, 110), text, fill="black", font=font)
    page.save(tmp_path / "text.png")
    grid = SweepGrid(
        max_sides=(1200,),
        formats=("jpeg",),
        qualities=(90,),
        models=("gpt-4o",),
        details=("low", "high"),
        ocr=True,
        reference_side=1200,
    )
    df = run_sweep(tmp_path / "text.png", grid, threads, progress=False).set_index("detail")
    assert df.loc["high", "seen_word_recall"] > 0.9  # 1200x300 kept whole
    assert df.loc["low", "seen_word_recall"] < 0.6  # 512x128: 6 px letters


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"qualities": ()}, SettingsError),
        ({"qualities": (50, 50)}, SettingsError),
        ({"qualities": (96,)}, SettingsError),  # JPEG stops at 95
        ({"formats": ("gif",)}, SettingsError),
        ({"max_sides": (0,)}, SettingsError),
        ({"reference_side": 8}, SettingsError),
        ({"models": ("gpt-99",)}, UnknownModelError),
        ({"tier": "premium"}, SettingsError),
    ],
)
def test_grid_validation(change, error):
    with pytest.raises(error):
        SweepGrid(**{**SMALL, **change})


def test_ocr_needs_its_reader(monkeypatch):
    from toolkit import tesseract_reader

    monkeypatch.setattr(tesseract_reader.READER, "unavailable", lambda: "no tesseract here")
    with pytest.raises(SettingsError, match="no tesseract here"):
        SweepGrid(**SMALL, ocr=True)
    SweepGrid(**SMALL)  # no OCR asked: fine
    with pytest.raises(SettingsError, match="unknown reader 'easyocr'"):
        SweepGrid(**SMALL, ocr=True, reader="easyocr")
    with pytest.raises(SettingsError, match="combine"):
        SweepGrid(**SMALL, ocr=True, combine="average")


def test_a_grey_image_is_measured_in_every_format(tmp_path, threads):
    pixels = np.asarray(Image.open(photo(tmp_path / "g" / "c.jpg")).convert("L"))
    Image.fromarray(pixels).save(tmp_path / "g" / "grey.png")
    grid = SweepGrid(**{**SMALL, "formats": ("jpeg", "webp", "png")})
    df = run_sweep(tmp_path / "g" / "grey.png", grid, threads, progress=False)
    assert df["error"].isna().all()
    assert df["compression_ssim"].between(0, 1).all()
    png = df[df["format"] == "png"]
    assert (png["compression_psnr_db"] == math.inf).all()  # lossless
    assert png["compression_ssim"].tolist() == pytest.approx([1.0] * len(png))


def test_a_model_without_a_price_has_tokens_and_no_dollars(tmp_path, threads):
    models = ("gemini-3-pro-preview", "gpt-4o")  # the first left the price page (for 3.1)
    grid = SweepGrid(**{**SMALL, "models": models, "details": ("auto",)})
    df = run_sweep(photo(tmp_path / "p" / "a.jpg"), grid, threads, progress=False)
    unpriced = df[df["model"] == "gemini-3-pro-preview"]
    assert df["error"].isna().all()
    assert (unpriced["tokens"] > 0).all() and unpriced["cost_usd"].isna().all()
    assert df[df["model"] == "gpt-4o"]["cost_usd"].notna().all()


def test_sides_that_give_the_same_pixels_are_encoded_once(tmp_path, threads, monkeypatch):
    encodes = []

    def counting(*args, **kwargs):
        encodes.append(1)
        return images.encode_pixels(*args, **kwargs)

    monkeypatch.setattr(sweep, "encode_pixels", counting)
    grid = SweepGrid(**{**SMALL, "max_sides": (256, 512, 1024), "reference_side": None})
    df = run_sweep(photo(tmp_path / "p" / "a.jpg"), grid, threads, progress=False)
    assert len(encodes) == 2 * 2 * 2  # 400x300 and 256x192, per format and quality
    whole = df[df["max_side"] > 256].groupby(["format", "quality", "model", "detail"])
    assert (whole["bytes"].nunique() == 1).all() and (whole["seen_ssim"].nunique() == 1).all()


def test_seen_fidelity_is_compared_at_the_largest_size_sent(tmp_path, threads):
    big = photo(tmp_path / "p" / "big.jpg", 1600, 1200, seed=3)
    grid = SweepGrid(
        max_sides=(512, 1600),
        formats=("jpeg",),
        qualities=(95,),
        models=("gpt-4o",),
        details=("high",),
        compression_metrics=False,
    )
    df = run_sweep(big, grid, threads, progress=False).set_index("max_side")
    assert (df["reference_width"] == 1600).all()  # no size the grid sends is above it
    # gpt-4o high keeps 1024x768 of the 1600 px image: the loss shows, and is the ceiling
    assert (df.loc[1600, "provider_width"], df.loc[1600, "provider_height"]) == (1024, 768)
    assert df.loc[1600, "seen_ssim"] < 0.97
    assert df.loc[512, "seen_ssim"] < df.loc[1600, "seen_ssim"]
    assert df.loc[1600, "ceiling_ssim"] == pytest.approx(df.loc[1600, "seen_ssim"], abs=0.01)
    assert (df["ceiling_ssim"] >= df["seen_ssim"] - 0.005).all()
    with pytest.raises(SettingsError, match="blind"):
        SweepGrid(max_sides=(512, 1600), reference_side=1024)


@pytest.mark.skipif(legibility.ocr_unavailable() is not None, reason="no OCR here")
def test_ocr_added_to_a_cached_sweep_reads_only_images_with_text(tmp_path, threads, monkeypatch):
    page = Image.new("RGB", (900, 300), "white")
    text = "Invoice 4821 total 93.50 due 2026-11-30 paid by transfer to Acme Supplies"
    ImageDraw.Draw(page).text((20, 130), text, fill="black", font=ImageFont.load_default(18))
    page.save(tmp_path / "page.png")
    files = [tmp_path / "page.png", photo(tmp_path / "p" / "a.jpg")]
    cache = tmp_path / "cache"
    grid = SweepGrid(**{**SMALL, "models": ("gpt-4o",)})
    run_sweep(files, grid, threads, cache, progress=False)
    with_ocr = SweepGrid(**{**SMALL, "models": ("gpt-4o",), "ocr": True})
    df = run_sweep(files, with_ocr, threads, cache, progress=False)
    assert df.attrs["sweep"]["computed_images"] == 2
    words = df.groupby("image")["text_words"].first()
    assert words["page.png"] >= legibility.MIN_TEXT_WORDS and words["a.jpg"] == 0
    assert df[df["image"] == "a.jpg"]["seen_word_recall"].isna().all()  # no text: not 0
    assert df[df["image"] == "page.png"]["seen_word_recall"].between(0, 1).all()
    again = run_sweep(files, with_ocr, threads, cache, progress=False)
    assert again.attrs["sweep"]["computed_encodes"] == 0
    reads = []
    monkeypatch.setattr(sweep, "read_text", lambda image, reader: reads.append(image))
    wider = SweepGrid(**{**SMALL, "models": ("gpt-4o",), "ocr": True, "qualities": (40, 60, 90)})
    extended = run_sweep(files, wider, threads, cache, progress=False)
    assert extended.attrs["sweep"]["computed_encodes"] == 2 * 2 * 2  # quality 60 only
    assert reads == []  # the originals' readings come from the cache
    assert (
        extended["seen_word_recall"].notna().sum() == df["seen_word_recall"].notna().sum() * 3 // 2
    )


def text_line(path, text: str):
    """A 900x300 white image with one line of 18 px black text."""
    page = Image.new("RGB", (900, 300), "white")
    ImageDraw.Draw(page).text((20, 130), text, fill="black", font=ImageFont.load_default(18))
    page.save(path)
    return path


@pytest.mark.skipif(legibility.ocr_unavailable() is not None, reason="no OCR here")
def test_no_original_is_read_twice_and_views_without_text_are_never_read(
    tmp_path, threads, monkeypatch
):
    receipt = text_line(
        tmp_path / "receipt.png",
        "Receipt 7733 total 18.20 paid 2026-12-01 by card at the Corner Bakery shop",
    )
    files = [receipt, photo(tmp_path / "p" / "a.jpg", seed=11)]
    reads, views = [], []
    read_text, score = legibility.read_text, legibility.legibility
    monkeypatch.setattr(
        sweep, "read_text", lambda image, reader: reads.append(1) or read_text(image, reader)
    )
    monkeypatch.setattr(
        legibility,
        "legibility",
        lambda truth, view, size: views.append(1) or score(truth, view, size),
    )
    grid = SweepGrid(
        **{**SMALL, "models": ("gpt-4o",), "details": ("high",), "ocr": True},
        reader="tesseract",  # (`auto` reads a one-line image with PP-OCR too)
    )
    first = run_sweep(files, grid, threads, progress=False)  # no cache folder
    assert first["error"].isna().all()
    assert len(reads) == 2 and len(views) == 2 * 2 * 2  # the receipt's views only
    # another grid (another reference size: another cache configuration), no cache: the
    # originals' readings are this process's already
    other = SweepGrid(
        **{
            **SMALL,
            "models": ("gpt-4o",),
            "ocr": True,
            "max_sides": (200,),
            "reference_side": 200,
        },
        reader="tesseract",
    )
    assert other.cache_tag() != grid.cache_tag()
    second = run_sweep(files, other, threads, progress=False)
    assert len(reads) == 2
    assert list(second.groupby("image")["text_words"].first()) == list(
        first.groupby("image")["text_words"].first()
    )


def test_a_known_text_image_is_shared_out_one_encode_a_job_with_the_same_values(
    tmp_path, threads, monkeypatch
):
    text_line(
        tmp_path / "invoice.png",
        "Invoice 5521 due 2026-12-15 for 14 boxes of paper, 3 toners and a desk lamp",
    )
    grid = SweepGrid(**{**SMALL, "models": ("gpt-4o",), "ocr": True})
    whole = run_sweep([tmp_path / "invoice.png"], grid, threads, progress=False)
    cache = tmp_path / "cache"
    first = SweepGrid(**{**SMALL, "models": ("gpt-4o",), "ocr": True, "qualities": (40,)})
    run_sweep([tmp_path / "invoice.png"], first, threads, cache, progress=False)  # text known
    jobs, loads = [], []
    one = ThreadPoolExecutor(1)  # one worker takes every part
    one.submit = lambda fn, job, *data: jobs.append(job.keys) or submit(fn, job, *data)
    submit = ThreadPoolExecutor.submit.__get__(one)
    real_load = sweep.load_image
    monkeypatch.setattr(sweep, "load_image", lambda *a, **k: loads.append(1) or real_load(*a, **k))
    with one:
        split = run_sweep([tmp_path / "invoice.png"], grid, one, cache, progress=False)
    assert len(loads) == 1  # its parts share the decoded image and its references
    assert sorted(jobs) == [  # one job per new encode: the quality 40 ones were cached
        ((128, "jpeg", 90),),
        ((128, "webp", 90),),
        ((256, "jpeg", 90),),
        ((256, "webp", 90),),
    ]
    values = ["bytes", "tokens", "seen_ssim", "ceiling_ssim", "text_words", "seen_word_recall"]
    assert whole["text_words"].iloc[0] >= 8
    pd.testing.assert_frame_equal(split[values], whole[values])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MIN_CONFIDENCE", 70),
        ("MIN_TEXT_WORDS", 4),
        ("SAMPLE_LINES", 20),
        ("METHOD", 1),
    ],
)
def test_every_way_of_reading_views_is_part_of_the_cache_configuration(monkeypatch, name, value):
    grid = SweepGrid(**SMALL, ocr=True)
    before = grid.cache_tag()
    monkeypatch.setattr(legibility, name, value)
    assert grid.cache_tag() != before


@pytest.mark.parametrize(
    ("name", "value"),
    [("version", lambda: "tesseract 9.9 (deu)"), ("margin", 0.5), ("canvas", 0.1)],
)
def test_the_reader_and_how_it_cuts_lines_are_part_of_the_cache_configuration(
    monkeypatch, name, value
):
    from toolkit import tesseract_reader

    grid = SweepGrid(**SMALL, ocr=True)
    before = grid.cache_tag()
    monkeypatch.setattr(tesseract_reader.READER, name, value)
    assert grid.cache_tag() != before
    assert SweepGrid(**SMALL, reader="neural").cache_tag() != before
