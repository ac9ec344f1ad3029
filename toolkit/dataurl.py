"""Base64 data URLs out and back in, with the MIME type taken from the bytes themselves.

A data URL is `data:image/<type>;base64,<payload>`; Base64 turns every 3 bytes into 4
characters, so the payload is about 4/3 of the image plus the short prefix.
"""

import base64
import binascii
import math
import re
from dataclasses import dataclass, field

from toolkit.errors import DataURLError
from toolkit.images import EncodedImage

# Magic numbers of the image formats the vision APIs take, plus common ones they don't.
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
_PREFIX = re.compile(r"data:(image/[a-z0-9][a-z0-9.+-]*);base64,")


def sniff_mime(data: bytes) -> str | None:
    """The image MIME type the bytes' signature declares, or None if unknown."""
    head = bytes(data[:16])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "image/avif"
    for magic, mime in _SIGNATURES:
        if head.startswith(magic):
            return mime
    return None


def base64_chars(n_bytes: int) -> int:
    """Characters of padded Base64 for `n_bytes` bytes."""
    return 4 * math.ceil(n_bytes / 3)


@dataclass(frozen=True)
class DataURLSize:
    """What a payload costs as a data URL: characters and the overhead over the raw bytes."""

    bytes: int
    base64_chars: int
    url_chars: int

    @property
    def overhead(self) -> float:
        """Extra characters per raw byte (about 0.33, plus the prefix)."""
        return self.url_chars / self.bytes - 1 if self.bytes else 0.0


def data_url_size(n_bytes: int, mime: str = "image/jpeg") -> DataURLSize:
    """Sizes of the data URL for `n_bytes` of `mime` without building it."""
    chars = base64_chars(n_bytes)
    return DataURLSize(n_bytes, chars, len(f"data:{mime};base64,") + chars)


@dataclass(frozen=True)
class ParsedDataURL:
    mime: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> DataURLSize:
        return data_url_size(len(self.data), self.mime)


def to_data_url(image_or_bytes: EncodedImage | bytes, mime: str | None = None) -> str:
    """`data:<mime>;base64,…` for an `EncodedImage` or image bytes.

    The MIME type comes from the bytes; a given `mime` must agree with them.
    """
    data = image_or_bytes.data if isinstance(image_or_bytes, EncodedImage) else image_or_bytes
    data = bytes(data)
    sniffed = sniff_mime(data)
    if sniffed is None:
        raise DataURLError("bytes are not a recognised image format (no known signature)")
    if mime is not None and mime != sniffed:
        raise DataURLError(f"declared type {mime} does not match the bytes ({sniffed})")
    return f"data:{sniffed};base64,{base64.b64encode(data).decode('ascii')}"


def parse_data_url(url: str) -> ParsedDataURL:
    """Decode a data URL strictly: exact `data:image/<type>;base64,` prefix, canonical padded
    Base64 with no whitespace, and a declared type that matches the decoded bytes."""
    match = _PREFIX.match(url)
    if match is None:
        raise DataURLError(f"not a data:image/<type>;base64, URL: {url[:40]!r}")
    mime, payload = match.group(1), url[match.end() :]
    if not payload:
        raise DataURLError("empty Base64 payload")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DataURLError(f"payload is not strict Base64: {exc}") from None
    if base64.b64encode(data).decode("ascii") != payload:
        raise DataURLError("payload is not canonical Base64 (stray bits after the last byte)")
    sniffed = sniff_mime(data)
    if sniffed != mime:
        raise DataURLError(
            f"declared type {mime} does not match the bytes ({sniffed or 'unknown'})"
        )
    return ParsedDataURL(mime, data)
