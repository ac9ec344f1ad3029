"""The emulator's Claude and Gemini: their request bodies checked, their answers shaped.

`check_provider_body("anthropic" | "gemini", body, limits, model)` checks a Messages or
generateContent body as `toolkit.api_checks.check_body` checks OpenAI's (known keys, part
shapes, strict Base64, a supported type, the image count) and returns the model, the texts and
the images as `ImageRef`s (data URLs of the bytes, so the rest of the emulator treats them as it
treats OpenAI's). `provider_answer` shapes the answer with the usage each API reports. Errors
keep the emulator's OpenAI-shaped `ApiError`.
"""

import base64
import binascii
import hashlib
import json

from toolkit.api_checks import SUPPORTED_MIMES, ApiError, ImageRef, expect, image_parts, one_of
from toolkit.errors import UnknownModelError
from toolkit.payload import RequestLimits
from toolkit.provider_bodies import GEMINI_DETAILS
from toolkit.rulesets import find_model

ANTHROPIC_KEYS = {"max_tokens", "messages", "model", "system", "stream", "temperature"}
GEMINI_KEYS = {"contents", "systemInstruction", "generationConfig"}
PROVIDER_OF = {"anthropic": "anthropic", "gemini": "google"}


def _only(table: dict, allowed: set, where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ApiError(400, f"{where}.{extra[0]}: Extra inputs are not permitted", param=where)


def _decode(text: object, param: str, urlsafe: bool) -> bytes:
    """Strict Base64 (URL-safe for Gemini, as its SDK writes it)."""
    text = expect(text, str, param)
    try:
        if urlsafe:
            text = text.replace("-", "+").replace("_", "/")
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, f"{param}: invalid base64 data", param=param) from None


def _image(param: str, mime: object, data: bytes, detail: str) -> ImageRef:
    mime = one_of(mime, SUPPORTED_MIMES, f"{param}.media_type")
    encoded = base64.b64encode(data).decode()
    return ImageRef(param, "data_url", f"data:{mime};base64,{encoded}", detail)


def _anthropic(body: dict) -> tuple[str, list[str], list[ImageRef]]:
    _only(body, ANTHROPIC_KEYS, "body")
    model = expect(body.get("model"), str, "model")
    if not isinstance(body.get("max_tokens"), int) or isinstance(body["max_tokens"], bool):
        raise ApiError(400, "max_tokens: Field required", param="max_tokens")
    texts = [expect(body["system"], str, "system")] if "system" in body else []
    images = []
    messages = expect(body.get("messages"), list, "messages")
    roles = ("user", "assistant")
    for _, at, block in image_parts(
        messages, "messages", ("text", "image"), texts, typed=False, roles=roles
    ):
        _only(block, {"type", "source"}, at)
        source = expect(block.get("source"), dict, f"{at}.source")
        _only(source, {"type", "media_type", "data"}, f"{at}.source")
        one_of(source.get("type"), ("base64",), f"{at}.source.type")
        data = _decode(source.get("data"), f"{at}.source.data", urlsafe=False)
        images.append(_image(f"{at}.source", source.get("media_type"), data, "auto"))
    return model, texts, images


def _gemini(body: dict, model: str) -> tuple[str, list[str], list[ImageRef]]:
    _only(body, GEMINI_KEYS, "body")
    texts, images = [], []
    system = body.get("systemInstruction")
    turns = expect(body.get("contents"), list, "contents")
    for i, turn in enumerate(([system] if system is not None else []) + turns):
        where = "systemInstruction" if system is not None and i == 0 else f"contents[{i}]"
        _only(expect(turn, dict, where), {"parts", "role"}, where)
        for j, part in enumerate(expect(turn.get("parts"), list, f"{where}.parts")):
            at = f"{where}.parts[{j}]"
            expect(part, dict, at)
            if "text" in part:
                _only(part, {"text"}, at)
                texts.append(expect(part["text"], str, f"{at}.text"))
                continue
            _only(part, {"inlineData", "mediaResolution"}, at)
            inline = expect(part.get("inlineData"), dict, f"{at}.inlineData")
            _only(inline, {"data", "mime_type", "mimeType"}, f"{at}.inlineData")
            data = _decode(inline.get("data"), f"{at}.inlineData.data", urlsafe=True)
            mime = inline.get("mime_type", inline.get("mimeType"))
            images.append(_image(f"{at}.inlineData", mime, data, _level(part, at)))
    return model, texts, images


def _level(part: dict, at: str) -> str:
    """The detail level a part's `mediaResolution` names (`auto` without one)."""
    if "mediaResolution" not in part:
        return "auto"
    level = expect(part["mediaResolution"], dict, f"{at}.mediaResolution").get("level")
    levels = tuple(f"MEDIA_RESOLUTION_{d.upper()}" for d in GEMINI_DETAILS if d != "auto")
    return (
        one_of(level, levels, f"{at}.mediaResolution.level")
        .removeprefix("MEDIA_RESOLUTION_")
        .lower()
    )


def check_provider_body(
    api: str, body: object, limits: RequestLimits, model: str = ""
) -> tuple[str, list[str], list[ImageRef]]:
    """The model (from the body, or Gemini's from its URL), texts and images of a body."""
    body = expect(body, dict, "body")
    model, texts, images = _anthropic(body) if api == "anthropic" else _gemini(body, model)
    try:
        known = find_model(model)[0].provider == PROVIDER_OF[api]
    except UnknownModelError:
        known = False
    if not known:
        raise ApiError(404, f"model: {model}", code="not_found_error")
    if len(images) > limits.max_images:
        raise ApiError(400, f"Too many images: {len(images)}; the limit is {limits.max_images}.")
    return model, texts, images


def provider_answer(
    api: str, model: str, body: object, text: str, input_tokens: int, output_tokens: int
) -> dict:
    """A Messages or generateContent answer with `text` and the usage each API reports."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]
    if api == "anthropic":
        return {
            "id": f"msg_{digest}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": output_tokens,
            },
        }
    return {
        "candidates": [
            {"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP"}
        ],
        "usageMetadata": {
            "promptTokenCount": input_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": input_tokens + output_tokens,
        },
        "modelVersion": model,
        "responseId": digest,
    }
