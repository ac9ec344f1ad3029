"""toolkit.dataurl: round trips, strict parsing, MIME sniffing and size accounting."""

import base64

import pytest
from helpers import quadrants, to_bytes
from hypothesis import given
from hypothesis import strategies as st

from toolkit.dataurl import (
    base64_chars,
    data_url_size,
    parse_data_url,
    sniff_mime,
    to_data_url,
)
from toolkit.errors import DataURLError
from toolkit.images import EncodeSettings, encode_image

PNG = to_bytes(quadrants((8, 8)), "PNG")
JPEG = to_bytes(quadrants((8, 8)), "JPEG")


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "png"])
def test_encoded_image_round_trips(fmt):
    encoded = encode_image(PNG, EncodeSettings(format=fmt))
    url = to_data_url(encoded)
    assert url.startswith(f"data:image/{fmt};base64,")
    parsed = parse_data_url(url)
    assert (parsed.mime, parsed.data) == (encoded.mime, encoded.data)
    assert parsed.size.url_chars == len(url)
    assert parsed.size.base64_chars == encoded.base64_chars


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_sniff_mime_reads_the_signature(fmt, mime):
    assert sniff_mime(to_bytes(quadrants((4, 4)), fmt)) == mime


def test_sniff_mime_unknown():
    assert sniff_mime(b"hello world") is None and sniff_mime(b"") is None


def test_to_data_url_checks_a_declared_type_against_the_bytes():
    assert to_data_url(PNG, "image/png").startswith("data:image/png;base64,")
    with pytest.raises(DataURLError, match="image/jpeg"):
        to_data_url(PNG, "image/jpeg")
    with pytest.raises(DataURLError):
        to_data_url(b"plain text")


def payload(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png," + payload(PNG),  # not base64
        "DATA:image/png;base64," + payload(PNG),  # scheme case
        "data:text/plain;base64," + payload(PNG),  # not an image type
        "data:image/png;charset=utf-8;base64," + payload(PNG),  # extra parameter
        " data:image/png;base64," + payload(PNG),  # leading space
        "data:image/png;base64,",  # empty
        "data:image/png;base64," + payload(PNG + b"\0")[:-1],  # padding cut
        "data:image/png;base64," + payload(PNG + b"\0").rstrip("="),  # no padding
        "data:image/png;base64," + payload(PNG)[:20] + "\n" + payload(PNG)[20:],  # newline
        "data:image/png;base64," + payload(PNG).replace("A", "-", 1),  # url-safe alphabet
        "data:image/jpeg;base64," + payload(PNG),  # declared type lies
        "data:image/jpg;base64," + payload(JPEG),  # non-standard type name
        "data:image/png;base64," + payload(b"not an image at all"),
    ],
)
def test_parse_is_strict(url):
    with pytest.raises(DataURLError):
        parse_data_url(url)


def test_parse_rejects_non_canonical_trailing_bits():
    data = PNG + b"\x00"  # length % 3 == 1 leaves 4 unused bits in the last character
    text = payload(data)
    assert text.endswith("==")
    tampered = text[:-3] + chr(ord(text[-3]) + 1) + "=="
    assert base64.b64decode(tampered) == data  # the lenient stdlib decoder accepts it
    with pytest.raises(DataURLError, match="canonical"):
        parse_data_url("data:image/png;base64," + tampered)


@pytest.mark.parametrize("n", range(10))
def test_base64_chars_matches_the_encoder(n):
    assert base64_chars(n) == len(base64.b64encode(b"x" * n))


def test_overhead_is_a_third_plus_the_prefix():
    size = data_url_size(300_000, "image/jpeg")
    assert size.base64_chars == 400_000
    assert size.url_chars == 400_000 + len("data:image/jpeg;base64,")
    assert size.overhead == pytest.approx(1 / 3, abs=1e-3)
    assert data_url_size(0).overhead == 0.0


@given(st.binary(max_size=512))
def test_any_png_signed_payload_round_trips(tail):
    data = PNG[:8] + tail
    parsed = parse_data_url(to_data_url(data))
    assert parsed.data == data and parsed.mime == "image/png"
