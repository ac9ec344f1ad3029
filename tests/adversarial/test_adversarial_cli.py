"""Careless and hostile command lines: each is a typed error naming the path or value, exit 2
for usage or 1 for a failed item, no traceback, the other items still done, nothing half
written; Ctrl-C is one line and exit 130 with the partial results kept."""

import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import (
    descendants,
    interrupt,
    png,
    run_cli,
    running,
    start,
    toolkit,
    wait_for,
    without_dac_override,
)
from PIL import Image
from videogen import ramp, write_video

from toolkit.emulator import Emulator, FaultPlan
from toolkit.errors import RulesError
from toolkit.pricing import load_prices
from toolkit.rulesets import load_rules


def rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def failed_paths(out: str) -> dict[str, str]:
    return {r["path"]: r["error"]["message"] for r in rows(out) if "error" in r}


@pytest.fixture
def good(tmp_path) -> Path:
    path = tmp_path / "good.png"
    path.write_bytes(png((90, 60)))
    return path


# ---- what a path can be ------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["encode"], ["tokens", "--model", "gpt-4o"]])
def test_a_folder_that_cannot_be_listed_is_an_error_row(tmp_path, good, command):
    photos = tmp_path / "photos"
    (photos / "locked").mkdir(parents=True)
    (photos / "open.png").write_bytes(png())
    (photos / "locked" / "hidden.png").write_bytes(png())
    sealed = tmp_path / "sealed"
    sealed.mkdir()
    (sealed / "x.png").write_bytes(png())
    for folder in (photos / "locked", sealed):
        folder.chmod(0)
    try:  # as root, file permissions only bind a child without CAP_DAC_OVERRIDE
        result = toolkit(*command, good, photos, sealed, "--json", preexec_fn=without_dac_override)
    finally:
        for folder in (photos / "locked", sealed):
            folder.chmod(0o755)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    failures = failed_paths(result.stdout)
    assert set(failures) == {str(photos / "locked"), str(sealed)}
    assert all("Permission denied" in message for message in failures.values())
    done = [r["path"] for r in rows(result.stdout) if "error" not in r]
    assert done == [str(good), str(photos / "open.png")]


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "pipe.jpg"
    os.mkfifo(path)
    return path


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "command", [["encode"], ["tokens", "--model", "gpt-4o"], ["request", "--model", "gpt-4o"]]
)
def test_devices_and_fifos_are_refused_without_reading_or_blocking(capsys, good, fifo, command):
    code = run_cli(*command, "/dev/zero", fifo, good, "--json")
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    failures = failed_paths(out)
    assert "character device" in failures["/dev/zero"]
    assert "FIFO" in failures[str(fifo)]
    assert [r for r in rows(out) if "error" not in r]  # the good file still went through


@pytest.mark.timeout(60)
def test_sweep_and_frames_refuse_a_fifo(capsys, tmp_path, good, fifo):
    out = tmp_path / "s.csv"
    args = ["--max-sides", "64", "--formats", "jpeg", "--qualities", "80", "--workers", "1"]
    code = run_cli("sweep", fifo, good, *args, "--no-cache", "--no-progress", "-o", out)
    assert code == 1
    errors = pd.read_csv(out).set_index("path")["error"]
    assert "FIFO" in errors[str(fifo)] and pd.isna(errors[str(good)])
    assert run_cli("frames", fifo, "--count", "2", "--json") == 1
    assert "not a regular file (a FIFO)" in capsys.readouterr().out


# ---- rule and price files ----------------------------------------------------------------

RULES = """
kind = "token-rules"
id = "adversarial"
provider = "openai"
as_of = "2026-01-01"

[[groups]]
name = "tiles"
scheme = "tile"
auto = "high"
params = { base = 85, per_tile = 170, tile_size = 512, max_side = 2048, short_side = 768 }
detail.high = {}
detail.low = { base_only = true }
models = { "gpt-4o" = {} }

[[groups]]
name = "patches"
scheme = "patch"
auto = "high"
params = { patch_size = 32, budget = 1536 }
detail.high = {}
models = { "gpt-4.1-mini" = { multiplier = 1.62 } }
"""


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("tile_size = 512", "tile_size = 0", "tile_size = 0 must be a positive number"),
        ("patch_size = 32", "patch_size = 0", "patch_size = 0 must be a positive number"),
        ("base = 85", "base = -85", "base = -85 must be a whole number >= 0"),
        ("per_tile = 170", "per_tile = 170.5", "whole number"),
        ("multiplier = 1.62", "multiplier = -1", "multiplier = -1 must be a positive number"),
        (
            'as_of = "2026-01-01"',
            'as_of = "2026-01-01"\ncolour = "blue"',
            "unknown keys ['colour']",
        ),
        ('name = "tiles"', 'name = "tiles"\ntypo = 1', "unknown keys ['typo']"),
        ("# none", "", None),
    ],
)
def test_rule_files_are_validated_when_loaded(tmp_path, capsys, old, new, reason):
    path = tmp_path / "rules.toml"
    path.write_text(RULES.replace(old, new))
    if reason is None:  # the file itself is good
        assert load_rules(path).model("gpt-4o").details["high"].params["tile_size"] == 512
        assert run_cli("tokens", "1024x1024", "--model", "gpt-4o", "--rules", path) == 0
        return
    with pytest.raises(RulesError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        load_rules(path)
    assert run_cli("tokens", "1024x1024", "--model", "gpt-4o", "--rules", path, "--json") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"toolkit tokens: error: {path}:") and "Traceback" not in err


def test_rule_and_price_files_must_be_utf8_regular_files(tmp_path, capsys):
    latin = tmp_path / "latin.toml"
    latin.write_bytes(RULES.replace("tiles", "tuiles").encode().replace(b"tuiles", b"tu\xefles"))
    with pytest.raises(RulesError, match="not UTF-8"):
        load_rules(latin)
    with pytest.raises(RulesError, match="not a regular file"):
        load_rules("/dev/zero")
    prices = tmp_path / "prices.toml"
    prices.write_text(
        'kind = "prices"\nid = "p"\nprovider = "openai"\nas_of = "2026-01-01"\n'
        'batch_discount = 0.5\nvat = 0.2\n[models]\n"gpt-4o" = { input = 2.5, output = 10 }\n'
    )
    with pytest.raises(RulesError, match=r"unknown keys \['vat'\]"):
        load_prices(prices)
    code = run_cli("sweep", tmp_path, "--prices", prices, "-o", tmp_path / "x.csv")
    assert code == 2 and "vat" in capsys.readouterr().err
    assert not list(tmp_path.glob("x.csv*"))


# ---- settings checked before any work ----------------------------------------------------------


@pytest.mark.parametrize("command", ["request", "batch"])
@pytest.mark.parametrize(
    ("model", "detail", "named"),
    [("gpt-nope", "high", "gpt-nope"), ("gpt-4o", "original", "original")],
)
def test_request_and_batch_refuse_unknown_models_and_details(
    tmp_path, good, capsys, command, model, detail, named
):
    out = tmp_path / ("body.json" if command == "request" else "batch")
    code = run_cli(command, good, "--model", model, "--detail", detail, "-o", out)
    err = capsys.readouterr().err
    assert code == 2 and named in err and "Traceback" not in err
    assert not out.exists()


def test_batch_caps_images_per_request_at_the_request_limit(tmp_path, good, capsys):
    for value, message in (("100000", "over the 500 images"), ("0", "at least 1")):
        code = run_cli(
            "batch", good, "--model", "gpt-4o", "--images-per-request", value, "-o", tmp_path / "b"
        )
        assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def send_argv(image: Path, emu: Emulator, results: Path) -> list:
    """`toolkit request IMAGE --send` to the emulator, recording into `results`."""
    sending = ["--send", "--base-url", emu.base_url, "--results", results]
    return ["request", image, "--model", "gpt-4o", "--prompt", "Describe", *sending]


def test_a_results_file_that_is_not_ours_is_refused_before_sending(
    tmp_path, good, capsys, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    results = tmp_path / "results.jsonl"
    results.write_text('{"id": "x", "status": "ok"}\n[1, 2]\n')
    with Emulator() as emu:
        code = run_cli(*send_argv(good, emu, results))
        assert sum(emu.attempts.values()) == 0
    err = capsys.readouterr().err
    assert code == 2 and f"{results}: line 2 is not a result record" in err


def test_sending_without_a_key_is_refused_before_any_work(tmp_path, good, capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = tmp_path / "body.json"
    assert run_cli("request", good, "--model", "gpt-4o", "--send", "-o", out) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err and not out.exists()


SWEEP = ["--max-sides", "64", "--formats", "jpeg", "--qualities", "80", "--no-progress"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workers", "-3"], "--workers: must be at least 1, not -3"),
        (["--workers", "0"], "--workers: must be at least 1, not 0"),
        (["-o", "{tmp}"], "Is a directory"),
        (["-o", "/dev/null"], "not a regular file"),
        (["-o", "{tmp}/file.png/out.csv"], "Not a directory"),
        (["--cache", "{tmp}/file.png"], "Not a directory"),
        (["--tier", "gold"], "invalid choice: 'gold'"),
    ],
)
def test_sweep_checks_outputs_and_settings_before_any_work(tmp_path, capsys, argv, message):
    (tmp_path / "file.png").write_bytes(png())
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    output = ["-o", str(tmp_path / "out.csv")] if "-o" not in argv else []
    code = run_cli("sweep", tmp_path / "file.png", *SWEEP, *output, *argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not list(tmp_path.rglob("*.partial")) and not (tmp_path / "out.csv").exists()


def test_an_error_during_a_sweep_leaves_no_partial_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "a.png").write_bytes(png())
    out = tmp_path / "out.csv"

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device", str(out) + ".partial")

    monkeypatch.setattr("toolkit.sweep.to_frame", broken)
    code = run_cli("sweep", tmp_path / "a.png", *SWEEP, "--workers", "1", "--no-cache", "-o", out)
    assert code == 2 and "No space left on device" in capsys.readouterr().err
    assert not list(tmp_path.glob("out.csv*"))


@pytest.mark.timeout(60)
def test_frames_at_an_absurd_rate_takes_every_frame_once_and_quickly(tmp_path, capsys):
    video = write_video(tmp_path / "ramp.mp4", ramp(20), rate=10)
    started = time.perf_counter()
    assert run_cli("frames", video, "--fps", "1e9", "--json") == 0
    frames = [r for r in rows(capsys.readouterr().out) if "summary" not in r]
    assert len(frames) == 20 and time.perf_counter() - started < 30
    assert run_cli("frames", video, "--count", "1000000000", "--json") == 0
    assert len([r for r in rows(capsys.readouterr().out) if "summary" not in r]) == 20


# ---- Ctrl-C ------------------------------------------------------------------------------


def test_ctrl_c_in_request_send_keeps_the_answer_and_sends_nothing_twice(tmp_path, good):
    results = tmp_path / "results.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": "sk-test"}
    with Emulator(faults=FaultPlan(rate_slow=1.0, slow_s=1.5)) as emu:
        argv = [*send_argv(good, emu, results), "--json"]
        process = start(*argv, env=env)
        wait_for(lambda: sum(emu.attempts.values()) == 1)
        _, err = interrupt(process)
        assert process.returncode == 130
        assert err.strip().splitlines() == [
            f"toolkit request: interrupted; answers so far are in {results}; "
            "run the same command to send the rest"
        ]
        (record,) = [json.loads(x) for x in results.read_text().splitlines()]
        assert record["status"] == "ok" and record["attempts"] == 1
        emu.faults = FaultPlan()
        again = toolkit(*argv, env=env)
        assert again.returncode == 0 and rows(again.stdout)[0]["status"] == "ok"
        assert list(emu.answered.values()) == [1]


def test_ctrl_c_in_sweep_keeps_what_is_done_stops_the_workers_and_resumes(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(8):  # large enough that the sweep is still running when Ctrl-C comes
        Image.effect_noise((2000, 1500), 40 + i).convert("RGB").save(photos / f"{i}.jpg")
    out, cache = tmp_path / "out.csv", tmp_path / "cache"
    argv = [
        "sweep",
        photos,
        "--max-sides",
        "256",
        "512",
        "--qualities",
        "60",
        "90",
        "--workers",
        "2",
        "--cache",
        cache,
        "--no-progress",
        "-o",
        out,
        "--json",
    ]
    process = start(*argv)
    wait_for(lambda: len(list(cache.rglob("*.json"))) >= 1)
    workers = descendants(process.pid)
    _, err = interrupt(process)
    assert process.returncode == 130
    (line,) = err.strip().splitlines()
    assert line.startswith("toolkit sweep: interrupted; ") and "run again to resume" in line
    assert Path(str(out) + ".partial").exists() and not out.exists()
    wait_for(lambda: not any(map(running, workers)), timeout=10)
    done = len(list(cache.rglob("*.json")))
    resumed = toolkit(*argv)
    assert resumed.returncode == 0
    summary = json.loads(resumed.stdout)
    assert summary["cached_encodes"] >= done * 2 * 2 * 2
    assert len(pd.read_csv(out)) == 8 * 8
