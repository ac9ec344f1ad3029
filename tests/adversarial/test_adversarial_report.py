"""`toolkit report` refuses a bad preset or bad inputs before it creates anything, and Ctrl-C
stops it with one line."""

import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import png, run_cli

from toolkit.errors import ReportError
from toolkit.reports import build_report, load_preset


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("report: {timeout_s: 60\nshared: [", "not a readable YAML preset"),
        (
            "report: {timeout_s: abc}\n",
            "timeout_s must be a positive number of seconds, not 'abc'",
        ),
        ("report: {timeout_s: -5}\n", "timeout_s must be a positive number"),
        ("report: {timeout_s: .inf}\n", "timeout_s must be a positive number"),
        ("report: {timeout_s: true}\n", "timeout_s must be a positive number"),
        ("report: {timeout: 60}\n", "unknown report settings ['timeout']"),
        ("report: [1, 2]\n", "report must be a mapping"),
        ("shared: 5\n", "shared must be a mapping"),
        ("- just\n- a list\n", "top-level keys must be"),
        ("42\n", "top-level keys must be"),
        ("extra: {}\n", "top-level keys must be"),
    ],
)
def test_a_malformed_preset_is_refused_before_any_folder_exists(tmp_path, capsys, text, reason):
    preset = tmp_path / "bad.yaml"
    preset.write_text(text)
    with pytest.raises(ReportError) as info:
        load_preset(preset)
    assert reason in str(info.value) and str(preset) in str(info.value)
    out = tmp_path / "report"
    assert run_cli("report", "--preset", preset, "--out", out) == 2
    err = capsys.readouterr().err
    assert err.startswith("toolkit report: error: ") and "Traceback" not in err
    assert not out.exists()


def test_a_preset_that_is_not_utf8_is_refused(tmp_path):
    preset = tmp_path / "latin.yaml"
    preset.write_bytes(b"shared: {note: caf\xe9}\n")
    with pytest.raises(ReportError, match="not a readable YAML preset"):
        load_preset(preset)


def test_images_are_checked_before_any_work(tmp_path, capsys):
    out = tmp_path / "report"
    assert (
        run_cli("report", "--preset", "smoke", "--images", tmp_path / "missing", "--out", out) == 2
    )
    assert "missing: not a folder" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(40))
    (corrupt / "b.png").write_bytes(b"")
    (corrupt / "notes.txt").write_text("not an image, not looked at")
    assert run_cli("report", "--preset", "smoke", "--images", corrupt, "--out", out) == 2
    err = capsys.readouterr().err
    assert "holds no usable image" in err and "a.jpg" in err and "b.png" in err
    assert not out.exists()
    (corrupt / "c.png").write_bytes(png())
    with pytest.raises(ReportError, match="not an empty folder"):
        (tmp_path / "file").write_text("x")
        build_report("smoke", corrupt, tmp_path / "file")


def test_ctrl_c_stops_a_report_with_one_line(tmp_path):
    out = tmp_path / "report"
    process = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "report", "--preset", "smoke", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not (out / "parameters").exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(1)  # inside the first notebook
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    # The kernel, a process of its own that shares our stderr, may log being shut down
    # mid-cell (jupyter_client interrupts it first); nothing comes from our process but this.
    lines = err.splitlines()
    assert lines.count("toolkit report: interrupted") == 1
    assert not [line for line in lines if any(m in line for m in OUR_FRAMES)]


OUR_FRAMES = ("/toolkit/", "papermill", "nbclient", "KeyboardInterrupt: ")
