"""Nothing answered twice: SIGTERM and SIGHUP stop `toolkit request --send` as Ctrl-C does
(the requests in flight answered and recorded, exit 128 + the signal's number); the results
file takes whole lines only (a torn last line is cut off on resume); and a disk that fills
up stops the run before it sends a request it could not record. Answers are counted on the
emulator."""

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import fill, png, wait_for

from toolkit import results_file
from toolkit.client import read_results, run_requests
from toolkit.emulator import Emulator, FaultPlan
from toolkit.errors import OutputError
from toolkit.payload import ImagePart, Request, RequestSpec

ENV = {**os.environ, "OPENAI_API_KEY": "sk-test"}
# `toolkit request` packs small images into one request; this child sends one request per
# image (as large images would go) through the same command, signals and all.
CHILD = """
import dataclasses, sys
import toolkit.cli.request as command
from toolkit import payload
from toolkit.cli import main

one_each = dataclasses.replace(payload.OBSERVED_LIMITS, max_images=1)
command.LIMITS = {**command.LIMITS, "chat": one_each}  # the limits it packs Chat requests under
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def images(tmp_path) -> list[Path]:
    paths = []
    for i in range(6):
        path = tmp_path / "images" / f"{i}.png"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(png(colour=(40 * i, 90, 20)))
        paths.append(path)
    return paths


def send(images, emu: Emulator, results: Path, concurrency: int = 3) -> list[str]:
    """The command line of `toolkit request IMAGES --send`, one request per image."""
    return [
        sys.executable,
        "-c",
        CHILD,
        "request",
        *map(str, images),
        "--model",
        "gpt-4o",
        "--prompt",
        "Describe",
        "--send",
        "--base-url",
        emu.base_url,
        "--results",
        str(results),
        "--concurrency",
        str(concurrency),
        "--json",
    ]


def whole_lines(path: Path) -> list[dict]:
    """The records of a results file that must hold whole JSON lines only."""
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.splitlines()]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_records_the_requests_in_flight_and_nothing_is_sent_twice(
    tmp_path, images, signum
):
    results = tmp_path / "results.jsonl"
    with Emulator(faults=FaultPlan(rate_slow=1.0, slow_s=1.0)) as emu:
        child = subprocess.Popen(
            send(images, emu, results),
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        wait_for(lambda: sum(emu.attempts.values()) == 3)  # three requests in flight
        child.send_signal(signum)  # as `kill`, systemd, Docker and CI do (or a closed terminal)
        _, err = child.communicate(timeout=60)
        assert child.returncode == 128 + signum
        name = signal.Signals(signum).name
        (line,) = err.splitlines()
        assert line.startswith(f"toolkit request: interrupted by {name}; answers so far are in")
        recorded = read_results(results)
        assert len(recorded) == 3 and {r["status"] for r in recorded.values()} == {"ok"}
        assert set(recorded) == set(emu.answered)

        emu.faults = FaultPlan()
        resumed = subprocess.run(send(images, emu, results), env=ENV, capture_output=True)
        assert resumed.returncode == 0, resumed.stderr
        assert len(emu.answered) == 6 and set(emu.answered.values()) == {1}
    assert len(whole_lines(results)) == 6


def test_a_torn_last_line_is_cut_off_on_resume(tmp_path, images):
    results = tmp_path / "results.jsonl"
    with Emulator() as emu:
        first = subprocess.run(send(images[:2], emu, results), env=ENV, capture_output=True)
        assert first.returncode == 0
        with results.open("ab") as handle:  # a killed writer's half record
            handle.write(b'{"id": "half-written", "status": "ok", "response_te')
        again = subprocess.run(send(images, emu, results), env=ENV, capture_output=True)
        assert again.returncode == 0
        assert set(emu.answered.values()) == {1} and len(emu.answered) == 6
    ids, answered = [r["id"] for r in whole_lines(results)], list(emu.answered)
    # each answer recorded once, the first run's two first (each run's in any order: its
    # requests are sent side by side)
    assert set(ids[:2]) == set(answered[:2]) and sorted(ids) == sorted(answered)
    assert b"half-written" not in results.read_bytes()


def test_a_full_disk_stops_the_run_before_it_sends_what_it_could_not_record(
    tmp_path, images, tiny_disk
):
    results = tiny_disk / "results.jsonl"
    filler = fill(tiny_disk, 64 * 1024)  # room for one request's record, not for two
    with Emulator() as emu:
        full = subprocess.run(
            send(images[:3], emu, results, concurrency=1), env=ENV, capture_output=True, text=True
        )
        assert full.returncode == 2
        (line,) = full.stderr.splitlines()
        assert line == (
            f"toolkit request: error: {results}: no room to record answers (No space left on "
            "device): stopped before sending more; 1 answers of this run are recorded"
        )
        assert [r["id"] for r in whole_lines(results)] == list(emu.answered)
        assert sum(emu.answered.values()) == 1

        filler.unlink()  # room again: the rest, and only the rest, is sent
        room = subprocess.run(send(images[:3], emu, results), env=ENV, capture_output=True)
        assert room.returncode == 0
        assert len(emu.answered) == 3 and set(emu.answered.values()) == {1}
    assert len(whole_lines(results)) == 3


def requests(n: int) -> list[Request]:
    spec = RequestSpec("gpt-4o", "Describe")
    return [
        Request(spec, (ImagePart.from_bytes(png(colour=(i, 7, 7)), name=str(i)),))
        for i in range(n)
    ]


def test_no_room_for_a_record_sends_nothing_more(tmp_path, monkeypatch):
    allocate, reservations = results_file._allocate, []

    def disk_full_after_one(fd, mode, offset, length):
        if mode == 0:  # a reservation (not the release at the end)
            reservations.append(length)
            if len(reservations) > 1:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        allocate(fd, mode, offset, length)

    monkeypatch.setattr(results_file, "_allocate", disk_full_after_one)
    results = tmp_path / "results.jsonl"
    with Emulator() as emu:
        options = dict(results_path=results, api_key="k", base_url=emu.base_url, concurrency=1)
        with pytest.raises(OutputError, match="stopped before sending more; 1 answers"):
            run_requests(requests(3), **options)
        assert sum(emu.answered.values()) == len(whole_lines(results)) == 1
        monkeypatch.undo()
        summary = run_requests(requests(3), **options)
        assert (summary.skipped, summary.sent) == (1, 2)
        assert len(emu.answered) == 3 and set(emu.answered.values()) == {1}


def test_a_record_the_disk_refuses_leaves_no_torn_line_and_is_named(tmp_path, monkeypatch):
    class HalfFull:
        """`os` for the results file: the second record's write stops half way, disk full."""

        writes = 0

        def __getattr__(self, name):
            return getattr(os, name)

        def write(self, fd, data):
            HalfFull.writes += 1
            if HalfFull.writes == 2:
                os.write(fd, data[: len(data) // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return os.write(fd, data)

    monkeypatch.setattr(results_file, "os", HalfFull())
    results = tmp_path / "results.jsonl"
    sent = requests(3)
    with Emulator() as emu:
        with pytest.raises(OutputError) as refused:
            run_requests(sent, results_path=results, api_key="k", base_url=emu.base_url,
                         concurrency=1)  # fmt: skip
        assert sum(emu.answered.values()) == 2  # the third was never sent
    assert [r["id"] for r in whole_lines(results)] == [sent[0].id]
    assert str(refused.value).endswith(
        f"1 answers of this run are recorded; 1 answers could not be recorded and would be "
        f"sent again: {sent[1].id}"
    )
