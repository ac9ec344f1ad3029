"""Helpers the tests share: generated images (the adversarial kinds users really send), the
CLI in process and in a child process, raw HTTP to the emulator, and process inspection."""

import base64
import ctypes
import http.client
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

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


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, body and CRC."""
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares `width` x `height` but carries no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def run_cli(*argv) -> int:
    """`toolkit ARGV...` in this process: its exit code, argparse's usage errors (2) included."""
    from toolkit.cli import main

    try:
        return main([str(arg) for arg in argv])
    except SystemExit as exit_:
        return exit_.code


def frames(colours, size=(40, 30), mode="RGB"):
    return [Image.new(mode, size, colour) for colour in colours]


KEY_HEADER = {"Authorization": "Bearer sk-adversarial"}


def png(size=(48, 32), colour=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def huge_png(side: int) -> bytes:
    """A real, decodable greyscale PNG of side x side black pixels, compressed to a few
    hundred KB and built row by row (never holding the pixels)."""
    packer = zlib.compressobj(9)
    row = bytes(side + 1)  # filter byte 0, then the row
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def chat_body(url: str, detail: str = "high", model: str = "gpt-4o", **extra) -> dict:
    part = {"type": "image_url", "image_url": {"url": url, "detail": detail}}
    content = [{"type": "text", "text": "Describe"}, part]
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def request(port: int, method: str, path: str, body: bytes | None = None, headers=None):
    """(status, parsed JSON answer) of one HTTP request made with http.client."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, body=body, headers={**KEY_HEADER, **(headers or {})})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def post_json(port: int, path: str, body: object, headers=None):
    return request(port, "POST", path, json.dumps(body).encode(), headers)


def raw_exchange(port: int, data: bytes, timeout: float = 20) -> tuple[int, dict]:
    """Send `data` as is on a fresh connection; (status, JSON body) of the answer (a
    connection closed without one raises `http.client.RemoteDisconnected`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        return answer.status, json.loads(answer.read())


def error_of(answer: dict) -> dict:
    """The OpenAI-shaped error object, checked for its four fields."""
    error = answer["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def without_dac_override() -> None:
    """`preexec_fn` that makes a root child obey file permissions (drops CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH from its bounding set), so chmod 000 means what it says."""
    if os.geteuid() != 0:
        return
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    for capability in (1, 2):
        if prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def toolkit(*argv, **options) -> subprocess.CompletedProcess:
    """`python -m toolkit ARGV...` in a child process, text captured."""
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=options.pop("timeout", 120),
        **options,
    )


def start(*argv, **options) -> subprocess.Popen:
    """`python -m toolkit ARGV...` started in its own session (as a terminal's job), text
    output captured; see `interrupt`."""
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **options,
    )


def interrupt(process: subprocess.Popen, signum: int = signal.SIGINT) -> tuple[str, str]:
    """Ctrl-C as a terminal sends it (to the whole process group), or another signal; the
    captured output."""
    os.killpg(process.pid, signum)
    return process.communicate(timeout=60)


def wait_for(condition, timeout: float = 60) -> None:
    """Poll `condition` until it holds (an assertion error after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (Linux /proc)."""
    found, todo = set(), [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            found.update(map(int, children))
            todo.extend(map(int, children))
    return found


def running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise LookupError("no VmHWM")


def fill(disk: Path, leave: int) -> Path:
    """Fill the file system of `disk` until `leave` bytes (a whole number of pages) are free;
    the filler file, to remove when room is wanted again."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (free - leave))
    return filler
