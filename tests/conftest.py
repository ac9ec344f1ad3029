"""Shared fixtures: small generated images, including the adversarial kinds users really send."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

# EXIF orientation -> how the stored pixels relate to the upright picture. Storing
# `upright.transpose(STORE[o])` makes a reader that applies orientation `o` see `upright`.
STORE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def quadrants(size: tuple[int, int] = (120, 80)) -> Image.Image:
    """An asymmetric RGB picture: red top-left, green top-right, blue bottom-left, white
    bottom-right, so every flip and rotation is distinguishable."""
    width, height = size
    image = Image.new("RGB", size, WHITE)
    image.paste(RED, (0, 0, width // 2, height // 2))
    image.paste(GREEN, (width // 2, 0, width, height // 2))
    image.paste(BLUE, (0, height // 2, width // 2, height))
    return image


def to_bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares `width` x `height` but carries no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def run_cli(*argv) -> int:
    """`toolkit ARGV...` in this process: its exit code, argparse's usage errors (2) included."""
    from toolkit.cli import main

    try:
        return main([str(arg) for arg in argv])
    except SystemExit as exit_:
        return exit_.code


def frames(colours, size=(40, 30), mode="RGB"):
    return [Image.new(mode, size, colour) for colour in colours]


@pytest.fixture
def write(tmp_path: Path):
    """write(name, data_or_image, fmt=None, **save_options) -> path in tmp_path."""

    def _write(name: str, content, fmt: str | None = None, **options) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Image.Image):
            content = to_bytes(content, fmt or "PNG", **options)
        path.write_bytes(content)
        return path

    return _write
