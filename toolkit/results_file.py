"""The results file of `toolkit.client.send_requests`: what was answered, kept whatever happens.

- One writer at a time: the file is locked for the run (`toolkit.locks`); a second run on it
  is an `OutputError` naming it, so two runs never both send everything.
- Whole lines only: each record is one write, synced to disk before the next request is
  counted as done. A write the disk refuses is cut back off, so no torn line is left; a torn
  last line left by a killed process is cut off when the file is opened again.
- Room before sending: on Linux, disk space for the records of the requests in flight is
  reserved past the end of the file (`fallocate` with `FALLOC_FL_KEEP_SIZE`) before another
  request is sent, and released at the end. A disk that fills up stops the run before it
  sends a request whose answer it could not record.
"""

import ctypes
import errno
import os
from pathlib import Path

from toolkit.errors import OutputError
from toolkit.locks import lock_file
from toolkit.outputs import not_written

RESERVE_BYTES = 64 * 1024  # room kept per request in flight (a record is a few kB)
_KEEP_SIZE, _PUNCH_HOLE = 0x01, 0x02  # <linux/falloc.h>
_TAIL = 64 * 1024  # bytes read at a time looking back for the last whole line


def _fallocate():
    """libc's `fallocate`, or None where there is none (not Linux)."""
    function = getattr(ctypes.CDLL(None, use_errno=True), "fallocate", None)
    if function is not None:
        function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    return function


_FALLOCATE = _fallocate()


def _allocate(fd: int, mode: int, offset: int, length: int) -> None:
    """`fallocate(fd, mode | KEEP_SIZE, offset, length)`; `OSError` when the disk refuses,
    nothing where the system or file system cannot reserve space."""
    if _FALLOCATE is None or length <= 0:
        return
    if _FALLOCATE(fd, mode | _KEEP_SIZE, offset, length) != 0:
        code = ctypes.get_errno()
        if code not in (errno.EOPNOTSUPP, errno.ENOSYS):
            raise OSError(code, os.strerror(code))


def _whole_lines(fd: int) -> int:
    """Cut a torn last line off the file open as `fd`; its size after that."""
    size = os.fstat(fd).st_size
    end = size
    while end > 0:
        start = max(0, end - _TAIL)
        newline = os.pread(fd, end - start, start).rfind(b"\n")
        if newline >= 0:
            end = start + newline + 1
            break
        end = start
    if end != size:
        os.ftruncate(fd, end)
    return end


class ResultsFile:
    """An append-only JSONL results file, locked, repaired and reserved (see the module)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = lock_file(path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
        except OutputError:
            raise
        except OSError as exc:
            raise not_written(path, exc) from exc
        try:
            self.size = _whole_lines(self.fd)
        except BaseException:
            os.close(self.fd)
            raise
        self.reserved_to = self.size  # disk is held up to here, past the end of the file

    def reserve(self, records: int) -> None:
        """Hold room for `records` more records; `OSError` (no space) if the disk has none."""
        wanted = records * RESERVE_BYTES
        _allocate(self.fd, 0, self.size, wanted)
        self.reserved_to = max(self.reserved_to, self.size + wanted)

    def write(self, line: bytes) -> None:
        """Append one whole line and sync it; on failure the file is left as it was."""
        try:
            if os.write(self.fd, line) != len(line):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.fsync(self.fd)
        except OSError:
            os.ftruncate(self.fd, self.size)
            raise
        self.size += len(line)

    def close(self) -> None:
        """Give the unused reservation back and release the lock."""
        try:
            _allocate(self.fd, _PUNCH_HOLE, self.size, self.reserved_to - self.size)
        finally:
            os.close(self.fd)
