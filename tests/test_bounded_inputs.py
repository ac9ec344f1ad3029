"""Every input bounded: files are checked for their kind and size before they are read,
a sweep CSV's settings are checked when it is read, option values before any work, and a
video frame gets the pixel limit images get. Each case ends in one clean line or error row,
never a traceback, a hang or a `MemoryError`."""

import json
import os
import subprocess
import sys

import av
import numpy as np
import pandas as pd
import pytest
from helpers import png, run_cli, to_bytes, toolkit
from PIL import Image
from test_recommend import GRID, result_rows

from toolkit.sweep import COLUMNS

SIX_GB = 6 << 30


def sparse(path, header: bytes, size: int = SIX_GB):
    """A file of `size` bytes that takes no room: `header`, then a hole."""
    with open(path, "wb") as handle:
        handle.write(header)
        handle.truncate(size)
    return path


def rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize(
    "command",
    [["encode", "--json"], ["tokens", "--model", "gpt-4o", "--json"]],
    ids=["encode", "tokens"],
)
def test_a_6_gb_sparse_file_with_an_image_header_is_an_error_row(tmp_path, capsys, command):
    huge = sparse(tmp_path / "huge.jpg", to_bytes(Image.new("RGB", (8, 8)), "JPEG"))
    good = tmp_path / "good.png"
    good.write_bytes(png())
    assert run_cli(command[0], huge, good, *command[1:]) == 1
    failed, done = rows(capsys.readouterr().out)
    assert failed["path"] == str(huge) and failed["error"]["type"] == "ImageError"
    assert failed["error"]["message"] == (
        f"{huge}: cannot read: file too large (6,442,450,944 bytes; the limit is 1,073,741,824)"
    )
    assert "error" not in done


def test_a_6_gb_sparse_file_in_a_sweep_is_an_error_row(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    sparse(folder / "huge.png", png())
    (folder / "good.png").write_bytes(png())
    out = tmp_path / "out.csv"
    argv = ["--max-sides", "32", "--formats", "jpeg", "--qualities", "80", "--no-cache"]
    assert run_cli("sweep", folder, *argv, "--no-progress", "-o", out, "--workers", "1") == 1
    frame = pd.read_csv(out).set_index("image")
    assert "file too large" in frame.loc["huge.png", "error"]
    assert pd.isna(frame.loc["good.png", "error"])


def test_a_huge_rule_file_is_refused_from_its_size(tmp_path, capsys):
    rules = sparse(tmp_path / "rules.toml", b'kind = "token-rules"\n')
    assert run_cli("tokens", "512x512", "--model", "gpt-4o", "--rules", rules) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"toolkit tokens: error: {rules}: cannot read: file too large")


@pytest.fixture
def sweep_csv(tmp_path):
    def write(edits: dict | None = None):
        frame = result_rows({"a.png": {}, "b.png": {}}, GRID).reindex(columns=COLUMNS)
        frame = frame.astype(object)
        for (row, column), value in (edits or {}).items():
            frame.loc[row, column] = value
        path = tmp_path / "results.csv"
        frame.to_csv(path, index=False)
        return path

    return write


@pytest.mark.parametrize(
    ("column", "value", "wanted"),
    [
        ("quality", "abc", "a number"),
        ("quality", 85.5, "a whole number"),
        ("max_side", "big", "a number"),
        ("tokens", "many", "a number"),
        ("seen_ssim", "high", "a number"),
        ("format", "gif", "one of ('jpeg', 'webp', 'png')"),
    ],
)
def test_a_sweep_csv_with_a_bad_setting_is_refused_naming_it(
    sweep_csv, capsys, column, value, wanted
):
    path = sweep_csv({(3, column): value})
    assert run_cli("recommend", path) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"toolkit recommend: error: {path}: line 5: {column} is {value!r}, not {wanted}"


def test_recommend_on_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "results.csv"
    os.mkfifo(fifo)
    result = toolkit("recommend", fifo, timeout=60)  # no writer: reading it would block
    assert result.returncode == 2
    assert result.stderr == (
        f"toolkit recommend: error: {fifo}: cannot read: not a regular file (a FIFO)\n"
    )


def test_a_missing_price_file_is_refused_before_recommending(sweep_csv, tmp_path, capsys):
    missing = tmp_path / "prices.toml"
    assert run_cli("recommend", sweep_csv(), "--prices", missing) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (f"toolkit recommend: error: {missing}: cannot read: No such file or directory")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "address", ["tcp://host:notaport", "foo://bar", "tcp://:::", "tcp://host:0"]
)
def test_a_malformed_scheduler_address_is_one_line(tmp_path, address):
    image = tmp_path / "a.png"
    image.write_bytes(png())
    out = tmp_path / "out.csv"
    result = toolkit("sweep", image, "--scheduler", address, "-o", out, timeout=60)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"toolkit sweep: error: not a Dask scheduler address: {address!r}")
    assert list(tmp_path.iterdir()) == [image]  # no CSV, no partial file


def mjpeg_with_one_huge_frame(path, side: int = 12000):
    """A small MJPEG video whose fourth frame is one `side` x `side` JPEG (made in a child
    process: its pixels are not this one's)."""
    big = subprocess.run(
        [sys.executable, "-c", BIG_JPEG, str(side)], capture_output=True, check=True
    ).stdout
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
        for level in (0, 80, 160):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), level, np.uint8), "rgb24")
            container.mux(stream.encode(frame))
        packet = av.Packet(big)
        packet.stream, packet.pts, packet.dts, packet.time_base = stream, 3, 3, stream.time_base
        container.mux(packet)
        container.mux(stream.encode())
    return path


BIG_JPEG = """
import io, sys
from PIL import Image
side = int(sys.argv[1])
buffer = io.BytesIO()
Image.new("L", (side, side), 128).save(buffer, "JPEG")
sys.stdout.buffer.write(buffer.getvalue())
"""


def test_a_video_frame_over_the_pixel_limit_is_refused_before_it_is_decoded(tmp_path):
    video = mjpeg_with_one_huge_frame(tmp_path / "bomb.avi")
    assert video.stat().st_size < 3_000_000
    command = ["frames", str(video), "--fps", "10", "--json", "--no-progress"]  # stderr: errors
    result = subprocess.run(
        [sys.executable, "-c", PEAK, *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and result.stderr == ""
    *lines, peak = result.stdout.splitlines()
    frames = [json.loads(line) for line in lines if '"index"' in line]
    (failure,) = [json.loads(line) for line in lines if '"error"' in line]
    assert frames and {(f["width"], f["height"]) for f in frames} == {(64, 48)}
    assert failure["error"] == {
        "type": "VideoError",
        "message": f"{video}: decoding failed: Invalid argument (or a frame over 89,478,485 "
        "pixels)",
    }
    assert float(peak) < 500  # MB: a 12000x12000 decode alone would take 216 (YUV) + 432 (RGB)


# VmHWM, not ru_maxrss: ru_maxrss keeps the high-water mark of the forking parent (pytest,
# hundreds of MB late in a run) across exec
PEAK = """
import sys
from pathlib import Path
from toolkit.cli import main
code = main(sys.argv[1:])
status = Path("/proc/self/status").read_text().splitlines()
print(next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")))
sys.exit(code)
"""


@pytest.fixture
def oversize(tmp_path):
    """A PNG of random pixels that stays about 23.5 MB however it is encoded losslessly:
    over the 20 MB the API takes for one image."""
    pixels = np.random.default_rng(0).integers(0, 256, (2800, 2800, 3), np.uint8)
    path = tmp_path / "big.png"
    Image.fromarray(pixels).save(path, compress_level=1)
    return path


LOSSLESS = ["--max-side", "none", "--format", "png", "--no-prompt", "--json"]


def test_one_oversize_image_is_an_error_row_and_the_others_are_sent(tmp_path, oversize, capsys):
    small = tmp_path / "small.png"
    small.write_bytes(png())
    body = tmp_path / "body.json"
    assert run_cli("request", small, oversize, "--model", "gpt-4o", *LOSSLESS, "-o", body) == 1
    request, failed = rows(capsys.readouterr().out)
    assert (request["images"], request["path"]) == (1, str(body))
    assert failed["path"] == str(oversize) and failed["error"]["type"] == "PayloadError"
    assert "too large for one request" in failed["error"]["message"]
    (part,) = json.loads(body.read_bytes())["messages"][0]["content"]
    assert part["type"] == "image_url"


def test_one_oversize_image_in_a_batch_is_an_error_row(tmp_path, oversize, capsys):
    small = tmp_path / "small.png"
    small.write_bytes(png())
    out = tmp_path / "batch"
    assert run_cli("batch", oversize, small, "--model", "gpt-4o", *LOSSLESS, "-o", out) == 1
    written, failed = rows(capsys.readouterr().out)
    assert written["lines"] == 1 and failed["path"] == str(oversize)
    assert failed["error"]["type"] == "PayloadError"
