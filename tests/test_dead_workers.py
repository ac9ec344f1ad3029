"""Workers that die are reported, not fatal: the image a killed pool worker held is an error
row (`worker died: signal 9 (SIGKILL)`), a new worker takes over, every other image is done,
and the summary counts the deaths. The kills are real: SIGKILL of a pool process."""

import json
import os
import signal
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import png, running, start, wait_for
from PIL import Image

from toolkit import runtime
from toolkit.errors import WorkerDiedError
from toolkit.runtime import ProcessPool, map_in_order

# Run in every Python process of the command (its pool workers too): an image whose name
# starts with "hold" is held by the worker that takes it, which says who it is, so that the
# test can kill exactly that worker while it holds exactly that image.
SITECUSTOMIZE = """
import os, time
import toolkit.images as images

def holding(function):
    def held(source, *args, **kwargs):
        if os.path.basename(str(getattr(source, "name", source))).startswith("hold"):
            with open(os.environ["HOLDER"] + ".tmp", "w") as marker:
                marker.write(str(os.getpid()))
            os.replace(os.environ["HOLDER"] + ".tmp", os.environ["HOLDER"])
            time.sleep(120)
        return function(source, *args, **kwargs)
    return held

images.encode_image = holding(images.encode_image)
images.load_image = holding(images.load_image)
"""


def sleep_or_die(seconds: float) -> float:
    """A task: -1 kills its own worker (as the OOM killer would), else sleeps."""
    if seconds < 0:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(seconds)
    return seconds


def test_the_task_of_a_dead_worker_fails_alone_and_the_pool_goes_on():
    with ProcessPool(2) as pool:
        futures = [pool.submit(sleep_or_die, s) for s in (0.2, 0.2, -1, 0.2, 0.2, 0.2)]
        outcomes = [f.exception() or f.result() for f in futures]
        assert outcomes[:2] + outcomes[3:] == [0.2] * 5
        assert isinstance(outcomes[2], WorkerDiedError)
        assert str(outcomes[2]) == "worker died: signal 9 (SIGKILL)"
        assert pool.submit(sleep_or_die, 0).result() == 0 and pool.deaths == 1


def test_a_worker_killed_while_idle_is_replaced():
    with ProcessPool(2) as pool:
        assert pool.submit(sleep_or_die, 0).result() == 0
        victim = pool.pids()[0]
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: not running(victim))
        futures = [pool.submit(sleep_or_die, 0.1) for _ in range(4)]
        assert [f.result() for f in futures] == [0.1] * 4 and pool.deaths == 1


def test_no_task_waits_forever_when_a_submit_finds_the_pool_broken_first(monkeypatch):
    """A pool is marked broken a moment before its tasks are failed: a submit in that moment
    replaces it, and the tasks still in it run again in the new one instead of waiting for
    news that the pool, already replaced, would ignore (in CI that wait never ended)."""
    monkeypatch.setattr(runtime, "DEATH_REPORT_S", 0.1)
    with ProcessPool(2) as pool:
        first = pool.submit(sleep_or_die, 2)
        broken = pool._pool
        wait_for(lambda: len(pool.pids()) > 0)
        broken._broken = "a worker died; the pool has not failed its tasks yet"
        second = pool.submit(sleep_or_die, 0.1)
        assert pool._pool is not broken
        for pid in list(broken._processes):
            os.kill(pid, signal.SIGKILL)  # the pool now fails the tasks it still held
        assert second.result(timeout=30) == 0.1 and first.result(timeout=30) == 2


def test_map_in_order_puts_the_error_in_place_of_the_lost_result():
    results = list(map_in_order(sleep_or_die, [0.1, -1, 0.1, 0.1], workers=2))
    assert results[0] == results[2] == results[3] == 0.1
    assert isinstance(results[1], WorkerDiedError)


@pytest.fixture
def holding(tmp_path) -> dict:
    """The environment of a command whose worker holds the image named hold*."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE))
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "HOLDER": str(tmp_path / "holder.pid")}


def kill_the_holder(env: dict) -> int:
    holder = env["HOLDER"]
    wait_for(lambda: os.path.exists(holder))
    pid = int(Path(holder).read_text())
    os.kill(pid, signal.SIGKILL)
    return pid


def test_encode_reports_the_image_of_a_killed_worker_and_does_the_rest(tmp_path, holding):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(15):
        (folder / f"{i:02d}.png").write_bytes(png((64, 48), (10 * i, 50, 90)))
    (folder / "hold.png").write_bytes(png())
    process = start("encode", folder, "--workers", "2", "--max-side", "32", env=holding)
    worker = kill_the_holder(holding)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1 and err == ""
    assert worker != process.pid  # a pool process died, not the command
    lines = out.splitlines()
    (died,) = [line for line in lines if "hold.png" in line]
    assert died.split(maxsplit=1)[1] == "ERROR WorkerDiedError: worker died: signal 9 (SIGKILL)"
    assert sum(line.startswith(str(folder)) and "ERROR" not in line for line in lines) == 15
    assert lines[-1].startswith("TOTAL 15 encoded, 1 failed (1 when their worker died)")


def test_sweep_reports_the_image_of_a_killed_worker_and_writes_every_row(tmp_path, holding):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(5):
        Image.effect_noise((120, 90), 30 + i).convert("RGB").save(folder / f"{i}.jpg")
    Image.effect_noise((120, 90), 10).convert("RGB").save(folder / "hold.jpg")
    out = tmp_path / "out.csv"
    grid = ["--max-sides", "32", "64", "--formats", "jpeg", "--qualities", "50", "90"]
    argv = ["sweep", folder, *grid, "--workers", "2", "--no-cache", "--no-progress"]
    process = start(*argv, "-o", out, "--json", env=holding)
    kill_the_holder(holding)
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode == 1
    summary = json.loads(stdout)
    assert (summary["rows"], summary["error_rows"], summary["workers_died"]) == (24, 4, 1)
    frame = pd.read_csv(out)
    failed = frame[frame["error"].notna()]
    assert len(frame) == 24 and set(failed["image"]) == {"hold.jpg"}
    assert set(failed["error"]) == {"WorkerDiedError: worker died: signal 9 (SIGKILL)"}
    assert frame[frame["image"] != "hold.jpg"]["bytes"].notna().all()
