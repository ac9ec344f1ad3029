"""`toolkit calibrate` against the emulator playing the model: the estimate and the budget, the
sample, the rows, the calibration file, resuming, the emulated label, and the floor it gives
`toolkit recommend`."""

import json

import pandas as pd
import pytest
from helpers import post_json, run_cli
from PIL import Image, ImageDraw, ImageFont
from smoke_report import smoke_report
from test_recommend import GRID, SMALL_LOW, result_rows

from toolkit import report_index
from toolkit.calibrate import CalibrationSettings, plan_calibration, score_calibration
from toolkit.calibration import (
    Calibration,
    agreement,
    calibrated_rules,
    fit,
    load_calibrations,
    reader_threshold,
    threshold_text,
    write_calibrations,
)
from toolkit.emulator import Emulator, ServerSettings, text_tokens
from toolkit.errors import SettingsError
from toolkit.legibility import METHOD
from toolkit.pricing import usage_cost_usd
from toolkit.projection import finding, monthly_projection
from toolkit.recommend import DecisionRules, recommend
from toolkit.sweep import COLUMNS
from toolkit.transcribe import TRANSCRIBE_PROMPT, emulated_mark, emulated_reader

LINES = (
    "Quarterly revenue grew strongly",
    "Operating costs fell again",
    "Customers renewed their plans",
)
SIZES = ["128", "480", "800"]  # 800: the images' own width, so each model's best reading


def page(lines=LINES, size: int = 16, width: int = 800) -> Image.Image:
    """Dark text on white, one line every 2 `size` px."""
    image = Image.new("RGB", (width, 30 + 2 * size * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((16, 15 + 2 * size * i), line, fill="black", font=ImageFont.load_default(size))
    return image


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three text images at three text sizes (one with a truth file) and a blank one. Sent at
    128 px their text is lost (the reader, which reads each line at the original's size,
    still reads some of the largest), at 480 px kept (by the reader and by the emulator,
    which reads the view whole at the size sent)."""
    root = tmp_path_factory.mktemp("calibrate") / "docs"
    (root / "truth").mkdir(parents=True)
    for name, size in (("large.png", 40), ("medium.png", 32), ("small.png", 28)):
        page(size=size).save(root / name)
    Image.new("RGB", (400, 300), (90, 140, 200)).save(root / "blank.png")
    (root / "truth" / "medium.txt").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


@pytest.fixture(scope="module")
def emulator():
    with Emulator(settings=ServerSettings(transcribe_with="tesseract")) as emu:
        yield emu


def calibrate_args(folder, out, emulator, *extra):
    return [
        "calibrate",
        folder,
        "--models",
        "gpt-4o",
        "gpt-5.4-mini",
        "--sizes",
        *SIZES,
        "--sample",
        "3",
        "--base-url",
        emulator.base_url,
        "--results",
        out / "answers.jsonl",
        "--rows",
        out / "rows.csv",
        "-o",
        out / "calibration.json",
        "--no-cache",
        "--no-progress",
        "--workers",
        "1",
        *extra,
    ]


def body(image: Image.Image, prompt: str, detail: str = "high") -> dict:
    import base64
    import io

    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    content = [
        {"type": "text", "text": prompt},
        {"type": "image_url", "image_url": {"url": url, "detail": detail}},
    ]
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}


def test_the_emulator_reads_what_the_provider_keeps_and_says_it_is_emulated(emulator):
    status, answer = post_json(
        emulator.port, "/v1/chat/completions", body(page(), TRANSCRIBE_PROMPT)
    )
    assert status == 200
    reader, text = emulated_reader(answer["choices"][0]["message"]["content"])
    assert reader == "tesseract" and "Quarterly revenue grew strongly" in text
    assert answer["usage"]["toolkit_emulated_transcription"] == "tesseract"
    # `low` keeps 512 px of this 1600 px page: brought back to 1600 px, its text is lost
    wide = page(size=14, width=1600)
    texts = [
        post_json(emulator.port, "/v1/chat/completions", body(wide, TRANSCRIBE_PROMPT, detail))[1]
        for detail in ("low", "high")
    ]
    low, high = (emulated_reader(t["choices"][0]["message"]["content"])[1] for t in texts)
    assert "Operating costs fell again" in high and "Operating" not in low
    # any other prompt gets the description, as without the setting
    _, described = post_json(emulator.port, "/v1/chat/completions", body(page(), "Describe"))
    assert json.loads(described["choices"][0]["message"]["content"])["images"][0]["width"] == 800


def test_an_image_url_cannot_be_transcribed(emulator):
    content = [
        {"type": "text", "text": TRANSCRIBE_PROMPT},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]
    status, answer = post_json(
        emulator.port,
        "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]},
    )
    assert status == 400 and "never downloaded" in answer["error"]["message"]


def test_the_transcribing_reader_must_exist_and_run():
    with pytest.raises(SettingsError, match="unknown reader"):
        ServerSettings(transcribe_with="easyocr")
    assert run_cli("emulator", "--transcribe-with", "easyocr") == 2


def test_calibrate_estimates_sends_once_and_writes_rows_and_calibrations(
    folder, emulator, tmp_path, capsys
):
    args = calibrate_args(folder, tmp_path, emulator, "--json")
    assert run_cli(*args) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    estimate = {line["model"]: line for line in lines[:3]}  # printed before anything else
    assert list(estimate) == ["gpt-4o", "gpt-5.4-mini", "all"]
    rows = pd.read_csv(tmp_path / "rows.csv")
    assert len(rows) == 3 * 2 * len(SIZES) == len([line for line in lines if "image" in line])
    assert set(rows["transcriber"]) == {"emulated (tesseract reading)"}
    assert set(rows["status"]) == {"ok"}
    prompt = text_tokens(TRANSCRIBE_PROMPT)
    for model, sent in rows.groupby("model"):
        expected = estimate[model]
        assert expected["requests"] == expected["to_send"] == len(sent) == 9
        assert expected["image_tokens"] == sent["tokens"].sum()
        assert expected["prompt_tokens"] == 9 * prompt
        # billed input is the image tokens and the prompt's, as estimated (the emulator bills
        # with the same rules; a live API would add its message framing)
        assert (sent["input_tokens"] == sent["tokens"] + prompt).all()
        input_tokens = expected["image_tokens"] + expected["prompt_tokens"]
        assert expected["cost_usd_estimate"] == pytest.approx(
            usage_cost_usd(model, input_tokens, 0, expected["output_tokens_estimate"])
        )
    assert sum(emulator.answered[i] for i in rows["request_id"]) == 18
    truths = rows.drop_duplicates("image").set_index("image")["truth_source"].to_dict()
    assert truths == {"large.png": "reader", "medium.png": "truth file", "small.png": "reader"}
    assert (rows.loc[rows["image"] == "medium.png", "truth_words"] == 12).all()
    best = rows[rows["max_side"] == 800]
    assert best["reference"].all() and not best["counted"].any()
    assert (best["model_word_recall_relative"] == 1).all()
    assert rows.loc[rows["max_side"] == 480, "model_word_recall_relative"].eq(1).all()
    assert rows.loc[rows["max_side"] == 128, "model_word_recall"].eq(0).all()

    calibrations = load_calibrations([tmp_path / "calibration.json"])
    assert list(calibrations) == ["gpt-4o", "gpt-5.4-mini"]
    for model, calibration in calibrations.items():
        small = rows.loc[(rows["model"] == model) & (rows["max_side"] == 128)]
        # every 480 px view keeps every word; the 128 px ones, which the reader reads at up to
        # `highest_failing`, lose them: the lowest reader value above is the 480 px views' 1.0
        assert (calibration.threshold, calibration.bounded) == (1.0, True)
        assert calibration.highest_failing == small["reader_word_recall"].max() < 1
        assert (calibration.views, calibration.images, calibration.agree) == (6, 3, 6)
        assert calibration.status == "emulated" and calibration.base_url_kind == "local"
        assert calibration.transcriber == "emulated (tesseract reading)"
        assert calibration.truth == {"reader": 2, "truth file": 1}
        assert (calibration.reader, calibration.legibility_method) == ("tesseract", METHOD)
    assert [line["threshold"] for line in lines[-2:]] == [1.0, 1.0]

    # again: the answers are in the results file, nothing is sent twice
    attempts = sum(emulator.attempts.values())
    assert run_cli(*args) == 0
    again = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sum(emulator.attempts.values()) == attempts
    assert (again[2]["to_send"], again[2]["answered"]) == (0, 18)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "rows.csv"), rows)

    # the calibration is the text floor of a recommendation from a sweep of the same reader
    sweep = ["sweep", folder, "--max-sides", *SIZES, "--formats", "jpeg", "--qualities", "85"]
    sweep += ["--models", "gpt-4o", "--ocr", "--no-cache", "--no-progress", "--workers", "1"]
    sweep += ["--reader", "tesseract"]  # the reader calibrated
    assert run_cli(*sweep, "-o", tmp_path / "sweep.csv") == 0
    recommend_args = ["recommend", tmp_path / "sweep.csv", "--text-categories", "docs", "--json"]
    assert run_cli(*recommend_args, "--calibration", tmp_path / "calibration.json") == 0
    (pick,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()[-1:]]
    assert pick["text_floor"] == 1.0 and pick["max_side"] == 480
    assert pick["text_floor_source"].startswith("from calibration against gpt-4o, emulated, ")


def test_max_usd_refuses_to_start_and_a_dry_run_sends_nothing(folder, emulator, tmp_path, capsys):
    attempts = sum(emulator.attempts.values())
    assert run_cli(*calibrate_args(folder, tmp_path, emulator, "--max-usd", "0.0001")) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "above --max-usd 0.0001; nothing was sent" in err
    cost = float(out.splitlines()[-1].split()[-1])  # the estimate was printed first
    assert f"${cost:.4f}" in err
    assert run_cli(*calibrate_args(folder, tmp_path, emulator, "--dry-run", "--sample", "5")) == 0
    assert (
        "warning: 3 of the 4 images have text the tesseract reader reads: the sample has 3, "
        "not 5" in capsys.readouterr().err
    )
    assert sum(emulator.attempts.values()) == attempts
    assert not (tmp_path / "rows.csv").exists() and not (tmp_path / "answers.jsonl").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sizes", "512"], "two or more max sides"),
        (["--models", "gpt-9"], "gpt-9"),
        (["--reader", "nope"], "invalid choice"),
        (["--detail", "sharp"], "sharp"),
        (["--max-usd", "-1"], "--max-usd"),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(folder, emulator, tmp_path, capsys, extra, message):
    assert run_cli(*calibrate_args(folder, tmp_path, emulator), *extra) == 2
    assert message in capsys.readouterr().err


def test_sending_needs_a_key_before_any_work(folder, emulator, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY")
    assert run_cli(*calibrate_args(folder, tmp_path, emulator)) == 2
    assert "no API key" in capsys.readouterr().err
    assert run_cli(*calibrate_args(folder, tmp_path, emulator, "--dry-run")) == 0


def test_a_folder_without_text_is_one_line(tmp_path, emulator, capsys):
    (tmp_path / "photos").mkdir()
    Image.new("RGB", (300, 200), "navy").save(tmp_path / "photos" / "sky.png")
    assert run_cli(*calibrate_args(tmp_path / "photos", tmp_path, emulator)) == 2
    assert "none of the 1 images has text the tesseract reader reads" in capsys.readouterr().err


def test_the_sample_is_reproducible_and_skips_images_without_text(folder):
    settings = CalibrationSettings(("gpt-4o",), (160, 640), sample=2, seed=3)
    plans = [plan_calibration(folder, settings, progress=False) for _ in range(2)]
    chosen = [sorted(plan.truths) for plan in plans]
    assert chosen[0] == chosen[1] and len(chosen[0]) == 2
    assert not any(path.endswith("blank.png") for path in chosen[0])
    every = plan_calibration(
        folder, CalibrationSettings(("gpt-4o",), (160, 640), 3), progress=False
    )
    assert len(every.truths) == 3 and every.corpus_images == 4


@pytest.mark.parametrize(
    ("reader", "kept", "expected"),
    [
        # the model loses words at 0.5 and at 0.85 (not at 0.8): the lowest value above is 0.9
        ([0.5, 0.8, 0.85, 0.9, 1.0], [0.2, 0.99, 0.9, 0.96, 1.0], (0.9, True, 0.85)),
        # a tie: at 0.9 one view keeps and one loses, so 0.9 cannot be the threshold
        ([0.9, 0.9, 0.95], [1.0, 0.5, 1.0], (0.95, True, 0.9)),
        # the model never loses words: the lowest value seen, not a boundary
        ([0.6, 0.7], [1.0, 0.97], (0.6, False, None)),
        # it loses words where the reader reads best: no threshold
        ([0.7, 1.0], [1.0, 0.9], (None, True, 1.0)),
    ],
)
def test_the_threshold_is_the_lowest_reader_value_above_every_lost_view(reader, kept, expected):
    found = reader_threshold(pd.Series(reader), pd.Series(kept))
    assert (found["threshold"], found["bounded"], found["highest_failing"]) == expected


def test_agreement_counts_where_reader_and_model_differ_at_the_default_floor():
    counts = agreement(pd.Series([0.99, 0.9, 0.97, 0.5]), pd.Series([1.0, 1.0, 0.8, 0.1]), 0.95)
    assert counts == {"agree": 2, "reader_stricter": 1, "reader_looser": 1}


def a_calibration(**changes) -> Calibration:
    values = dict(
        model="gpt-4o",
        reader="tesseract",
        reader_version="tesseract 5",
        threshold=0.4,
        bounded=True,
        highest_failing=0.3,
        views=9,
        images=6,
        agree=8,
        reader_stricter=1,
        reader_looser=0,
        transcriber="emulated (tesseract reading)",
        base_url_kind="local",
        date="2026-12-07",
        settings={},
        truth={"reader": 6},
    )
    return Calibration(**{**values, **changes})


def test_a_calibration_line_says_when_there_is_no_threshold_and_counts_in_words():
    line = threshold_text(a_calibration(threshold=None, views=1, images=1))
    assert line.startswith(
        "gpt-4o: no reader threshold (the model lost words even in the views the reader reads "
        "best) on 1 view of 1 image (emulated, 2026-12-07)"
    )
    assert "on 9 views of 6 images" in threshold_text(a_calibration())


@pytest.fixture
def sweep_csv(tmp_path):
    """A sweep CSV of two screenshots, one of which keeps only 0.4 of its words at 512 px
    `low` (the cheapest setting), read by tesseract."""
    frame = result_rows({"a.png": {}, "b.png": {SMALL_LOW: {"seen_word_recall": 0.4}}}, GRID)
    path = tmp_path / "results.csv"
    frame.assign(reader="tesseract").reindex(columns=COLUMNS).to_csv(path, index=False)
    return path


def test_recommend_with_a_calibration_keeps_its_threshold_and_says_so(sweep_csv, tmp_path, capsys):
    assert run_cli("recommend", sweep_csv, "--json") == 0
    (plain,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert plain["detail"] == "high" and plain["text_floor"] == 0.95
    assert plain["text_floor_source"] == "as set, not calibrated against a model"
    write_calibrations([a_calibration()], tmp_path / "c.json")
    assert run_cli("recommend", sweep_csv, "--json", "--calibration", tmp_path / "c.json") == 0
    out, err = capsys.readouterr()
    (calibrated,) = [json.loads(line) for line in out.splitlines()]
    source = "from calibration against gpt-4o, emulated, 2026-12-07, 6 images"
    assert calibrated["detail"] == "low" and calibrated["text_floor"] == 0.4  # cheaper
    assert calibrated["text_floor_source"] == source
    assert err == f"toolkit recommend: gpt-4o: text floor 0.40 {source}\n"


@pytest.mark.parametrize(
    ("calibration", "message"),
    [
        (a_calibration(reader="neural"), "of the neural reader"),
        (a_calibration(legibility_method=METHOD - 1), f"method {METHOD - 1}"),
        (a_calibration(threshold=None), "gives no text floor"),
    ],
)
def test_a_calibration_that_cannot_stand_for_the_model_is_refused(
    sweep_csv, tmp_path, capsys, calibration, message
):
    write_calibrations([calibration], tmp_path / "c.json")
    assert run_cli("recommend", sweep_csv, "--calibration", tmp_path / "c.json") == 2
    assert message in capsys.readouterr().err


def test_a_file_that_is_not_a_calibration_is_one_line(sweep_csv, tmp_path, capsys):
    (tmp_path / "c.json").write_text('{"format": "something else"}')
    assert run_cli("recommend", sweep_csv, "--calibration", tmp_path / "c.json") == 2
    assert "not a calibration file" in capsys.readouterr().err
    twice = [a_calibration(), a_calibration(date="2026-12-08")]
    write_calibrations(twice, tmp_path / "c.json")
    assert run_cli("recommend", sweep_csv, "--calibration", tmp_path / "c.json") == 2
    assert "gpt-4o is calibrated twice" in capsys.readouterr().err


def test_the_finding_says_where_the_text_floor_comes_from():
    rows = result_rows({"a.png": {}}, GRID)
    rules = DecisionRules()
    calibrated = calibrated_rules({"gpt-4o": a_calibration()}, rules, ["gpt-4o"], "tesseract")
    texts = []
    for floors in (rules, calibrated):
        picks = recommend(rows, floors)
        projected = monthly_projection(rows, picks, 1000).iloc[0]
        texts.append(finding(projected, picks, floors))
    assert "at least 95 % of its words; text floor as set, not calibrated" in texts[0]
    assert (
        "at least 40 % of its words; text floor from calibration against gpt-4o, emulated, "
        "2026-12-07, 6 images" in texts[1]
    )


def test_the_report_index_says_whether_the_reader_was_calibrated(tmp_path):
    tables = tmp_path / "tables"
    assert "Reader calibration: none" in report_index._calibration(tmp_path)
    write_calibrations([a_calibration(threshold=0.91)], tables / "calibration.json")
    emulated = report_index._calibration(tmp_path)
    assert "Reader calibration: emulated" in emulated and "not a model's reading" in emulated
    assert "gpt-4o: reader threshold 0.91 on 9 views of 6 images" in emulated
    live = a_calibration(transcriber="model", base_url_kind="openai", date="2026-12-09")
    write_calibrations([a_calibration(), live], tables / "calibration.json")
    assert "Reader calibration: live, 2026-12-09" in report_index._calibration(tmp_path)
    (tables / "calibration.json").write_text("[]")
    assert "Reader calibration: unreadable" in report_index._calibration(tmp_path)


@pytest.mark.notebooks
def test_the_smoke_report_calibrates_against_the_emulator_and_says_so(tmp_path_factory):
    out, code = smoke_report(tmp_path_factory.getbasetemp())
    assert code == 0
    rows = pd.read_csv(out / "tables" / "calibration.csv")
    assert set(rows["transcriber"]) == {"emulated (tesseract reading)"}
    assert set(rows["model"]) == {"gpt-4o", "gpt-5.5"} and len(rows) == 2 * 2  # 1 image, 2 sizes
    calibrations = load_calibrations([out / "tables" / "calibration.json"]).values()
    assert {c.status for c in calibrations} == {"emulated"}
    assert "Emulated demonstration" in (out / "08-calibration.html").read_text()
    index = (out / "index.html").read_text()
    assert "Reader calibration: emulated" in index
    assert "text floor as set, not calibrated against a model" in index  # the findings


def test_failed_views_are_rows_not_counted_and_answer_kinds_do_not_mix(tmp_path):
    (tmp_path / "truth").mkdir()
    page(size=32).save(tmp_path / "memo.png")
    (tmp_path / "truth" / "memo.txt").write_text("\n".join(LINES), encoding="utf-8")
    settings = CalibrationSettings(("gpt-4o",), (128, 480, 800), sample=1)
    plan = plan_calibration(tmp_path, settings, progress=False)
    small, middle, best = plan.views["request_id"]
    words = " ".join(LINES).split()
    records = {
        best: {"status": "ok", "response_text": "**" + " ".join(LINES) + "**", "request_id": "r"},
        middle: {"status": "ok", "response_text": " ".join(words[:6]), "request_id": "r"},
        small: {"status": "failed", "error_type": "InternalServerError", "error_message": "oh"},
    }
    rows = score_calibration(plan, records).set_index("max_side")
    assert rows.loc[800, "model_word_recall"] == 1 and rows.loc[800, "transcriber"] == "model"
    assert rows.loc[480, "model_word_recall_relative"] == 0.5
    failed = rows.loc[128]
    assert (failed["status"], failed["error"]) == ("failed", "InternalServerError: oh")
    assert rows["counted"].tolist() == [False, True, False]
    context = {"reader": "tesseract", "reader_version": "5", "base_url_kind": "openai"}
    context |= {"date": "2026-12-07", "settings": {}, "toolkit_version": "0"}
    assert fit(rows.reset_index(), context).live
    emulated = emulated_mark("tesseract") + "\n" + " ".join(LINES)
    records[middle] = {"status": "ok", "response_text": emulated, "request_id": "r"}
    with pytest.raises(SettingsError, match="mix"):
        fit(score_calibration(plan, records), context)
    # without its best view, no view of the image says how much the model keeps
    records[best] = {"status": "error", "error_type": "BadRequestError", "error_message": "no"}
    unanswered = fit(score_calibration(plan, records), context)
    assert (unanswered.views, unanswered.threshold) == (0, None)
    assert unanswered.excluded[0].startswith("memo.png: the model's best view holds fewer")


def test_the_calibration_figure_shows_the_counted_views_the_floor_and_the_threshold():
    from matplotlib.figure import Figure

    from toolkit.plots import plot_calibration

    rows = pd.DataFrame(
        {
            "model": "gpt-4o",
            "max_side": [512, 512, 1024, 2048],
            "reader_word_recall": [0.4, 0.9, 1.0, 1.0],
            "model_word_recall_relative": [0.1, 0.5, 1.0, 1.0],
            "counted": [True, True, True, False],
            "error": None,
        }
    )
    for threshold, lines in ((1.0, 2), (None, 1)):
        ax = Figure().subplots()
        points = plot_calibration(ax, rows, thresholds={"gpt-4o": threshold})
        assert [len(p.get_offsets()) for p in points] == [2, 1]  # per size, counted views only
        assert len(ax.get_lines()) == lines  # the model's floor, and the threshold when found


def test_an_image_that_cannot_be_read_is_an_error_row_and_exit_1(
    folder, emulator, tmp_path, capsys
):
    images = tmp_path / "images"
    images.mkdir()
    (images / "large.png").write_bytes((folder / "large.png").read_bytes())
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    args = calibrate_args(images, tmp_path, emulator, "--dry-run", "--json", "--sample", "2")
    assert run_cli(*args) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["path"].endswith("broken.png")
    assert lines[-1]["error"]["type"] == "NotAnImageError"
