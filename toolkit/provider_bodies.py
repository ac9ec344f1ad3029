"""Request bodies for Claude (Anthropic Messages) and Gemini (`generateContent`), byte for byte
as their Python SDKs send them, and the text and usage of their answers.

- Anthropic: `{"max_tokens", "messages", "model", "system"}` in that order, images as
  `{"type": "image", "source": {"type": "base64", "media_type", "data"}}`, serialized like the
  openai SDK (`anthropic._utils._json.openapi_dumps`: compact separators, UTF-8, no ASCII
  escapes). Images come first, then the prompt: "Claude works best when images come before
  text" (vision guide).
- Gemini: `{"contents": [{"parts", "role": "user"}], "systemInstruction", "generationConfig"}`,
  images as `{"inlineData": {"data", "mime_type"}}` with the URL-safe Base64 the google-genai SDK
  writes, and `json.dumps` with its default separators and ASCII escapes (the SDK's
  `_api_client`). A level other than `auto` is sent per image, `{"mediaResolution": {"level":
  "MEDIA_RESOLUTION_HIGH"}}`, which the Gemini docs give for Gemini 3 and later; images come
  first, then the prompt, as in the docs' examples.

Parts are `toolkit.payload.ImagePart`s holding image bytes (a URL or a file id is an OpenAI
transport: `PayloadError`).
"""

import base64
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from toolkit.errors import PayloadError

if TYPE_CHECKING:
    from toolkit.payload import ImagePart

ANTHROPIC_DETAILS = ("auto",)  # the Messages API has no detail parameter
GEMINI_DETAILS = ("auto", "low", "medium", "high", "ultra_high")  # media_resolution levels


def compact(body: object) -> bytes:
    """Anthropic's (and openai's) serialization: compact, UTF-8, no NaN."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def google_dumps(body: object) -> bytes:
    """google-genai's serialization: `json.dumps` defaults (", " and ": ", ASCII escapes)."""
    return json.dumps(body).encode()


def captioned(
    parts: Sequence["ImagePart"], text: Callable[[str], dict], image: Callable[..., dict]
) -> list[dict]:
    """Content blocks: each image (`image(part)`) after its caption's text (`text(caption)`)."""
    content = []
    for part in parts:
        if part.caption:
            content.append(text(part.caption))
        content.append(image(part))
    return content


def _data(part: "ImagePart", details: tuple[str, ...], provider: str) -> bytes:
    if part.data is None:
        raise PayloadError(
            f"{part.name or part.kind}: {provider} bodies carry image bytes, not a {part.kind}"
        )
    if part.detail not in details:
        raise PayloadError(
            f"{part.name or 'image'}: {provider} takes detail {', '.join(details)}, "
            f"not {part.detail!r}"
        )
    return part.data


def anthropic_image(part: "ImagePart", encoded: str | None = None) -> dict:
    """`{"type": "image", "source": {"type": "base64", "media_type", "data"}}`; `encoded`
    stands in for the Base64 text (sizing a body without building it)."""
    data = _data(part, ANTHROPIC_DETAILS, "Anthropic")
    text = base64.b64encode(data).decode() if encoded is None else encoded
    return {"type": "image", "source": {"type": "base64", "media_type": part.mime, "data": text}}


def anthropic_text(text: str) -> dict:
    return {"type": "text", "text": text}


def anthropic_body(
    parts: Sequence["ImagePart"],
    *,
    model: str,
    prompt: str = "",
    system: str | None = None,
    max_output_tokens: int,
) -> dict:
    """A `messages.create` body: one user message, each image after its caption, then the
    prompt."""
    content = captioned(parts, anthropic_text, anthropic_image)
    if prompt:
        content.append(anthropic_text(prompt))
    body: dict[str, object] = {
        "max_tokens": max_output_tokens,
        "messages": [{"role": "user", "content": content}],
        "model": model,
    }
    if system:
        body["system"] = system
    return body


def gemini_image(part: "ImagePart", encoded: str | None = None) -> dict:
    """`{"inlineData": {"data", "mime_type"}}`, after `mediaResolution` when not `auto`;
    `encoded` stands in for the Base64 text (sizing a body without building it)."""
    data = _data(part, GEMINI_DETAILS, "Gemini")
    text = base64.urlsafe_b64encode(data).decode() if encoded is None else encoded
    inline = {"data": text, "mime_type": part.mime}
    if part.detail == "auto":
        return {"inlineData": inline}
    level = f"MEDIA_RESOLUTION_{part.detail.upper()}"
    return {"mediaResolution": {"level": level}, "inlineData": inline}


def gemini_text(text: str) -> dict:
    return {"text": text}


def gemini_body(
    parts: Sequence["ImagePart"],
    *,
    prompt: str = "",
    system: str | None = None,
    json_format: bool = False,
    max_output_tokens: int | None = None,
) -> dict:
    """A `generateContent` body (the model is in the URL): one user turn, each image after its
    caption, then the prompt."""
    content = captioned(parts, gemini_text, gemini_image)
    if prompt:
        content.append(gemini_text(prompt))
    body: dict[str, object] = {"contents": [{"parts": content, "role": "user"}]}
    if system:
        body["systemInstruction"] = {"parts": [gemini_text(system)], "role": "user"}
    config: dict[str, object] = {}
    if max_output_tokens is not None:
        config["maxOutputTokens"] = max_output_tokens
    if json_format:
        config["responseMimeType"] = "application/json"
    if config:
        body["generationConfig"] = config
    return body


def anthropic_answer(body: dict) -> tuple[str, int | None, int, int | None]:
    """Text, input tokens (cache reads and writes included: the toolkit's requests write no
    cache, so writes are counted as input), cache reads, output tokens."""
    usage = body.get("usage") or {}
    text = "".join(
        block.get("text", "") for block in body.get("content") or [] if block.get("type") == "text"
    )
    cached = usage.get("cache_read_input_tokens") or 0
    fresh = usage.get("input_tokens")
    written = usage.get("cache_creation_input_tokens") or 0
    total = None if fresh is None else fresh + cached + written
    return text, total, cached, usage.get("output_tokens")


def gemini_answer(body: dict) -> tuple[str, int | None, int, int | None]:
    """Text, prompt tokens, cached content tokens, candidate tokens."""
    usage = body.get("usageMetadata") or {}
    candidates = body.get("candidates") or [{}]
    parts = (candidates[0].get("content") or {}).get("parts") or []
    text = "".join(part.get("text", "") for part in parts)
    return (
        text,
        usage.get("promptTokenCount"),
        usage.get("cachedContentTokenCount") or 0,
        usage.get("candidatesTokenCount"),
    )
