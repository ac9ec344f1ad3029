"""The emulator as an attacker and a careless client meet it, over real HTTP.

It never fetches an image URL or touches a file on a request's say-so; every malformed input
gets an OpenAI-shaped 4xx (or a failed batch), never a dropped connection or a traceback.
"""

import io
import json
import select
import socket
import subprocess
import sys
import time

import openai
import pytest
from helpers import (
    chat_body,
    data_url,
    error_of,
    huge_png,
    peak_rss_mb,
    png,
    post_json,
    raw_exchange,
    request,
    toolkit,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from toolkit.emulator import Emulator, ServerSettings
from toolkit.rulesets import default_rule_sets
from toolkit.tokens import image_tokens

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"


@pytest.fixture(scope="module")
def emu():
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that must never be connected to; yields its base URL."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server, f"http://127.0.0.1:{server.getsockname()[1]}"


def never_connected(server: socket.socket) -> bool:
    readable, _, _ = select.select([server], [], [], 0.2)
    return not readable


def described(answer: dict) -> list[dict]:
    return json.loads(answer["choices"][0]["message"]["content"])["images"]


# ---- image URLs: checked, never fetched ------------------------------------------------------


def test_an_http_url_is_never_fetched_and_is_billed_at_the_stated_size(emu, listener):
    server, base = listener
    started = time.perf_counter()
    status, answer = post_json(emu.port, CHAT, chat_body(f"{base}/cat.png"))
    assert status == 200 and never_connected(server)
    assert time.perf_counter() - started < 5  # a listener that never answers blocks nothing
    (image,) = described(answer)
    assert (image["source"], image["type"], image["width"], image["height"]) == (
        "url",
        None,
        1024,
        1024,
    )
    assert image["tokens"] == image_tokens(1024, 1024, "gpt-4o", "high").tokens
    headers = {"X-Emulator-Image-Size": "640x480"}
    status, answer = post_json(emu.port, CHAT, chat_body(f"{base}/cat.png"), headers)
    assert status == 200 and never_connected(server)
    assert described(answer)[0]["tokens"] == image_tokens(640, 480, "gpt-4o", "high").tokens
    bad_size = {"X-Emulator-Image-Size": "0x1"}
    status, answer = post_json(emu.port, CHAT, chat_body(f"{base}/c.png"), bad_size)
    assert status == 400 and "X-Emulator-Image-Size" in error_of(answer)["message"]


def test_a_good_body_with_an_https_image_is_answered_offline(emu):
    status, answer = post_json(emu.port, CHAT, chat_body("https://images.example.com/a.jpg"))
    assert status == 200 and described(answer)[0]["width"] == 1024


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file:///no/such/file.jpg",
        "ftp://127.0.0.1/a.png",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABpfZFQAAAAABJRU5ErkJggg==",
        "http://",
        "http://127.0.0.1:99999/a.png",
        "http://exa mple.com/a.png",
        "https://example.com/\x00.png",
    ],
)
def test_other_schemes_bare_base64_and_malformed_urls_are_refused(emu, url):
    status, answer = post_json(emu.port, CHAT, chat_body(url))
    error = error_of(answer)
    assert status == 400 and error["code"] == "invalid_image_url"
    assert error["param"] == "messages[0].content[1].image_url.url"


def test_existing_and_missing_local_files_are_indistinguishable(emu, tmp_path):
    good = tmp_path / "good.jpg"
    Image.new("RGB", (30, 20)).save(good)
    answers = [
        post_json(emu.port, CHAT, chat_body(f"file://{path}"))
        for path in (good, tmp_path / "missing.jpg", "/etc/passwd")
    ]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 400


def test_offline_urls_refuse_mode(listener):
    server, base = listener
    with Emulator(settings=ServerSettings(offline_urls="refuse")) as emu:
        status, answer = post_json(emu.port, CHAT, chat_body(f"{base}/a.png"))
        assert status == 400 and "does not download" in error_of(answer)["message"]
        assert post_json(emu.port, CHAT, chat_body(data_url(png())))[0] == 200
    assert never_connected(server)


# ---- malformed HTTP --------------------------------------------------------------------------


def head(length_line: str, body: bytes = b"") -> bytes:
    return (
        f"POST {CHAT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        f"Content-Type: application/json\r\n{length_line}\r\n"
    ).encode() + body


@pytest.mark.parametrize(
    ("length_line", "status"),
    [
        ("Content-Length: abc\r\n", 400),
        ("Content-Length: -1\r\n", 400),
        ("Content-Length: 1e3\r\n", 400),
        ("Content-Length: ١٢\r\n", 400),  # Arabic-Indic digits: int() would take them
        ("", 411),
        ("Transfer-Encoding: chunked\r\n", 411),
        ("Content-Length: 99999999999999\r\n", 413),
    ],
)
def test_content_length_is_required_and_bounded(emu, length_line, status):
    code, answer = raw_exchange(emu.port, head(length_line, b"{}"))
    assert code == status
    assert error_of(answer)["type"] == "invalid_request_error"


def test_a_body_over_the_limit_is_refused_without_reading_it_all(emu):
    # The declared 10 GB are never sent: the 413 must come after at most one limit's worth.
    started = time.perf_counter()
    code, answer = raw_exchange(emu.port, head("Content-Length: 10000000000\r\n", b"{" * 1000))
    assert (code, error_of(answer)["code"]) == (413, "request_too_large")
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"PUT /v1/files HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        b"GET /v1/files HTTP/9.9\r\nHost: x\r\n\r\n",
    ],
)
def test_malformed_request_lines_get_api_shaped_errors(emu, raw):
    code, answer = raw_exchange(emu.port, raw)
    assert 400 <= code < 600 and code != 500
    assert error_of(answer)["message"]


def test_an_idle_connection_is_closed_by_the_server_read_timeout():
    with Emulator(settings=ServerSettings(read_timeout_s=0.3)) as emu:
        for partial in (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost:",
            head("Content-Length: 100\r\n", b"{"),
        ):
            with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
                sock.sendall(partial)
                started = time.perf_counter()
                assert sock.recv(100) == b""  # closed by the server, not by our 5 s timeout
                assert time.perf_counter() - started < 3
        assert post_json(emu.port, CHAT, chat_body(data_url(png())))[0] == 200


# ---- bodies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (CHAT, chat_body(data_url(png()), response_format="json"), "response_format"),
        (
            CHAT,
            chat_body(data_url(png()), response_format={"type": "yaml"}),
            "response_format.type",
        ),
        (RESPONSES, {"model": "gpt-4o", "input": "Say json", "text": "x"}, "text"),
        (
            RESPONSES,
            {"model": "gpt-4o", "input": "hi", "text": {"format": {"type": "json_object"}}},
            "input",
        ),
        (
            RESPONSES,
            {
                "model": "gpt-4o",
                "input": [
                    {
                        "role": "user",
                        "content": [{"type": "input_image", "image_url": data_url(png())}],
                    }
                ],
            },
            "input[0].content[0].detail",
        ),
        (CHAT, [1, 2], "body"),
        (CHAT, {"model": ["gpt-4o"], "messages": []}, "model"),
    ],
)
def test_wrong_accepts_are_refused(emu, path, body, param):
    status, answer = post_json(emu.port, path, body)
    assert status == 400
    assert error_of(answer)["param"] == param


def test_original_detail_is_accepted_exactly_where_the_rules_allow_it(emu):
    openai_rules = next(r for r in default_rule_sets() if r.provider == "openai")
    url = data_url(png((64, 64)))
    names = [*openai_rules.models, *openai_rules.aliases]
    for name in names:
        allowed = "original" in openai_rules.model(name).details
        chat = post_json(emu.port, CHAT, chat_body(url, "original", name))[0]
        part = {"type": "input_image", "image_url": url, "detail": "original"}
        body = {"model": name, "input": [{"role": "user", "content": [part]}]}
        responses = post_json(emu.port, RESPONSES, body)[0]
        assert (chat, responses) == ((200, 200) if allowed else (400, 400)), name
    assert any("original" in rule.details for rule in openai_rules.models.values())


def test_an_mpo_jpeg_is_a_jpeg_not_an_animation(emu):
    first, second = Image.new("RGB", (64, 48), "red"), Image.new("RGB", (64, 48), "blue")
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    status, answer = post_json(
        emu.port, CHAT, chat_body(data_url(buffer.getvalue(), "image/jpeg"))
    )
    assert status == 200
    assert described(answer)[0]["type"] == "image/jpeg" and described(answer)[0]["width"] == 64


def test_a_huge_image_is_refused_from_its_header_without_decoding(tmp_path):
    bomb = huge_png(13000)
    assert len(bomb) < 600_000
    argv = [sys.executable, "-m", "toolkit", "emulator"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as process:
        try:
            port = json.loads(process.stdout.readline())["port"]
            before = peak_rss_mb(process.pid)
            status, answer = post_json(port, CHAT, chat_body(data_url(bomb)))
            assert status == 400 and error_of(answer)["code"] == "image_too_large"
            assert "13000x13000" in error_of(answer)["message"]
            assert peak_rss_mb(process.pid) - before < 60  # a decode would add 169 MB
        finally:
            process.terminate()


# ---- files and batches -------------------------------------------------------------------------


def upload(port: int, content: bytes, purpose: str = "batch", field: bytes | None = None):
    boundary = "adversarial-boundary"
    purpose_field = field if field is not None else purpose.encode()
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n'.encode()
        + purpose_field
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="in.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return request(port, "POST", "/v1/files", body, headers)


def line(**fields) -> bytes:
    base = {"custom_id": "a", "method": "POST", "url": CHAT, "body": chat_body(data_url(png()))}
    return json.dumps({**base, **fields}).encode()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"[1, 2]\n", "invalid_json_line"),
        (b'"just a string"\n', "invalid_json_line"),
        (b"\xff\xfe not utf-8\n", "invalid_json_line"),
        (b"{not json\n", "invalid_json_line"),
        (line(body=[1]) + b"\n", "invalid_body"),
        (json.dumps({"custom_id": "a", "method": "POST", "url": CHAT}).encode(), "invalid_body"),
        (line(custom_id=["a"]) + b"\n", "invalid_custom_id"),
        (line(url="/v1/embeddings") + b"\n", "invalid_url"),
    ],
)
def test_malformed_batch_lines_fail_the_batch_with_their_line_number(emu, content, code):
    status, uploaded = upload(emu.port, line(custom_id="first") + b"\n" + content)
    assert status == 200
    batch = {"input_file_id": uploaded["id"], "endpoint": CHAT, "completion_window": "24h"}
    status, answer = post_json(emu.port, "/v1/batches", batch)
    assert status == 200 and answer["status"] == "failed"
    assert answer["errors"]["data"][0]["code"] == code
    assert answer["errors"]["data"][0]["line"] == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"input_file_id": ["file-1"]},
        {"input_file_id": {"id": 1}},
        {"metadata": [1]},
        {"endpoint": ["/v1/chat/completions"]},
    ],
)
def test_malformed_batch_requests_are_400(emu, fields):
    status, uploaded = upload(emu.port, line() + b"\n")
    body = {"input_file_id": uploaded["id"], "endpoint": CHAT, "completion_window": "24h"}
    status, answer = post_json(emu.port, "/v1/batches", {**body, **fields})
    assert status == 400 and error_of(answer)["type"] == "invalid_request_error"


def test_a_non_utf8_multipart_field_is_a_400(emu):
    status, answer = upload(emu.port, b"{}\n", field=b"\xff\xfebatch")
    assert status == 400 and error_of(answer)["param"] == "purpose"


def test_the_sdk_sees_answers_not_dropped_connections(emu):
    sdk = openai.OpenAI(api_key="k", base_url=emu.base_url, max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        sdk.chat.completions.create(**chat_body("file:///etc/passwd"))
    assert info.value.body["code"] == "invalid_image_url"


# ---- anything else a client can type ----------------------------------------------------------

KEYS = st.sampled_from(
    ["model", "messages", "input", "role", "content", "type", "text", "image_url", "url", "detail"]
    + ["response_format", "file_id", "instructions", "stream", "format", "custom_id", "body"]
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        ["gpt-4o", "user", "image_url", "input_image", "text", "input_text", "json_object", "high"]
        + [data_url(png((4, 4))), "file:///etc/passwd", "http://127.0.0.1:9/x"]
    )
)
JSON = st.recursive(
    LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5)
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=JSON, path=st.sampled_from([CHAT, RESPONSES, "/v1/batches"]))
def test_any_json_body_gets_a_json_answer_below_500(emu, body, path):
    status, answer = post_json(emu.port, path, body)
    assert status < 500
    if status >= 400:
        error_of(answer)


def test_the_cli_refuses_bad_server_settings():
    result = toolkit("emulator", "--url-image-size", "big")
    assert result.returncode == 2 and "WIDTHxHEIGHT" in result.stderr
    result = toolkit("emulator", "--offline-urls", "maybe")
    assert result.returncode == 2 and "invalid choice: 'maybe'" in result.stderr
    result = toolkit("emulator", "--read-timeout", "0")
    assert result.returncode == 2 and "read_timeout_s must be a finite number > 0" in result.stderr
