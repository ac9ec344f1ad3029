"""`toolkit request`, `toolkit batch` and `toolkit emulator` from the command line."""

import io
import json
import subprocess
import sys
from pathlib import Path

import openai
import pytest
from helpers import quadrants
from PIL import Image

from toolkit.cli import main
from toolkit.dataurl import parse_data_url
from toolkit.emulator import Emulator
from toolkit.payload import serialize

KEY = "sk-cli-SECRET-77e1"


@pytest.fixture
def images(write):
    return [write(f"p{i}.png", quadrants((300 + 10 * i, 200))) for i in range(3)]


def lines(text: str) -> list[dict]:
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def test_request_writes_the_body(images, tmp_path, capsys):
    out = tmp_path / "body.json"
    argv = ["request", *map(str, images), "--model", "gpt-4o", "--detail", "low"]
    assert main([*argv, "--prompt", "Describe", "-o", str(out), "--json"]) == 0
    (row,) = lines(capsys.readouterr().out)
    body = json.loads(out.read_bytes())
    assert row["images"] == 3 and row["body_bytes"] == out.stat().st_size
    assert out.read_bytes() == serialize(body)
    content = body["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "Describe"}
    assert [c["image_url"]["detail"] for c in content[1:]] == ["low"] * 3
    assert row["estimated_image_tokens"] == 3 * 85


def test_request_sends_to_the_emulator(images, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    results = tmp_path / "results.jsonl"
    with Emulator() as emu:
        argv = ["request", *map(str, images), "--api", "responses", "--model", "gpt-5.4"]
        argv += ["--prompt", "List as json", "--json-format", "--send", "--json"]
        argv += ["--base-url", emu.base_url, "--results", str(results)]
        assert main(argv) == 0
    captured = capsys.readouterr()
    (row,) = lines(captured.out)
    assert row["status"] == "ok" and row["input_tokens"] > row["estimated_image_tokens"]
    widths = [i["width"] for i in row["response_json"]["images"]]
    assert widths == [300, 310, 320]
    assert KEY not in captured.out + captured.err + results.read_text()


def test_request_reports_bad_files_and_exits_1(images, write, capsys):
    bad = write("broken.png", b"not an image")
    assert main(["request", str(images[0]), str(bad), "--model", "gpt-4o"]) == 1
    out = capsys.readouterr().out
    assert "broken.png" in out and "NotAnImageError" in out
    assert main(["request", str(images[0]), "--model", "gpt-4o", "--json-format"]) == 2


def test_max_side_none_keeps_the_size_as_in_encode(write, tmp_path, capsys):
    big = write("big.png", quadrants((1200, 900)))
    out = tmp_path / "body.json"
    argv = ["request", str(big), "--model", "gpt-4o", "--detail", "high", "-o", str(out)]
    assert main([*argv, "--max-side", "none"]) == 0
    url = json.loads(out.read_bytes())["messages"][0]["content"][-1]["image_url"]["url"]
    assert Image.open(io.BytesIO(parse_data_url(url).data)).size == (1200, 900)


def test_batch_writes_files(images, tmp_path, capsys):
    argv = ["batch", *map(str, images), "--model", "gpt-4o", "--api", "responses"]
    assert main([*argv, "-o", str(tmp_path / "batch"), "--json"]) == 0
    (row,) = lines(capsys.readouterr().out)
    assert row["lines"] == 3 and row["endpoint"] == "/v1/responses"
    batch = [json.loads(x) for x in Path(row["path"]).read_bytes().splitlines()]
    assert {b["url"] for b in batch} == {"/v1/responses"}
    assert len({b["custom_id"] for b in batch}) == 3


def test_emulator_command_serves_until_stopped():
    argv = [sys.executable, "-m", "toolkit", "emulator", "--faults", "seed=1"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as process:
        try:
            info = json.loads(process.stdout.readline())
            assert info["base_url"].startswith("http://127.0.0.1:")
            with openai.OpenAI(api_key="k", base_url=info["base_url"], max_retries=0) as client:
                with pytest.raises(openai.NotFoundError):
                    client.chat.completions.create(model="nope", messages=[])
        finally:
            process.terminate()


@pytest.mark.parametrize("argv", [["--port", "99999"], ["--faults", "429=abc"]])
def test_emulator_bad_port_or_faults_exit_2_without_a_traceback(argv, capsys):
    assert main(["emulator", *argv]) == 2
    assert capsys.readouterr().err.startswith("toolkit emulator: error: ")
