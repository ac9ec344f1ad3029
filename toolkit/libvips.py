"""The libvips pixel engine behind `toolkit.images.encode_image` (pyvips, loaded on first use).

For a colour JPEG or 8-bit PNG that must shrink, libvips decodes and resizes in one streamed pass
(JPEG shrink-on-load at the DCT scale Pillow's draft would pick; alpha flattened before a
lanczos3 resize with no reducing gap, one axis after the other: all as Pillow's path does),
faster than Pillow (`benchmarks/bench_encode.py`); only images with alpha are held in memory
at full size, once, to check whether any pixel is transparent. `toolkit.images` decides every
normalization from the header, as for the Pillow path: the flags are the same.

On first use the libvips operation cache is turned off (a repeated input must be decoded
again, and memory stays flat) and libvips runs one worker thread per call: `toolkit`
parallelises across images, so each call uses one core.
"""

import functools
import sys

from PIL import Image

from toolkit.errors import CorruptImageError

# Whether libvips may have started its worker threads in this process: at its first
# operation, or earlier if someone else imported pyvips before `toolkit` did.
_threads = {"may_run": False}


@functools.cache
def _pyvips():
    """The configured `pyvips` module, or None where it cannot load (no wheel, no libvips)."""
    _threads["may_run"] |= "pyvips" in sys.modules
    try:
        import pyvips  # type: ignore[import-untyped]
    except (ImportError, OSError):
        return None
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    return pyvips


def fork_safe() -> bool:
    """Whether a child forked now cannot hang on libvips: it has started no thread here
    (loading and configuring pyvips starts none; its first operation does)."""
    if "pyvips" in sys.modules:
        _pyvips()  # the first call notes whether someone else had imported it already
    return not _threads["may_run"]


def available() -> bool:
    """Whether pyvips and its libvips load here."""
    return _pyvips() is not None


def version() -> str | None:
    """The libvips version in use, or None."""
    vips = _pyvips()
    return None if vips is None else ".".join(str(vips.version(i)) for i in range(3))


def resize(
    data: bytes,
    name: str,
    *,
    shrink: int,
    size: tuple[int, int],
    background: tuple[int, int, int],
    transposed: bool = False,
) -> tuple[Image.Image, bool]:
    """Decode `data` (an RGB or RGBA image: JPEG DCT-scaled by `shrink`, or PNG), flatten
    any alpha over `background`, resize to `size` with lanczos3, and return the `RGB` Pillow
    image and whether some pixel was transparent.

    `transposed`: the stored pixels are the picture transposed (EXIF orientations 5-8).
    """
    vips = _pyvips()
    _threads["may_run"] = True
    try:
        image = _load(vips, data, shrink)
        image, flattened = _opaque(image, background)
        image = _reduce(image, size, columns_first=transposed)
        pixels = image.write_to_memory()
    except vips.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "libvips error"
        raise CorruptImageError(name, f"cannot decode: {reason}") from None
    shape = (image.width, image.height)
    return Image.frombuffer("RGB", shape, pixels, "raw", "RGB", 0, 1), flattened


def _load(vips, data: bytes, shrink: int):
    """The decoder over `data` itself (a `*load_buffer` would copy it first)."""
    source = vips.Source.new_from_memory(data)
    if data.startswith(b"\x89PNG"):
        return vips.Image.pngload_source(source, fail_on="truncated", access="sequential")
    return vips.Image.jpegload_source(
        source, shrink=shrink, fail_on="truncated", access="sequential"
    )


def _reduce(image, size: tuple[int, int], *, columns_first: bool):
    """Lanczos3 to `size`, one axis after the other in Pillow's order: the upright picture's
    rows first (the result is rounded to 8 bits between the passes, in both)."""
    width, height = size
    if columns_first:
        image = _reduce_columns(image, height)
        return image.reduceh(image.width / width, kernel="lanczos3")
    image = image.reduceh(image.width / width, kernel="lanczos3")
    return _reduce_columns(image, height)


def _reduce_columns(image, height: int):
    """The vertical pass, behind a line cache: each strip it makes reads rows the strip
    before it read, which would otherwise be computed again by everything feeding it (the
    same pixels; a 12 MP photo takes 49 ms instead of 54, a 2400 px RGBA PNG 173 instead
    of 200)."""
    image = image.linecache(tile_height=16, access="sequential")
    return image.reducev(image.height / height, kernel="lanczos3")


def _opaque(image, background: tuple[int, int, int]):
    """RGB: composited over `background` when some pixel is transparent (the image is
    decoded into memory once for that check), else the alpha band dropped."""
    if image.bands != 4:
        return image, False
    image = image.copy_memory()
    if image.extract_band(3).min() == 255:
        return image.extract_band(0, n=3), False
    # In float, rounded: libvips' 8-bit flatten truncates, Pillow's composite rounds.
    flat = image.cast("float").flatten(background=list(background))
    return flat.rint().cast("uchar"), True
