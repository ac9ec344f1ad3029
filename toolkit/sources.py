"""Where a sweep's images come from: local files and folders, or fsspec URLs, and samples.

A local image is read by the process that runs the sweep (once: it is hashed for the cache
and the same bytes go to the worker), so workers on other machines never need its path. A
URL (`file://`, `s3://` where `s3fs` is installed, any filesystem `fsspec` knows) is read by
the worker itself, so a cluster next to a bucket never routes the pixels through the machine
that runs the sweep. Folders and URL prefixes are walked the same way: files with an image
extension Pillow knows, hidden names skipped, sorted. `fsspec` is imported only for URLs.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath

from toolkit.errors import SettingsError
from toolkit.images import has_image_suffix, iter_image_files

Source = Path | str  # a local file, or a URL (str) read through fsspec
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(text: object) -> bool:
    """True for `protocol://...` text (a URL to read through fsspec)."""
    return isinstance(text, str) and _URL.match(text) is not None


def _fsspec():
    try:
        import fsspec
    except ImportError:
        raise SettingsError(
            "image URLs need the fsspec package (pip install fsspec; s3:// also needs s3fs)"
        ) from None
    return fsspec


def _filesystem(url: str):
    """(filesystem, path inside it) for a URL; `SettingsError` when no filesystem serves it."""
    try:
        return _fsspec().core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # an unknown protocol, or its package missing
        raise SettingsError(f"{url}: cannot open this URL: {exc}") from None


def _walk_url(url: str) -> list[str]:
    """The image files a URL names: itself when it is a file, else those under it."""
    fs, root = _filesystem(url)
    try:
        if not fs.isdir(root):
            return [url]
        found = fs.find(root)
    except OSError as exc:
        raise SettingsError(f"{url}: cannot list: {exc}") from None
    base = PurePosixPath(root)
    images = []
    for name in found:
        relative = PurePosixPath(name).relative_to(base) if name != root else PurePosixPath()
        hidden = any(part.startswith(".") for part in relative.parts)
        if not hidden and has_image_suffix(relative.name):  # as local folders
            images.append(fs.unstrip_protocol(name))
    return sorted(images)


def iter_sources(inputs: Iterable[str | os.PathLike]) -> Iterator[Source]:
    """Every image the inputs name, in order: local files and folders as
    `images.iter_image_files` walks them (Paths), URLs and URL prefixes (str)."""
    for item in inputs:
        if is_url(item):
            yield from _walk_url(str(item))
        else:
            yield from iter_image_files([item])


def list_images(inputs: Iterable[str | os.PathLike]) -> list[Source]:
    """`iter_sources` as a list."""
    return list(iter_sources(inputs))


def read_url(url: str) -> bytes:
    """The bytes at a URL (`OSError` when they cannot be read)."""
    fs, path = _filesystem(url)
    return fs.cat_file(path)


def url_fingerprint(url: str) -> str:
    """A value that changes whenever the object at `url` may have changed (its filesystem's
    checksum: an ETag on S3, size and times elsewhere); `OSError` when it cannot be had."""
    fs, path = _filesystem(url)
    return f"{url}\n{fs.checksum(path)}"


def display_name(source: Source) -> str:
    """The file name of a path or URL."""
    return Path(source).name if isinstance(source, Path) else PurePosixPath(source).name


def folder_name(source: Source) -> str:
    """The name of the folder holding a path or URL (an image's default category)."""
    if isinstance(source, Path):
        return source.parent.name
    return PurePosixPath(source.split("://", 1)[-1]).parent.name


def sample_images(images: Sequence[Source], count: int, seed: int = 0) -> list[Source]:
    """A reproducible random sample of `count` of `images`, kept in their order (the same
    listing, count and seed always give the same images); all of them when `count` is 0 or
    not smaller than their number."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise SettingsError(f"sample must be a whole number >= 0, not {count!r}")
    if count == 0 or count >= len(images):
        return list(images)
    chosen = sorted(random.Random(seed).sample(range(len(images)), count))
    return [images[i] for i in chosen]
