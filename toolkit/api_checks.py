"""Checks of completion request bodies and their images, as the OpenAI API makes them.

Parameter names and detail values are read from the installed SDK's types; content parts
of Chat Completions messages and Responses input items are checked for shape; data URLs are
strict and their declared type must match the bytes; images must be decodable, non-animated
PNG/JPEG/GIF/WebP within `toolkit.payload.RequestLimits`. Other image URLs are checked for
shape only (http or https, a host): nothing here ever downloads. Image sizes come from the
header, checked against a pixel cap before anything is decoded. Failures raise `ApiError`,
which carries the OpenAI-shaped error body (`{"error": {"message", "type", "param", "code"}}`);
messages are close to the API's, not verbatim.
"""

import json
import typing
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlsplit

from openai.types.chat.chat_completion_content_part_image_param import ImageURL
from openai.types.chat.completion_create_params import CompletionCreateParamsBase
from openai.types.responses.image_detail import ImageDetail
from openai.types.responses.response_create_params import ResponseCreateParamsBase
from PIL import Image

from toolkit.dataurl import parse_data_url
from toolkit.errors import DataURLError, UnknownModelError
from toolkit.images import DECODE_ERRORS
from toolkit.payload import RequestLimits
from toolkit.rulesets import find_model

SUPPORTED_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp")  # OAI-VIS §3.1
CHAT_DETAILS = typing.get_args(typing.get_type_hints(ImageURL)["detail"])
RESPONSES_DETAILS = typing.get_args(ImageDetail)
PARAMS = {
    "chat": {*CompletionCreateParamsBase.__annotations__, "stream"},
    "responses": {*ResponseCreateParamsBase.__annotations__, "stream"},
}
ROLES = ("system", "developer", "user", "assistant")
FORMAT_TYPES = ("text", "json_object", "json_schema")  # response_format / text.format types
URL_SCHEMES = ("http", "https")
MAX_JSON_DEPTH = 64  # nesting of arrays and objects (a vision request: 6; a 10-level schema: 26)
_TYPE_NAMES: dict[type, str] = {str: "a string", list: "an array", dict: "an object"}
T = typing.TypeVar("T")


class ApiError(Exception):
    """An error answer: HTTP status and the OpenAI error object."""

    def __init__(self, status: int, message: str, *, param=None, code=None, kind=None):
        super().__init__(message)
        self.status = status
        self.body = {
            "error": {
                "message": message,
                "type": kind or ("invalid_request_error" if status < 500 else "server_error"),
                "param": param,
                "code": code,
            }
        }


def _not_json(detail: str = "") -> ApiError:
    return ApiError(
        400,
        "We could not parse the JSON body of your request. The OpenAI API expects a "
        f"JSON payload, but what was sent was not valid JSON{detail}.",
    )


def _constant(name: str) -> object:
    raise _not_json(f" ({name} is not a JSON number)")


def parse_json(raw: bytes) -> object:
    """A request body parsed as strict JSON: `NaN` and `Infinity` are not numbers, and arrays
    and objects nest at most `MAX_JSON_DEPTH` deep; else a 400 (never a server error)."""
    try:
        value = json.loads(raw, parse_constant=_constant)
    except RecursionError:
        raise _not_json(f" (nested deeper than {MAX_JSON_DEPTH})") from None
    except (ValueError, UnicodeDecodeError):
        raise _not_json() from None
    containers = [value] if isinstance(value, list | dict) else []
    for _ in range(MAX_JSON_DEPTH):  # one level of arrays and objects at a time
        containers = [
            item
            for node in containers
            for item in (node.values() if isinstance(node, dict) else node)
            if isinstance(item, list | dict)
        ]
    if containers:
        raise _not_json(f" (nested deeper than {MAX_JSON_DEPTH})")
    return value


def expect(value: object, kind: type[T], param: str) -> T:
    """`value` if it is a `kind` (str, list or dict), else a 400 `invalid_type`."""
    if not isinstance(value, kind):
        got = _TYPE_NAMES.get(type(value), "another type")
        raise ApiError(
            400,
            f"Invalid type for '{param}': expected {_TYPE_NAMES[kind]}, but got {got} instead.",
            param=param,
            code="invalid_type",
        )
    return value


def one_of(value, allowed, param: str):
    """`value` if it is in `allowed`, else a 400 `invalid_value`."""
    if value not in allowed:
        listed = ", ".join(f"'{a}'" for a in allowed)
        raise ApiError(
            400,
            f"Invalid value: '{value}'. Supported values are: {listed}.",
            param=param,
            code="invalid_value",
        )
    return value


def _no_extra(part: dict, allowed: set, param: str) -> None:
    extra = sorted(set(part) - allowed)
    if extra:
        raise ApiError(
            400,
            f"Unknown parameter: '{param}.{extra[0]}'.",
            param=f"{param}.{extra[0]}",
            code="unknown_parameter",
        )


@dataclass
class ImageRef:
    """One image a body refers to, where (`param`) and how (`kind`: data_url, url, file_id)."""

    param: str
    kind: str
    ref: str
    detail: str

    @classmethod
    def from_url(cls, param: str, url: str, detail: str) -> "ImageRef":
        return cls(param, "data_url" if url.startswith("data:") else "url", url, detail)


def image_parts(
    items: list,
    name: str,
    kinds: tuple[str, str],
    texts: list[str],
    *,
    typed: bool,
    roles: tuple[str, ...] = ROLES,
) -> Iterator[tuple[str, str, dict]]:
    """Check each message of `items` (its role one of `roles`) and its content; append its
    texts to `texts` and yield (role, param, part) per image part. `kinds` are the (text,
    image) part types; `typed` messages may carry `"type": "message"` (Responses input items).
    Anthropic's Messages have the same shape."""
    for i, item in enumerate(items):
        where = f"{name}[{i}]"
        expect(item, dict, where)
        if typed:
            one_of(item.get("type", "message"), ("message",), f"{where}.type")
        role = one_of(item.get("role"), roles, f"{where}.role")
        content = item.get("content")
        if isinstance(content, str):
            texts.append(content)
            continue
        for j, part in enumerate(expect(content, list, f"{where}.content")):
            at = f"{where}.content[{j}]"
            kind = one_of(expect(part, dict, at).get("type"), kinds, f"{at}.type")
            if kind == kinds[0]:
                _no_extra(part, {"type", "text"}, at)
                texts.append(expect(part.get("text"), str, f"{at}.text"))
            else:
                yield role, at, part


def _format_type(fmt: object, param: str) -> str | None:
    """The `type` of a response format object (`response_format`, `text.format`), checked."""
    if fmt is None:
        return None
    return one_of(expect(fmt, dict, param).get("type"), FORMAT_TYPES, f"{param}.type")


def _check_json_word(texts: list[str], fmt_type: str | None, message: str, param: str) -> None:
    """The API refuses a `json_object` format unless the word "json" appears in the input."""
    if fmt_type == "json_object" and "json" not in " ".join(texts).lower():
        raise ApiError(400, message, param=param)


def _chat_parts(body: dict) -> tuple[list[str], list[ImageRef]]:
    texts: list[str] = []
    images: list[ImageRef] = []
    messages = expect(body.get("messages"), list, "messages")
    if not messages:
        raise ApiError(400, "'messages' must contain at least one message.", param="messages")
    for role, at, part in image_parts(
        messages, "messages", ("text", "image_url"), texts, typed=False
    ):
        if role != "user":
            raise ApiError(
                400,
                "Image URLs are only allowed for messages with role 'user', but this "
                f"message with role '{role}' contains an image URL.",
                param=at,
            )
        _no_extra(part, {"type", "image_url"}, at)
        image = expect(part.get("image_url"), dict, f"{at}.image_url")
        _no_extra(image, {"url", "detail"}, f"{at}.image_url")
        url = expect(image.get("url"), str, f"{at}.image_url.url")
        detail = one_of(image.get("detail", "auto"), CHAT_DETAILS, f"{at}.image_url.detail")
        images.append(ImageRef.from_url(f"{at}.image_url.url", url, detail))
    _check_json_word(
        texts,
        _format_type(body.get("response_format"), "response_format"),
        "'messages' must contain the word 'json' in some form, to use "
        "'response_format' of type 'json_object'.",
        "messages",
    )
    return texts, images


def _responses_parts(body: dict) -> tuple[list[str], list[ImageRef]]:
    texts = [expect(body["instructions"], str, "instructions")] if body.get("instructions") else []
    images = []
    items = body.get("input")
    if isinstance(items, str):
        texts.append(items)
        items = []
    for _, at, part in image_parts(
        expect(items, list, "input"), "input", ("input_text", "input_image"), texts, typed=True
    ):
        _no_extra(part, {"type", "image_url", "file_id", "detail"}, at)
        if "detail" not in part:  # required here, unlike in Chat Completions
            raise ApiError(
                400,
                f"Missing required parameter: '{at}.detail'.",
                param=f"{at}.detail",
                code="missing_required_parameter",
            )
        detail = one_of(part["detail"], RESPONSES_DETAILS, f"{at}.detail")
        if ("image_url" in part) == ("file_id" in part):
            raise ApiError(400, f"'{at}' needs exactly one of 'image_url' or 'file_id'.", param=at)
        if "file_id" in part:
            file_id = expect(part["file_id"], str, f"{at}.file_id")
            images.append(ImageRef(f"{at}.file_id", "file_id", file_id, detail))
        else:
            url = expect(part["image_url"], str, f"{at}.image_url")
            images.append(ImageRef.from_url(f"{at}.image_url", url, detail))
    text = body.get("text")
    fmt = None if text is None else expect(text, dict, "text").get("format")
    _check_json_word(
        texts,
        _format_type(fmt, "text.format"),
        "Response input messages must contain the word 'json' in some form to use "
        "'text.format' of type 'json_object'.",
        "input",
    )
    return texts, images


def _check_model(model: str) -> None:
    """404 unless an OpenAI rule set knows `model` (as the API answers unknown models)."""
    try:
        known = find_model(model)[0].provider == "openai"
    except UnknownModelError:
        known = False
    if not known:
        raise ApiError(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )


def check_body(
    api: str, body: object, limits: RequestLimits
) -> tuple[str, list[str], list[ImageRef]]:
    """The model, text blocks and images of a `chat` or `responses` body, checked."""
    body = expect(body, dict, "body")
    unknown = sorted(set(body) - PARAMS[api])
    if unknown:
        raise ApiError(
            400, f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0]
        )
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "you must provide a model parameter", param="model")
    if body.get("stream"):
        raise ApiError(400, "The emulator does not stream; send stream=false.", param="stream")
    _check_model(model)
    texts, images = (_chat_parts if api == "chat" else _responses_parts)(body)
    if len(images) > limits.max_images:
        raise ApiError(
            400,
            f"Too many images in request: {len(images)}; the limit is {limits.max_images}.",
            code="too_many_images",
        )
    return model, texts, images


def data_url_bytes(image: ImageRef) -> tuple[bytes, str]:
    """The bytes and declared type of a data-URL image."""
    try:
        parsed = parse_data_url(image.ref)
    except DataURLError as exc:
        raise ApiError(
            400, f"Invalid image data URL: {exc}", param=image.param, code="invalid_image_url"
        ) from None
    return parsed.data, parsed.mime


def _is_web_url(url: str) -> bool:
    """http(s), a host, a well-formed port, no spaces or control characters."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0  # .port raises ValueError if malformed
    except ValueError:
        return False
    return (
        parts.scheme in URL_SCHEMES
        and bool(parts.hostname)
        and port_ok
        and url.isprintable()
        and " " not in url
    )


def check_image_url(image: ImageRef) -> None:
    """A 400 unless a non-data image URL is a well-formed http(s) URL; it is not fetched."""
    if not _is_web_url(image.ref):
        raise ApiError(
            400,
            "Invalid image URL: expected a base64 data URL (data:image/<type>;base64,...) "
            "or an http:// or https:// URL.",
            param=image.param,
            code="invalid_image_url",
        )


def _unreadable(param: str, exc: BaseException) -> ApiError:
    return ApiError(
        400,
        f"The image data you provided does not represent a valid image: {exc}",
        param=param,
        code="image_parse_error",
    )


def _too_large(param: str, message: str) -> ApiError:
    return ApiError(400, message, param=param, code="image_too_large")


def image_size(
    data: bytes, declared: str, param: str, limits: RequestLimits, max_pixels: int
) -> tuple[int, int]:
    """(width, height) of one image from its header, checked against its declared type, the
    limits and `max_pixels`. Nothing is decoded here: `check_decodes` does that afterwards,
    for images within the cap. An MPO (a phone camera's JPEG with extra pictures after the
    first) is a JPEG, not an animation."""
    if len(data) > limits.max_image_bytes:
        raise _too_large(
            param,
            f"Image is {len(data) / 1e6:.2f}MB, which exceeds the allowed limit of "
            f"{limits.max_image_bytes / 1e6:g}MB.",
        )
    one_of(declared, SUPPORTED_MIMES, param)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as image:
                fmt = "JPEG" if image.format == "MPO" else image.format
                animated = fmt != "JPEG" and getattr(image, "is_animated", False)
                width, height = image.size
    except Image.DecompressionBombError as exc:
        raise _too_large(param, f"Image has too many pixels: {exc}") from None
    except DECODE_ERRORS as exc:
        raise _unreadable(param, exc) from None
    if Image.MIME.get(fmt or "") != declared:
        raise ApiError(
            400, f"The image is {fmt}, not {declared}.", param=param, code="invalid_image_format"
        )
    if animated:
        raise ApiError(
            400,
            "Animated images are not supported; send a single frame.",
            param=param,
            code="invalid_image_format",
        )
    if width * height > max_pixels:
        raise _too_large(
            param,
            f"Image is {width}x{height} = {width * height:,} pixels, over the {max_pixels:,} "
            "pixels this server decodes.",
        )
    return width, height


def check_decodes(data: bytes, param: str) -> None:
    """Decode the image (an MPO's first picture) to prove its data is whole; a 400 if not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as image:
                image.load()
    except (*DECODE_ERRORS, Image.DecompressionBombError) as exc:
        raise _unreadable(param, exc) from None
