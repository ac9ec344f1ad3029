"""Terminal and JSON output are safe whatever the file names: control characters are shown
escaped in tables and messages (a name cannot colour the terminal, set its title or forge a
row), and a name that is not UTF-8 is written losslessly as valid UTF-8 JSON (`\\udcxx` and
`path_bytes`) and results files."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import png

from toolkit.client import read_results, run_requests
from toolkit.emulator import Emulator
from toolkit.payload import ImagePart, Request, RequestSpec

HOSTILE = "\x1b]0;owned\x07\x1b[31mred\u202etxt.png"  # sets the title, red, reversed text
FORGED = "a\nTOTAL 9 encoded.png"  # a newline: a row of its own


def toolkit_bytes(*argv, locale: str = "C.UTF-8") -> subprocess.CompletedProcess:
    """The command's raw output, under `locale` (`C`: Python writes undecodable bytes out)."""
    env = {**os.environ, "LC_ALL": locale, "PYTHONIOENCODING": ""}
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *argv], capture_output=True, env=env, timeout=120
    )


@pytest.fixture
def folder(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / HOSTILE).write_bytes(png())
    (folder / FORGED).write_bytes(png())
    (folder / "broken\x1b[2J.png").write_bytes(b"\x1b[2J not an image")
    return folder


def test_control_characters_in_names_are_shown_escaped_in_tables(folder):
    result = toolkit_bytes("encode", folder)
    assert result.returncode == 1
    out = result.stdout.decode("utf-8")
    assert not any(c in out for c in "\x1b\x07\u202e")
    lines = out.splitlines()
    assert len(lines) == 1 + 3 + 1  # header, three images, total: no forged row
    assert "in/\\x1b]0;owned\\x07\\x1b[31mred\\u202etxt.png" in out
    assert "in/a\\nTOTAL 9 encoded.png" in out
    (failed,) = [line for line in lines if "ERROR" in line]
    assert failed.startswith(f"{folder}/broken\\x1b[2J.png ")
    assert "ERROR NotAnImageError: " in failed
    assert lines[-1].startswith("TOTAL 2 encoded, 1 failed")


def test_control_characters_in_messages_are_escaped(folder):
    result = toolkit_bytes("encode", folder / "broken\x1b[2J.png", "--data-url")
    assert result.returncode == 1 and result.stdout == b""
    (line,) = result.stderr.decode().splitlines()
    assert "broken\\x1b[2J.png: NotAnImageError" in line and "\x1b" not in line
    result = toolkit_bytes("tokens", "512x512", "--model", "gpt-\x1b[31m4o")
    assert result.returncode == 2 and b"\x1b" not in result.stderr
    assert b"gpt-\\x1b[31m4o" in result.stderr


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_a_name_that_is_not_utf8_is_valid_utf8_json_and_lossless(tmp_path, locale):
    raw = os.fsencode(tmp_path) + b"/caf\xe9.png"
    with open(raw, "wb") as handle:
        handle.write(png())
    result = toolkit_bytes("encode", tmp_path, "--json", locale=locale)
    assert result.returncode == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert b"\\udce9" in result.stdout  # the escape, not a raw byte
    assert os.fsencode(row["path"]) == raw
    assert base64.b64decode(row["path_bytes"]) == raw
    table = toolkit_bytes("encode", tmp_path, locale=locale)
    assert "caf\\xe9.png" in table.stdout.decode("utf-8")


def test_a_name_that_is_not_utf8_is_kept_in_a_results_file(tmp_path):
    name = os.fsdecode(b"caf\xe9.png")
    part = ImagePart.from_bytes(png(), name=name)
    results = tmp_path / "results.jsonl"
    with Emulator() as emu:
        run_requests(
            [Request(RequestSpec("gpt-4o", "Describe"), (part,))],
            results_path=results,
            api_key="k",
            base_url=emu.base_url,
        )
    results.read_bytes().decode("utf-8")  # valid UTF-8 throughout
    (record,) = read_results(results).values()
    assert record["image_names"] == [name]
