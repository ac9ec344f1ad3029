"""`toolkit recommend` and `toolkit sweep --recommend`: the contract, the table, the errors."""

import json

import pandas as pd
import pytest
from test_recommend import GRID, result_rows
from test_sweep import photo

from toolkit import legibility
from toolkit.cli import main
from toolkit.recommend import SUMMARY
from toolkit.sweep import COLUMNS


@pytest.fixture
def results(tmp_path):
    """A sweep CSV: two screenshots (one needs 1024 px high) and one photo."""
    frame = result_rows(
        {
            "a.png": {},
            "b.png": {(512, "webp", 60, "low"): {"seen_word_recall": 0.4}},
        },
        GRID,
    )
    photos = result_rows({"p.jpg": {}}, GRID, category="photo").assign(text_words=0)
    path = tmp_path / "results.csv"
    table = pd.concat([frame, photos], ignore_index=True).reindex(columns=COLUMNS)
    table.to_csv(path, index=False)
    return path


def test_json_lines_follow_the_contract(results, capsys):
    assert main(["recommend", str(results), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["model"], r["category"]) for r in rows] == [
        ("gpt-4o", "photo"),
        ("gpt-4o", "screenshot"),
    ]
    assert all(set(SUMMARY) <= set(r) for r in rows)  # the columns the issue agreed
    shots = rows[1]
    assert (shots["images"], shots["max_side"], shots["detail"]) == (2, 512, "high")
    assert shots["binding"] == "legibility" and shots["ocr_relative_min"] == 1.0
    assert isinstance(shots["max_side"], int) and rows[0]["ocr_relative_min"] is None


def test_the_table_marks_rows_on_few_images_and_floors_are_options(results, capsys):
    assert main(["recommend", str(results), "--min-legibility", "0.3"]) == 0
    out = capsys.readouterr().out
    header, photo_row, shot_row = out.splitlines()
    assert header.split()[:3] == ["model", "category", "images"]
    assert shot_row.split()[2] == "2*" and photo_row.split()[2] == "1*"
    assert shot_row.split()[6] == "low"  # 0.4 of the words is enough at this floor


def test_bad_inputs_are_one_line_and_exit_2(results, tmp_path, capsys):
    not_a_sweep = tmp_path / "other.csv"
    not_a_sweep.write_text("a,b\n1,2\n")
    assert main(["recommend", str(not_a_sweep)]) == 2
    assert "not a toolkit sweep CSV" in capsys.readouterr().err
    assert main(["recommend", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert main(["recommend", str(results), "--models", "gpt-5.5"]) == 2
    assert "no results for models ['gpt-5.5']" in capsys.readouterr().err
    assert main(["recommend", str(results), "--min-legibility", "2"]) == 2
    assert "min_legibility" in capsys.readouterr().err


def test_a_text_category_without_ocr_says_how_to_get_it(tmp_path, capsys):
    photo(tmp_path / "screenshot" / "s.jpg", 200, 150)
    out = tmp_path / "r.csv"
    args = ["sweep", str(tmp_path / "screenshot"), "-o", str(out), "--workers", "1"]
    args += ["--max-sides", "128", "--formats", "jpeg", "--qualities", "80", "--no-cache"]
    assert main([*args, "--recommend", "--no-progress"]) == 2
    assert "--ocr" in capsys.readouterr().err
    assert out.exists()  # the sweep itself is kept
    assert main(["recommend", str(out)]) == 2


@pytest.mark.skipif(legibility.ocr_unavailable() is not None, reason="no OCR here")
def test_sweep_then_recommend_in_one_command(tmp_path, capsys):
    photo(tmp_path / "photo" / "p.jpg", 300, 200)
    out = tmp_path / "r.csv"
    args = ["sweep", str(tmp_path), "-o", str(out), "--workers", "1", "--no-cache"]
    args += ["--max-sides", "128", "300", "--formats", "jpeg", "--qualities", "90"]
    assert main([*args, "--ocr", "--recommend", "--json", "--no-progress"]) == 0
    summary, pick = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert summary["rows"] == 2
    assert (pick["category"], pick["images"]) == ("photo", 1)
    assert pick["binding"] in {"grid", "fidelity"}


def test_reader_judges_by_another_reader_the_sweep_ran(tmp_path, capsys):
    """A sweep read by both readers: `--reader` picks one, or both combined, without reading
    again; a reader the sweep did not run is one line and exit 2."""
    lost = {(512, "webp", 60, "low"): {"seen_word_recall": 0.4}}
    frame = result_rows({"a.png": lost, "b.png": {}}, GRID).reindex(columns=COLUMNS)
    frame = frame.assign(
        reader="looser of tesseract, neural",
        tesseract_text_words=40,
        tesseract_word_recall=frame["seen_word_recall"],
        neural_text_words=40,
        neural_word_recall=1.0,  # the neural reader reads every view whole
    )
    path = tmp_path / "both.csv"
    frame.to_csv(path, index=False)
    picks = {}
    for reader in ("tesseract", "neural", "tesseract,neural"):
        assert main(["recommend", str(path), "--json", "--reader", reader]) == 0
        picks[reader] = json.loads(capsys.readouterr().out)
    assert picks["tesseract"]["detail"] == "high"  # a.png loses words at 512 px low
    assert picks["neural"]["detail"] == picks["tesseract,neural"]["detail"] == "low"
    frame.assign(neural_text_words=None, neural_word_recall=None).to_csv(path, index=False)
    assert main(["recommend", str(path), "--reader", "neural"]) == 2
    assert "no legibility read by neural" in capsys.readouterr().err
