"""Send request bodies with their API's SDK (`toolkit.senders`: openai, and anthropic or
google-genai when installed): async, bounded, retried, resumable.

`send_requests` takes an iterable of `toolkit.payload.Request` and pulls from it lazily, so
only `concurrency` bodies exist at once. Every request ends as one JSON line in the results
file, written whole and synced to disk as it arrives (`toolkit.results_file`: the file is
locked for the run, and a full disk stops the run before it sends what it could not record):

- `ok`: answered; usage, the `toolkit.tokens` estimate and their difference, text, JSON.
- `error`: the API refused it for good (a 4xx other than 408/409/429): not sent again.
- `failed`: retries ran out on 408/409/429/5xx, timeouts or dropped connections; a later run
  sends it again.
- `split`: a 413 answer; its images went on in smaller requests (`children`). A later run
  sends it again only to find its children done.

Delivery. Running again with the same results file skips `ok` and `error` ids, so an
interrupted run resumes where it stopped. Interrupting (Ctrl-C, SIGTERM or SIGHUP in the
`toolkit` command, or cancelling the task) stops
taking new requests and starts no more retries, but lets the requests in flight finish, each
within its per-attempt timeout, and records them before the run ends: nothing is lost and
nothing is sent again on resume. A request is answered twice only when an attempt was cut
off after the server had it: a per-attempt `timeout` shorter than the server takes, a dropped
connection, a hard kill (SIGKILL, a second Ctrl-C) while it was in flight. Then delivery is
at least once; each record's `attempts` says how often it was sent. To avoid repeats, give
a per-attempt timeout longer than the server ever takes (the SDK's default is 600 s) and stop
with one Ctrl-C.

Retries are this module's own loop (the SDK client gets `max_retries=0`) so every record
counts its attempts; delays follow the SDK's (0.5 s doubling to 8 s, 0-25 % jitter,
`Retry-After` honoured up to 120 s; `openai/_constants.py`). The API key is only ever handed
to the SDK, never logged or written.
"""

import asyncio
import email.utils
import errno
import itertools
import json
import math
import os
import random
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sized
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm.auto import tqdm

from toolkit.errors import OutputError, PayloadError, SettingsError
from toolkit.files import open_regular
from toolkit.payload import (
    CONCURRENCY,
    Request,
    RequestLimits,
    RequestSummary,
    parse_response,
    split_requests,
)
from toolkit.pricing import usage_cost_usd
from toolkit.provider_limits import LIMITS
from toolkit.results_file import ResultsFile
from toolkit.senders import Refused, Unreachable, make_sdk_client, post, resolve_api_key

ON_TOO_LARGE = ("split", "reencode", "error")
RETRY_STATUSES = (408, 409, 429)
FINAL_STATUSES = ("ok", "error")


def make_client(
    api_key: str | None = None,
    *,
    base_url: str | None = None,
    timeout: float | None = None,
    api: str = "chat",
):
    """The async client of `api`'s SDK without its retries (`send_requests` retries itself):
    `AsyncOpenAI` for `chat` and `responses`, `AsyncAnthropic` for `anthropic`, google-genai's
    `Client(...).aio` for `gemini` (the last two: the `anthropic` and `gemini` extras).

    The key comes from `api_key` or the SDK's environment variable (`OPENAI_API_KEY`,
    `ANTHROPIC_API_KEY`, `GOOGLE_API_KEY` or `GEMINI_API_KEY`); OpenAI's `base_url` from the
    argument or `OPENAI_BASE_URL` (for example an `Emulator().base_url`), Claude's and
    Gemini's from the argument (the server's root, for example `Emulator().root_url`).
    """
    return make_sdk_client(api, resolve_api_key(api_key, api), base_url, timeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; defaults mirror the SDK's delays."""

    max_attempts: int = 6
    initial_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or min(self.initial_delay_s, self.max_delay_s) < 0:
            raise SettingsError("max_attempts must be >= 1 and delays >= 0")

    def backoff(self, attempt: int) -> float:
        """Delay after failed attempt number `attempt` (1-based) without a Retry-After."""
        delay = min(self.initial_delay_s * 2 ** (attempt - 1), self.max_delay_s)
        return delay * (1 - 0.25 * random.random())


def retry_after_s(headers) -> float | None:
    """Seconds from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), if any."""
    for name, scale in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value) / scale, 0.0)
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(email.utils.mktime_tz(parsed) - time.time(), 0.0)
    return None


@dataclass
class SendSummary:
    """Counts of one `send_requests` run; the records are in `results_path`."""

    results_path: Path
    statuses: Counter = field(default_factory=Counter)
    skipped: int = 0
    attempts: int = 0
    elapsed_s: float = 0.0

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    def describe(self) -> str:
        """The run in words, for a page: "2 requests: 2 ok; 2 attempts in 0.15 s"."""
        counts = [f"{n:,} {status}" for status, n in self.statuses.most_common()]
        if self.skipped:
            counts.append(f"{self.skipped:,} skipped (answered before or repeated)")
        return (
            f"{self.sent:,} requests: {', '.join(counts) or 'none sent'}; "
            f"{self.attempts:,} attempts in {self.elapsed_s:.2f} s"
        )


def read_results(path: str | os.PathLike) -> dict[str, dict]:
    """The last record per id in a results file; a torn line (a killed run's) is ignored.
    `SettingsError` when the file cannot be read or a line is JSON but not a record."""
    records: dict[str, dict] = {}
    if not Path(path).exists():
        return records
    try:
        with open_regular(path) as handle:
            for number, line in enumerate(handle, 1):
                try:
                    record = json.loads(line)
                except ValueError:  # torn mid-line or mid-character
                    continue
                if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                    raise SettingsError(f"{path}: line {number} is not a result record")
                records[record["id"]] = record
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return records


class ResultRecord(RequestSummary, total=False):
    """One line of a results file: the request's summary, then what became of it."""

    status: str  # ok | error | failed | split
    attempts: int
    http_status: int | None
    request_id: str | None  # the API's x-request-id
    error_type: str
    error_message: str
    latency_ms: float  # of the answered attempt
    elapsed_ms: float  # of all attempts and waits
    children: list[str]  # the ids a 413 split this request into
    response_text: str | None
    input_tokens: int | None
    cached_tokens: int
    output_tokens: int | None
    input_minus_estimate_tokens: int
    cost_usd: float | None
    response_json: object


def _success(record: ResultRecord, request: Request, answer: dict) -> ResultRecord:
    parsed = parse_response(request.api, answer)
    record.update({"status": "ok", **parsed})
    estimate, billed = record["estimated_image_tokens"], parsed["input_tokens"]
    if estimate is not None and billed is not None:
        record["input_minus_estimate_tokens"] = billed - estimate
    if billed is not None and parsed["output_tokens"] is not None:
        record["cost_usd"] = usage_cost_usd(
            request.model, billed, parsed["cached_tokens"], parsed["output_tokens"], "standard"
        )
    if request.spec.json_format:
        try:
            record["response_json"] = json.loads(parsed["response_text"] or "")
        except ValueError as exc:
            record.update(
                {"status": "error", "error_type": "invalid_json", "error_message": str(exc)}
            )
    return record


class _Sender:
    """The state of one run: the work queue, the results file, the counters."""

    def __init__(
        self,
        client,
        requests,
        results,
        done,
        summary,
        *,
        retry,
        timeout,
        limits,
        on_too_large,
        bar,
    ):
        self.client, self.results, self.done, self.bar = client, results, done, bar
        self.retry, self.timeout, self.limits = retry, timeout, limits
        self.on_too_large = on_too_large
        self.source: Iterator[Request] = iter(requests)
        self.pending: deque[Request] = deque()
        self.claimed: set[str] = set()
        self.summary: SendSummary = summary
        self.stopping = asyncio.Event()  # set when interrupted: finish in-flight work only
        self.in_flight = 0
        self.disk_error: OSError | None = None  # the results file could not take more
        self.unrecorded: list[str] = []  # ids answered but not written (disk refused)

    def _next(self) -> Request | None:
        while not self.stopping.is_set():
            request = self.pending.popleft() if self.pending else next(self.source, None)
            if request is None:
                return None
            if request.id in self.done or request.id in self.claimed:
                self.summary.skipped += 1
                self.bar.update()
                continue
            try:  # room for its record first: what cannot be recorded is not sent
                self.results.reserve(self.in_flight + 1)
            except OSError as exc:
                self._stop_writing(exc)
                return None
            self.claimed.add(request.id)
            self.in_flight += 1
            return request
        return None

    async def worker(self) -> None:
        while (request := self._next()) is not None:
            sending = asyncio.ensure_future(self.send(request))
            try:
                record = await asyncio.shield(sending)
            except asyncio.CancelledError:  # interrupted: take no more, record this one
                self.stopping.set()
                self._record(await sending)
                raise
            self._record(record)

    def _record(self, record: ResultRecord) -> None:
        self.in_flight -= 1
        try:
            line = json.dumps(record, ensure_ascii=False) + "\n"
            self.results.write(line.encode("utf-8", "backslashreplace"))  # a lone surrogate
            # (a name that was not UTF-8) becomes its JSON escape: the line stays valid UTF-8
        except OSError as exc:
            self.unrecorded.append(record["id"])
            self._stop_writing(exc)
        self.summary.statuses[record["status"]] += 1
        self.summary.attempts += record["attempts"]
        self.bar.update()

    def _stop_writing(self, exc: OSError) -> None:
        self.disk_error = self.disk_error or exc
        self.stopping.set()

    def disk_failure(self) -> OutputError:
        """What to raise when the results file refused a record or the room for one."""
        assert self.disk_error is not None
        lost = (
            f"; {len(self.unrecorded)} answers could not be recorded and would be sent again: "
            + ", ".join(self.unrecorded)
            if self.unrecorded
            else ""
        )
        recorded = self.summary.sent - len(self.unrecorded)
        return OutputError(
            self.disk_error.errno or errno.EIO,
            f"no room to record answers ({self.disk_error.strerror or self.disk_error}): "
            f"stopped before sending more; {recorded} answers of this run are recorded{lost}",
            str(self.results.path),
        )

    async def _stopped_within(self, seconds: float) -> bool:
        """Wait `seconds` before a retry; True (at once) if the run is being stopped."""
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def send(self, request: Request) -> ResultRecord:
        """Send one request, retrying; return its record."""
        record = ResultRecord(**request.summary())
        started = time.perf_counter()
        for attempt in range(1, self.retry.max_attempts + 1):
            record["attempts"] = attempt
            sent = time.perf_counter()
            delay = None
            try:
                answer, request_id = await post(self.client, request, self.timeout)
            except Refused as exc:
                record.update(
                    {
                        "http_status": exc.status_code,
                        "request_id": exc.request_id,
                        "error_type": exc.error_type,
                        "error_message": exc.message,
                    }
                )
                if exc.status_code == 413 and self.on_too_large != "error":
                    return self._split(record, request)
                if exc.status_code in RETRY_STATUSES or exc.status_code >= 500:
                    delay = retry_after_s(exc.headers)
                    if exc.code == "insufficient_quota":
                        record["status"] = "failed"
                        break
                else:
                    record["status"] = "error"
                    break
            except Unreachable as exc:
                record.update(
                    {
                        "http_status": None,
                        "request_id": None,
                        "error_type": exc.error_type,
                        "error_message": exc.message,
                    }
                )
            else:
                record.update({"http_status": 200, "request_id": request_id})
                record.pop("error_type", None)
                record.pop("error_message", None)
                record["latency_ms"] = round((time.perf_counter() - sent) * 1000, 3)
                _success(record, request, answer)
                break
            record["status"] = "failed"
            if attempt == self.retry.max_attempts:
                break
            if delay is not None and delay > self.retry.max_retry_after_s:
                break
            if await self._stopped_within(
                delay if delay is not None else self.retry.backoff(attempt)
            ):
                break
        record["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 3)
        return record

    def _split(self, record: ResultRecord, request: Request) -> ResultRecord:
        """After a 413: repack the images under half the refused size and queue them."""
        limits = replace(
            self.limits or LIMITS[request.api], max_request_bytes=math.ceil(request.body_bytes / 2)
        )
        on_oversize = "reencode" if self.on_too_large == "reencode" else "error"
        try:
            children = list(
                split_requests(request.parts, request.spec, limits=limits, on_oversize=on_oversize)
            )
        except PayloadError as exc:
            record.update(
                {"status": "error", "error_type": "PayloadError", "error_message": str(exc)}
            )
            return record
        self.pending.extendleft(reversed(children))
        record.update({"status": "split", "children": [c.id for c in children]})
        return record


async def send_requests(
    requests: Iterable[Request],
    *,
    client,
    results_path: str | os.PathLike,
    concurrency: int = CONCURRENCY,
    retry: RetryPolicy = RetryPolicy(),
    timeout: float | None = None,
    limits: RequestLimits | None = None,
    on_too_large: str = "split",
    progress: bool = False,
) -> SendSummary:
    """Send `requests` with at most `concurrency` in flight; records go to `results_path`.
    With `progress`, a bar counts the requests answered (or skipped), with a total and an ETA
    when `requests` has a length.

    Ids already `ok` or `error` in `results_path` are skipped, as are repeats of an id.
    Cancelled (Ctrl-C under `asyncio.run`), it sends nothing new and records the requests in
    flight before it re-raises (see the module docstring for the delivery guarantee).
    `timeout` is per attempt (None: the client's). A 413 answer splits the request
    (`"split"`), splits and re-encodes images too large alone (`"reencode"`), or is recorded
    as an error (`"error"`); `limits` are the ones the children are packed under (None:
    `toolkit.provider_limits.LIMITS` of each request's API). `client` is the SDK client of
    the requests' API (`make_client(api=...)`).
    """
    if on_too_large not in ON_TOO_LARGE:
        raise SettingsError(f"on_too_large must be one of {ON_TOO_LARGE}, not {on_too_large!r}")
    if concurrency < 1:
        raise SettingsError("concurrency must be >= 1")
    path = Path(results_path)
    results = ResultsFile(path)  # locked first: no other run adds to it while it is read
    try:
        done = {i for i, r in read_results(path).items() if r.get("status") in FINAL_STATUSES}
    except BaseException:
        results.close()
        raise
    total = len(requests) if isinstance(requests, Sized) else None
    bar = tqdm(total=total, desc="send", unit="request", disable=not progress)
    sender = _Sender(
        client,
        requests,
        results,
        done,
        SendSummary(path),
        retry=retry,
        timeout=timeout,
        limits=limits,
        on_too_large=on_too_large,
        bar=bar,
    )
    started = time.perf_counter()
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(sender.worker())
    except BaseExceptionGroup as errors:  # the first worker's error, as a plain exception
        raise errors.exceptions[0] from None
    finally:
        bar.close()
        results.close()
        sender.summary.elapsed_s = time.perf_counter() - started
    if sender.disk_error is not None:
        raise sender.disk_failure()
    return sender.summary


def run_requests(
    requests: Iterable[Request],
    *,
    results_path: str | os.PathLike,
    api_key: str | None = None,
    base_url: str | None = None,
    **options,
) -> SendSummary:
    """`send_requests` from synchronous code, with a client made (and closed) for the run: of
    the first request's API (requests of one API, or OpenAI's two).

    In a notebook, whose event loop is already running, `await send_requests(...)` instead.
    """
    source = iter(requests)
    first = next(source, None)
    api = "chat" if first is None else first.api
    requests = source if first is None else itertools.chain([first], source)

    async def run() -> SendSummary:
        async with make_client(api_key, base_url=base_url, api=api) as client:
            return await send_requests(
                requests, client=client, results_path=results_path, **options
            )

    return asyncio.run(run())
