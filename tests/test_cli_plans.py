"""Sending per image from the command line: `encode --crops/--policy/--adaptive`, `request`
and `batch --crops/--policy`, and `encode --adaptive` agreeing with the sweep's per-image
picks on the same grid."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import quadrants, run_cli
from PIL import Image, ImageDraw, ImageFont
from test_policy import write_picks
from test_recommend import GRID, SMALL_LOW, result_rows
from test_sweep import photo

from toolkit import legibility
from toolkit.emulator import Emulator
from toolkit.recommend import adaptive_picks
from toolkit.sweep import SweepGrid, run_sweep
from toolkit.tokens import image_tokens

SHOTS = (2560, 1440)
CROPS = ["r0c0", "r0c1", "r1c0", "r1c1", "r2c0", "r2c1"]  # gpt-4o high: 2x3 of 1296x502


def rows(capsys, *argv) -> tuple[int, list[dict]]:
    code = run_cli(*argv)
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.fixture
def folder(write):
    """A 2560x1440 screenshot and a small photo, in category folders."""
    write("screenshot/code.png", quadrants(SHOTS))
    return write("photo/p.png", quadrants((400, 300))).parent.parent


def test_encode_crops_writes_one_file_and_row_per_crop(capsys, folder, tmp_path):
    out = tmp_path / "out"
    argv = ["encode", folder / "screenshot", "--crops", "--model", "gpt-4o", "--detail", "high"]
    code, found = rows(capsys, *argv, "--format", "png", "--out", out, "--json")
    assert code == 0 and [r["crop"] for r in found] == CROPS
    for row in found:
        assert row["setting"] == "2x3 crops of 1296x502 px, png, detail high"
        assert (row["width"], row["height"], row["detail"]) == (1296, 502, "high")
        left, top, right, bottom = row["crop_box"]
        assert (right - left, bottom - top) == (1296, 502)
        kept = image_tokens(1296, 502, "gpt-4o", "high")
        assert (kept.provider_width, kept.provider_height) == (1296, 502)
        assert row["tokens"] == kept.tokens
        sent = Image.open(out / f"code.crop-{row['crop']}.png")
        original = Image.open(folder / "screenshot" / "code.png").convert("RGB")
        assert sent.tobytes() == original.crop(row["crop_box"]).tobytes()
    assert sorted(p.name for p in out.iterdir()) == [f"code.crop-{c}.png" for c in CROPS]


def test_encode_policy_sends_each_file_with_its_categorys_pick(capsys, folder, tmp_path):
    shots = result_rows(
        {
            "code.png": {s: {"seen_word_recall": 0.5} for s in GRID},
            "menu.png": {SMALL_LOW: {"seen_word_recall": 0.5}},
        },
        GRID,
        size=SHOTS,
    )
    picks = tmp_path / "picks.json"
    write_picks(picks, shots)
    (folder / "chart").mkdir()
    quadrants((300, 200)).save(folder / "chart" / "bar.png")
    code, found = rows(capsys, "encode", folder, "--policy", picks, "--json", "--workers", "1")
    assert code == 1  # the chart has no pick: an error row, the rest go on
    by_path = {}
    for row in found:
        by_path.setdefault(Path(row["path"]).name, []).append(row)
    assert by_path["bar.png"][0]["error"]["type"] == "NoSettingError"
    assert "no pick for category 'chart'" in by_path["bar.png"][0]["error"]["message"]
    assert [r["crop"] for r in by_path["code.png"]] == CROPS  # named in cropped_images
    assert by_path["code.png"][0]["setting"] == "2x3 crops of 1296x502 px, jpeg 85, detail high"
    assert by_path["code.png"][0]["tokens"] == image_tokens(1296, 502, "gpt-4o", "high").tokens
    assert "error" in by_path["p.png"][0]  # no photo pick in this policy
    code, found = rows(capsys, "encode", folder / "screenshot", "--policy", picks, "--json")
    assert code == 0 and len(found) == 6


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--crops"], "--crops needs --model"),
        (["--crops", "--model", "gpt-4o", "--max-side", "512"], "--crops sets --max-side"),
        (["--adaptive"], "--adaptive needs --model"),
        (["--adaptive", "--model", "gpt-4o", "--quality", "70"], "--adaptive sets --quality"),
        (["--max-sides", "512"], "--max-sides: for --adaptive only"),
        (["--min-legibility", "0.9"], "--min-legibility: for --adaptive only"),
        (["--policy", "missing.json"], "missing.json"),
        (["--crops", "--adaptive", "--model", "gpt-4o"], "not allowed with argument"),
    ],
)
def test_encode_plan_options_are_checked_before_any_work(capsys, folder, argv, message):
    assert run_cli("encode", folder, *argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_request_sends_an_images_crops_together_after_a_caption(capsys, folder, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    argv = ["request", folder / "screenshot", folder / "photo", "--model", "gpt-4o"]
    argv += ["--detail", "high", "--crops", "--prompt", "Describe", "--json", "--send"]
    with Emulator() as emu:
        results = Path(str(folder)) / "results.jsonl"
        code, (row,) = rows(capsys, *argv, "--base-url", emu.base_url, "--results", results)
    assert code == 0 and row["status"] == "ok" and row["images"] == 7
    assert row["image_names"][:6] == [f"{folder / 'screenshot' / 'code.png'}#{c}" for c in CROPS]
    seen = json.loads(row["response_text"])["images"]
    assert [(i["width"], i["height"]) for i in seen] == [(1296, 502)] * 6 + [(400, 300)]
    crop = image_tokens(1296, 502, "gpt-4o", "high").tokens
    assert (
        row["estimated_image_tokens"] == 6 * crop + image_tokens(400, 300, "gpt-4o", "high").tokens
    )


def test_request_body_names_the_grid_before_the_crops(capsys, folder, tmp_path):
    body = tmp_path / "body.json"
    argv = ["request", folder / "screenshot", "--model", "gpt-4o", "--detail", "high"]
    assert run_cli(*argv, "--crops", "--no-prompt", "-o", body) == 0
    content = json.loads(body.read_bytes())["messages"][0]["content"]
    assert [c["type"] for c in content] == ["text"] + ["image_url"] * 6
    assert content[0]["text"].startswith("The next 6 images are one 2560x1440 image (code.png)")


def test_batch_keeps_an_images_crops_in_one_request(capsys, folder, tmp_path):
    argv = ["batch", folder, "--model", "gpt-4o", "--detail", "high", "--crops", "--no-prompt"]
    code, (row,) = rows(capsys, *argv, "-o", tmp_path / "batch", "--json")
    assert code == 0 and row["lines"] == 2  # one request per image, its crops together
    lines = [json.loads(x) for x in Path(row["path"]).read_bytes().splitlines()]
    images = [len(line["body"]["messages"][0]["content"]) for line in lines]
    assert images == [1, 7]  # the photo alone; the screenshot's caption and 6 crops


def text_page(path: Path, size: tuple[int, int], font: int, lines: list[str]) -> Path:
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((20, 20 + 2 * font * i), line, fill="black", font=ImageFont.load_default(font))
    path.parent.mkdir(parents=True, exist_ok=True)
    page.save(path)
    return path


@pytest.mark.skipif(legibility.ocr_unavailable() is not None, reason="no OCR here")
def test_encode_adaptive_chooses_what_the_sweep_chooses_per_image(capsys, tmp_path):
    shots = tmp_path / "images" / "screenshot"
    text_page(
        shots / "text.png",
        (1200, 300),
        14,
        [
            "Invoice 4821 total 93.50 due 2026-11-30 paid by transfer to Acme Supplies",
            "Questions about this invoice go to the accounts team by email please",
        ],
    )
    text_page(  # 11 px text: lost at every size up to 1200 px, so sent as crops
        shots / "dense.png",
        (1800, 120),
        11,
        [
            "Settlement reference 88412 cleared on 2026-12-01 for 1,204.50 euros to Northwind",
            "Contact the treasury desk before noon about any remittance left unmatched",
        ],
    )
    photo(tmp_path / "images" / "photo" / "p.jpg")
    grid = SweepGrid(
        max_sides=(300, 600, 1200),
        formats=("jpeg", "webp"),
        qualities=(50, 90),
        details=("low", "high"),
        compression_metrics=False,
        ocr=True,
    )
    with ThreadPoolExecutor(1) as pool:
        swept = run_sweep(tmp_path / "images", grid, pool, progress=False)
    expected = adaptive_picks(swept).set_index("image")
    argv = ["encode", tmp_path / "images", "--adaptive", "--model", "gpt-4o", "--json"]
    argv += ["--max-sides", "300", "600", "1200", "--formats", "jpeg", "webp"]
    argv += ["--qualities", "50", "90", "--details", "low", "high", "--workers", "1"]
    code, found = rows(capsys, *argv)
    assert code == 0
    chosen = {Path(r["path"]).name: r for r in found}
    assert set(chosen) == set(expected.index) == {"text.png", "dense.png", "p.jpg"}
    for name, row in chosen.items():
        assert row["setting"] == expected.loc[name, "setting"]
        assert row["tokens"] == expected.loc[name, "tokens"]
        assert row["grid_settings"] == 24
    assert expected.loc["dense.png", "crops"] == 1 and "crop" in chosen["dense.png"]
    assert chosen["dense.png"]["measured_settings"] == 24  # every setting failed its text
    assert chosen["p.jpg"]["measured_settings"] < 24  # a cheap setting kept the photo


@pytest.mark.skipif(legibility.ocr_unavailable() is not None, reason="no OCR here")
def test_an_image_no_setting_serves_is_an_error_row(capsys, tmp_path):
    photo(tmp_path / "photo" / "p.jpg", 300, 200)
    argv = ["encode", tmp_path, "--adaptive", "--model", "gpt-4o", "--json", "--workers", "1"]
    argv += ["--max-sides", "150", "300", "--formats", "jpeg", "--qualities", "80"]
    code, (row,) = rows(capsys, *argv, "--min-fidelity", "1")  # JPEG never keeps all of it
    assert code == 1 and row["error"]["type"] == "NoSettingError"
    message = row["error"]["message"]
    assert "no setting in the grid keeps the floors; best: 300 px jpeg 80 high" in message
