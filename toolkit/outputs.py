"""Output files that never destroy inputs and appear whole or not at all.

`atomic_path`, `write_atomic` and `AtomicFile` write a hidden temporary file beside the
target, flush it to disk and rename it into place: a crash, a kill or a full disk leaves the
old file or the new one, never a part of one (a leftover temporary is hidden, so folder walks
skip it). `refuse_inputs` stops a run before any work when an output would replace an input
or land in a folder read as input; `unique_targets` gives each of a run's outputs its own
name.
"""

import errno
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from toolkit.errors import OutputError


def _temporary(target: Path) -> Path:
    """A new, empty hidden file beside `target` (mode from the umask, as `open` would)."""
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return temp


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """A temporary path to write `target`'s content to; on leaving the block it is synced
    and renamed to `target`, or removed if the block raised. A failure to write is an
    `OutputError` naming `target` and the reason (`No space left on device`, ...)."""
    target = Path(target)
    temp = _start(target)
    try:
        yield temp
        _sync(temp)
        os.replace(temp, target)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise not_written(target, exc) from exc
        raise


def _start(target: Path) -> Path:
    """The temporary file `target` is written through (its folder made if needed)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return _temporary(target)
    except OSError as exc:
        raise not_written(target, exc) from exc


class AtomicFile:
    """A binary file written in several steps, whole or not at all: `write` to it, then
    `commit()` (synced and renamed into place) or `discard()` (removed). A failure to write is
    an `OutputError` naming the target (the temporary is removed)."""

    def __init__(self, target: str | os.PathLike):
        self.target = Path(target)
        self.temp = _start(self.target)
        self.handle = self.temp.open("wb")

    def write(self, data: bytes) -> None:
        try:
            self.handle.write(data)
        except OSError as exc:
            self.discard()
            raise not_written(self.target, exc) from exc

    def commit(self) -> None:
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            os.replace(self.temp, self.target)
        except OSError as exc:
            self.discard()
            raise not_written(self.target, exc) from exc

    def discard(self) -> None:
        self.handle.close()
        self.temp.unlink(missing_ok=True)


def write_atomic(target: str | os.PathLike, data: bytes | str) -> None:
    """Write `data` (text as UTF-8) to `target` whole or not at all (see `atomic_path`)."""
    with atomic_path(target) as temp:
        temp.write_bytes(data.encode() if isinstance(data, str) else data)


def not_written(target: str | os.PathLike, exc: OSError) -> OutputError:
    """The `OutputError` for an output the system refused (a full disk, no permission)."""
    code = exc.errno or errno.EIO
    return OutputError(code, f"not written: {exc.strerror or exc}", os.fspath(target))


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def refuse_inputs(
    inputs: Iterable[object], writes: Callable[[Path], bool], folder: Path | None = None
) -> None:
    """`OutputError` before any work when an output of the run would replace one of its input
    files (`writes(resolved input)` is true) or, given the run's output `folder`, that folder
    is an input folder or inside one (its outputs would be read, and encoded again, by the
    next run). Inputs that are not local paths (URLs) are skipped."""
    from toolkit.sources import is_url  # (it loads Pillow: only when there are inputs)

    destination = folder.resolve() if folder is not None else None
    for given in inputs:
        if not isinstance(given, str | os.PathLike) or is_url(given):
            continue
        path = Path(given).resolve()
        if destination is not None and path.is_dir() and _under(destination, path):
            raise OutputError(
                errno.EEXIST,
                f"is, or is inside, the input folder {given}: its outputs would be read as inputs "
                "(and could replace them); choose a folder outside the inputs",
                str(folder),
            )
        if path.is_file() and writes(path):
            raise OutputError(errno.EEXIST, "an output of this run would replace it", str(given))


def unique_targets(targets: Sequence[Path], sources: Sequence[Path]) -> list[Path]:
    """`targets` (one per source) with clashes resolved, deterministically in input order:
    a target no other source shares keeps its name; clashing ones keep their source's suffix
    (`y.png` -> `y.png.jpg` beside `y.jpg`), then, if they still clash, gain `-2`, `-3`, ...
    before the suffix. No two results are equal."""
    counts = Counter(targets)
    used = {t for t in targets if counts[t] == 1}
    unique = []
    for target, source in zip(targets, sources, strict=True):
        if counts[target] == 1:
            unique.append(target)
            continue
        candidate = target
        if source.suffix.lower() != target.suffix.lower():
            candidate = target.with_name(source.name + target.suffix)
        number = 1
        while candidate in used:
            number += 1
            candidate = target.with_name(f"{target.stem}-{number}{target.suffix}")
        used.add(candidate)
        unique.append(candidate)
    return unique
