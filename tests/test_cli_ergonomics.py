"""The command line forgives common typing and names the fix: the closest option or choice
to a typo, `jpg` for `jpeg`, sizes typed as 1024*768 or 1024×768; long commands show a bar
with its total."""

import json

import pytest
from helpers import quadrants

from toolkit.cli import main
from toolkit.errors import SettingsError
from toolkit.images import parse_size
from toolkit.paths import DATA_DIR
from toolkit.video import open_video


def fails(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    assert stopped.value.code == 2
    return capsys.readouterr().err


def test_an_unknown_option_suggests_the_closest_and_the_commands_help(capsys):
    err = fails(capsys, "tokens", "512x512", "--model", "gpt-4o", "--detial", "high")
    assert err.startswith("toolkit tokens: error: unrecognized arguments: --detial high")
    assert "did you mean --detail for --detial?" in err and "toolkit tokens --help" in err


def test_a_mistyped_command_or_choice_suggests_the_closest(capsys):
    assert "did you mean 'encode'?" in fails(capsys, "ecnode", "x.png")
    err = fails(capsys, "tokens", "512x512", "--model", "gpt-4o", "--tier", "bach")
    assert "invalid choice: 'bach'" in err and "did you mean 'batch'?" in err
    err = fails(capsys, "encode", "x.png", "--format", "gif")
    assert "choose from jpeg, png, webp" in err


def test_a_mistyped_detail_level_suggests_the_closest(capsys):
    assert main(["tokens", "512x512", "--model", "gpt-4o", "--detail", "hgh"]) == 2
    assert "(did you mean 'high'?)" in capsys.readouterr().err


@pytest.mark.parametrize("typed", ["jpg", "JPG", "jpeg", "Jpeg"])
def test_jpg_is_jpeg(write, capsys, typed):
    image = write("photo.png", quadrants(), "PNG")
    assert main(["encode", str(image), "--format", typed, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mime"] == "image/jpeg"


def test_a_grid_takes_jpg_too(write, tmp_path, capsys):
    image = write("in/photo.png", quadrants(), "PNG")
    args = ["sweep", str(image.parent), "--formats", "JPG", "--qualities", "80"]
    args += ["--max-sides", "64", "--no-metrics", "--no-cache", "-o", str(tmp_path / "r.csv")]
    assert main([*args, "--json", "--no-progress"]) == 0
    assert (tmp_path / "r.csv").read_text().count(",jpeg,") == 1


@pytest.mark.parametrize("typed", ["1024x768", "1024X768", "1024*768", "1024×768", "1024 x 768"])
def test_a_size_is_typed_any_common_way(capsys, typed):
    assert parse_size(typed) == (1024, 768)
    assert main(["tokens", typed, "--model", "gpt-4o", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert (row["width"], row["height"], row["tokens"]) == (1024, 768, 765)


@pytest.mark.parametrize("typed", ["0x768", "1024x", "x768", "10000000x1"])
def test_what_is_not_a_size_says_what_one_is(typed):
    with pytest.raises(SettingsError, match="such as 1024x768"):
        parse_size(typed)


def test_frames_shows_a_bar_over_the_video_with_its_total(capsys):
    clip = DATA_DIR / "video" / "clip.mp4"
    assert main(["frames", str(clip), "--count", "2", "--json"]) == 0
    total = round(open_video(clip).duration_s, 1)
    err = capsys.readouterr().err
    assert "frames:" in err and f"/{total}" in err
    assert main(["frames", str(clip), "--count", "2", "--json", "--no-progress"]) == 0
    assert capsys.readouterr().err == ""
