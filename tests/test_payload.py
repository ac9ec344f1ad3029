"""Request bodies: SDK-valid shapes, exact sizes, splitting under limits, Batch files."""

import asyncio
import dataclasses
import itertools
import json
import typing
from collections.abc import Iterator

import httpx2
import openai
import pytest
from helpers import quadrants, to_bytes
from openai.types.chat.chat_completion_content_part_image_param import ImageURL
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
from openai.types.responses.image_detail import ImageDetail
from openai.types.responses.response_create_params import ResponseCreateParamsNonStreaming
from pydantic import TypeAdapter

from toolkit.errors import PayloadError, SettingsError
from toolkit.images import EncodeSettings, encode_image
from toolkit.payload import (
    BATCH_LIMITS,
    DETAILS,
    DOCUMENTED_LIMITS,
    OBSERVED_LIMITS,
    BatchLimits,
    ImagePart,
    Request,
    RequestLimits,
    RequestSpec,
    batch_line,
    body_bytes,
    chat_body,
    read_batch_output,
    responses_body,
    serialize,
    split_requests,
    usage_cost_usd,
    write_batch_files,
)
from toolkit.pricing import cost_usd
from toolkit.rulesets import DEFAULT_DETAIL

ADAPTERS = {
    "chat": TypeAdapter(CompletionCreateParamsNonStreaming),
    "responses": TypeAdapter(ResponseCreateParamsNonStreaming),
}


def materialize(value):
    """Pydantic validates `Iterable[...]` fields lazily; iterating runs the validation."""
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    if isinstance(value, list | tuple | Iterator) or type(value).__name__ == "ValidatorIterator":
        return [materialize(v) for v in value]
    return value


def sdk_valid(api: str, body: dict) -> bool:
    """True when the SDK's request TypedDicts accept `body` and keep every key of it."""
    return materialize(ADAPTERS[api].validate_python(body)) == body


def part(color=(200, 30, 30), size=(64, 48), detail="high", name="") -> ImagePart:
    image = quadrants(size)
    image.paste(color, (0, 0, 8, 8))
    return ImagePart.from_bytes(to_bytes(image, "PNG"), detail, name=name)


def test_details_match_the_sdk_literals():
    assert set(DETAILS) == set(typing.get_args(ImageDetail))
    assert set(DETAILS) == set(typing.get_args(typing.get_type_hints(ImageURL)["detail"]))


def test_the_validator_catches_bad_shapes():
    good = chat_body([part()], model="gpt-4o", prompt="hi")
    assert sdk_valid("chat", good)
    bad = json.loads(json.dumps(good))
    bad["messages"][0]["content"][1]["image_url"].pop("url")
    with pytest.raises(ValueError):
        sdk_valid("chat", bad)
    extra = json.loads(json.dumps(good))
    extra["messages"][0]["content"][1]["bogus"] = 1
    assert not sdk_valid("chat", extra)


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("system", [None, "You describe images."])
@pytest.mark.parametrize("json_format", [False, True])
def test_bodies_validate_against_the_sdk_types(api, system, json_format):
    parts = [
        part(detail="low"),
        ImagePart(url="https://example.com/a.png", detail="auto"),
        part(detail="original"),
    ]
    if api == "responses":
        parts.append(ImagePart(file_id="file-abc123", detail="high"))
    spec = RequestSpec(
        "gpt-5.4",
        "Describe each image as JSON.",
        api=api,
        system=system,
        json_format=json_format,
        max_output_tokens=300,
    )
    body = spec.body(parts)
    assert sdk_valid(api, body)
    assert spec.body_bytes(parts) == len(serialize(body))


def test_content_part_shapes_per_endpoint():
    image = part(detail="low")
    chat = chat_body([image], model="gpt-4o")["messages"][0]["content"][0]
    assert chat == {"type": "image_url", "image_url": {"url": image.ref, "detail": "low"}}
    assert chat["image_url"]["url"].startswith("data:image/png;base64,")
    responses = responses_body([image], model="gpt-4o")["input"][0]["content"][0]
    assert responses == {"type": "input_image", "image_url": image.ref, "detail": "low"}
    by_id = responses_body([ImagePart(file_id="file-1")], model="gpt-4o")["input"][0]
    default = {"type": "input_image", "file_id": "file-1", "detail": DEFAULT_DETAIL}
    assert by_id["content"][0] == default
    with pytest.raises(PayloadError, match="Responses API"):
        chat_body([ImagePart(file_id="file-1")], model="gpt-4o")


@pytest.mark.parametrize("prompt", ["", "plain", 'ünïcödé ✓ \u2028 "quoted"\n'])
@pytest.mark.parametrize("n_images", [0, 1, 3])
def test_size_accounting_is_exact(prompt, n_images):
    parts = [part(color=(i * 40, 0, 0)) for i in range(n_images)]
    for api in ("chat", "responses"):
        spec = RequestSpec("gpt-4o", prompt, api=api, system="sys ✓")
        assert spec.body_bytes(parts) == body_bytes(spec.body(parts))


def test_serialization_is_byte_identical_to_what_the_sdk_sends():
    sent = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.content)
        return httpx2.Response(500, json={"error": {"message": "x", "type": "server_error"}})

    spec = RequestSpec("gpt-4o", "Décris en JSON ✓", json_format=True, system="sys")
    request = Request(spec, (part(), part(color=(0, 9, 9))))

    async def send():
        transport = httpx2.MockTransport(handle)
        http = openai.DefaultAsyncHttpx2Client(transport=transport)
        async with openai.AsyncOpenAI(api_key="k", max_retries=0, http_client=http) as client:
            with pytest.raises(openai.InternalServerError):
                await client.chat.completions.create(**request.body())

    asyncio.run(send())
    assert sent == [serialize(request.body())]
    assert len(sent[0]) == request.body_bytes


def test_limits_are_dated_settings():
    assert OBSERVED_LIMITS.max_request_bytes == 50_000_000
    assert OBSERVED_LIMITS.max_images == 500
    assert OBSERVED_LIMITS.max_image_bytes == 20_000_000
    assert OBSERVED_LIMITS.as_of and "50" in OBSERVED_LIMITS.source
    assert DOCUMENTED_LIMITS.max_request_bytes == 512_000_000
    assert BATCH_LIMITS.max_lines == 50_000 and BATCH_LIMITS.max_file_bytes == 200_000_000
    with pytest.raises(SettingsError):
        RequestLimits(max_images=0)
    with pytest.raises(SettingsError):
        BatchLimits(max_lines=-1)


def test_json_format_needs_the_word_json():
    with pytest.raises(SettingsError, match="json"):
        RequestSpec("gpt-4o", "Describe the image", json_format=True)
    assert RequestSpec("gpt-4o", "x", system="Answer in JSON", json_format=True)


def test_request_ids_are_stable_and_content_derived():
    spec = RequestSpec("gpt-4o", "p")
    a, b = part(), part()
    assert Request(spec, (a,)).id == Request(spec, (b,)).id
    assert Request(spec, (a,)).id != Request(spec, (part(detail="low"),)).id
    assert Request(spec, (a,)).id != Request(dataclasses.replace(spec, prompt="q"), (a,)).id
    assert Request(spec, (a,)).id != Request(spec, (part(color=(1, 2, 3)),)).id


def _fits(request: Request, limits: RequestLimits) -> bool:
    return len(request.parts) <= limits.max_images and (
        request.body_bytes <= limits.max_request_bytes
    )


@pytest.mark.parametrize("max_images", [1, 2, 3, 500])
@pytest.mark.parametrize("api", ["chat", "responses"])
def test_split_packs_fewest_requests_in_order(max_images, api):
    parts = [part(color=(i * 20, i, 0), name=f"img{i}") for i in range(10)]
    spec = RequestSpec("gpt-4o", "Describe", api=api)
    one = spec.body_bytes(parts[:1])
    limits = RequestLimits(max_request_bytes=int(one * 2.6), max_images=max_images)
    requests = list(split_requests(parts, spec, limits=limits))
    assert [p.name for r in requests for p in r.parts] == [p.name for p in parts]
    for request in requests:
        assert _fits(request, limits)
        assert request.body_bytes == body_bytes(request.body())
    # Greedy is optimal for ordered packing: no request could also take the next image.
    for current, following in itertools.pairwise(requests):
        grown = Request(spec, (*current.parts, following.parts[0]))
        assert not _fits(grown, limits)


def test_split_is_lazy():
    parts = (part(color=(i % 250, 0, 0)) for i in itertools.count())
    requests = split_requests(parts, RequestSpec("gpt-4o"), limits=RequestLimits(max_images=3))
    first = next(requests)
    assert len(first.parts) == 3


def test_an_oversized_image_is_refused_or_reencoded():
    big = ImagePart.from_encoded(
        encode_image(to_bytes(quadrants((900, 600)), "PNG"), EncodeSettings(max_side=None)),
        "high",
    )
    spec = RequestSpec("gpt-4o", "Describe")
    limits = RequestLimits(max_image_bytes=big.ref_bytes // 3, max_request_bytes=10**6)
    with pytest.raises(PayloadError, match="too large"):
        list(split_requests([part(), big], spec, limits=limits))
    requests = list(split_requests([part(), big], spec, limits=limits, on_oversize="reencode"))
    shrunk = requests[-1].parts[-1]
    assert len(shrunk.data) <= limits.max_image_bytes
    assert shrunk.width < 900 and shrunk.width / shrunk.height == pytest.approx(1.5, rel=0.02)
    tight = RequestLimits(max_request_bytes=spec.base_bytes + 4000)
    request = next(split_requests([big], spec, limits=tight, on_oversize="reencode"))
    assert request.body_bytes <= tight.max_request_bytes
    with pytest.raises(SettingsError):
        next(split_requests([big], spec, on_oversize="shrug"))


def test_remote_images_cannot_be_reencoded():
    spec = RequestSpec("gpt-4o")
    url = ImagePart(url="https://example.com/" + "a" * 500)
    with pytest.raises(PayloadError):
        list(split_requests([url], spec, limits=RequestLimits(max_request_bytes=200)))


def test_estimates_use_toolkit_tokens():
    spec = RequestSpec("gpt-4o", "x")
    request = Request(spec, (part(size=(1024, 1024)), part(size=(1024, 1024), detail="low")))
    assert request.estimated_image_tokens() == 765 + 85
    assert Request(spec, (ImagePart(url="https://e.com/x.png"),)).estimated_image_tokens() is None
    unknown = Request(RequestSpec("no-such-model"), (part(),))
    assert unknown.estimated_image_tokens() is None


def test_estimates_apply_anthropics_limit_for_many_images():
    # Above 20 images in a request Anthropic rejects a side over 2000 px (8000 px otherwise);
    # 2001x28 is kept as 1568x22 by the standard tier: 56 x 1 visual tokens.
    def request(n: int, width: int) -> Request:
        parts = [ImagePart(file_id="file-1", detail="auto", width=width, height=28)] * n
        return Request(RequestSpec("claude-sonnet-4-6"), tuple(parts))

    assert request(20, 2001).estimated_image_tokens() == 20 * 56
    assert request(21, 2000).estimated_image_tokens() == 21 * 56
    assert request(21, 2001).estimated_image_tokens() is None
    assert request(1, 8001).estimated_image_tokens() is None


def test_batch_files_roll_over_and_join_back(tmp_path):
    spec = RequestSpec("gpt-4o", "Describe in json", json_format=True)
    requests = [Request(spec, (part(color=(i, 0, 0)),)) for i in range(7)]
    line_bytes = len(batch_line(requests[0]))
    limits = BatchLimits(max_file_bytes=line_bytes * 3 + line_bytes // 2, max_lines=50_000)
    other = Request(RequestSpec("gpt-4.1", "x"), (part(),))
    files = write_batch_files([*requests, requests[0], other], tmp_path, limits=limits)
    assert [f.lines for f in files] == [3, 3, 1, 1]
    assert [f.model for f in files] == ["gpt-4o"] * 3 + ["gpt-4.1"]
    ids = []
    for batch_file in files:
        assert batch_file.path.stat().st_size == batch_file.bytes <= limits.max_file_bytes
        for raw in batch_file.path.read_bytes().splitlines():
            line = json.loads(raw)
            assert set(line) == {"custom_id", "method", "url", "body"}
            assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
            assert sdk_valid("chat", line["body"])
            ids.append(line["custom_id"])
    assert len(ids) == len(set(ids)) == 8
    assert files[0].estimated_image_tokens == 3 * requests[0].estimated_image_tokens()
    assert files[0].estimated_cost_usd == pytest.approx(
        cost_usd(files[0].estimated_image_tokens, "gpt-4o", "batch")
    )
    by_lines = write_batch_files(requests, tmp_path / "lines", limits=BatchLimits(max_lines=2))
    assert [f.lines for f in by_lines] == [2, 2, 2, 1]

    output = tmp_path / "out.jsonl"
    answered = [json.loads(r) for f in files[:2] for r in f.path.read_bytes().splitlines()]
    with output.open("w") as handle:
        for line in reversed(answered[1:]):  # out of order and one missing
            body = {
                "choices": [{"message": {"content": "{}"}}],
                "usage": {"prompt_tokens": 1000, "completion_tokens": 10},
            }
            answer = {"status_code": 200, "request_id": "req_1", "body": body}
            handle.write(json.dumps({"custom_id": line["custom_id"], "response": answer}) + "\n")
    records = read_batch_output([output], [f.path for f in files[:2]])
    assert [r["id"] for r in records] == [json.loads(x)["custom_id"] for x in _lines(files[:2])]
    assert records[0]["status"] == "missing"
    assert {r["status"] for r in records[1:]} == {"ok"}
    expected = cost_usd(1000, "gpt-4o", "batch") + usage_cost_usd("gpt-4o", 0, 0, 10, "batch")
    assert records[1]["cost_usd"] == pytest.approx(expected)
    assert records[1]["cost_usd"] == pytest.approx(
        usage_cost_usd("gpt-4o", 1000, 0, 10, "standard") / 2
    )


def _lines(files) -> list[bytes]:
    return [raw for f in files for raw in f.path.read_bytes().splitlines()]


def test_data_parts_check_their_bytes():
    with pytest.raises(PayloadError):
        ImagePart(data=b"not an image")
    with pytest.raises(PayloadError):
        ImagePart(data=to_bytes(quadrants(), "PNG"), mime="image/jpeg")
    with pytest.raises(SettingsError):
        ImagePart(url="ftp://example.com/x.png")
    with pytest.raises(SettingsError):
        ImagePart(url="https://example.com/x.png", file_id="file-1")
    with pytest.raises(SettingsError):
        ImagePart(url="https://example.com/x.png", detail="ultra")
    image = part()
    assert ImagePart.from_data_url(image.ref).digest == image.digest


def pieces(name: str, count: int, caption: str = "one image in crops") -> list[ImagePart]:
    """`count` parts that must travel together, the first captioned."""
    return [
        dataclasses.replace(
            part(color=(i * 30, 60, 0), name=f"{name}#{i}"),
            caption=caption if i == 0 else None,
            piece=(i, count),
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_a_caption_goes_just_before_its_image_and_is_sized_exactly(api):
    spec = RequestSpec("gpt-4o", "Describe ✓", api=api)
    parts = [part(name="a"), *pieces("b", 3, 'the next 3 images are "b.png" ✓'), part(name="c")]
    body = spec.body(parts)
    content = body["messages"][0]["content"] if api == "chat" else body["input"][0]["content"]
    text_type = "text" if api == "chat" else "input_text"
    kinds = [c["type"] for c in content]
    image = "image_url" if api == "chat" else "input_image"
    assert kinds == [text_type, image, text_type, image, image, image, image]
    assert content[2]["text"] == 'the next 3 images are "b.png" ✓'
    assert sdk_valid(api, body)
    assert spec.body_bytes(parts) == len(serialize(body))
    assert (
        Request(spec, tuple(parts)).id
        != Request(spec, tuple(dataclasses.replace(p, caption=None) for p in parts)).id
    )


def test_the_pieces_of_an_image_are_never_split_across_requests():
    spec = RequestSpec("gpt-4o", "Describe")
    parts = [part(name="a"), *pieces("b", 3), part(name="c"), *pieces("d", 2)]
    limits = RequestLimits(max_images=4)
    requests = list(split_requests(parts, spec, limits=limits))
    assert [[p.name for p in r.parts] for r in requests] == [
        ["a", "b#0", "b#1", "b#2"],
        ["c", "d#0", "d#1"],
    ]
    one_each = split_requests(parts, spec, images_per_request=1)  # an image and its crops
    assert [len(r.parts) for r in one_each] == [1, 3, 1, 2]
    size = spec.body_bytes(parts[1:4])
    tight = RequestLimits(max_request_bytes=size + 10)  # b's crops fill a request alone
    assert [len(r.parts) for r in split_requests(parts, spec, limits=tight)] == [1, 3, 3]
    with pytest.raises(PayloadError, match="b#0: its 3 pieces do not fit one request"):
        list(split_requests(parts, spec, limits=RequestLimits(max_images=2)))
    with pytest.raises(PayloadError, match="in order"):
        list(split_requests([parts[1], parts[0], parts[2]], spec))
    with pytest.raises(PayloadError, match="missing"):
        list(split_requests(parts[1:3], spec))
