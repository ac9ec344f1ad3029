"""How an image travels to the API, and what each way costs in bytes and time.

Three transports (`TRANSPORTS`):

- `data_url`: the image Base64-encoded (4 characters per 3 bytes) inside every request body
  that asks about it; nothing to upload first.
- `url`: the image stored once where the provider can fetch it (an https URL you host: its
  raw bytes leave the client once); each request carries the URL. The provider downloads it
  on its own network at request time, which no measurement here includes.
- `file_id`: the image uploaded once to the Files API (`purpose="vision"`, a multipart body:
  raw bytes plus framing); each request carries the id. Chat Completions takes data and
  http(s) URLs only, so every transport here is sent to the Responses API: same bodies
  otherwise, same tokens.

Image tokens depend on the pixels and `detail`, not on how the image arrives (the providers'
token rules take only the image size and detail: research/vision-api-facts.md §1), so every
transport is billed the same; `measure_latency` shows it for the emulator, which bills URL
images at the size declared in `X-Emulator-Image-Size` (it never downloads).

Body sizes are exact (`toolkit.payload`, as the SDK serializes them) and the upload sizes are
the bodies the openai SDK sends (`files_upload_bytes`, checked against what the emulator
receives); HTTP headers, alike for every transport, are not counted. Latency is measured
against the emulator with an emulated link speed (`ServerSettings.bandwidth_mbit`), not
against the API.
"""

import hashlib
import math
import statistics
import time
from collections.abc import Awaitable, Iterable, Sequence
from typing import TypeVar

import pandas as pd

from toolkit.emulator import IMAGE_SIZE_HEADER, Emulator, ServerSettings
from toolkit.errors import SettingsError
from toolkit.images import EncodedImage
from toolkit.payload import OBSERVED_LIMITS, ImagePart, RequestLimits, RequestSpec, split_requests

T = TypeVar("T")
TRANSPORTS = ("data_url", "url", "file_id")
# The multipart framing the openai SDK (its httpx client) sends for `files.create`: a
# 32-character boundary, the `purpose` field, then the file part.
_BOUNDARY_CHARS = 32


def files_upload_bytes(n_bytes: int, filename: str, mime: str, purpose: str = "vision") -> int:
    """Body bytes of a Files API upload of `n_bytes` as the openai SDK sends it."""
    dash = "--" + "b" * _BOUNDARY_CHARS
    framing = (
        f'{dash}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
        f'{dash}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
        f"\r\n{dash}--\r\n"
    )
    return len(framing.encode()) + n_bytes


def upload_name(image: EncodedImage) -> str:
    """The file name an image is stored or uploaded under: its content digest and suffix."""
    return hashlib.sha256(image.data).hexdigest()[:32] + "." + image.mime.split("/")[1]


def image_parts(
    image: EncodedImage, detail: str, url_base: str, file_id: str | None = None
) -> dict[str, ImagePart]:
    """The image as each transport carries it: its bytes, the URL `url_base` +
    `upload_name(image)`, and `file_id` (default: a placeholder, `file-` and 24 characters
    of the image's digest)."""
    name = upload_name(image)
    width, height = image.width, image.height
    return {
        "data_url": ImagePart.from_encoded(image, detail),
        "url": ImagePart(
            url=url_base + name, name=image.name, detail=detail, width=width, height=height
        ),
        "file_id": ImagePart(
            file_id=file_id or "file-" + name[:24],
            name=image.name,
            detail=detail,
            width=width,
            height=height,
        ),
    }


def upload_bytes(image: EncodedImage, transport: str) -> int:
    """Bytes the client sends once per image before asking about it: none inline, the raw
    image to your storage for a URL, the multipart upload for a file id."""
    if transport == "data_url":
        return 0
    if transport == "url":
        return image.bytes
    return files_upload_bytes(image.bytes, upload_name(image), image.mime)


def wire_table(
    images: Iterable[EncodedImage], spec: RequestSpec, detail: str, url_base: str
) -> pd.DataFrame:
    """One row per image (`path`) and transport: `image_bytes`, `upload_bytes` (once per image) and
    `request_bytes` (the body of one question about that image alone)."""
    rows = []
    for image in images:
        for transport, part in image_parts(image, detail, url_base).items():
            rows.append(
                {
                    "path": image.name,
                    "transport": transport,
                    "image_bytes": image.bytes,
                    "upload_bytes": upload_bytes(image, transport),
                    "request_bytes": spec.body_bytes([part]),
                }
            )
    return pd.DataFrame(rows)


def bytes_per_questions(wire: pd.DataFrame, questions: Sequence[int]) -> pd.DataFrame:
    """Client bytes for the folder when every image is asked `n` questions, per transport:
    uploaded once, plus `n` request bodies; `vs_data_url` is the share of the inline total."""
    totals = wire.groupby("transport", sort=False)[["upload_bytes", "request_bytes"]].sum()
    rows = []
    for n in questions:
        for transport, row in totals.iterrows():
            total = row["upload_bytes"] + n * row["request_bytes"]
            rows.append(
                {
                    "questions": n,
                    "transport": transport,
                    "upload_bytes": row["upload_bytes"],
                    "request_bytes": n * row["request_bytes"],
                    "total_bytes": total,
                }
            )
    table = pd.DataFrame(rows)
    inline = table[table["transport"] == "data_url"].set_index("questions")["total_bytes"]
    return table.assign(vs_data_url=table["total_bytes"] / table["questions"].map(inline))


def monthly_bytes(wire: pd.DataFrame, monthly_images: int, questions: int) -> pd.DataFrame:
    """Per transport, client bytes a month for `monthly_images` images like the folder's
    (its mean per image), each asked `questions` questions."""
    means = wire.groupby("transport", sort=False)[["upload_bytes", "request_bytes"]].mean()
    table = pd.DataFrame(
        {
            "monthly_images": monthly_images,
            "questions": questions,
            "upload_gb": monthly_images * means["upload_bytes"] / 1e9,
            "request_gb": monthly_images * questions * means["request_bytes"] / 1e9,
        }
    )
    table["total_gb"] = table["upload_gb"] + table["request_gb"]
    return table.reset_index()


def requests_needed(
    images: Sequence[EncodedImage],
    spec: RequestSpec,
    detail: str,
    url_base: str,
    count: int,
    limits: RequestLimits = OBSERVED_LIMITS,
) -> pd.DataFrame:
    """Per transport, the fewest requests that carry `count` images (the folder's, cycled)
    within `limits` (body bytes and images per request), with the largest body and the most
    image data in one request: a third party saw the 50 MB limit applied to image data even
    when the body is small (research/vision-api-facts.md §3.1), which would bind URLs and
    file ids too."""
    _check_responses(spec)
    each = [image_parts(image, detail, url_base) for image in images]
    rows = []
    for transport in TRANSPORTS:
        parts = [each[i % len(images)][transport] for i in range(count)]
        data_bytes = {id(p[transport]): image.bytes for p, image in zip(each, images, strict=True)}
        requests = list(split_requests(parts, spec, limits=limits))
        rows.append(
            {
                "transport": transport,
                "images": count,
                "requests": len(requests),
                "images_per_request_max": max(len(r.parts) for r in requests),
                "body_mb_max": max(r.body_bytes for r in requests) / 1e6,
                "image_data_mb_max": max(sum(data_bytes[id(p)] for p in r.parts) for r in requests)
                / 1e6,
            }
        )
    return pd.DataFrame(rows)


async def measure_latency(
    images: Iterable[EncodedImage],
    spec: RequestSpec,
    detail: str,
    url_base: str,
    bandwidths_mbit: Sequence[float],
    repeats: int = 3,
) -> pd.DataFrame:
    """Against the emulator at each emulated link speed: per image, its Files upload (timed),
    then `repeats` questions per transport (median wall time per question, client side).

    Rows: `bandwidth_mbit`, `path`, `transport`, `upload_bytes` and `request_bytes` (what
    the emulator received: on the wire; a URL's upload is the image, sent to your storage),
    `request_bytes_computed` (`RequestSpec.body_bytes`, which must equal the received
    bytes), `upload_ms` (file_id only: the URL's upload is not measured), `request_ms`, and
    `input_tokens` billed.
    """
    from toolkit.client import make_client

    _check_responses(spec)
    images = list(images)
    rows = []
    for rate in bandwidths_mbit:
        with Emulator(settings=ServerSettings(bandwidth_mbit=rate)) as emulator:
            client = make_client(api_key="emulator", base_url=emulator.base_url)
            try:
                for image in images:
                    timing = _Timing(client, emulator, spec, repeats)
                    rows += [
                        {"bandwidth_mbit": rate, **row}
                        for row in await timing.image(image, detail, url_base)
                    ]
            finally:
                await client.close()
    return pd.DataFrame(rows)


class _Timing:
    """Times one image's upload and questions through `client` against `emulator`."""

    def __init__(self, client, emulator: Emulator, spec: RequestSpec, repeats: int):
        self.client, self.emulator, self.spec, self.repeats = client, emulator, spec, repeats

    async def _timed(self, path: str, call: Awaitable[T]) -> tuple[T, float, int]:
        """(result, milliseconds, body bytes the emulator received at `path`) of `call`, a
        coroutine not yet started."""
        before = self.emulator.received_bytes[path]
        start = time.perf_counter()
        result = await call
        elapsed = (time.perf_counter() - start) * 1000
        return result, elapsed, self.emulator.received_bytes[path] - before

    async def image(self, image: EncodedImage, detail: str, url_base: str) -> list[dict]:
        upload = (upload_name(image), image.data, image.mime)
        uploaded, upload_ms, sent = await self._timed(
            "/v1/files", self.client.files.create(file=upload, purpose="vision")
        )
        # Only URL images need the size header (the emulator never downloads); every
        # transport sends it, so that the requests differ in their bodies alone.
        headers = {IMAGE_SIZE_HEADER: f"{image.width}x{image.height}"}
        rows = []
        for transport, part in image_parts(image, detail, url_base, uploaded.id).items():
            body = self.spec.body([part])
            times = []
            for _ in range(self.repeats):
                answer, elapsed, received = await self._timed(
                    "/v1/responses", self.client.responses.create(**body, extra_headers=headers)
                )
                times.append(elapsed)
            rows.append(
                {
                    "path": image.name,
                    "transport": transport,
                    "upload_bytes": {"data_url": 0, "url": image.bytes, "file_id": sent}[
                        transport
                    ],
                    "request_bytes": received,
                    "request_bytes_computed": self.spec.body_bytes([part]),
                    "upload_ms": upload_ms if transport == "file_id" else math.nan,
                    "request_ms": statistics.median(times),
                    "input_tokens": answer.usage.input_tokens,
                }
            )
        return rows


def _check_responses(spec: RequestSpec) -> None:
    if spec.api != "responses":
        raise SettingsError(
            "compare transports on the Responses API (api='responses'): Chat Completions "
            "takes no file ids"
        )
