"""A local OpenAI-compatible HTTP server for offline tests, notebooks and benchmarks.

It listens on 127.0.0.1 only and serves `POST /v1/chat/completions`, `POST /v1/responses`,
Claude's `POST /v1/messages` and Gemini's `POST /v1beta/models/{model}:generateContent` (and
`/v1/models/...`; `toolkit.provider_api` checks and answers those two),
the Files endpoints (`POST /v1/files`, `GET /v1/files/{id}`, `GET /v1/files/{id}/content`,
`DELETE /v1/files/{id}`) and the Batches endpoints (`POST /v1/batches`, `GET
/v1/batches/{id}`; a batch completes during its creation call). Bodies and images are checked
as the API does by `toolkit.api_checks` (strict JSON, parameter names, content-part shapes,
strict data URLs, decodable images, the limits of `toolkit.payload.RequestLimits`); errors
are OpenAI-shaped.

It trusts no caller: a request whose `Host` is not this server's loopback address is refused
(a web page reaching it through DNS rebinding names its own host); files and batches belong
to the key that created them, have random ids and are capped (`toolkit.emulator_files`).

It never reaches out: an http(s) image URL is checked for shape and billed as the size in
the request's `X-Emulator-Image-Size: WIDTHxHEIGHT` header, else `ServerSettings.url_image_size`
(1024x1024: an assumption, the image is not downloaded), or refused with
`offline_urls="refuse"`; `file:` and every other scheme are refused. Every malformed request
gets an OpenAI-shaped 4xx: `Content-Length` is required and bounded, image sizes come from
their headers with a pixel cap before anything is decoded, and a connection that sends
nothing for `read_timeout_s` is closed.

`ServerSettings.bandwidth_mbit` emulates a slow link: request and response bodies move no
faster than that many Mbit/s (the server paces its reads and writes; loopback is otherwise
gigabytes per second), so latency grows with bytes as on a real uplink. `received_bytes`
counts the body bytes received per endpoint path: what the client put on the wire.

The answer is deterministic: a JSON description of each image received (type, width,
height, detail, tokens). `usage` counts image tokens with `toolkit.tokens` for the requested
model, plus an approximation for text: ceil(UTF-8 bytes / 4) per text block, the usual "about
4 characters per token" rule of thumb for English, not a tokenizer. Output tokens use the
same rule; cached tokens are always 0.

With `ServerSettings.transcribe_with` (a reader: `tesseract` or `neural`) the emulator plays a
model asked to transcribe: a request whose only text is `toolkit.TRANSCRIBE_PROMPT` is answered
with what that reader reads in the view the provider keeps of each image
(`toolkit.transcribe`), under a first line saying it is emulated; the usage carries
`EMULATED_USAGE_KEY` and the answer the `X-Emulator-Transcriber` header. Other requests, and
every request without the setting, get the JSON description.

Faults are injected by a seeded `FaultPlan` or per request with the `X-Emulator-Fault`
header (`429`, `500`, `drop`, `hang`, `slow`). Requests are counted per
`X-Client-Request-Id` header so tests can prove nothing was sent twice.
"""

import hashlib
import json
import math
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from toolkit.api_checks import (
    ApiError,
    ImageRef,
    check_body,
    check_decodes,
    check_image_url,
    data_url_bytes,
    expect,
    image_size,
    one_of,
    parse_json,
)
from toolkit.dataurl import sniff_mime
from toolkit.emulator_files import FileStore, new_id, owner_of
from toolkit.errors import RulesError, SettingsError
from toolkit.images import DEFAULT_SETTINGS, parse_size
from toolkit.payload import (
    API_BY_ENDPOINT,
    BATCH_LIMITS,
    ENDPOINTS,
    OBSERVED_LIMITS,
    RequestLimits,
)
from toolkit.provider_api import check_provider_body, provider_answer
from toolkit.provider_limits import LIMITS
from toolkit.readers import get_reader
from toolkit.tokens import image_tokens
from toolkit.transcribe import asks_transcription, emulated_answer, read_view

HOST = "127.0.0.1"
LOCAL_NAMES = ("127.0.0.1", "localhost")  # the `Host` names requests may use
FAULTS = ("429", "500", "drop", "hang", "slow")
OFFLINE_URLS = ("accept", "refuse")
IMAGE_SIZE_HEADER = "X-Emulator-Image-Size"
TRANSCRIBER_HEADER = "X-Emulator-Transcriber"  # on an emulated transcription: the reader
EMULATED_USAGE_KEY = "toolkit_emulated_transcription"  # in its usage: the reader
REQUEST_ID_PREFIX = "req_emu_"  # of every answer's request id: the emulator answered
_DRAIN_PAUSE_S = 0.25  # an oversized body is drained only while it keeps arriving
_PACE_CHUNK = 64 * 1024  # bytes moved between two pauses when a bandwidth is emulated
_LENGTH = re.compile(r"[0-9]{1,15}")
GEMINI_PATH = re.compile(r"/v1(?:beta)?/models/([A-Za-z0-9._-]{1,100}):generateContent")


def text_tokens(text: str) -> int:
    """The emulator's stated text approximation: ceil(UTF-8 bytes / 4)."""
    return math.ceil(len(text.encode()) / 4)


@dataclass(frozen=True)
class FaultPlan:
    """Fault probabilities per completion request, drawn from a seeded generator.

    `drop` closes the connection without an answer; `hang` holds it for `hang_s` seconds and
    then drops it (a client timeout); `slow` answers after `slow_s`; `429` carries
    `Retry-After` (seconds, rounded up) and `retry-after-ms` of `retry_after_s`.
    """

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_drop: float = 0.0
    rate_hang: float = 0.0
    rate_slow: float = 0.0
    retry_after_s: float = 1.0
    slow_s: float = 1.0
    hang_s: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        rates = [getattr(self, f"rate_{k}") for k in FAULTS]
        for name in (*(f"rate_{k}" for k in FAULTS), "retry_after_s", "slow_s", "hang_s"):
            _positive(name, getattr(self, name), zero=True)
        if sum(rates) > 1:
            raise SettingsError("fault rates must be >= 0 and sum to at most 1")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise SettingsError(f"seed must be a whole number, not {self.seed!r}")

    @classmethod
    def parse(cls, spec: str) -> "FaultPlan":
        """`"429=0.2,500=0.1,drop=0.05,hang=0.02,slow=0.1,retry_after_s=0.5,seed=1"`."""
        names = {f.name: f.type for f in fields(cls)}
        values = {}
        for item in filter(None, (s.strip() for s in spec.split(","))):
            key, _, value = item.partition("=")
            name = f"rate_{key}" if key in FAULTS else key
            if name not in names:
                raise SettingsError(
                    f"unknown fault setting {key!r}; known: {FAULTS} and "
                    "retry_after_s, slow_s, hang_s, seed"
                )
            try:
                values[name] = int(value) if name == "seed" else float(value)
            except ValueError:
                raise SettingsError(f"fault setting {key}: not a number: {value!r}") from None
        return cls(**values)  # type: ignore[arg-type]  # names checked against the fields

    def draw(self, rng: random.Random) -> str | None:
        roll = rng.random()
        for kind in FAULTS:
            roll -= getattr(self, f"rate_{kind}")
            if roll < 0:
                return kind
        return None


@dataclass(frozen=True)
class ServerSettings:
    """How the server treats what it cannot or will not do.

    `offline_urls`: an http(s) image URL is `accept`ed (billed as `url_image_size`, or the
    size in the request's `X-Emulator-Image-Size` header; never downloaded) or `refuse`d.
    `max_image_pixels`: images with more pixels are refused from their header, before any
    decode (default: Pillow's decompression-bomb limit, as `EncodeSettings.max_pixels`); at
    most that many pixels are decoded at once across all requests, which bounds memory.
    `read_timeout_s`: a connection that sends nothing for this long is closed.
    `bandwidth_mbit`: request and response bodies move at most this fast (an emulated link;
    None: unpaced). `max_files` and `max_stored_bytes` cap the uploads held at once
    (`toolkit.emulator_files`). Every value is checked here, before the server starts.
    `transcribe_with`: a reader that answers transcription requests in a model's stead (see
    the module docstring; None: they get the JSON description too).
    """

    offline_urls: str = "accept"
    url_image_size: tuple[int, int] = (1024, 1024)
    max_image_pixels: int = DEFAULT_SETTINGS.max_pixels
    read_timeout_s: float = 30.0
    bandwidth_mbit: float | None = None
    max_files: int = 1000
    max_stored_bytes: int = 256 * 1024 * 1024
    transcribe_with: str | None = None

    def __post_init__(self) -> None:
        if self.transcribe_with is not None:
            reason = get_reader(self.transcribe_with).unavailable()  # an unknown name raises
            if reason:
                raise SettingsError(f"transcribe_with {self.transcribe_with}: {reason}")
        if self.offline_urls not in OFFLINE_URLS:
            raise SettingsError(f"offline_urls must be one of {OFFLINE_URLS}")
        width, height = self.url_image_size
        for name, value in (
            ("url_image_size", width),
            ("url_image_size", height),
            ("max_image_pixels", self.max_image_pixels),
            ("max_files", self.max_files),
            ("max_stored_bytes", self.max_stored_bytes),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SettingsError(f"{name} must be a whole number >= 1, not {value!r}")
        _positive("read_timeout_s", self.read_timeout_s)
        if self.bandwidth_mbit is not None:
            _positive("bandwidth_mbit", self.bandwidth_mbit)


def _positive(name: str, value: object, zero: bool = False) -> None:
    """`SettingsError` unless `value` is a finite number > 0 (>= 0 with `zero`)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (0 <= value if zero else 0 < value)
        or not math.isfinite(value)
    ):
        wanted = "a finite number >= 0" if zero else "a finite number > 0"
        raise SettingsError(f"{name} must be {wanted}, not {value!r}")


class _PixelBudget:
    """At most `pixels` pixels being decoded at once across threads (a bound on memory)."""

    def __init__(self, pixels: int):
        self.free = pixels
        self.changed = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        with self.changed:
            self.changed.wait_for(lambda: self.free >= pixels)
            self.free -= pixels
        try:
            yield
        finally:
            with self.changed:
                self.free += pixels
                self.changed.notify_all()


# ---- server state ---------------------------------------------------------------------------


class _State:
    """What the server remembers: files, batches, counters; guarded by one lock."""

    def __init__(
        self, faults: FaultPlan, limits: RequestLimits, require_key: bool, settings: ServerSettings
    ):
        self.faults, self.limits, self.require_key = faults, limits, require_key
        self.settings = settings
        self.decoding = _PixelBudget(settings.max_image_pixels)
        self.lock = threading.Lock()
        self.rng = random.Random(faults.seed)
        self.stopping = threading.Event()
        self.files = FileStore(settings.max_files, settings.max_stored_bytes)
        self.batches: dict[tuple[str, str], dict] = {}  # (owner, id) -> batch
        self.attempts: Counter = Counter()
        self.answered: Counter = Counter()
        self.faults_seen: Counter = Counter()
        self.received_bytes: Counter = Counter()
        self.serial = 0

    def next_id(self, prefix: str) -> str:
        with self.lock:
            self.serial += 1
            return f"{prefix}{self.serial:08d}"

    def draw_fault(self) -> str | None:
        with self.lock:
            return self.faults.draw(self.rng)

    def image_bytes(self, image: ImageRef, owner: str) -> tuple[bytes, str]:
        if image.kind == "data_url":
            return data_url_bytes(image)
        stored = self.files.get(owner, image.ref)
        if stored is None or stored.meta["purpose"] != "vision":
            raise ApiError(
                400,
                f"No vision file found with id '{image.ref}'.",
                param=image.param,
                code="invalid_file_id",
            )
        return stored.content, sniff_mime(stored.content) or "unknown"

    def describe(
        self, image: ImageRef, url_size: tuple[int, int], owner: str, limits: RequestLimits
    ) -> dict:
        """Type and size of one image: a URL's from `url_size` (never fetched), bytes' from
        their header (within `limits`), then decoded within the pixel budget."""
        if image.kind == "url":
            check_image_url(image)
            if self.settings.offline_urls == "refuse":
                raise ApiError(
                    400,
                    "This emulator does not download image URLs (offline_urls=refuse); send "
                    "the image as a data URL or a file_id.",
                    param=image.param,
                    code="invalid_image_url",
                )
            return {"source": "url", "type": None, "width": url_size[0], "height": url_size[1]}
        data, mime = self.image_bytes(image, owner)
        limit = self.settings.max_image_pixels
        width, height = image_size(data, mime, image.param, limits, limit)
        with self.decoding.hold(width * height):
            check_decodes(data, image.param)
        return {"source": image.kind, "type": mime, "width": width, "height": height}

    def complete(
        self,
        api: str,
        body: object,
        url_size: tuple[int, int] | None = None,
        owner: str = "",
        model: str = "",
    ) -> dict:
        """The answer body for a completion request by `owner` (whose files it may use), or
        raises `ApiError`; `model` is a Gemini request's, from its URL."""
        if api in ENDPOINTS:
            limits = self.limits
            model, texts, images = check_body(api, body, limits)
        else:
            limits = LIMITS[api]
            model, texts, images = check_provider_body(api, body, limits, model)
        described = []
        for index, image in enumerate(images):
            seen = self.describe(image, url_size or self.settings.url_image_size, owner, limits)
            try:
                tokens = image_tokens(seen["width"], seen["height"], model, image.detail).tokens
            except RulesError as exc:
                raise ApiError(400, str(exc), param=image.param, code="invalid_value") from None
            described.append({"index": index, **seen, "detail": image.detail, "tokens": tokens})
        text = json.dumps({"model": model, "images": described}, sort_keys=True)
        reader = self.settings.transcribe_with if asks_transcription(texts) else None
        if reader:
            read = self._transcribe(model, images, described, reader, owner)
            text = emulated_answer(reader, read)
        input_tokens = sum(d["tokens"] for d in described) + sum(map(text_tokens, texts))
        answer = _answer(api, model, body, text, input_tokens, text_tokens(text))
        if reader:
            _usage(answer)[EMULATED_USAGE_KEY] = reader
        return answer

    def _transcribe(
        self, model: str, images: list[ImageRef], described: list[dict], reader: str, owner: str
    ) -> list[str]:
        """What `reader` reads in the view the provider keeps of each image, decoded within
        the pixel budget (an image URL is never downloaded, so there is nothing to read: a
        400)."""
        texts = []
        for image, seen in zip(images, described, strict=True):
            if image.kind == "url":
                raise ApiError(
                    400,
                    "The emulator transcribes images it receives; an image URL is never "
                    "downloaded. Send the image as a data URL or a file_id.",
                    param=image.param,
                    code="invalid_image_url",
                )
            data, _ = self.image_bytes(image, owner)
            kept = image_tokens(seen["width"], seen["height"], model, image.detail)
            with self.decoding.hold(seen["width"] * seen["height"]):
                texts.append(read_view(data, (kept.provider_width, kept.provider_height), reader))
        return texts


def _usage(answer: dict) -> dict:
    """An answer's usage object (Gemini calls it `usageMetadata`)."""
    return answer["usageMetadata"] if "usageMetadata" in answer else answer["usage"]


def _answer(
    api: str, model: str, body: object, text: str, input_tokens: int, output_tokens: int
) -> dict:
    if api not in ENDPOINTS:
        return provider_answer(api, model, body, text, input_tokens, output_tokens)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:24]
    now = int(time.time())
    total = input_tokens + output_tokens
    if api == "chat":
        return {
            "id": f"chatcmpl-{digest}",
            "object": "chat.completion",
            "created": now,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": input_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": total,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        }
    return {
        "id": f"resp_{digest}",
        "object": "response",
        "created_at": now,
        "status": "completed",
        "model": model,
        "output": [
            {
                "type": "message",
                "id": f"msg_{digest}",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": total,
        },
    }


# ---- Files and Batches ----------------------------------------------------------------------


def _multipart(content_type: str, raw: bytes) -> tuple[dict[str, str], tuple[str, bytes] | None]:
    """Form fields and the (filename, bytes) of the `file` field of a multipart body."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise ApiError(400, "Expected a multipart/form-data body.")
    form: dict[str, str] = {}
    upload = None
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True) or b""
        assert isinstance(payload, bytes)  # decode=True on a non-multipart part
        filename = part.get_filename()
        if filename is not None:
            upload = (filename, payload)
            continue
        try:
            form[name] = payload.decode()
        except UnicodeDecodeError:
            raise ApiError(400, f"Form field {name!r} is not UTF-8 text.", param=name) from None
    return form, upload


def _batch_failure(code: str, message: str, line: int | None = None) -> dict:
    return {
        "object": "list",
        "data": [{"code": code, "message": message, "param": None, "line": line}],
    }


def _batch_lines(raw: bytes) -> tuple[list[tuple[int, dict]], dict | None]:
    """(line number, JSON object) per non-blank line, or the failure naming the first line
    that is not a UTF-8 JSON object."""
    lines = []
    for number, text in enumerate(raw.splitlines(), 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError included
            line = None
        if not isinstance(line, dict):
            return [], _batch_failure(
                "invalid_json_line", "This line is not a UTF-8 JSON object.", number
            )
        lines.append((number, line))
    return lines, None


def _line_problem(line: dict, endpoint: str) -> tuple[str, str] | None:
    """(code, message) when one batch line is not a request to `endpoint`."""
    if not isinstance(line.get("custom_id"), str) or not line["custom_id"]:
        return "invalid_custom_id", "custom_id must be a non-empty string"
    if line.get("method") != "POST" or line.get("url") != endpoint:
        return "invalid_url", f"expected POST {endpoint}"
    if not isinstance(line.get("body"), dict):
        return "invalid_body", "body must be a JSON object holding the request"
    return None


class _Batches:
    """Runs a batch at creation: validates the input file, answers every line."""

    def __init__(self, state: _State, owner: str):
        self.state, self.owner = state, owner

    def create(self, body: object) -> dict:
        state = self.state
        body = expect(body, dict, "body")
        endpoint = one_of(body.get("endpoint"), tuple(API_BY_ENDPOINT), "endpoint")
        one_of(body.get("completion_window"), ("24h",), "completion_window")
        file_id = expect(body.get("input_file_id"), str, "input_file_id")
        stored = state.files.get(self.owner, file_id)
        if stored is None or stored.meta["purpose"] != "batch":
            raise ApiError(400, f"No batch file found with id '{file_id}'.", param="input_file_id")
        metadata = body.get("metadata")
        batch = {
            "id": new_id("batch_"),
            "object": "batch",
            "endpoint": endpoint,
            "input_file_id": file_id,
            "completion_window": "24h",
            "created_at": int(time.time()),
            "errors": None,
            "output_file_id": None,
            "error_file_id": None,
            "metadata": {} if metadata is None else expect(metadata, dict, "metadata"),
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
        }
        raw = stored.content
        lines, errors = _batch_lines(raw)
        errors = errors or self._check(lines, endpoint, len(raw))
        if errors:
            batch.update(status="failed", errors=errors, failed_at=int(time.time()))
        else:
            self._run(batch, [line for _, line in lines], endpoint)
        with state.lock:
            state.batches[self.owner, batch["id"]] = batch
        return batch

    def _check(self, lines: list[tuple[int, dict]], endpoint: str, size: int) -> dict | None:
        if len(lines) > BATCH_LIMITS.max_lines or size > BATCH_LIMITS.max_file_bytes:
            return _batch_failure(
                "too_large", f"{len(lines)} lines, {size} bytes: over the limits"
            )
        seen, models = set(), set()
        for number, line in lines:
            problem = _line_problem(line, endpoint)
            if problem is not None:
                return _batch_failure(*problem, number)
            if line["custom_id"] in seen:
                return _batch_failure(
                    "duplicate_custom_id", f"custom_id {line['custom_id']!r} is not unique", number
                )
            seen.add(line["custom_id"])
            models.add(str(line["body"].get("model")))
        if len(models) > 1:
            return _batch_failure("mismatched_model", "a batch file must use a single model")
        return None

    def _run(self, batch: dict, lines: list[dict], endpoint: str) -> None:
        api = API_BY_ENDPOINT[endpoint]
        done, failed = [], []
        for line in lines:
            request_id = self.state.next_id("req_emu_")
            try:
                answer = {
                    "status_code": 200,
                    "request_id": request_id,
                    "body": self.state.complete(api, line["body"], owner=self.owner),
                }
                done.append(
                    {
                        "id": self.state.next_id("batch_req_"),
                        "custom_id": line["custom_id"],
                        "response": answer,
                        "error": None,
                    }
                )
            except ApiError as exc:
                answer = {"status_code": exc.status, "request_id": request_id, "body": exc.body}
                failed.append(
                    {
                        "id": self.state.next_id("batch_req_"),
                        "custom_id": line["custom_id"],
                        "response": answer,
                        "error": None,
                    }
                )
        # Output order may differ from input order in the API; reversing makes joins honest.
        for key, rows in (("output_file_id", done[::-1]), ("error_file_id", failed[::-1])):
            if rows:
                content = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
                batch[key] = self.state.files.add(
                    self.owner, f"{batch['id']}_{key}.jsonl", "batch_output", content
                )["id"]
        now = int(time.time())
        batch.update(
            status="completed",
            in_progress_at=now,
            finalizing_at=now,
            completed_at=now,
            request_counts={"total": len(lines), "completed": len(done), "failed": len(failed)},
        )


# ---- HTTP ---------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Routes one HTTP request; `server.state` is the shared `_State`."""

    protocol_version = "HTTP/1.1"
    # A request line too broken to name its version still gets a status line and headers.
    default_request_version = "HTTP/1.1"
    server_version = "toolkit-emulator"
    disable_nagle_algorithm = True  # small answers would otherwise wait on delayed ACKs
    wbufsize = -1  # headers and body leave in one write; flushed after each request

    def log_message(self, format, *args):  # noqa: A002 - quiet: never log headers or keys
        pass

    @property
    def state(self) -> _State:
        assert isinstance(self.server, _Server)
        return self.server.state

    def setup(self) -> None:
        self.timeout = self.state.settings.read_timeout_s  # type: ignore[misc]  # setup() applies it
        super().setup()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):  # the client left or stalled: nothing to answer
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        """Malformed request lines and headers, unknown methods: an API-shaped answer too."""
        self.close_connection = True
        self._send(code, ApiError(code, message or self.responses[code][0]).body)

    def _send(self, status: int, body: object, headers: dict | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header(
            "Content-Type",
            "application/octet-stream" if isinstance(body, bytes) else "application/json",
        )
        self.send_header("Content-Length", str(len(data)))
        # Claude's API names it `request-id` (its SDK reads that one); OpenAI `x-request-id`
        path = getattr(self, "path", "")  # none when the request line itself was malformed
        claude = path.split("?", 1)[0].startswith("/v1/messages")
        self.send_header(
            "request-id" if claude else "x-request-id", self.state.next_id(REQUEST_ID_PREFIX)
        )
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self._write_body(data)

    def _read_body(self) -> bytes:
        """The body by its `Content-Length` (required, decimal digits, within the request
        limit). Otherwise `ApiError`, and the connection closes after the answer."""
        text = self.headers.get("Content-Length")
        if text is None or self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise ApiError(
                411, "A Content-Length header is required; chunked bodies are not accepted."
            )
        if not _LENGTH.fullmatch(text.strip()):
            self.close_connection = True
            raise ApiError(400, f"Invalid Content-Length header: {text[:40]!r}.")
        length, limit = int(text), self.state.limits.max_request_bytes
        if length > limit:
            self.close_connection = True
            self._discard(min(length, limit))  # so that the client gets to read the 413
            raise ApiError(
                413,
                f"Request too large: {length} bytes; the limit is {limit} bytes.",
                code="request_too_large",
            )
        data = self._read_exactly(length)
        if len(data) < length:
            raise ConnectionAbortedError("the body ended before its Content-Length")
        with self.state.lock:
            self.state.received_bytes[self.path.split("?", 1)[0].rstrip("/")] += length
        return data

    def _pause(self, start: float, moved: int) -> None:
        """Wait until `moved` bytes since `start` keep within the emulated bandwidth."""
        rate = self.state.settings.bandwidth_mbit
        if rate is None:
            return
        due = moved * 8 / (rate * 1e6) - (time.monotonic() - start)
        self.state.stopping.wait(max(0.0, due))

    def _read_exactly(self, length: int) -> bytes:
        """Up to `length` body bytes (fewer if the client stops), paced when emulated."""
        if self.state.settings.bandwidth_mbit is None:
            return self.rfile.read(length)
        chunks, start, got = [], time.monotonic(), 0
        while got < length and (chunk := self.rfile.read(min(_PACE_CHUNK, length - got))):
            chunks.append(chunk)
            got += len(chunk)
            self._pause(start, got)
        return b"".join(chunks)

    def _write_body(self, data: bytes) -> None:
        """The answer's body, paced when emulated (the headers leave first, then)."""
        if self.state.settings.bandwidth_mbit is None:
            self.wfile.write(data)
            return
        self.wfile.flush()
        start = time.monotonic()
        for offset in range(0, len(data), _PACE_CHUNK):
            self.wfile.write(data[offset : offset + _PACE_CHUNK])
            self.wfile.flush()
            self._pause(start, min(len(data), offset + _PACE_CHUNK))

    def _discard(self, length: int) -> None:
        """Read and drop up to `length` body bytes while they keep coming (a client that
        declared more than it sends is not waited for), so the client can read the answer."""
        self.connection.settimeout(_DRAIN_PAUSE_S)
        try:
            while length > 0 and (chunk := self.rfile.read1(min(length, 1 << 20))):
                length -= len(chunk)
        except TimeoutError:
            pass
        finally:
            self.connection.settimeout(self.timeout)

    def _authorize(self) -> None:
        """A key: OpenAI's Bearer token, or Claude's `x-api-key` or Gemini's `x-goog-api-key`."""
        auth = self.headers.get("Authorization", "")
        keyed = any(self.headers.get(name) for name in ("x-api-key", "x-goog-api-key"))
        bearer = auth.startswith("Bearer ") and len(auth) > 7
        if self.state.require_key and not (bearer or keyed):
            raise ApiError(
                401,
                "You didn't provide an API key. Provide it in an Authorization header "
                "using Bearer auth.",
                code="invalid_api_key",
            )

    def _check_host(self) -> None:
        """Only requests addressed to this loopback server: a page whose domain name was
        rebound to 127.0.0.1 (DNS rebinding) sends its own name as `Host` and is refused."""
        host, port = self.headers.get("Host", ""), self.state_port
        if host.lower() not in {f"{name}:{port}" for name in LOCAL_NAMES}:
            raise ApiError(
                421,
                f"This emulator answers requests for 127.0.0.1:{port} or localhost:{port} "
                f"only, not Host {host[:80]!r}.",
                code="invalid_host",
            )

    @property
    def state_port(self) -> int:
        assert isinstance(self.server, _Server)
        return self.server.server_port

    @property
    def owner(self) -> str:
        return owner_of(self.headers.get("Authorization", ""))

    def _dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            raw = self._read_body() if method == "POST" else b""
            self._check_host()
            self._authorize()
            route = {
                ("POST", "/v1/chat/completions"): lambda: self._completion("chat", raw),
                ("POST", "/v1/responses"): lambda: self._completion("responses", raw),
                ("POST", "/v1/messages"): lambda: self._completion("anthropic", raw),
                ("POST", "/v1/files"): lambda: self._upload(raw),
                ("POST", "/v1/batches"): lambda: self._send(
                    200, _Batches(self.state, self.owner).create(parse_json(raw))
                ),
            }.get((method, path))
            gemini = GEMINI_PATH.fullmatch(path) if method == "POST" else None
            if route is None and gemini:
                route = lambda: self._completion("gemini", raw, gemini[1])  # noqa: E731
            if route is None and method == "GET":
                route = self._get_route(path)
            if route is None and method == "DELETE":
                route = self._delete_route(path)
            if route is None:
                raise ApiError(404, f"Invalid URL ({method} {path})")
            route()
        except ApiError as exc:
            self._send(exc.status, exc.body)
        except (ConnectionError, TimeoutError):
            raise  # the client is gone: see handle_one_request
        except Exception as exc:  # a bug, not the client's doing: still an answer, one line
            print(f"toolkit emulator: {method} {path}: {exc!r}", file=sys.stderr)
            self._send(500, ApiError(500, "The server had an error processing your request.").body)

    def _get_route(self, path: str):
        """A file, its content or a batch: only the caller's own (another key's is 404)."""
        parts = path.split("/")[1:]
        if parts[:2] == ["v1", "files"] and len(parts) in (3, 4):
            stored = self.state.files.get(self.owner, parts[2])
            if stored is not None and len(parts) == 3:
                return lambda: self._send(200, stored.meta)
            if stored is not None and parts[3] == "content":
                return lambda: self._send(200, stored.content)
        batch = self.state.batches.get((self.owner, parts[2])) if len(parts) == 3 else None
        if parts[:2] == ["v1", "batches"] and batch is not None:
            return lambda: self._send(200, batch)
        return None

    def _delete_route(self, path: str):
        parts = path.split("/")[1:]
        if parts[:2] == ["v1", "files"] and len(parts) == 3:
            return lambda: self._delete_file(parts[2])
        return None

    def _delete_file(self, file_id: str) -> None:
        """Delete one of the caller's files (another key's does not exist for it: a 404)."""
        if not self.state.files.delete(self.owner, file_id):
            raise ApiError(404, f"No such File object: {file_id}", param="id")
        self._send(200, {"id": file_id, "object": "file", "deleted": True})

    def _upload(self, raw: bytes) -> None:
        form, upload = _multipart(self.headers.get("Content-Type", ""), raw)
        if upload is None:
            raise ApiError(400, "Missing required parameter: 'file'.", param="file")
        purpose = one_of(
            form.get("purpose"),
            ("assistants", "batch", "fine-tune", "vision", "user_data", "evals"),
            "purpose",
        )
        self._send(200, self.state.files.add(self.owner, upload[0], purpose, upload[1]))

    def _completion(self, api: str, raw: bytes, model: str = "") -> None:
        state = self.state
        client_id = self.headers.get("X-Client-Request-Id")
        with state.lock:
            state.attempts[client_id] += 1
        fault = self.headers.get("X-Emulator-Fault") or state.draw_fault()
        if fault:
            with state.lock:
                state.faults_seen[fault] += 1
        if fault in ("drop", "hang"):
            if fault == "hang":
                state.stopping.wait(state.faults.hang_s)
            self.close_connection = True
            return
        if fault == "429":
            wait = state.faults.retry_after_s
            headers = {
                "Retry-After": str(math.ceil(wait)),
                "retry-after-ms": str(round(wait * 1000)),
            }
            raise_429 = ApiError(
                429,
                "Rate limit reached (emulated). Please try again later.",
                code="rate_limit_exceeded",
                kind="requests",
            )
            self._send(429, raise_429.body, headers)
            return
        if fault == "500":
            raise ApiError(
                500, "The server had an error while processing your request (emulated)."
            )
        if fault == "slow":
            state.stopping.wait(state.faults.slow_s)
        answer = state.complete(api, parse_json(raw), self._url_size(), self.owner, model)
        reader = _usage(answer).get(EMULATED_USAGE_KEY)
        self._send(200, answer, {TRANSCRIBER_HEADER: reader} if reader else None)
        with state.lock:
            state.answered[client_id] += 1

    def _url_size(self) -> tuple[int, int] | None:
        """The size to bill URL images at, from the `X-Emulator-Image-Size` header."""
        text = self.headers.get(IMAGE_SIZE_HEADER)
        try:
            return None if text is None else parse_size(text)
        except SettingsError as exc:
            raise ApiError(400, f"{IMAGE_SIZE_HEADER}: {exc}") from None

    def do_POST(self):  # noqa: N802 - http.server naming
        self._dispatch("POST")

    def do_GET(self):  # noqa: N802
        self._dispatch("GET")

    def do_DELETE(self):  # noqa: N802
        self._dispatch("DELETE")


_POLL_S = 0.05  # how fast `close()` stops the accept loop


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # listen backlog: 32 concurrent clients connect at once
    state: _State


class Emulator:
    """The emulator on 127.0.0.1 in a background thread; a context manager.

    >>> with Emulator() as emu:
    ...     client = make_client(api_key="test", base_url=emu.base_url)

    `port=0` picks a free port. `attempts` and `answered` count completion requests per
    `X-Client-Request-Id` (HTTP requests received / 200 answers written). `settings` say how
    URL images, huge images and idle connections are treated (`ServerSettings`).
    """

    def __init__(
        self,
        port: int = 0,
        *,
        faults: FaultPlan | None = None,
        limits: RequestLimits = OBSERVED_LIMITS,
        require_key: bool = True,
        settings: ServerSettings = ServerSettings(),
    ):
        self.state = _State(faults or FaultPlan(), limits, require_key, settings)
        self.server = _Server((HOST, port), _Handler)
        self.server.state = self.state
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def root_url(self) -> str:
        """The server's root: the base URL the anthropic and google-genai SDKs take."""
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """The base URL the openai SDK takes."""
        return f"{self.root_url}/v1"

    @property
    def faults(self) -> FaultPlan:
        return self.state.faults

    @faults.setter
    def faults(self, plan: FaultPlan) -> None:
        with self.state.lock:
            self.state.faults = plan

    @property
    def attempts(self) -> Counter:
        return self.state.attempts

    @property
    def answered(self) -> Counter:
        return self.state.answered

    @property
    def received_bytes(self) -> Counter:
        """Request body bytes received, per endpoint path (`/v1/files`, `/v1/responses`)."""
        return self.state.received_bytes

    def start(self) -> "Emulator":
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": _POLL_S},
            name="toolkit-emulator",
            daemon=True,
        )
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the `toolkit emulator` command)."""
        try:
            self.server.serve_forever(poll_interval=_POLL_S)
        finally:
            self.close()

    def close(self) -> None:
        self.state.stopping.set()
        if self.thread is not None:
            self.server.shutdown()
            self.thread = None
        self.server.server_close()

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
