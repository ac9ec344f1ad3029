"""One writer at a time per file, across processes: an exclusive `flock` held for the run.

A second run on the same file is refused at once with an `OutputError` naming the file,
instead of both writing into it. The lock goes with the descriptor: closing it, or the
process ending however it ends (SIGKILL included), releases it.
"""

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toolkit.errors import OutputError

FLAGS = os.O_RDWR | os.O_CREAT  # the file is created when missing, never truncated


def lock_file(path: str | os.PathLike, flags: int = FLAGS) -> int:
    """A descriptor of `path` (opened with `flags`) holding its exclusive lock; `OutputError`
    if another process holds it. A file renamed or removed while this waited for the lock is
    opened again, so the lock is always on the file now at `path`."""
    path = Path(path)
    while True:
        fd = os.open(path, flags, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _same(fd, path):
                return fd
        except BlockingIOError:
            os.close(fd)
            raise OutputError(
                errno.EBUSY,
                "another run is writing it; wait for that run to end, or choose another file",
                str(path),
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _same(fd: int, path: Path) -> bool:
    """True while `path` still names the file open as `fd`."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


@contextmanager
def locked(path: str | os.PathLike, flags: int = FLAGS) -> Iterator[int]:
    """`lock_file(path, flags)` for the block; the descriptor is closed (the lock released)
    after it."""
    fd = lock_file(path, flags)
    try:
        yield fd
    finally:
        os.close(fd)
