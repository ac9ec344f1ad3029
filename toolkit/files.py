"""Opening the files a user names: regular files only.

A FIFO would block the reader until someone writes to it and `/dev/zero` never ends, so any
file that is not a regular file is refused with an `OSError` naming it (the callers turn it
into their own typed error). Opening never blocks: the check happens on the open descriptor.
"""

import errno
import io
import os
import stat

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


def open_regular(path: str | os.PathLike) -> io.BufferedReader:
    """`path` opened for binary reading; `OSError` if it cannot be or is not a regular file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        _refuse_irregular(os.fstat(fd).st_mode, path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
