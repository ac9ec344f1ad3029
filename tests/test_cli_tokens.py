"""`toolkit tokens` and `toolkit models`."""

import json
import subprocess
import sys

import pytest
from PIL import Image, ImageFile

from toolkit.cli import main
from toolkit.cli.encode import token_fields
from toolkit.cli.tokens import TOKEN_FIELDS
from toolkit.errors import NotAnImageError
from toolkit.images import read_size
from toolkit.rulesets import known_models
from toolkit.tokens import image_tokens


def _lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _image(path, size=(400, 200), fmt=None, orientation=None):
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    Image.new("RGB", size, "red").save(path, fmt, exif=exif)
    return path


def test_sizes_as_json_lines(capsys):
    assert main(["tokens", "1024x1024", "2048X4096", "--model", "gpt-4o", "--json"]) == 0
    first, second = _lines(capsys)
    assert list(first) == list(TOKEN_FIELDS)
    assert first == {
        "width": 1024,
        "height": 1024,
        "model": "gpt-4o",
        "detail": "high",
        "tokens": 765,
        "provider_width": 768,
        "provider_height": 768,
        "tiles": 4,
        "patches": None,
        "rules": "openai-2026-09",
        "cost_usd": 0.0019125,
    }
    assert (second["tokens"], second["provider_height"]) == (1105, 1536)


def test_detail_rules_and_tier(capsys):
    args = ["tokens", "1800x2400", "--model", "gpt-4.1-mini", "--detail", "high", "--json"]
    assert main([*args, "--rules", "openai-2025-04", "--tier", "batch"]) == 0
    (row,) = _lines(capsys)
    assert (row["patches"], row["tokens"], row["rules"]) == (1452, 2353, "openai-2025-04")
    assert row["cost_usd"] == pytest.approx(2353 * 0.20 / 1e6)


def test_unpriced_model_has_null_cost(capsys):
    assert main(["tokens", "1024x1024", "--model", "gpt-image-1", "--json"]) == 0
    (row,) = _lines(capsys)
    assert (row["tokens"], row["cost_usd"], row["detail"]) == (194, None, "high")


def test_claude_is_priced_by_its_own_table(capsys):
    # 2691 visual tokens x $5 per 1M (Claude Opus 4.7, anthropic-prices-2026-10).
    assert main(["tokens", "1920x1080", "--model", "claude-opus-4-7", "--json"]) == 0
    (row,) = _lines(capsys)
    assert (row["tokens"], row["cost_usd"], row["detail"]) == (2691, 0.013455, "auto")


def test_paths_read_headers_with_exif_rotation(tmp_path, capsys, monkeypatch):
    upright = _image(tmp_path / "a.jpg")
    rotated = _image(tmp_path / "b.jpg", orientation=6)  # stored 400x200, shown 200x400
    mirrored = _image(tmp_path / "c.webp", orientation=2)  # no swap
    png = _image(tmp_path / "d.png", orientation=8)  # eXIf in the header
    not_image = tmp_path / "e.jpg"
    not_image.write_bytes(b"not an image at all")

    def no_decode(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    assert read_size(upright) == (400, 200)
    assert read_size(rotated) == (200, 400)
    assert read_size(mirrored) == (400, 200)
    assert read_size(png) == (200, 400)
    with pytest.raises(NotAnImageError):
        read_size(not_image)

    paths = [str(p) for p in (upright, rotated, not_image, tmp_path / "missing.png")]
    assert main(["tokens", *paths, "1x1", "--model", "gpt-5.4", "--json"]) == 1
    a, b, bad, missing, tiny = _lines(capsys)
    assert (a["path"], a["width"], a["height"], a["patches"]) == (paths[0], 400, 200, 91)
    assert (b["width"], b["height"], b["tokens"]) == (200, 400, 110)  # 7x13 x 1.2 = 109.2
    assert bad == {"path": paths[2], "error": bad["error"]}
    assert bad["error"]["type"] == "NotAnImageError"
    assert missing["error"]["type"] == "ImageError"
    assert missing["error"]["message"].startswith(f"{paths[3]}: cannot read")
    assert tiny["tokens"] == 2  # the rest still ran


def test_folders_are_walked_and_every_bad_file_is_a_typed_row(tmp_path, capsys):
    folder = tmp_path / "shots"
    folder.mkdir()
    _image(folder / "a.jpg")
    (folder / "b.png").write_bytes(b"")
    (folder / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (folder / "notes.txt").write_text("not an image extension: not walked")
    assert main(["tokens", str(folder), "--model", "gpt-4o", "--json"]) == 1
    good, empty, corrupt = _lines(capsys)
    assert (good["path"], good["width"]) == (str(folder / "a.jpg"), 400)
    assert empty["error"]["type"] == "EmptyImageError"
    assert corrupt["error"]["type"] == "CorruptImageError"
    assert corrupt["error"]["message"].startswith(str(folder / "c.png"))


def test_rejected_image_is_an_error_row(capsys):
    argv = ["tokens", "8000x6000", "1024x1024", "--model", "gpt-6-astra", "--detail", "original"]
    assert main([*argv, "--json"]) == 1
    rejected, ok = _lines(capsys)
    assert rejected["path"] == "8000x6000"
    assert rejected["error"]["type"] == "ImageRejectedError"
    assert "30000" in rejected["error"]["message"]
    assert ok["tokens"] == 1229


CLAUDE_RUNS = [["--model", m] for m in known_models() if m.startswith("claude")] + [
    ["--model", m, "--rules", "anthropic-2025-10"] for m in known_models("anthropic-2025-10")
]


@pytest.mark.parametrize("argv", CLAUDE_RUNS, ids=" ".join)
def test_claude_rejects_a_side_over_8000_px(argv, capsys):
    assert main(["tokens", "8001x100", "8000x100", *argv, "--json"]) == 1
    rejected, ok = _lines(capsys)
    assert rejected["path"] == "8001x100"
    assert rejected["error"]["type"] == "ImageRejectedError"
    assert "over 8000 px" in rejected["error"]["message"]
    assert ok["tokens"] > 0 and ok["width"] == 8000


def test_claude_rejection_from_the_shell():
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "tokens", "8001x100", "--model", "claude-sonnet-4-5"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "ImageRejectedError" in done.stdout and "over 8000 px" in done.stdout
    assert "Traceback" not in done.stderr


def test_table_output(capsys):
    assert main(["tokens", "512x512", "0x3", "--model", "o3", "--detail", "low"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["path", "width", "height"]
    assert out[1].split()[:6] == ["-", "512", "512", "o3", "low", "75"]
    assert "ERROR SettingsError" in out[2]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "gpt-99"], "unknown model 'gpt-99'"),
        (["--model", "gpt-4o", "--detail", "original"], "supported: low, high, auto"),
        (["--model", "gpt-4o", "--rules", "nope"], "unknown rule set"),
    ],
)
def test_bad_model_detail_or_rules_fail_once(argv, message, capsys):
    assert main(["tokens", "10x10", "20x20", *argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_models_lists_every_default_model(capsys):
    assert main(["models", "--json"]) == 0
    rows = {row["model"]: row for row in _lines(capsys)}
    assert {"gpt-4o", "gpt-6-astra", "claude-sonnet-4-6", "gemini-3-pro-preview"} <= set(rows)
    astra = rows["gpt-6-astra"]
    assert astra["details"] == ["low", "high", "original", "auto=original"]
    assert astra["constants"]["high"] == {
        "scheme": "patch",
        "patch_size": 32,
        "max_side": 65535,
        "budget": 2500,
        "multiplier": 1.2,
    }
    assert (astra["input_usd_per_1m"], astra["output_usd_per_1m"]) == (10, 50)
    assert rows["gpt-4o"]["aliases"] == [
        "gpt-4o-2024-05-13",
        "gpt-4o-2024-08-06",
        "gpt-4o-2024-11-20",
    ]
    assert rows["gpt-4o"]["cached_input_usd_per_1m"] == 1.25
    assert rows["claude-sonnet-4-6"]["input_usd_per_1m"] == 3
    assert rows["claude-sonnet-4-6"]["cache_write_5m_usd_per_1m"] == 3.75
    assert rows["claude-sonnet-4-6"]["prices"] == "anthropic-prices-2026-10"
    assert rows["gemini-2.5-pro"]["scheme"] == "crop_tile/fixed"
    assert rows["gemini-2.5-pro"]["long_prompt_input_usd_per_1m"] == 2.5
    for model, row in rows.items():  # a price, or the reason there is none
        assert (row["input_usd_per_1m"] is None) == bool(row["price_note"]), model
    assert "gemini-3.1-pro-preview" in rows["gemini-3-pro-preview"]["price_note"]


def test_gemini_25_shows_its_documented_and_observed_counts(capsys):
    argv = ["tokens", "1024x1024", "--model", "gemini-2.5-flash"]
    assert main([*argv, "--json"]) == 0
    (row,) = _lines(capsys)
    # crop tiles 2 x 2 x 258 documented; 258 billed (python-genai#1349); $0.30 per 1M input
    assert (row["tokens"], row["documented_tokens"], row["observed_tokens"]) == (258, 1032, 258)
    assert row["billed_as"] == "observed" and row["cost_usd"] == pytest.approx(258 * 0.3e-6)
    assert "googleapis/python-genai/issues/1349, 2025-09-09" in row["observed_source"]
    assert main([*argv, "--billing", "documented", "--json"]) == 0
    (row,) = _lines(capsys)
    assert (row["tokens"], row["billed_as"]) == (1032, "documented")
    assert main(argv) == 0  # the table says which count it priced, why, and the sources
    out = capsys.readouterr().out
    assert "tokens are the observed count, the default where a public measurement" in out
    assert "issues/1349" in out and "documented rule of gemini-2026-11" in out
    assert main(["tokens", "1024x1024", "--model", "gpt-4o", "--json"]) == 0
    assert "billed_as" not in _lines(capsys)[0]  # no measurement: the documented count alone


def test_models_for_one_rule_set_as_table(capsys):
    assert main(["models", "--rules", "openai-2025-04"]) == 0
    out = capsys.readouterr().out
    assert "gpt-4.5" in out and "computer-use-preview" in out and "gpt-6-astra" not in out
    assert "budget=1536" in out and "openai-prices-2026-11" in out
    assert "gpt-4.5: not on the pricing page snapshot" in out
    assert main(["models", "--rules", "nope"]) == 2


def test_installed_command_runs():
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "tokens", "2049x513", "--model", "gpt-4.1", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["tokens"] == 1445


def test_encode_with_model_adds_tokens_and_cost(tmp_path, capsys):
    _image(tmp_path / "wide.png", size=(1600, 1000))
    argv = ["encode", str(tmp_path), "--workers", "1", "--model", "gpt-4o", "--detail", "low"]
    assert main([*argv, "--json"]) == 0
    (row,) = _lines(capsys)
    assert (row["width"], row["height"]) == (800, 500)  # the seed recipe's 800 px
    assert (row["tokens"], row["cost_usd"]) == (85, 85 * 2.5 / 1e6)
    assert main([*argv[:-4], "--model", "gpt-5.4", "--json"]) == 0
    (row,) = _lines(capsys)
    assert row["tokens"] == image_tokens(800, 500, "gpt-5.4").tokens == 480  # 25x16 x 1.2
    assert main([*argv[:-2], "--detail", "original"]) == 2
    assert "does not support detail 'original'" in capsys.readouterr().err


def test_encode_flags_a_size_the_api_would_reject():
    fields = token_fields(8040, 3900, "gpt-6-astra", "auto")  # auto = original: 252 x 122 patches
    assert fields["tokens"] is None and fields["cost_usd"] is None
    assert "30744 patches" in fields["tokens_error"]
    assert token_fields(800, 600, "gpt-6-astra", "auto") == {"tokens": 570, "cost_usd": 0.0057}
