"""Request bodies for vision requests: content parts, exact sizes, splitting, Batch API files.

Bodies are sized exactly as each provider's SDK sends them: the `openai` SDK's
`openai._utils._json.openapi_dumps` is `json.dumps(ensure_ascii=False, separators=(",", ":"),
allow_nan=False)` encoded as UTF-8, so `body_bytes` is the Content-Length the API receives;
Claude and Gemini bodies (`api="anthropic"`, `api="gemini"`) are `toolkit.provider_bodies`'.
Sizes of Base64 images are computed arithmetically, so splitting never builds a Base64 string
it does not send.
"""

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from io import BytesIO
from pathlib import Path
from typing import TypedDict

from PIL import Image

from toolkit.dataurl import base64_chars, parse_data_url, sniff_mime, to_data_url
from toolkit.errors import PayloadError, RulesError, SettingsError
from toolkit.images import DEFAULT_SETTINGS, EncodedImage, EncodeSettings, encode_image
from toolkit.outputs import AtomicFile
from toolkit.pricing import cost_or_none, usage_cost_usd
from toolkit.provider_bodies import (
    GEMINI_DETAILS,
    anthropic_answer,
    anthropic_body,
    anthropic_image,
    anthropic_text,
    captioned,
    compact,
    gemini_answer,
    gemini_body,
    gemini_image,
    gemini_text,
    google_dumps,
)
from toolkit.rulesets import DEFAULT_DETAIL
from toolkit.tokens import image_tokens

# `detail` values of the SDK's `ImageDetail` literal and the API guide (OAI-VIS, §1.5 of
# research/vision-api-facts.md); the tests check this against the installed SDK.
DETAILS = ("auto", "low", "high", "original")
# Every level an image part may carry: OpenAI's and Gemini's media_resolution levels.
IMAGE_DETAILS = tuple(dict.fromkeys(DETAILS + GEMINI_DETAILS))
ENDPOINTS = {"chat": "/v1/chat/completions", "responses": "/v1/responses"}  # OpenAI (Batch too)
PROVIDER_ENDPOINTS = {
    "anthropic": "/v1/messages",
    "gemini": "/v1beta/models/{model}:generateContent",
}
API_BY_ENDPOINT = {endpoint: api for api, endpoint in ENDPOINTS.items()}
ON_OVERSIZE = ("error", "reencode")
CONCURRENCY = 8  # requests in flight at once when sending (`toolkit.client.send_requests`)
# Re-encoding aims this far under the byte budget: bytes grow roughly with the pixel count,
# so one pass at sqrt(budget / bytes) of the side usually fits.
_SHRINK_MARGIN = 0.9


def serialize(body: object) -> bytes:
    """The body's bytes exactly as the openai (and anthropic) SDK sends them (`openapi_dumps`)."""
    return compact(body)


def body_bytes(body: object) -> int:
    """Content-Length of `body` as the openai SDK serializes it."""
    return len(serialize(body))


def _json_str_bytes(text: str) -> int:
    """Bytes of `text` inside a JSON string literal, quotes excluded."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def _positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{name} must be a positive integer, not {value!r}")


@dataclass(frozen=True)
class RequestLimits:
    """Per-request limits to plan for; a dated setting, override with `dataclasses.replace`.

    `max_request_bytes` bounds the serialized body, `max_images` the image parts in one
    request and `max_image_bytes` each image's bytes, decoded or, with `image_bytes_as=
    "base64"`, as Base64 text. `max_side` bounds an image's sides in pixels, lowered to
    `many_images_max_side` in a request of more than `many_images` images. MB are taken as
    10**6 bytes, the smaller reading.
    """

    max_request_bytes: int = 50_000_000
    max_images: int = 500
    max_image_bytes: int = 20_000_000
    image_bytes_as: str = "decoded"
    max_side: int | None = None
    many_images: int | None = None
    many_images_max_side: int | None = None
    as_of: str = "2026-09-18"
    source: str = (
        "OAI-VIS 2025 to 2026-04-19: 'Up to 50 MB total payload size per request', 'Up to 500 "
        "individual image inputs per request', 'Up to 20MB per image'; a third-party test on "
        "2026-09-18 still saw a 50MB rejection (research/vision-api-facts.md §3.1, §8 #6)"
    )

    def __post_init__(self) -> None:
        for name in ("max_request_bytes", "max_images", "max_image_bytes"):
            _positive(name, getattr(self, name))
        for name in ("max_side", "many_images", "many_images_max_side"):
            if getattr(self, name) is not None:
                _positive(name, getattr(self, name))
        if self.image_bytes_as not in ("decoded", "base64"):
            raise SettingsError(
                f"image_bytes_as must be decoded or base64, not {self.image_bytes_as!r}"
            )
        if (self.many_images is None) != (self.many_images_max_side is None):
            raise SettingsError("many_images and many_images_max_side go together")

    def image_bytes(self, part: "ImagePart") -> int:
        """The size `max_image_bytes` bounds: the image's bytes, or their Base64 length."""
        size = len(part.data or b"")
        return base64_chars(size) if self.image_bytes_as == "base64" else size

    def decoded_budget(self) -> int:
        """The most image bytes `max_image_bytes` lets through."""
        limit = self.max_image_bytes
        return limit // 4 * 3 if self.image_bytes_as == "base64" else limit

    def side_limit(self, images: int) -> int | None:
        """The largest side an image may have in a request of `images` images."""
        if self.many_images is not None and images > self.many_images:
            return self.many_images_max_side
        return self.max_side


OBSERVED_LIMITS = RequestLimits()
DOCUMENTED_LIMITS = RequestLimits(
    max_request_bytes=512_000_000,
    max_images=1500,
    as_of="2026-04-24",
    source=(
        "OAI-VIS from 2026-04-24: 'Up to 512 MB total payload per request', 'Up to 1,500 images "
        "per request'; documented, not observed (research/vision-api-facts.md §3.1)"
    ),
)


@dataclass(frozen=True)
class BatchLimits:
    """Limits of one Batch API input file (a dated setting)."""

    max_file_bytes: int = 200_000_000
    max_lines: int = 50_000
    as_of: str = "2026-11-23"
    source: str = (
        "OAI-BATCH and SDK batch_create_params.py: 'up to 50,000 requests, and can be up to "
        "200 MB' (research/vision-api-facts.md §3.3)"
    )

    def __post_init__(self) -> None:
        _positive("max_file_bytes", self.max_file_bytes)
        _positive("max_lines", self.max_lines)


BATCH_LIMITS = BatchLimits()


@dataclass(frozen=True, eq=False)
class ImagePart:
    """One image as a request carries it: exactly one of `data` (sent as a data URL), an
    http(s) `url`, or a Files API `file_id` (uploaded with purpose `vision`).

    `width`/`height` are the pixels the provider will see; they feed the token estimate.
    `settings` are the encode settings that produced `data`, used when re-encoding smaller.
    `caption` is a text part sent just before the image (a cropped image's first crop names
    the grid); `piece` is (index, count) for one of `count` parts that travel together, in
    order, in the same request (an image's crops).
    """

    data: bytes | None = field(default=None, repr=False)
    url: str | None = None
    file_id: str | None = None
    detail: str = DEFAULT_DETAIL
    width: int | None = None
    height: int | None = None
    name: str = ""
    mime: str | None = None
    settings: EncodeSettings | None = field(default=None, repr=False)
    caption: str | None = None
    piece: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.data, self.url, self.file_id)) != 1:
            raise SettingsError("an ImagePart needs exactly one of data, url or file_id")
        if self.piece is not None and not 0 <= self.piece[0] < self.piece[1]:
            raise SettingsError(
                f"piece must be (index, count) with 0 <= index < count, not {self.piece}"
            )
        if self.detail not in IMAGE_DETAILS:
            raise SettingsError(f"detail must be one of {IMAGE_DETAILS}, not {self.detail!r}")
        if self.url is not None and not self.url.startswith(("https://", "http://")):
            raise SettingsError("url must be http(s); pass image bytes as `data` for a data URL")
        if self.data is not None:
            sniffed = sniff_mime(self.data)
            if sniffed is None or (self.mime is not None and self.mime != sniffed):
                raise PayloadError(
                    f"{self.name or 'image'}: bytes are not a {self.mime or 'known image'}"
                )
            object.__setattr__(self, "mime", sniffed)

    @classmethod
    def from_encoded(cls, image: EncodedImage, detail: str = DEFAULT_DETAIL) -> "ImagePart":
        return cls(
            data=image.data,
            detail=detail,
            width=image.width,
            height=image.height,
            name=image.name,
            mime=image.mime,
            settings=image.settings,
        )

    @classmethod
    def from_bytes(cls, data: bytes, detail: str = DEFAULT_DETAIL, name: str = "") -> "ImagePart":
        """Image bytes sent as they are; the size is read from the header."""
        try:
            with Image.open(BytesIO(data)) as image:
                width, height = image.size
        except (OSError, ValueError) as exc:
            raise PayloadError(f"{name or 'image'}: cannot read the image size: {exc}") from None
        return cls(data=bytes(data), detail=detail, width=width, height=height, name=name)

    @classmethod
    def from_data_url(cls, url: str, detail: str = DEFAULT_DETAIL, name: str = "") -> "ImagePart":
        return cls.from_bytes(parse_data_url(url).data, detail, name)

    @property
    def kind(self) -> str:
        return "data_url" if self.data is not None else "url" if self.url else "file_id"

    @property
    def ref(self) -> str:
        """The string the body carries: a data URL, the URL or the file id."""
        if self.data is not None:
            return to_data_url(self.data, self.mime)
        return self.url or self.file_id or ""

    @property
    def ref_bytes(self) -> int:
        """Bytes of `ref` inside the JSON body, computed without building a data URL."""
        if self.data is not None:
            return len(f"data:{self.mime};base64,") + base64_chars(len(self.data))
        return _json_str_bytes(self.ref)

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the image content (or of the URL / file id)."""
        content = self.data if self.data is not None else self.ref.encode()
        return hashlib.sha256(content).hexdigest()


def _chat_part(part: ImagePart, ref: str) -> dict:
    if part.file_id is not None:
        raise PayloadError(
            f"{part.name or part.file_id}: Chat Completions takes images by URL or data URL; "
            "use the Responses API for file_id images"
        )
    return {"type": "image_url", "image_url": {"url": ref, "detail": part.detail}}


def _responses_part(part: ImagePart, ref: str) -> dict:
    key = "file_id" if part.file_id is not None else "image_url"
    return {"type": "input_image", key: ref, "detail": part.detail}


def chat_image_part(part: ImagePart) -> dict:
    """`{"type": "image_url", "image_url": {"url", "detail"}}` for Chat Completions."""
    return _chat_part(part, part.ref)


def responses_image_part(part: ImagePart) -> dict:
    """`{"type": "input_image", "image_url" | "file_id", "detail"}` for the Responses API."""
    return _responses_part(part, part.ref)


def _content(parts: Sequence[ImagePart], text_type: str, image_part) -> list[dict]:
    """The content parts of `parts`: each image, after its caption's text part if it has one."""
    return captioned(parts, lambda text: {"type": text_type, "text": text}, image_part)


def chat_body(
    parts: Sequence[ImagePart],
    *,
    model: str,
    prompt: str = "",
    system: str | None = None,
    json_format: bool = False,
    max_output_tokens: int | None = None,
) -> dict:
    """A `chat.completions.create` body: optional system message, then one user message with
    the prompt text followed by the images in order (each after its caption, if any)."""
    content = [{"type": "text", "text": prompt}] if prompt else []
    content += _content(parts, "text", chat_image_part)
    messages = [{"role": "system", "content": system}] if system else []
    body: dict[str, object] = {
        "model": model,
        "messages": [*messages, {"role": "user", "content": content}],
    }
    if json_format:
        body["response_format"] = {"type": "json_object"}
    if max_output_tokens is not None:
        body["max_completion_tokens"] = max_output_tokens
    return body


def responses_body(
    parts: Sequence[ImagePart],
    *,
    model: str,
    prompt: str = "",
    instructions: str | None = None,
    json_format: bool = False,
    max_output_tokens: int | None = None,
) -> dict:
    """A `responses.create` body: one user input with the prompt then the images in order
    (each after its caption, if any)."""
    content = [{"type": "input_text", "text": prompt}] if prompt else []
    content += _content(parts, "input_text", responses_image_part)
    body: dict[str, object] = {"model": model, "input": [{"role": "user", "content": content}]}
    if instructions:
        body["instructions"] = instructions
    if json_format:
        body["text"] = {"format": {"type": "json_object"}}
    if max_output_tokens is not None:
        body["max_output_tokens"] = max_output_tokens
    return body


# How each provider's body carries one image (given the text standing for its data), a text
# part, and the separator between list items, as its SDK serializes them.
_SHAPES: dict[str, tuple[Callable[[ImagePart, str], dict], Callable[[str], dict], int]] = {
    "chat": (_chat_part, lambda t: {"type": "text", "text": t}, 1),
    "responses": (_responses_part, lambda t: {"type": "input_text", "text": t}, 1),
    "anthropic": (anthropic_image, anthropic_text, 1),
    "gemini": (gemini_image, gemini_text, 2),  # json.dumps' default ", "
}
APIS = tuple(_SHAPES)


@dataclass(frozen=True)
class RequestSpec:
    """What every request of a run shares: API, model, prompt and output options.

    `api` is an OpenAI endpoint (`chat`, `responses`) or another provider's API (`anthropic`:
    Messages; `gemini`: generateContent). `system` is the system message (Chat, Anthropic,
    Gemini's `systemInstruction`) or `instructions` (Responses). With `json_format` OpenAI
    requires the word "json" somewhere in the messages, so it is checked here; Anthropic
    has no such format, and requires `max_output_tokens` (`max_tokens`).
    """

    model: str
    prompt: str = ""
    api: str = "chat"
    system: str | None = None
    json_format: bool = False
    max_output_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.api not in APIS:
            raise SettingsError(f"api must be one of {sorted(APIS)}, not {self.api!r}")
        if not self.model:
            raise SettingsError("model is required")
        if self.max_output_tokens is not None:
            _positive("max_output_tokens", self.max_output_tokens)
        if self.api == "anthropic":
            if self.max_output_tokens is None:
                raise SettingsError("Anthropic's Messages API requires max_output_tokens")
            if self.json_format:
                raise SettingsError(
                    "Anthropic's Messages API has no JSON response format; ask for JSON in "
                    "the prompt"
                )
        if (
            self.api in ENDPOINTS
            and self.json_format
            and "json" not in f"{self.prompt} {self.system or ''}".lower()
        ):
            raise SettingsError(
                "a JSON response format needs the word 'json' in the prompt or system text "
                "(the API refuses the request otherwise)"
            )

    @property
    def endpoint(self) -> str:
        """The request's path: an OpenAI endpoint, `/v1/messages`, or Gemini's model path."""
        if self.api in ENDPOINTS:
            return ENDPOINTS[self.api]
        return PROVIDER_ENDPOINTS[self.api].format(model=self.model)

    def serialize(self, body: object) -> bytes:
        """The body's bytes as this API's SDK sends them."""
        return google_dumps(body) if self.api == "gemini" else serialize(body)

    def body(self, parts: Sequence[ImagePart]) -> dict:
        if self.api == "anthropic":
            return anthropic_body(
                parts,
                model=self.model,
                prompt=self.prompt,
                system=self.system,
                max_output_tokens=self.max_output_tokens or 0,  # required: checked on creation
            )
        if self.api == "gemini":
            return gemini_body(
                parts,
                prompt=self.prompt,
                system=self.system,
                json_format=self.json_format,
                max_output_tokens=self.max_output_tokens,
            )
        build, system = (
            (chat_body, "system") if self.api == "chat" else (responses_body, "instructions")
        )
        return build(
            parts,
            model=self.model,
            prompt=self.prompt,
            json_format=self.json_format,
            max_output_tokens=self.max_output_tokens,
            **{system: self.system},
        )

    @cached_property
    def base_bytes(self) -> int:
        """Body bytes with no images."""
        return len(self.serialize(self.body(())))

    def part_bytes(self, part: ImagePart) -> int:
        """Bytes one image part (and its caption) adds to the content list, without the
        separating comma before it."""
        image, text, separator = _SHAPES[self.api]
        if self.api in ENDPOINTS:
            size = len(self.serialize(image(part, ""))) + part.ref_bytes
        else:
            if part.data is None:  # the shape raises the provider's PayloadError
                image(part, "")
            size = len(self.serialize(image(part, ""))) + base64_chars(len(part.data or b""))
        if part.caption:
            size += len(self.serialize(text(part.caption))) + separator
        return size

    def added_bytes(self, part: ImagePart, n_before: int) -> int:
        """Bytes the body grows by when `part` follows `n_before` images."""
        separator = _SHAPES[self.api][2]
        return self.part_bytes(part) + (separator if n_before or self.prompt else 0)

    def body_bytes(self, parts: Sequence[ImagePart]) -> int:
        """Exact serialized size of `self.body(parts)`, computed without building it."""
        return self.base_bytes + sum(self.added_bytes(p, i) for i, p in enumerate(parts))


class RequestSummary(TypedDict):
    """What a request is, without its body: the fields a result record starts with."""

    id: str
    api: str
    model: str
    images: int
    image_names: list[str]
    body_bytes: int
    estimated_image_tokens: int | None


class ParsedResponse(TypedDict):
    """The text and `usage` of an answer body (None where the body has no such field)."""

    response_text: str | None
    input_tokens: int | None
    cached_tokens: int
    output_tokens: int | None


def request_id(spec: RequestSpec, parts: Sequence[ImagePart]) -> str:
    """A stable id from the settings and the image contents: same inputs, same id."""
    images = [[p.kind, p.digest, p.detail, *([p.caption] if p.caption else [])] for p in parts]
    key = {"spec": asdict(spec), "images": images}
    return "vis-" + hashlib.sha256(serialize(key)).hexdigest()[:24]


@dataclass(frozen=True, eq=False)
class Request:
    """One request to send: its settings and images; the body is built on demand."""

    spec: RequestSpec
    parts: tuple[ImagePart, ...]
    id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.parts))
        if not self.id:
            object.__setattr__(self, "id", request_id(self.spec, self.parts))

    @property
    def api(self) -> str:
        return self.spec.api

    @property
    def model(self) -> str:
        return self.spec.model

    @property
    def endpoint(self) -> str:
        return self.spec.endpoint

    def body(self) -> dict:
        return self.spec.body(self.parts)

    @property
    def body_bytes(self) -> int:
        return self.spec.body_bytes(self.parts)

    def summary(self) -> RequestSummary:
        """Id, api, model, image count and names, body bytes and the image-token estimate."""
        return {
            "id": self.id,
            "api": self.api,
            "model": self.model,
            "images": len(self.parts),
            "image_names": [p.name for p in self.parts],
            "body_bytes": self.body_bytes,
            "estimated_image_tokens": self.estimated_image_tokens(),
        }

    def estimated_image_tokens(self) -> int | None:
        """Image tokens from `toolkit.tokens` (with this request's image count, which lowers
        Anthropic's pixel limit above 20 images), or None when a size or the model is unknown
        or the provider would reject an image."""
        total, n = 0, len(self.parts)
        for part in self.parts:
            if part.width is None or part.height is None:
                return None
            try:
                estimate = image_tokens(
                    part.width, part.height, self.model, part.detail, images_in_request=n
                )
            except RulesError:
                return None
            total += estimate.tokens
        return total


def shrink_image(part: ImagePart, max_bytes: int, max_side: int | None = None) -> ImagePart:
    """Re-encode a data image smaller (same settings, smaller `max_side`) to fit `max_bytes`
    and, when given, `max_side` pixels."""
    label = part.name or "image"
    data = part.data
    if data is None:
        raise PayloadError(f"{label}: only image bytes can be re-encoded, not a {part.kind}")
    if part.width is None or part.height is None:
        part = ImagePart.from_bytes(data, part.detail, part.name)
    side = max(part.width or 1, part.height or 1)
    wide = max_side is not None and side > max_side
    if len(data) <= max_bytes and not wide:
        return part
    settings = part.settings or DEFAULT_SETTINGS
    encoded = encode_image(data, replace(settings, max_side=max_side)) if wide else None
    side, size = (max_side or side, encoded.bytes) if encoded else (side, len(data))
    while size > max_bytes:
        side = math.floor(side * math.sqrt(max(max_bytes, 0) / size) * _SHRINK_MARGIN)
        if side < 1:
            raise PayloadError(f"{label}: cannot be re-encoded under {max_bytes} bytes")
        encoded = encode_image(data, replace(settings, max_side=side))
        size = encoded.bytes
    assert encoded is not None  # the image was too large or too wide, so it was re-encoded
    smaller = ImagePart.from_encoded(encoded, part.detail)
    return replace(smaller, name=part.name or encoded.name, caption=part.caption, piece=part.piece)


def fit_part(
    part: ImagePart, spec: RequestSpec, limits: RequestLimits, on_oversize: str = "error"
) -> ImagePart:
    """`part` if it can travel alone within the limits, else re-encoded (`on_oversize=
    "reencode"`) or refused (`PayloadError`)."""
    alone = spec.base_bytes + spec.added_bytes(part, 0)
    too_big = part.data is not None and limits.image_bytes(part) > limits.max_image_bytes
    side = max(part.width or 0, part.height or 0)
    too_wide = limits.max_side is not None and side > limits.max_side
    if not too_big and not too_wide and alone <= limits.max_request_bytes:
        return part
    label = part.name or part.kind
    if on_oversize == "error" or part.data is None:
        wide = f", a {side} px side over {limits.max_side} px" if too_wide else ""
        raise PayloadError(
            f"{label}: too large for one request ({limits.image_bytes(part)} image bytes, "
            f"{alone} body bytes{wide}; limits {limits.max_image_bytes} and "
            f"{limits.max_request_bytes})"
        )
    spare = limits.max_request_bytes - (alone - part.ref_bytes) - len(f"data:{part.mime};base64,")
    return shrink_image(part, min(limits.decoded_budget(), spare // 4 * 3), limits.max_side)


def together(parts: Iterable[ImagePart]) -> Iterator[list[ImagePart]]:
    """`parts` as they must travel: alone, or all the pieces of one image in order."""
    pieces: list[ImagePart] = []
    count = 0
    for part in parts:
        if part.piece is None and not pieces:
            yield [part]
            continue
        index, total = part.piece or (-1, 0)
        if index != len(pieces) or (pieces and total != count):
            raise PayloadError(
                f"{part.name or 'image'}: the pieces of an image must come in order, all of them"
            )
        pieces.append(part)
        count = total
        if len(pieces) == count:
            yield pieces
            pieces = []
    if pieces:
        raise PayloadError(f"{pieces[0].name or 'image'}: some of its pieces are missing")


def split_requests(
    parts: Iterable[ImagePart],
    spec: RequestSpec,
    *,
    limits: RequestLimits = OBSERVED_LIMITS,
    on_oversize: str = "error",
    images_per_request: int | None = None,
) -> Iterator[Request]:
    """Pack images, in order, into the fewest requests within `limits` (lazily).

    Greedy filling is optimal when order is kept: each request takes as many of the next
    images as fit (bytes, image count, and where a provider lowers the side limit in a
    request of many images, their sides). The pieces of one image (`ImagePart.piece`: its
    crops) travel together in one request, never split; `images_per_request` caps the images
    a request takes, such a group counting as one. An image too large even alone is
    re-encoded smaller (`on_oversize="reencode"`) or raises `PayloadError` (`"error"`), as is
    a group too large for one request.
    """
    if on_oversize not in ON_OVERSIZE:
        raise SettingsError(f"on_oversize must be one of {ON_OVERSIZE}, not {on_oversize!r}")
    if images_per_request is not None:
        _positive("images_per_request", images_per_request)
    if spec.base_bytes > limits.max_request_bytes:
        raise PayloadError(f"the prompt alone ({spec.base_bytes} bytes) exceeds the request limit")
    batch: list[ImagePart] = []
    size, images = spec.base_bytes, 0
    for group in together(parts):
        group = [fit_part(part, spec, limits, on_oversize) for part in group]
        grow = _group_bytes(group, spec, len(batch))
        full = images_per_request is not None and images >= images_per_request
        if batch and (
            full
            or len(batch) + len(group) > limits.max_images
            or size + grow > limits.max_request_bytes
            or not _sides_fit(batch + group, limits)
        ):
            yield Request(spec, tuple(batch))
            batch, size, images = [], spec.base_bytes, 0
            grow = _group_bytes(group, spec, 0)
        if (
            len(group) > limits.max_images
            or size + grow > limits.max_request_bytes
            or not _sides_fit(group, limits)
        ):
            raise PayloadError(
                f"{group[0].name or 'image'}: its {len(group)} pieces do not fit one request "
                f"({size + grow} body bytes; limits {limits.max_request_bytes} bytes and "
                f"{limits.max_images} images)"
            )
        batch += group
        size += grow
        images += 1
    if batch:
        yield Request(spec, tuple(batch))


def _sides_fit(parts: list[ImagePart], limits: RequestLimits) -> bool:
    """Whether every image's sides are within the limit for a request of this many images
    (Anthropic: 2000 px above 20 images)."""
    limit = limits.side_limit(len(parts))
    return limit is None or all(max(p.width or 0, p.height or 0) <= limit for p in parts)


def _group_bytes(group: list[ImagePart], spec: RequestSpec, n_before: int) -> int:
    """Bytes the body grows by when `group` follows `n_before` images."""
    return sum(spec.added_bytes(part, n_before + i) for i, part in enumerate(group))


class RequestVolume(TypedDict):
    """How a set of images travels in requests, and how many requests a month like them take."""

    image_part_bytes: float  # mean bytes one image adds to a body (data URL and JSON)
    folder_requests: int  # requests these images pack into
    images_per_request: int  # images like these that fit in one request
    monthly_requests: int  # requests for `monthly_images` such images


def request_volume(
    parts: Sequence[ImagePart],
    spec: RequestSpec,
    monthly_images: int,
    *,
    limits: RequestLimits = OBSERVED_LIMITS,
) -> RequestVolume:
    """Bytes per image in a body, requests for `parts`, and requests per month for
    `monthly_images` images of the same mean size, all within `limits`."""
    if not parts:
        raise SettingsError("request_volume needs at least one image")
    _positive("monthly_images", monthly_images)
    sizes = [spec.part_bytes(p) for p in parts]
    room = limits.max_request_bytes - spec.base_bytes
    per_request = min(limits.max_images, room * len(sizes) // sum(sizes))
    return {
        "image_part_bytes": sum(sizes) / len(sizes),
        "folder_requests": sum(1 for _ in split_requests(parts, spec, limits=limits)),
        "images_per_request": per_request,
        "monthly_requests": math.ceil(monthly_images / per_request),
    }


def parse_response(api: str, body: dict) -> ParsedResponse:
    """Text and `usage` of an answer body: Chat Completions, Responses, Anthropic Messages or
    Gemini generateContent."""
    if api in ("anthropic", "gemini"):
        text_, input_, cached, output = (
            anthropic_answer(body) if api == "anthropic" else gemini_answer(body)
        )
        return {
            "response_text": text_,
            "input_tokens": input_,
            "cached_tokens": cached,
            "output_tokens": output,
        }
    usage = body.get("usage") or {}
    if api == "chat":
        choices = body.get("choices") or [{}]
        text = (choices[0].get("message") or {}).get("content")
        details = usage.get("prompt_tokens_details") or {}
        tokens = (usage.get("prompt_tokens"), usage.get("completion_tokens"))
    else:
        text = "".join(
            c.get("text", "")
            for item in body.get("output") or []
            if item.get("type") == "message"
            for c in item.get("content") or []
            if c.get("type") == "output_text"
        )
        details = usage.get("input_tokens_details") or {}
        tokens = (usage.get("input_tokens"), usage.get("output_tokens"))
    return {
        "response_text": text,
        "input_tokens": tokens[0],
        "cached_tokens": details.get("cached_tokens") or 0,
        "output_tokens": tokens[1],
    }


# ---- Batch API ----------------------------------------------------------------------------


def batch_line(request: Request) -> bytes:
    """One Batch input line: `custom_id`, `method`, `url` and the endpoint's body."""
    if request.api not in ENDPOINTS:
        raise PayloadError(
            f"{request.id}: OpenAI Batch files carry OpenAI requests, not {request.api}"
        )
    line = {
        "custom_id": request.id,
        "method": "POST",
        "url": request.endpoint,
        "body": request.body(),
    }
    return serialize(line) + b"\n"


@dataclass(frozen=True)
class BatchFile:
    """One written Batch input file (one model and endpoint per file, as the API requires)."""

    path: Path
    lines: int
    bytes: int
    model: str
    endpoint: str
    estimated_image_tokens: int | None
    estimated_cost_usd: float | None


class _BatchWriter:
    """Streams lines into numbered files, rolling over at the limits or a model change; each
    file appears whole when it is complete (`toolkit.outputs.AtomicFile`)."""

    def __init__(self, out_dir: Path, prefix: str, limits: BatchLimits):
        self.out_dir, self.prefix, self.limits = out_dir, prefix, limits
        self.files: list[BatchFile] = []
        self.handle: AtomicFile | None = None

    def _open(self, request: Request) -> AtomicFile:
        self.close()
        self.path = self.out_dir / f"{self.prefix}-{len(self.files) + 1:04d}.jsonl"
        self.handle = handle = AtomicFile(self.path)
        self.lines = self.bytes = 0
        self.tokens: int | None = 0
        self.model, self.endpoint = request.model, request.endpoint
        return handle

    def write(self, request: Request, line: bytes) -> None:
        if len(line) > self.limits.max_file_bytes:
            raise PayloadError(f"{request.id}: one line is larger than a Batch file may be")
        handle = self.handle
        if (
            handle is None
            or (request.model, request.endpoint) != (self.model, self.endpoint)
            or self.lines >= self.limits.max_lines
            or self.bytes + len(line) > self.limits.max_file_bytes
        ):
            handle = self._open(request)
        handle.write(line)
        self.lines += 1
        self.bytes += len(line)
        tokens = request.estimated_image_tokens()
        self.tokens = None if tokens is None or self.tokens is None else self.tokens + tokens

    def discard(self) -> None:
        """Remove the file being written (it is not complete)."""
        if self.handle is not None:
            self.handle.discard()
            self.handle = None

    def close(self) -> None:
        if self.handle is None:
            return
        self.handle.commit()
        self.handle = None
        cost = None if self.tokens is None else cost_or_none(self.tokens, self.model, "batch")
        self.files.append(
            BatchFile(
                self.path, self.lines, self.bytes, self.model, self.endpoint, self.tokens, cost
            )
        )


def write_batch_files(
    requests: Iterable[Request],
    out_dir: str | os.PathLike,
    *,
    limits: BatchLimits = BATCH_LIMITS,
    prefix: str = "batch",
) -> list[BatchFile]:
    """Write Batch API input JSONL files, streaming, each within `limits`.

    Identical requests share one `custom_id` and are written once. The estimated cost is
    the image tokens at batch prices (text tokens are not estimated). Each file appears whole
    once it is complete: an error or Ctrl-C removes the one being written (Ctrl-C raises a
    `KeyboardInterrupt` naming the complete ones, kept), a full disk is an `OutputError`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writer = _BatchWriter(out, prefix, limits)
    seen: set[str] = set()
    try:
        for request in requests:
            if request.id not in seen:
                seen.add(request.id)
                writer.write(request, batch_line(request))
    except KeyboardInterrupt:
        writer.discard()
        kept = ", ".join(f.path.name for f in writer.files) or "none"
        raise KeyboardInterrupt(
            f"complete batch files kept in {out}: {kept}; the one being written was "
            "removed; run again to write them all"
        ) from None
    except BaseException:
        writer.discard()
        raise
    writer.close()
    return writer.files


def _jsonl(path: str | os.PathLike) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def read_batch_output(
    output_paths: Iterable[str | os.PathLike],
    input_paths: Iterable[str | os.PathLike],
) -> list[dict]:
    """Join Batch output (and error) files to their inputs by `custom_id`, in input order.

    Each record has the input file and line, `status` (`ok`, `error` or `missing` when the
    output has no answer), usage, response text and cost at batch prices.
    """
    records: dict[str, dict] = {}
    for path in input_paths:
        for number, line in enumerate(_jsonl(path), 1):
            records[line["custom_id"]] = {
                "id": line["custom_id"],
                "input_file": Path(path).name,
                "line": number,
                "api": API_BY_ENDPOINT[line["url"]],
                "model": line["body"]["model"],
                "status": "missing",
            }
    for path in output_paths:
        for line in _jsonl(path):
            record = records.get(line["custom_id"])
            if record is None:
                raise PayloadError(f"{path}: custom_id {line['custom_id']!r} is not an input")
            response = line.get("response") or {}
            body = response.get("body") or {}
            record["http_status"] = response.get("status_code")
            record["request_id"] = response.get("request_id")
            if response.get("status_code") == 200:
                record.update(status="ok", **parse_response(record["api"], body))
                record["cost_usd"] = usage_cost_usd(
                    record["model"],
                    record["input_tokens"] or 0,
                    record["cached_tokens"],
                    record["output_tokens"] or 0,
                    "batch",
                )
            else:
                error = line.get("error") or body.get("error") or {}
                record.update(
                    status="error",
                    error_type=error.get("code") or error.get("type"),
                    error_message=error.get("message"),
                )
    return list(records.values())
