"""A recommendation as a policy: each file sent with its category's pick, crops included."""

import json
import math

import pandas as pd
import pytest
from helpers import quadrants
from test_recommend import GRID, SMALL_LOW, result_rows

from toolkit.crops import split_for_legibility
from toolkit.errors import NoSettingError, SettingsError
from toolkit.images import EncodeSettings
from toolkit.policy import load_policy
from toolkit.recommend import recommend, to_records

SHOTS = (2560, 1440)


def write_picks(path, frame: pd.DataFrame) -> None:
    """What `toolkit recommend --json` prints for `frame`."""
    path.write_text("".join(json.dumps(r) + "\n" for r in to_records(recommend(frame))))


@pytest.fixture
def picks(tmp_path):
    """Screenshots (code.png no setting keeps legible: crops; the rest at 512 px high), photos
    no setting keeps faithful, and a second model."""
    shots = result_rows(
        {
            "code.png": {s: {"seen_word_recall": 0.5} for s in GRID},
            "menu.png": {SMALL_LOW: {"seen_word_recall": 0.5}},
        },
        GRID,
        size=SHOTS,
    )
    photos = result_rows(
        {"noisy.jpg": {s: {"seen_ssim": 0.5} for s in GRID}}, GRID, category="photo"
    ).assign(text_words=0, seen_word_recall=math.nan)
    frame = pd.concat([shots, photos], ignore_index=True)
    path = tmp_path / "picks.json"
    write_picks(path, frame)
    both = tmp_path / "both.json"
    write_picks(both, pd.concat([frame, frame.assign(model="gpt-4.1-mini")], ignore_index=True))
    return path, both


def test_each_file_gets_its_categorys_pick_and_named_images_go_as_crops(picks, write):
    policy = load_policy(picks[0])
    assert policy.model == "gpt-4o" and set(policy.picks) == {"photo", "screenshot"}
    shot = write("screenshot/menu.png", quadrants((1600, 1000)))
    whole = policy.plan(shot, EncodeSettings(background=(0, 0, 0)))
    assert whole.describe() == "512 px jpeg 85 high"  # SMALL_HIGH
    assert whole.crops is None and whole.settings.background == (0, 0, 0)
    code = write("screenshot/code.png", quadrants(SHOTS))
    crops = policy.plan(code)
    assert crops.crops == split_for_legibility(*SHOTS, "gpt-4o", "high", "openai-2026-09")
    assert crops.describe() == "2x3 crops of 1296x502 px, jpeg 85, detail high"
    other = write("screenshot/new.png", quadrants((900, 600)))  # not swept: the setting
    assert policy.plan(other).describe() == "512 px jpeg 85 high"
    with pytest.raises(NoSettingError, match="no setting keeps the floors for category 'photo'"):
        policy.plan(write("photo/noisy.jpg", quadrants((300, 200))))
    with pytest.raises(NoSettingError, match="no pick for category 'chart'.*photo, screenshot"):
        policy.plan(write("chart/bar.png", quadrants((300, 200))))


def test_a_category_that_goes_all_as_crops_crops_every_file(tmp_path, write):
    frame = result_rows({"code.png": {s: {"seen_word_recall": 0.5} for s in GRID}}, GRID)
    write_picks(tmp_path / "p.json", frame.assign(source_width=SHOTS[0], source_height=SHOTS[1]))
    row = json.loads((tmp_path / "p.json").read_text())
    assert row["format"] is None and row["crops_format"] == "jpeg"  # the seed's encoding
    plan = load_policy(tmp_path / "p.json").plan(write("screenshot/any.png", quadrants(SHOTS)))
    assert plan.crops is not None and plan.detail == "high"


def test_a_policy_names_its_model_and_says_what_is_wrong_with_it(picks, tmp_path):
    _, both = picks
    with pytest.raises(SettingsError, match="gpt-4o, gpt-4.1-mini: say which with --model"):
        load_policy(both)
    assert load_policy(both, "gpt-4.1-mini").model == "gpt-4.1-mini"
    with pytest.raises(SettingsError, match="no picks for 'gpt-5.5'; it has gpt-4o"):
        load_policy(both, "gpt-5.5")
    bad = tmp_path / "bad.json"
    lines = [json.dumps(json.loads(line)) for line in picks[0].read_text().splitlines()]
    for text, error in [
        ("", "holds no picks"),
        (lines[0] + "\nnot json\n", r"bad.json:2: not JSON"),
        ("[1, 2]\n", r"bad.json:1: not a JSON object"),
        ('{"model": "gpt-4o"}\n', r"bad.json:1: a pick needs category, max_side"),
        (lines[0] + "\n" + lines[0] + "\n", "bad.json:2: a second pick for 'photo'"),
        (lines[1].replace('"detail": "high"', '"detail": "ultra"'), r"bad.json:1: .*ultra"),
        (lines[1].replace('"quality": 85', '"quality": 101'), r"bad.json:1: .*quality"),
    ]:
        bad.write_text(text)
        with pytest.raises(SettingsError, match=error):
            load_policy(bad)
    with pytest.raises(OSError):
        load_policy(tmp_path)  # a folder is not a policy file
