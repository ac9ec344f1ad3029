"""One writer per output: a second run on a results file another run is sending into, or into
the CSV another sweep is writing, is refused with one line naming the file; the first run
is not disturbed. Both runs are real processes running at once."""

import os
import signal
import subprocess
import sys

import pandas as pd
import pytest
from helpers import interrupt, png, start, toolkit, wait_for
from PIL import Image

from toolkit.emulator import Emulator, FaultPlan
from toolkit.errors import OutputError
from toolkit.locks import locked

HOLD = """
import sys, time
from toolkit.locks import lock_file
lock_file(sys.argv[1])
print("locked", flush=True)
time.sleep(600)
"""


def test_two_runs_on_one_results_file_never_both_send(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(png())
    results = tmp_path / "results.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": "sk-test"}
    # the answer is held long enough for a second interpreter to start on a loaded machine
    with Emulator(faults=FaultPlan(rate_slow=1.0, slow_s=30.0)) as emu:
        argv = ["request", image, "--model", "gpt-4o", "--prompt", "Describe", "--send"]
        argv += ["--base-url", emu.base_url, "--results", results, "--json"]
        first = start(*argv, env=env)
        try:
            wait_for(lambda: sum(emu.attempts.values()) == 1)  # sending, its file locked
            second = toolkit(*argv, env=env)
            assert second.returncode == 2
            assert second.stderr == (
                f"toolkit request: error: {results}: another run is writing it; wait for that "
                "run to end, or choose another file\n"
            )
            assert first.communicate(timeout=90) and first.returncode == 0
            assert list(emu.answered.values()) == [1]
        finally:
            if first.poll() is None:
                interrupt(first, signal.SIGKILL)


def test_two_sweeps_into_one_csv_never_mix_their_rows(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(6):
        Image.effect_noise((1600, 1200), 40 + i).convert("RGB").save(photos / f"{i}.jpg")
    out, cache = tmp_path / "out.csv", tmp_path / "cache"
    grid = ["--max-sides", "256", "512", "1024", "--qualities", "60", "90", "--workers", "1"]
    argv = ["sweep", photos, *grid, "--cache", cache, "--no-progress", "-o", out, "--json"]
    first = start(*argv)
    wait_for(lambda: any(cache.rglob("*.json")))  # one image done, five to go
    second = toolkit(*argv)
    assert second.returncode == 2
    assert second.stderr == (
        f"toolkit sweep: error: {out}.partial: another run is writing it; wait for that run "
        "to end, or choose another file\n"
    )
    _, err = interrupt(first, signal.SIGTERM)  # stopped as Ctrl-C stops it
    assert first.returncode == 128 + signal.SIGTERM and "run again to resume" in err
    assert toolkit(*argv).returncode == 0  # then one sweep, alone, finishes the file
    frame = pd.read_csv(out)
    assert len(frame) == 6 * 3 * 2 * 2  # images x sides x qualities x formats, once each
    assert not frame.duplicated(["path", "max_side", "format", "quality"]).any()


def test_a_run_killed_outright_leaves_no_lock_behind(tmp_path):
    path = tmp_path / "out.csv.partial"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline() == "locked\n"
    with pytest.raises(OutputError, match="another run is writing it"), locked(path):
        pass
    holder.kill()  # SIGKILL: no clean-up of its own
    holder.communicate()
    with locked(path):  # the kernel released it with the process
        assert path.exists()
