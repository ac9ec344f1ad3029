"""Checks of completion request bodies and their images, as the OpenAI API makes them.

Parameter names and detail values are read from the installed SDK's types; content parts
of Chat Completions messages and Responses input items are checked for shape; data URLs are
strict and their declared type must match the bytes; images must be decodable, non-animated
PNG/JPEG/GIF/WebP within `toolkit.payload.RequestLimits`. Failures raise `ApiError`, which
carries the OpenAI-shaped error body (`{"error": {"message", "type", "param", "code"}}`);
messages are close to the API's, not verbatim.
"""

import typing
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO

from openai.types.chat.chat_completion_content_part_image_param import ImageURL
from openai.types.chat.completion_create_params import CompletionCreateParamsBase
from openai.types.responses.image_detail import ImageDetail
from openai.types.responses.response_create_params import ResponseCreateParamsBase
from PIL import Image, UnidentifiedImageError

from toolkit.dataurl import parse_data_url
from toolkit.errors import DataURLError, UnknownModelError
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
_TYPE_NAMES = {str: "a string", list: "an array", dict: "an object"}


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


def expect(value, kind: type, param: str):
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


def _image_parts(
    items: list, name: str, kinds: tuple[str, str], texts: list[str], *, typed: bool
) -> Iterator[tuple[str, str, dict]]:
    """Check each message of `items` and its content; append its texts to `texts` and yield
    (role, param, part) per image part. `kinds` are the (text, image) part types; `typed`
    messages may carry `"type": "message"` (Responses input items)."""
    for i, item in enumerate(items):
        where = f"{name}[{i}]"
        expect(item, dict, where)
        if typed:
            one_of(item.get("type", "message"), ("message",), f"{where}.type")
        role = one_of(item.get("role"), ROLES, f"{where}.role")
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


def _check_json_word(texts: list[str], fmt: dict, message: str, param: str) -> None:
    """The API refuses a `json_object` format unless the word "json" appears in the input."""
    if fmt.get("type") == "json_object" and "json" not in " ".join(texts).lower():
        raise ApiError(400, message, param=param)


def _chat_parts(body: dict) -> tuple[list[str], list[ImageRef]]:
    texts, images = [], []
    messages = expect(body.get("messages"), list, "messages")
    if not messages:
        raise ApiError(400, "'messages' must contain at least one message.", param="messages")
    for role, at, part in _image_parts(
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
        body.get("response_format") or {},
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
        return [*texts, items], images
    for _, at, part in _image_parts(
        expect(items, list, "input"), "input", ("input_text", "input_image"), texts, typed=True
    ):
        _no_extra(part, {"type", "image_url", "file_id", "detail"}, at)
        detail = one_of(part.get("detail", "auto"), RESPONSES_DETAILS, f"{at}.detail")
        if ("image_url" in part) == ("file_id" in part):
            raise ApiError(400, f"'{at}' needs exactly one of 'image_url' or 'file_id'.", param=at)
        if "file_id" in part:
            file_id = expect(part["file_id"], str, f"{at}.file_id")
            images.append(ImageRef(f"{at}.file_id", "file_id", file_id, detail))
        else:
            url = expect(part["image_url"], str, f"{at}.image_url")
            images.append(ImageRef.from_url(f"{at}.image_url", url, detail))
    _check_json_word(
        texts,
        (body.get("text") or {}).get("format") or {},
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
    expect(body, dict, "body")
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


def image_size(data: bytes, declared: str, param: str, limits: RequestLimits) -> tuple[int, int]:
    """(width, height) of one image's bytes, checked against its declared type and limits."""
    if len(data) > limits.max_image_bytes:
        raise ApiError(
            400,
            f"Image is {len(data) / 1e6:.2f}MB, which exceeds the allowed limit of "
            f"{limits.max_image_bytes / 1e6:g}MB.",
            param=param,
            code="image_too_large",
        )
    one_of(declared, SUPPORTED_MIMES, param)
    try:
        with Image.open(BytesIO(data)) as decoded:
            if getattr(decoded, "n_frames", 1) > 1:
                raise ApiError(
                    400,
                    "Animated images are not supported; send a single frame.",
                    param=param,
                    code="invalid_image_format",
                )
            decoded.load()
            if Image.MIME.get(decoded.format) != declared:
                raise ApiError(
                    400,
                    f"The image is {decoded.format}, not {declared}.",
                    param=param,
                    code="invalid_image_format",
                )
            return decoded.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ApiError(
            400,
            f"The image data you provided does not represent a valid image: {exc}",
            param=param,
            code="image_parse_error",
        ) from None
