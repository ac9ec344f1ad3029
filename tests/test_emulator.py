"""The emulator through real HTTP with the real SDK: answers, validation, faults, Batch."""

import base64
import io
import json
import random
import time
import urllib.request
from collections import Counter

import openai
import pytest
from helpers import frames, quadrants, to_bytes

from toolkit.emulator import Emulator, FaultPlan, text_tokens
from toolkit.errors import SettingsError
from toolkit.payload import (
    ImagePart,
    Request,
    RequestLimits,
    RequestSpec,
    read_batch_output,
    usage_cost_usd,
    write_batch_files,
)
from toolkit.tokens import image_tokens

PNG = to_bytes(quadrants((120, 80)), "PNG")


@pytest.fixture
def emu():
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu):
    with openai.OpenAI(api_key="sk-test", base_url=emu.base_url, max_retries=0) as sdk:
        yield sdk


def chat(client, url, detail="high", model="gpt-4o", **extra):
    part = {"type": "image_url", "image_url": {"url": url, "detail": detail}}
    content = [{"type": "text", "text": "Describe"}, part]
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": content}], **extra
    )


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def bad_request(call) -> dict:
    with pytest.raises(openai.BadRequestError) as info:
        call()
    return info.value.body


def test_listens_on_loopback_only_and_picks_a_free_port(emu):
    assert emu.server.server_address[0] == "127.0.0.1"
    assert emu.port > 0 and emu.base_url == f"http://127.0.0.1:{emu.port}/v1"
    with Emulator() as other:
        assert other.port != emu.port


def test_chat_answer_describes_the_images_with_usage(client):
    jpeg = to_bytes(quadrants((1024, 1024)), "JPEG")
    answer = chat(client, data_url(jpeg, "image/jpeg"))
    described = json.loads(answer.choices[0].message.content)
    image = described["images"][0]
    assert (image["width"], image["height"], image["type"]) == (1024, 1024, "image/jpeg")
    assert image["tokens"] == image_tokens(1024, 1024, "gpt-4o", "high").tokens == 765
    assert answer.usage.prompt_tokens == 765 + text_tokens("Describe")
    assert answer.usage.completion_tokens == text_tokens(answer.choices[0].message.content)
    assert answer.usage.prompt_tokens_details.cached_tokens == 0
    assert answer._request_id.startswith("req_emu_")
    assert chat(client, data_url(jpeg, "image/jpeg")).choices[0].message.content == (
        answer.choices[0].message.content
    )


def test_responses_answer_and_usage(client):
    part = ImagePart.from_bytes(PNG, "low")
    body = RequestSpec("gpt-5.4", "Answer in json", api="responses", json_format=True)
    response = client.responses.create(**body.body([part]))
    assert json.loads(response.output_text)["images"][0]["width"] == 120
    expected = image_tokens(120, 80, "gpt-5.4", "low").tokens + text_tokens("Answer in json")
    assert response.usage.input_tokens == expected


@pytest.mark.parametrize(
    ("content", "param"),
    [
        ([{"type": "input_image", "image_url": "x"}], "messages[0].content[0].type"),
        ([{"type": "image_url", "image_url": "data:image/png;base64,AAAA"}], ".image_url"),
        ([{"type": "image_url", "image_url": {"detail": "high"}}], ".image_url.url"),
        ([{"type": "image_url", "image_url": {"url": "u", "detail": "ultra"}}], ".detail"),
        ([{"type": "image_url", "image_url": {"url": "u"}, "extra": 1}], ".extra"),
    ],
)
def test_content_part_shapes_are_checked(client, content, param):
    error = bad_request(
        lambda: client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": content}]
        )
    )
    assert error["type"] == "invalid_request_error"
    assert error["param"].endswith(param)


def test_responses_shapes_are_checked(client):
    image = {"type": "image_url", "image_url": {"url": data_url(PNG)}}
    error = bad_request(
        lambda: client.responses.create(
            model="gpt-4o", input=[{"role": "user", "content": [image]}]
        )
    )
    assert error["param"] == "input[0].content[0].type"
    nested = {"type": "input_image", "image_url": {"url": data_url(PNG)}, "detail": "low"}
    error = bad_request(
        lambda: client.responses.create(
            model="gpt-4o", input=[{"role": "user", "content": [nested]}]
        )
    )
    assert error["code"] == "invalid_type"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (
            "data:image/png;base64," + base64.b64encode(PNG).decode()[:-2] + "!!",
            "invalid_image_url",
        ),
        ("data:image/png;base64, " + base64.b64encode(PNG).decode(), "invalid_image_url"),
        ("data:image/png," + base64.b64encode(PNG).decode(), "invalid_image_url"),
        (data_url(PNG, "image/jpeg"), "invalid_image_url"),
        (data_url(to_bytes(quadrants(), "BMP"), "image/bmp"), "invalid_value"),
        (data_url(PNG[:60]), "image_parse_error"),
    ],
)
def test_image_data_is_checked(client, url, code):
    assert bad_request(lambda: chat(client, url))["code"] == code


def test_animated_gifs_are_refused(client):
    gif = frames([(255, 0, 0), (0, 0, 255)])
    animated = to_bytes(gif[0], "GIF", save_all=True, append_images=gif[1:], duration=100)
    error = bad_request(lambda: chat(client, data_url(animated, "image/gif")))
    assert "Animated" in error["message"]
    still = to_bytes(gif[0], "GIF")
    assert chat(client, data_url(still, "image/gif")).usage.prompt_tokens > 0


def test_detail_the_model_lacks_is_refused(client):
    error = bad_request(lambda: chat(client, data_url(PNG), detail="original"))
    assert error["param"].endswith("image_url.url")
    assert chat(client, data_url(PNG), detail="original", model="gpt-5.4").usage


def test_json_mode_needs_the_word_json(client):
    error = bad_request(
        lambda: chat(client, data_url(PNG), response_format={"type": "json_object"})
    )
    assert "json" in error["message"]


def test_unknown_model_and_parameters(client):
    with pytest.raises(openai.NotFoundError):
        chat(client, data_url(PNG), model="gpt-nonexistent")
    with pytest.raises(openai.NotFoundError):
        chat(client, data_url(PNG), model="claude-sonnet-4-6")
    error = bad_request(lambda: chat(client, data_url(PNG), extra_body={"bogus": 1}))
    assert "bogus" in error["message"]


def test_limits_per_image_and_per_request():
    limits = RequestLimits(max_request_bytes=20_000, max_images=2, max_image_bytes=len(PNG) - 1)
    with Emulator(limits=limits) as emu:
        sdk = openai.OpenAI(api_key="k", base_url=emu.base_url, max_retries=0)
        assert bad_request(lambda: chat(sdk, data_url(PNG)))["code"] == "image_too_large"
        small = data_url(to_bytes(quadrants((8, 8)), "PNG"))
        parts = [{"type": "image_url", "image_url": {"url": small}}] * 3
        error = bad_request(
            lambda: sdk.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": parts}]
            )
        )
        assert error["code"] == "too_many_images"
        with pytest.raises(openai.APIStatusError) as info:
            chat(sdk, "https://example.com/" + "a" * 30_000)
        assert info.value.status_code == 413
        assert info.value.body["code"] == "request_too_large"


def test_a_missing_key_is_refused_without_echoing_anything(emu):
    request = urllib.request.Request(emu.base_url + "/chat/completions", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request)
    assert info.value.code == 401
    assert json.loads(info.value.read())["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("429", openai.RateLimitError),
        ("500", openai.InternalServerError),
        ("drop", openai.APIConnectionError),
    ],
)
def test_faults_on_request(client, fault, error):
    with pytest.raises(error) as info:
        chat(client, data_url(PNG), extra_headers={"X-Emulator-Fault": fault})
    if fault == "429":
        headers = info.value.response.headers
        assert headers["retry-after"] == "1" and headers["retry-after-ms"] == "1000"


def test_slow_and_hanging_answers(emu):
    emu.faults = FaultPlan(slow_s=0.3, hang_s=5)
    sdk = openai.OpenAI(api_key="k", base_url=emu.base_url, max_retries=0, timeout=2)
    started = time.perf_counter()
    chat(sdk, data_url(PNG), extra_headers={"X-Emulator-Fault": "slow"})
    assert time.perf_counter() - started >= 0.3
    with pytest.raises(openai.APITimeoutError):
        chat(
            sdk.with_options(timeout=0.3),
            data_url(PNG),
            extra_headers={"X-Emulator-Fault": "hang"},
        )


def test_fault_plan_parsing_and_draws():
    plan = FaultPlan.parse("429=0.5,drop=0.25,retry_after_s=0.01,seed=3")
    assert (plan.rate_429, plan.rate_drop, plan.retry_after_s, plan.seed) == (0.5, 0.25, 0.01, 3)
    rng = random.Random(plan.seed)
    draws = Counter(plan.draw(rng) for _ in range(4000))
    assert set(draws) == {"429", "drop", None}
    assert draws["429"] / 4000 == pytest.approx(0.5, abs=0.03)
    assert draws["drop"] / 4000 == pytest.approx(0.25, abs=0.03)
    with pytest.raises(SettingsError):
        FaultPlan.parse("teapot=1")
    with pytest.raises(SettingsError):
        FaultPlan(rate_429=0.8, rate_500=0.5)


def test_images_by_file_id_and_url(client):
    uploaded = client.files.create(file=("pic.png", io.BytesIO(PNG)), purpose="vision")
    assert uploaded.bytes == len(PNG) and uploaded.purpose == "vision"
    assert client.files.content(uploaded.id).content == PNG
    parts = [
        ImagePart(file_id=uploaded.id, detail="low"),
        ImagePart(url="https://images.example/pic.png"),  # never fetched: billed as assumed
    ]
    body = RequestSpec("gpt-4o", api="responses").body(parts)
    described = json.loads(client.responses.create(**body).output_text)["images"]
    assert [(d["source"], d["width"], d["detail"]) for d in described] == [
        ("file_id", 120, "low"),
        ("url", 1024, "auto"),  # the default detail
    ]
    sized = client.responses.create(**body, extra_headers={"X-Emulator-Image-Size": "300x200"})
    assert json.loads(sized.output_text)["images"][1]["width"] == 300
    batch_file = client.files.create(file=("b.jsonl", io.BytesIO(b"{}\n")), purpose="batch")
    wrong = [ImagePart(file_id=batch_file.id)]
    with pytest.raises(openai.BadRequestError):
        client.responses.create(**RequestSpec("gpt-4o", api="responses").body(wrong))


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_batch_round_trip_through_the_sdk(client, tmp_path, api):
    spec = RequestSpec("gpt-4o", "Describe each image as json", api=api, json_format=True)
    sizes = [(64, 48), (200, 100), (1024, 1024), (30, 30)]
    parts = [ImagePart.from_bytes(to_bytes(quadrants(s), "PNG"), name=f"{s}") for s in sizes]
    requests = [Request(spec, (p,)) for p in parts]
    bad = Request(spec, (ImagePart(data=PNG[:60], name="truncated"),))
    files = write_batch_files([*requests, bad], tmp_path)
    assert len(files) == 1
    with files[0].path.open("rb") as handle:
        uploaded = client.files.create(file=handle, purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id, endpoint=files[0].endpoint, completion_window="24h"
    )
    batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed"
    assert (batch.request_counts.completed, batch.request_counts.failed) == (4, 1)
    outputs = []
    for file_id in (batch.output_file_id, batch.error_file_id):
        path = tmp_path / f"{file_id}.jsonl"
        path.write_bytes(client.files.content(file_id).content)
        outputs.append(path)
    records = read_batch_output(outputs, [files[0].path])
    assert [r["id"] for r in records] == [r.id for r in [*requests, bad]]
    assert [r["status"] for r in records] == ["ok"] * 4 + ["error"]
    for record, size in zip(records, sizes, strict=False):
        image = json.loads(record["response_text"])["images"][0]
        assert (image["width"], image["height"]) == size
        assert record["cost_usd"] == pytest.approx(
            usage_cost_usd("gpt-4o", record["input_tokens"], 0, record["output_tokens"], "batch")
        )
    assert records[-1]["error_type"] == "image_parse_error"


def test_batch_validation_fails_duplicates_and_mixed_models(client, tmp_path):
    spec = RequestSpec("gpt-4o", "x")
    line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions"}
    body = spec.body([ImagePart.from_bytes(PNG)])
    duplicate = [{**line, "body": body}, {**line, "body": body}]
    mixed = [{**line, "body": body}, {**line, "custom_id": "b", "body": {**body, "model": "o3"}}]
    for lines, code in ((duplicate, "duplicate_custom_id"), (mixed, "mismatched_model")):
        raw = "".join(json.dumps(x) + "\n" for x in lines).encode()
        uploaded = client.files.create(file=("in.jsonl", io.BytesIO(raw)), purpose="batch")
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        assert batch.status == "failed"
        assert batch.errors.data[0].code == code
