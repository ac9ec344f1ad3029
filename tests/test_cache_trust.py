"""The sweep cache checks what it trusts: an entry or an OCR reading that is a FIFO, a device
or was edited is recomputed and counted (`invalid_cache_entries`), never waited on, read
without end or believed."""

import json
import os
from collections import OrderedDict

import pytest
from helpers import toolkit
from PIL import Image, ImageDraw, ImageFont

from toolkit import legibility, sweep
from toolkit.sweep import SweepGrid, run_sweep

GRID = ["--max-sides", "64", "--formats", "jpeg", "--qualities", "80", "--no-metrics"]


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "in" / "a.jpg"
    path.parent.mkdir()
    Image.effect_noise((120, 90), 50).convert("RGB").save(path)
    return path


def sweep_summary(image, cache, out) -> dict:
    """`toolkit sweep` in a child (a hang is a timeout, not a stuck test run)."""
    result = toolkit("sweep", image, *GRID, "--cache", cache, "-o", out, "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_an_entry_that_is_not_a_regular_file_is_recomputed_not_read(tmp_path, image, kind):
    cache, out = tmp_path / "cache", tmp_path / "out.csv"
    first = sweep_summary(image, cache, out)
    (entry,) = [p for p in cache.rglob("*.json") if "readings" not in p.parts]
    entry.unlink()
    if kind == "fifo":
        os.mkfifo(entry)  # no writer: opening it for reading would block
    else:
        entry.symlink_to("/dev/zero")  # reading it would never end
    again = sweep_summary(image, cache, out)
    assert (again["invalid_cache_entries"], again["computed_encodes"]) == (1, 1)
    assert first["rows"] == again["rows"] == 1
    assert entry.is_file() and not entry.is_symlink()  # replaced by a whole, regular entry
    assert sweep_summary(image, cache, out)["cached_encodes"] == 1


def text_image(path):
    page = Image.new("RGB", (900, 300), "white")
    text = "Invoice 4821 total 93.50 due 2026-11-30 paid by transfer to Acme Supplies"
    ImageDraw.Draw(page).text((20, 130), text, fill="black", font=ImageFont.load_default(18))
    page.save(path)
    return path


def edited(reading: dict) -> dict:
    """The same reading with every word replaced: valid, plausible, wrong."""
    lines = [
        [box, turn, " ".join("zzzz" for _ in words), ["zzzz" for _ in words], confident]
        for box, turn, _, words, confident in reading["lines"]
    ]
    return {**reading, "lines": lines}


@pytest.mark.skipif(legibility.ocr_unavailable() is not None, reason="no OCR here")
def test_an_edited_ocr_reading_is_recomputed_and_counted(tmp_path, monkeypatch):
    page = text_image(tmp_path / "page.png")
    small = dict(
        formats=("jpeg",), models=("gpt-4o",), details=("high",), ocr=True, reader="tesseract"
    )
    first = SweepGrid(max_sides=(600,), qualities=(90,), **small)
    cache = tmp_path / "cache"
    run_sweep([page], first, cache=cache, progress=False)
    (stored,) = (cache / "readings").rglob("*.json")
    data = json.loads(stored.read_text())
    data["reading"] = edited(data["reading"])
    stored.write_text(json.dumps(data))  # valid JSON, its old checksum kept

    monkeypatch.setattr(sweep._Readings, "_kept", OrderedDict())  # another process
    wider = SweepGrid(max_sides=(600,), qualities=(60, 90), **small)
    frame = run_sweep([page], wider, cache=cache, progress=False)
    assert frame.attrs["sweep"]["invalid_cache_entries"] == 1
    fresh = run_sweep([page], wider, progress=False)  # no cache at all
    assert frame["seen_word_recall"].tolist() == fresh["seen_word_recall"].tolist()
    assert frame["seen_word_recall"].min() > 0.5  # the edited truth would give about 0
    reread = json.loads(stored.read_text())["reading"]
    assert reread["lines"] != data["reading"]["lines"]
