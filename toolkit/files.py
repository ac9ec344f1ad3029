"""Opening the files a user names: regular files only, of a bounded size.

A FIFO would block the reader until someone writes to it and `/dev/zero` never ends, so any
file that is not a regular file is refused with an `OSError` naming it (the callers turn it
into their own typed error). Opening never blocks: the check happens on the open descriptor.
A file larger than the reader's limit (a 6 GB sparse file with an image header) is refused
from its size, before a byte is read, instead of ending in a `MemoryError`.
"""

import errno
import io
import os
import stat

MiB = 1 << 20
# The largest image the pixel limit admits (89.5 Mpx), stored uncompressed at 4 channels of
# 16 bits, is 716 MB: no usable image file is larger.
MAX_IMAGE_BYTES = 1024 * MiB
MAX_TABLE_BYTES = 1024 * MiB  # a sweep's CSV: about 2 million rows
MAX_SETTINGS_BYTES = 4 * MiB  # rule, price and preset files (the largest built-in: 20 kB)
MAX_CACHE_BYTES = 64 * MiB  # one sweep cache entry or OCR reading

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _refuse_irregular(mode: int, path: str | os.PathLike) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a file")
    code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
    raise OSError(code, f"not a regular file ({kind})", os.fspath(path))


def check_regular(path: str | os.PathLike) -> None:
    """Raise `OSError` unless `path` is a regular file (for libraries that open by name)."""
    _refuse_irregular(os.stat(path).st_mode, path)


def open_regular(path: str | os.PathLike, max_bytes: int | None = None) -> io.BufferedReader:
    """`path` opened for binary reading; `OSError` if it cannot be, is not a regular file or
    holds more than `max_bytes` (None: no limit)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        _refuse_irregular(info.st_mode, path)
        if max_bytes is not None and info.st_size > max_bytes:
            raise OSError(
                errno.EFBIG,
                f"file too large ({info.st_size:,} bytes; the limit is {max_bytes:,})",
                os.fspath(path),
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (see `open_regular`); a file that
    grows past the limit while it is read is refused too."""
    with open_regular(path, max_bytes) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OSError(errno.EFBIG, f"file too large (over {max_bytes:,} bytes)", os.fspath(path))
    return data
