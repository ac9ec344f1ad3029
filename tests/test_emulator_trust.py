"""The emulator trusts no caller: it answers only requests addressed to its loopback
address (not a page that rebinds its own domain to 127.0.0.1), keeps each key's files and
batches to that key under random ids, caps what it stores and deletes on request, parses
JSON as strictly as the API (a 400, never a 500) and checks every option before it starts."""

import io
import json
import re

import openai
import pytest
from helpers import KEY_HEADER, chat_body, data_url, error_of, png, post_json, request, toolkit

from toolkit.emulator import Emulator, ServerSettings
from toolkit.payload import ImagePart, RequestSpec

CHAT = "/v1/chat/completions"
PNG = png()


@pytest.fixture
def emu():
    with Emulator() as server:
        yield server


def client(emu: Emulator, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=emu.base_url, max_retries=0)


def test_it_listens_on_the_loopback_address_only(emu):
    assert emu.server.server_address[0] == "127.0.0.1"


@pytest.mark.parametrize(
    "host", ["attacker.example:{port}", "127.0.0.1.nip.io:{port}", "127.0.0.1:1", "", "localhost"]
)
def test_a_request_for_another_host_is_refused_unread(emu, host):
    body = json.dumps(chat_body(data_url(PNG))).encode()
    status, answer = request(emu.port, "POST", CHAT, body, {"Host": host.format(port=emu.port)})
    assert status == 421 and error_of(answer)["code"] == "invalid_host"
    assert not emu.attempts  # never reached the completion
    for name in ("127.0.0.1", "localhost", "LOCALHOST"):
        headers = {"Host": f"{name}:{emu.port}"}
        assert request(emu.port, "POST", CHAT, body, headers)[0] == 200


def test_a_file_belongs_to_the_key_that_uploaded_it(emu):
    alice, mallory = client(emu, "sk-alice"), client(emu, "sk-mallory")
    uploaded = alice.files.create(file=("pic.png", io.BytesIO(PNG)), purpose="vision")
    other = alice.files.create(file=("pic.png", io.BytesIO(PNG)), purpose="vision")
    for file_id in (uploaded.id, other.id):
        assert re.fullmatch(r"file-[0-9a-f]{24}", file_id)  # random, not a counter to walk
    assert uploaded.id != other.id
    with pytest.raises(openai.NotFoundError):
        mallory.files.retrieve(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        mallory.files.content(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        mallory.files.delete(uploaded.id)
    body = RequestSpec("gpt-4o", api="responses").body([ImagePart(file_id=uploaded.id)])
    with pytest.raises(openai.BadRequestError, match="No vision file found"):
        mallory.responses.create(**body)
    assert json.loads(alice.responses.create(**body).output_text)["images"][0]["width"] == 48
    assert alice.files.content(uploaded.id).content == PNG


def test_a_batch_belongs_to_the_key_that_created_it(emu):
    alice, mallory = client(emu, "sk-alice"), client(emu, "sk-mallory")
    line = {"custom_id": "a", "method": "POST", "url": CHAT, "body": chat_body(data_url(PNG))}
    raw = (json.dumps(line) + "\n").encode()
    uploaded = alice.files.create(file=("in.jsonl", io.BytesIO(raw)), purpose="batch")
    with pytest.raises(openai.BadRequestError, match="No batch file found"):
        mallory.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h")
    batch = alice.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h")
    assert batch.status == "completed" and re.fullmatch(r"batch_[0-9a-f]{24}", batch.id)
    with pytest.raises(openai.NotFoundError):
        mallory.batches.retrieve(batch.id)
    with pytest.raises(openai.NotFoundError):
        mallory.files.content(batch.output_file_id)
    assert alice.batches.retrieve(batch.id).id == batch.id
    assert alice.files.content(batch.output_file_id).content


def test_uploads_are_capped_and_delete_makes_room():
    settings = ServerSettings(max_files=2, max_stored_bytes=3 * len(PNG))
    with Emulator(settings=settings) as emu:
        alice = client(emu, "sk-alice")
        first, _ = (
            alice.files.create(file=("a.png", io.BytesIO(PNG)), purpose="vision") for _ in "ab"
        )
        with pytest.raises(openai.BadRequestError) as full:
            alice.files.create(file=("c.png", io.BytesIO(PNG)), purpose="vision")
        assert full.value.code == "storage_limit_exceeded"
        deleted = alice.files.delete(first.id)
        assert (deleted.id, deleted.deleted) == (first.id, True)
        with pytest.raises(openai.NotFoundError):
            alice.files.retrieve(first.id)
        assert alice.files.create(file=("c.png", io.BytesIO(PNG)), purpose="vision").id
        with pytest.raises(openai.BadRequestError, match="at most 2 files and"):
            alice.files.create(file=("big.png", io.BytesIO(PNG * 4)), purpose="vision")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 64"),
        (b"[" * 65 + b"]" * 65, "nested deeper than 64"),
        (b'{"model": "gpt-4o", "temperature": NaN, "messages": []}', "NaN is not a JSON"),
        (b'{"model": "gpt-4o", "temperature": Infinity, "messages": []}', "Infinity is not"),
        (b'{"model": "gpt-4o", "top_p": -Infinity, "messages": []}', "-Infinity is not"),
    ],
    ids=["100k-deep", "65-deep", "NaN", "Infinity", "-Infinity"],
)
def test_json_is_parsed_as_strictly_as_the_api_does(emu, capsys, raw, why):
    status, answer = request(emu.port, "POST", CHAT, raw, {"Content-Type": "application/json"})
    assert status == 400 and why in error_of(answer)["message"]
    assert capsys.readouterr().err == ""  # no server error logged


def test_json_as_deep_as_a_request_needs_is_accepted(emu):
    body = chat_body(data_url(PNG), response_format={"type": "json_schema", "json_schema": {}})
    nested: dict = {"type": "string"}
    for _ in range(20):  # twice the 10 levels the API allows a schema
        nested = {"type": "object", "properties": {"x": nested}}
    body["response_format"]["json_schema"] = {"name": "deep", "schema": nested}
    status, answer = post_json(emu.port, CHAT, body, KEY_HEADER)
    assert status == 200, answer


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--read-timeout", "inf"], "read_timeout_s must be a finite number > 0, not inf"),
        (["--read-timeout", "nan"], "read_timeout_s must be a finite number > 0, not nan"),
        (["--bandwidth-mbit", "inf"], "bandwidth_mbit must be a finite number > 0, not inf"),
        (["--faults", "429=abc"], "fault setting 429: not a number: 'abc'"),
        (["--faults", "429=nan"], "rate_429 must be a finite number >= 0, not nan"),
        (["--faults", "slow_s=inf"], "slow_s must be a finite number >= 0, not inf"),
        (["--port", "70000"], "port must be 0-65535."),
    ],
)
def test_every_option_is_checked_before_the_server_starts(option, message):
    result = toolkit("emulator", *option, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1].endswith(message)
