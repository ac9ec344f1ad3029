"""Claude and Gemini request bodies: shapes, exact sizes, splitting under each provider's
limits, the emulator playing both APIs, `toolkit request --provider`, and (with the SDKs
installed) their own type validation and serialization."""

import base64
import json
import sys
import urllib.error
import urllib.request
from dataclasses import replace

import pytest
from helpers import quadrants, to_bytes

from toolkit.cli import main
from toolkit.client import RetryPolicy, make_client, read_results, run_requests
from toolkit.emulator import Emulator, FaultPlan, text_tokens
from toolkit.errors import PayloadError, SettingsError
from toolkit.payload import (
    ImagePart,
    Request,
    RequestSpec,
    parse_response,
    split_requests,
    write_batch_files,
)
from toolkit.provider_limits import ANTHROPIC_LIMITS, GEMINI_LIMITS
from toolkit.senders import gemini_arguments
from toolkit.tokens import image_tokens

PNG = to_bytes(quadrants((120, 80)), "PNG")
JPEG = to_bytes(quadrants((300, 200)), "JPEG")
CLAUDE = RequestSpec(
    "claude-sonnet-4-6", "Décris chaque image", "anthropic", max_output_tokens=300
)
GEMINI = RequestSpec("gemini-2.5-flash", "Décris chaque image", "gemini", system="Be brief")


def _parts(n=2, detail="auto"):
    return [ImagePart.from_bytes(PNG if i % 2 else JPEG, detail, f"img{i}.png") for i in range(n)]


def test_anthropic_body_shape():
    caption = replace(_parts(1)[0], caption="The next image is a crop")
    body = RequestSpec(
        "claude-haiku-4-5", "Describe", "anthropic", system="S", max_output_tokens=9
    ).body([caption])
    assert list(body) == ["max_tokens", "messages", "model", "system"]  # the SDK's order
    assert body["max_tokens"] == 9 and body["system"] == "S"
    content = body["messages"][0]["content"]
    assert [block["type"] for block in content] == ["text", "image", "text"]  # image first
    assert content[2] == {"type": "text", "text": "Describe"}
    source = content[1]["source"]
    assert source == {"type": "base64", "media_type": "image/jpeg", "data": source["data"]}
    assert base64.b64decode(source["data"], validate=True) == JPEG


def test_gemini_body_shape():
    parts = [replace(p, detail=d) for p, d in zip(_parts(2), ("auto", "high"), strict=True)]
    body = replace(GEMINI, json_format=True, max_output_tokens=50).body(parts)
    assert list(body) == ["contents", "systemInstruction", "generationConfig"]
    assert body["generationConfig"] == {
        "maxOutputTokens": 50,
        "responseMimeType": "application/json",
    }
    items = body["contents"][0]["parts"]
    assert "mediaResolution" not in items[0]
    assert items[1]["mediaResolution"] == {"level": "MEDIA_RESOLUTION_HIGH"}
    assert items[2] == {"text": "Décris chaque image"}
    assert base64.urlsafe_b64decode(items[1]["inlineData"]["data"]) == PNG
    assert items[0]["inlineData"]["mime_type"] == "image/jpeg"


@pytest.mark.parametrize("spec", [CLAUDE, GEMINI, replace(GEMINI, prompt="")], ids=str)
@pytest.mark.parametrize("captioned", [False, True])
def test_sizes_are_exact(spec, captioned):
    parts = _parts(3)
    if captioned:
        parts[1] = replace(parts[1], caption="Crop « r0c1 » of 2")
    for n in range(4):
        body = spec.body(parts[:n])
        assert spec.body_bytes(parts[:n]) == len(spec.serialize(body))
    if spec.prompt:  # google-genai escapes non-ASCII text; anthropic sends UTF-8
        escaped = b"D\\u00e9cris" if spec.api == "gemini" else "Décris".encode()
        assert escaped in spec.serialize(spec.body([]))


def test_spec_checks():
    with pytest.raises(SettingsError, match="requires max_output_tokens"):
        RequestSpec("claude-sonnet-4-6", api="anthropic")
    with pytest.raises(SettingsError, match="no JSON response format"):
        replace(CLAUDE, json_format=True)
    with pytest.raises(PayloadError, match="Anthropic takes detail auto"):
        CLAUDE.body(_parts(1, "high"))
    with pytest.raises(PayloadError, match="not a url"):
        GEMINI.body([ImagePart(url="https://example.com/a.png")])
    assert CLAUDE.endpoint == "/v1/messages"
    assert GEMINI.endpoint == "/v1beta/models/gemini-2.5-flash:generateContent"
    with pytest.raises(PayloadError, match="OpenAI requests"):
        write_batch_files([Request(CLAUDE, tuple(_parts(1)))], "unused")


# ---- Splitting under each provider's limits ---------------------------------------------------


def _big(side: int, n: int) -> list[ImagePart]:
    image = to_bytes(quadrants((side, side // 2)), "PNG")
    return [ImagePart.from_bytes(image, name=f"big{i}") for i in range(n)]


def test_claude_takes_at_most_20_images_over_2000_px():
    # "If you submit more than 20 images in one API request, this limit is reduced to
    # 2000x2000 px": 25 images 2400 px wide go 20 + 5; 25 at 2000 px go in one request.
    wide = [len(r.parts) for r in split_requests(_big(2400, 25), CLAUDE, limits=ANTHROPIC_LIMITS)]
    assert wide == [20, 5]
    small = [len(r.parts) for r in split_requests(_big(2000, 25), CLAUDE, limits=ANTHROPIC_LIMITS)]
    assert small == [25]


def test_claude_image_count_and_side_limits():
    many = [len(r.parts) for r in split_requests(_parts(101), CLAUDE, limits=ANTHROPIC_LIMITS)]
    assert many == [100, 1]
    with pytest.raises(PayloadError, match="8000 px"):
        list(split_requests(_big(8001, 1), CLAUDE, limits=ANTHROPIC_LIMITS))
    (fitted,) = split_requests(
        _big(8001, 1), CLAUDE, limits=ANTHROPIC_LIMITS, on_oversize="reencode"
    )
    assert max(fitted.parts[0].width, fitted.parts[0].height) == 8000


def test_claude_image_bytes_are_counted_as_base64():
    # "10 MB base64-encoded": 7.6 MB of image bytes is 10.1 MB of Base64.
    limits = replace(ANTHROPIC_LIMITS, max_image_bytes=len(JPEG) * 4 // 3)  # under its Base64
    assert limits.image_bytes(_parts(1)[0]) == (len(JPEG) + 2) // 3 * 4
    with pytest.raises(PayloadError, match="too large"):
        list(split_requests(_parts(1), CLAUDE, limits=limits))
    roomy = replace(limits, max_image_bytes=(len(JPEG) + 2) // 3 * 4)
    assert len(list(split_requests(_parts(1), CLAUDE, limits=roomy))) == 1


def test_gemini_splits_at_its_request_size():
    parts = _parts(10)
    one = GEMINI.body_bytes(parts[:1])
    limits = replace(GEMINI_LIMITS, max_request_bytes=one + GEMINI.added_bytes(parts[1], 1))
    sizes = [len(r.parts) for r in split_requests(parts, GEMINI, limits=limits)]
    assert sum(sizes) == 10 and max(sizes) == 2
    for request in split_requests(parts, GEMINI, limits=limits):
        assert (
            len(GEMINI.serialize(request.body())) == request.body_bytes <= limits.max_request_bytes
        )


# ---- The emulator plays Claude and Gemini -------------------------------------------------


def _post(url: str, body: dict, serialize, header: str) -> dict:
    request = urllib.request.Request(url, data=serialize(body), method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header(header, "test-key")
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def emu():
    with Emulator() as emulator:
        yield emulator


def test_emulator_answers_claude(emu):
    request = Request(CLAUDE, tuple(_parts(3)))
    answer = _post(
        f"http://127.0.0.1:{emu.port}/v1/messages", request.body(), CLAUDE.serialize, "x-api-key"
    )
    parsed = parse_response("anthropic", answer)
    expected = request.estimated_image_tokens() + text_tokens(CLAUDE.prompt)
    assert parsed["input_tokens"] == expected and parsed["cached_tokens"] == 0
    described = json.loads(parsed["response_text"])["images"]
    assert [(d["width"], d["height"]) for d in described] == [(300, 200), (120, 80), (300, 200)]


def test_emulator_answers_gemini_at_each_parts_level(emu):
    parts = [replace(p, detail="low") for p in _parts(2)]
    spec = replace(GEMINI, model="gemini-3-flash-preview")
    request = Request(spec, tuple(parts))
    url = f"http://127.0.0.1:{emu.port}/v1beta/models/{spec.model}:generateContent"
    parsed = parse_response("gemini", _post(url, request.body(), spec.serialize, "x-goog-api-key"))
    assert request.estimated_image_tokens() == 2 * 280  # MEDIA_RESOLUTION_LOW: 280 each
    texts = text_tokens(spec.prompt) + text_tokens(spec.system)
    assert parsed["input_tokens"] == 2 * 280 + texts


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/messages", {"max_tokens": 5, "model": "gpt-4o", "messages": []}, 404),
        ("/v1/messages", {"model": "claude-haiku-4-5", "messages": []}, 400),
        (
            "/v1/messages",
            {
                "max_tokens": 5,
                "model": "claude-haiku-4-5",
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/png",
                                    "data": "**",
                                },
                            }
                        ],
                    }
                ],
            },
            400,
        ),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            {
                "contents": [
                    {"parts": [{"inlineData": {"data": "QUJD", "mime_type": "image/tiff"}}]}
                ]
            },
            400,
        ),
        ("/v1beta/models/gemini-2.5-flash:generateContent", {"contents": [], "tools": []}, 400),
    ],
)
def test_emulator_refuses_bad_bodies(emu, path, body, status):
    with pytest.raises(urllib.error.HTTPError) as info:
        _post(
            f"http://127.0.0.1:{emu.port}{path}",
            body,
            lambda b: json.dumps(b).encode(),
            "x-api-key",
        )
    info.value.close()
    assert info.value.code == status


# ---- toolkit request --provider ---------------------------------------------------------------


def test_cli_writes_claude_and_gemini_bodies(tmp_path, capsys):
    images = tmp_path / "in"
    images.mkdir()
    (images / "a.png").write_bytes(PNG)
    (images / "b.jpg").write_bytes(JPEG)
    for provider, model, extra in (
        ("anthropic", "claude-sonnet-4-6", ["--max-output-tokens", "200"]),
        ("gemini", "gemini-2.5-flash", []),
    ):
        out = tmp_path / f"{provider}.json"
        argv = ["request", str(images), "--provider", provider, "--model", model]
        assert main([*argv, "--prompt", "Describe", *extra, "-o", str(out), "--json"]) == 0
        (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert row["body_bytes"] == out.stat().st_size and row["images"] == 2
        tokens = sum(image_tokens(w, h, model).tokens for w, h in ((300, 200), (120, 80)))
        assert row["estimated_image_tokens"] == tokens and row["estimated_cost_usd"] > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--provider", "anthropic", "--model", "claude-haiku-4-5"], "requires max_output_tokens"),
        (["--provider", "gemini", "--model", "gpt-4o"], "is a openai model, not a google one"),
        (["--provider", "anthropic", "--model", "claude-haiku-4-5", "--detail", "high"], "detail"),
    ],
)
def test_cli_refuses_before_any_work(tmp_path, capsys, argv, message):
    image = tmp_path / "a.png"
    image.write_bytes(PNG)
    assert main(["request", str(image), "--no-prompt", "--max-side", "64", *argv]) == 2
    assert message in capsys.readouterr().err


# ---- The providers' own SDKs (the `test` extra installs them) ------------------------------


def test_claude_body_passes_the_anthropic_sdk():
    anthropic = pytest.importorskip("anthropic")
    httpx = pytest.importorskip("httpx2")
    from anthropic.types import ImageBlockParam, TextBlockParam
    from pydantic import TypeAdapter

    body = CLAUDE.body(_parts(2))
    for block in body["messages"][0]["content"]:
        param = ImageBlockParam if block["type"] == "image" else TextBlockParam
        assert set(block) <= set(param.__annotations__)
        assert TypeAdapter(param).validate_python(block) == block
    sent = {}

    def handler(request):
        sent["body"] = request.content
        return httpx.Response(200, json=_claude_answer())

    transport = httpx.Client(transport=httpx.MockTransport(handler))
    client = anthropic.Anthropic(api_key="k", http_client=transport, max_retries=0)
    client.messages.create(**body)
    assert sent["body"] == CLAUDE.serialize(body)  # byte for byte: the size we planned


def _claude_answer() -> dict:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def test_gemini_body_passes_the_google_genai_sdk(monkeypatch):
    genai = pytest.importorskip("google.genai")
    from google.genai import types

    spec = replace(GEMINI, json_format=True, max_output_tokens=64)
    parts = [replace(p, detail=d) for p, d in zip(_parts(2), ("auto", "medium"), strict=True)]
    body = spec.body(parts)
    (content,), config = gemini_arguments(body)  # the SDK's own types, validated
    assert isinstance(content, types.Content) and isinstance(config, types.GenerateContentConfig)
    assert content.parts[0].inline_data.data == JPEG and content.parts[1].inline_data.data == PNG
    assert content.parts[1].media_resolution.level == "MEDIA_RESOLUTION_MEDIUM"
    assert config.system_instruction.parts[0].text == "Be brief"
    client = genai.Client(api_key="k")
    sent = {}

    def capture(self, http_request, http_options=None, stream=False):
        sent["data"] = http_request.data
        raise RuntimeError("captured")

    monkeypatch.setattr(type(client._api_client), "_request", capture)
    with pytest.raises(RuntimeError, match="captured"):
        client.models.generate_content(model=spec.model, contents=[content], config=config)
    assert json.dumps(sent["data"]).encode() == spec.serialize(body)  # byte for byte


# ---- Sent with their SDKs, to the emulator ------------------------------------------------------

SENT = [CLAUDE, replace(GEMINI, json_format=True)]


@pytest.mark.parametrize("spec", SENT, ids=["anthropic", "gemini"])
def test_requests_are_sent_with_the_providers_sdks(tmp_path, spec):
    pytest.importorskip("anthropic" if spec.api == "anthropic" else "google.genai")
    requests = [Request(spec, tuple(_parts(n))) for n in (1, 2)]
    plan = FaultPlan.parse("429=0.5,retry_after_s=0.01,seed=3")  # some answers only on retry
    with Emulator(faults=plan) as emulator:
        summary = run_requests(
            requests,
            results_path=tmp_path / "results.jsonl",
            api_key="test-key",
            base_url=emulator.root_url,
            retry=RetryPolicy(initial_delay_s=0.01),
        )
        received = sum(emulator.received_bytes.values())
    assert summary.statuses == {"ok": 2} and summary.attempts > 2  # retried, then answered
    records = read_results(tmp_path / "results.jsonl")
    texts = text_tokens(spec.prompt) + text_tokens(spec.system or "")
    for request in requests:
        record = records[request.id]
        assert record["input_tokens"] == request.estimated_image_tokens() + texts
        assert record["cost_usd"] > 0
        if spec.api == "anthropic":  # the SDK reads the id from Claude's own header name
            assert record["request_id"].startswith("req_emu_")
    if spec.json_format:
        assert all(isinstance(records[r.id]["response_json"], dict) for r in requests)
    sent = sum(records[r.id]["attempts"] * r.body_bytes for r in requests)
    assert received == sent  # every attempt carried the very bytes sized here


@pytest.mark.parametrize("spec", SENT, ids=["anthropic", "gemini"])
def test_a_refused_request_is_an_error_and_not_retried(tmp_path, spec):
    pytest.importorskip("anthropic" if spec.api == "anthropic" else "google.genai")
    broken = replace(_parts(2)[1], data=PNG[:60])  # a PNG cut short: no pixels
    with Emulator() as emulator:
        summary = run_requests(
            [Request(spec, (broken,))],
            results_path=tmp_path / "results.jsonl",
            api_key="test-key",
            base_url=emulator.root_url,
        )
    (record,) = read_results(tmp_path / "results.jsonl").values()
    assert summary.statuses == {"error": 1} and record["attempts"] == 1
    assert record["http_status"] == 400 and "image" in record["error_message"].lower()


def test_an_unreachable_server_fails_the_request(tmp_path):
    pytest.importorskip("google.genai")
    with Emulator() as emulator:
        closed = emulator.root_url  # nobody listens there once it is closed
    summary = run_requests(
        [Request(GEMINI, tuple(_parts(1)))],
        results_path=tmp_path / "results.jsonl",
        api_key="test-key",
        base_url=closed,
        retry=RetryPolicy(max_attempts=2, initial_delay_s=0.01),
    )
    (record,) = read_results(tmp_path / "results.jsonl").values()
    assert summary.statuses == {"failed": 1} and record["attempts"] == 2
    assert record["http_status"] is None and record["error_type"] == "ConnectError"


def test_cli_sends_claude_bodies(tmp_path, capsys, monkeypatch):
    pytest.importorskip("anthropic")
    image = tmp_path / "a.png"
    image.write_bytes(PNG)
    argv = ["request", str(image), "--provider", "anthropic", "--model", "claude-haiku-4-5"]
    argv += ["--prompt", "Describe", "--max-output-tokens", "50", "--send", "--json"]
    argv += ["--results", str(tmp_path / "results.jsonl")]
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert main(argv) == 2
    assert "set ANTHROPIC_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    with Emulator() as emulator:
        assert main([*argv, "--base-url", emulator.root_url]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["status"] == "ok" and row["api"] == "anthropic"
    assert row["input_tokens"] == row["estimated_image_tokens"] + text_tokens("Describe")


def test_sending_without_the_sdk_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "anthropic", None)  # as if not installed
    with pytest.raises(SettingsError, match=r"pip install 'toolkit\[anthropic\]'"):
        make_client("test-key", api="anthropic")
