"""The sweep cache trusts nothing it did not write with these settings, identical images keep
their own names, and a killed sweep leaves no process behind."""

import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import descendants, running
from PIL import Image

from toolkit.images import EncodeSettings
from toolkit.sweep import SweepGrid, run_sweep

TIMINGS = ["load_ms", "reference_ms", "resize_ms", "encode_ms", "metrics_ms"]
GRID = SweepGrid(
    max_sides=(64,), formats=("jpeg",), qualities=(80,), reference_side=64, seen_metrics=False
)


@pytest.fixture
def image(tmp_path) -> Path:
    path = tmp_path / "in" / "a.jpg"
    path.parent.mkdir()
    Image.effect_noise((120, 90), 50).convert("RGB").save(path)
    return path


def sweep(paths, cache, grid=GRID):
    with ThreadPoolExecutor(2) as pool:
        frame = run_sweep(paths, grid, pool, cache, progress=False)
    return frame, frame.attrs["sweep"]


def entry_file(cache: Path) -> Path:
    (path,) = [p for p in cache.rglob("*.json")]
    return path


def test_an_edited_entry_is_recomputed_not_trusted(image, tmp_path):
    cache = tmp_path / "cache"
    first, _ = sweep([image], cache)
    path = entry_file(cache)
    entry = json.loads(path.read_text())
    (result,) = entry["encodes"].values()
    result["bytes"] = 1  # valid JSON, plausible shape, wrong content
    path.write_text(json.dumps(entry))
    again, stats = sweep([image], cache)
    assert stats["invalid_cache_entries"] == 1 and stats["computed_encodes"] == 1
    assert again["bytes"].tolist() == first["bytes"].tolist() != [1]
    assert sweep([image], cache)[1]["cached_encodes"] == 1  # rewritten, trusted again


def test_a_folder_in_place_of_an_entry_is_recomputed_and_left_alone(image, tmp_path):
    cache = tmp_path / "cache"
    first, _ = sweep([image], cache)
    path = entry_file(cache)
    path.unlink()
    (path / "somebody's").mkdir(parents=True)  # a folder squats the entry's name
    for _ in range(2):  # neither read nor written: computed each time, the folder kept
        again, stats = sweep([image], cache)
        assert stats["invalid_cache_entries"] == 1 and stats["computed_encodes"] == 1
        assert again["bytes"].tolist() == first["bytes"].tolist()
    assert (path / "somebody's").is_dir()


@pytest.mark.parametrize(
    "content",
    ["[]", "null", "{}", '{"encodes": {}}', "{not json", "\udcff", '"text"', "42"],
)
def test_a_malformed_entry_is_recomputed_and_counted(image, tmp_path, content):
    cache = tmp_path / "cache"
    first, _ = sweep([image], cache)
    entry_file(cache).write_text(content, errors="surrogateescape")
    again, stats = sweep([image], cache)
    assert stats["invalid_cache_entries"] == 1 and stats["computed_encodes"] == 1
    assert again.drop(columns=TIMINGS).equals(first.drop(columns=TIMINGS))
    assert sweep([image], cache)[1]["invalid_cache_entries"] == 0  # rewritten whole


def test_an_entry_from_other_settings_is_not_used(image, tmp_path):
    cache = tmp_path / "cache"
    sweep([image], cache)
    path = entry_file(cache)
    entry = json.loads(path.read_text())
    entry["settings"]["encode"]["optimize"] = False  # as if computed with other knobs
    path.write_text(json.dumps(entry))
    _, stats = sweep([image], cache)
    assert stats["invalid_cache_entries"] == 1 and stats["cached_encodes"] == 0
    other = SweepGrid(**{**GRID.__dict__, "base": EncodeSettings(optimize=False)})
    assert other.cache_tag() != GRID.cache_tag()


def test_identical_images_each_keep_their_own_name(image, tmp_path):
    twin = image.with_name("z-twin.jpg")
    twin.write_bytes(image.read_bytes())
    cache = tmp_path / "cache"
    frame, _ = sweep([image], cache)
    frame, stats = sweep([twin, image], cache)  # the twin is served from a.jpg's entry
    assert stats["cached_encodes"] == 2
    assert frame["image"].tolist() == ["z-twin.jpg", "a.jpg"]
    assert frame["path"].tolist() == [str(twin), str(image)]
    assert frame["image"].tolist() == sweep([twin, image], None)[0]["image"].tolist()


def test_a_killed_sweep_leaves_no_process_behind(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(6):
        Image.effect_noise((1200, 900), 30 + i).convert("RGB").save(photos / f"{i}.jpg")
    argv = [
        "sweep",
        photos,
        "--workers",
        "2",
        "--no-cache",
        "--no-progress",
        "-o",
        tmp_path / "out.csv",
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "toolkit", *map(str, argv)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(children := descendants(process.pid)) < 2:  # the 2 workers (at least)
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while alive := [pid for pid in children if running(pid)]:
        assert time.monotonic() < deadline, f"still running after SIGKILL: {alive}"
        time.sleep(0.1)
