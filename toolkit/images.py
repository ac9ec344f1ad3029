"""Load, normalize, resize and encode images for vision APIs (Pillow only, pure functions).

The pipeline is `encode_image`: read the bytes, identify the format from them (never from the
file name), decode the first frame (JPEG draft-decoded to just above the final size), apply
the EXIF orientation, bring every mode to 8-bit `L`/`RGB` (alpha composited over a background,
16/32-bit scaled by their range, CMYK/YCbCr/LAB to RGB, ICC profiles to sRGB), resize the
longest side down to `max_side` and encode as JPEG, WebP or PNG. Defaults are the seed recipe:
800 px, LANCZOS, JPEG quality 85 with `optimize=True`.

Pillow is the reference. Where pyvips is installed, `encode_image` has libvips decode and
resize colour JPEGs and 8-bit PNGs that shrink (`toolkit.libvips`): the same decisions, read
from the same header, and pixels within SSIM 0.999 of Pillow's.
"""

import builtins
import functools
import io
import math
import os
import re
import struct
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from toolkit import libvips
from toolkit.errors import (
    CorruptImageError,
    DecompressionBombError,
    EmptyImageError,
    ImageError,
    NotAnImageError,
    SettingsError,
    UnsupportedImageError,
)
from toolkit.files import MAX_IMAGE_BYTES, open_regular

Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO

MIME_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp", "png": "image/png"}
RESAMPLING = {r.name.lower(): r for r in Image.Resampling}
SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0")
JPEG_FORMATS = ("JPEG", "MPO")
SWAPPED = range(5, 9)  # EXIF orientations that swap width and height
BACKENDS = ("auto", "pillow")
# What Pillow's `ImageOps.exif_transpose` does for each EXIF orientation.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Pillow's plugins raise any of these on malformed or truncated data.
DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    MemoryError,
    struct.error,  # Pillow's header readers on truncated files (e.g. a GIF's second frame)
)
_SRGB = ImageCms.createProfile("sRGB")


FORMAT_ALIASES = {"jpg": "jpeg"}  # what people type for an output format
# WIDTHxHEIGHT in pixels, as people type it: 1024x768, 1024X768, 1024×768, 1024*768
SIZE = re.compile(r"([0-9]{1,6})\s*[xX×*]\s*([0-9]{1,6})")


def parse_size(text: str) -> tuple[int, int]:
    """`"1024x768"` (or `1024*768`, `1024×768`) -> (1024, 768); `SettingsError` otherwise."""
    match = SIZE.fullmatch(text.strip())
    if match is None or "0" in (match[1][0], match[2][0]):
        raise SettingsError(f"not a WIDTHxHEIGHT size in pixels (such as 1024x768): {text!r}")
    return int(match[1]), int(match[2])


def format_name(fmt: str) -> str:
    """An output format's name as the toolkit spells it: `JPG` is `jpeg`."""
    name = str(fmt).strip().lower()
    return FORMAT_ALIASES.get(name, name)


def mime_for(fmt: str) -> str:
    """The MIME type of an output format name (`jpeg`, `webp`, `png`; `jpg` for `jpeg`)."""
    try:
        return MIME_TYPES[format_name(fmt)]
    except KeyError:
        raise SettingsError(f"format must be one of {sorted(MIME_TYPES)}, not {fmt!r}") from None


def _check_int(name: str, value: object, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{name} must be an integer, not {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise SettingsError(f"{name} must be {bound}, not {value}")


@dataclass(frozen=True)
class EncodeSettings:
    """How to encode; validated on creation. Defaults are the seed recipe.

    `quality` is 1..95 for JPEG (Pillow advises against more) and 0..100 for WebP; PNG ignores
    it. `optimize` applies to JPEG only. `max_pixels` is the decompression-bomb limit (default
    Pillow's own); Pillow's hard stop at twice its `Image.MAX_IMAGE_PIXELS` still applies.
    `draft_factor`: JPEGs are DCT-scaled on decode to keep at least this many times the final
    size (2: pixel-equivalent to a full decode, 1: faster and slightly softer, None: off).
    `reducing_gap` is passed to Pillow's resize (None: exact resampling from the decoded size).
    `keep_grayscale` keeps `L` images in `L` for JPEG and PNG (WebP always stores RGB).
    `backend`: `auto` lets `encode_image` decode and resize colour JPEGs and 8-bit PNGs with
    libvips when pyvips is installed (faster, `benchmarks/bench_encode.py`; same flags, pixels
    within SSIM 0.999 of Pillow's); `pillow` keeps every step in Pillow, the reference.
    """

    max_side: int | None = 800
    format: str = "jpeg"
    quality: int = 85
    optimize: bool = True
    progressive: bool = False
    subsampling: str | None = None
    webp_method: int = 4
    lossless: bool = False
    png_compress_level: int = 6
    background: tuple[int, int, int] = (255, 255, 255)
    resample: str = "lanczos"
    max_pixels: int = Image.MAX_IMAGE_PIXELS or 89_478_485
    draft_factor: float | None = 2.0
    reducing_gap: float | None = None
    keep_grayscale: bool = True
    backend: str = "auto"

    def __post_init__(self) -> None:
        if self.max_side is not None:
            _check_int("max_side", self.max_side, 1)
        fmt = format_name(self.format)
        mime_for(fmt)
        object.__setattr__(self, "format", fmt)
        _check_int(
            "quality", self.quality, 1 if fmt == "jpeg" else 0, 95 if fmt == "jpeg" else 100
        )
        if self.subsampling not in (None, *SUBSAMPLINGS):
            raise SettingsError(f"subsampling must be one of {SUBSAMPLINGS} or None")
        _check_int("webp_method", self.webp_method, 0, 6)
        _check_int("png_compress_level", self.png_compress_level, 0, 9)
        background = tuple(self.background)
        if len(background) != 3:
            raise SettingsError(f"background must be an (r, g, b) triple, not {self.background!r}")
        for channel in background:
            _check_int("background channel", channel, 0, 255)
        object.__setattr__(self, "background", background)
        if self.resample not in RESAMPLING:
            raise SettingsError(f"resample must be one of {sorted(RESAMPLING)}")
        _check_int("max_pixels", self.max_pixels, 1)
        for name in ("draft_factor", "reducing_gap"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and value >= 1):
                raise SettingsError(f"{name} must be a number >= 1 or None, not {value!r}")
        if self.backend not in BACKENDS:
            raise SettingsError(f"backend must be one of {BACKENDS}, not {self.backend!r}")

    @property
    def mime(self) -> str:
        return mime_for(self.format)


DEFAULT_SETTINGS = EncodeSettings()


@dataclass(frozen=True)
class SourceImage:
    """A decoded, normalized image: 8-bit `RGB` or `L`, upright, opaque, sRGB, first frame.

    `source_width`/`source_height` are the upright size before any draft decode or resize;
    `image` may be smaller when `load_image` was given a `draft_side`. `backend` made the
    pixels: `pillow`, or `vips` (then `image` is already resized and `load_ms` includes it).
    """

    image: Image.Image
    name: str
    source_width: int
    source_height: int
    source_bytes: int
    source_format: str
    flags: tuple[str, ...]
    load_ms: float
    backend: str = "pillow"


@dataclass(frozen=True)
class EncodedImage:
    """The encoded bytes with what produced them; `timings_ms` maps stage to milliseconds.

    `backend` decoded and resized the pixels (`pillow` or `vips`); with `vips` the decode
    and the resize are one streamed pass, timed as `load`.
    """

    data: bytes = field(repr=False)
    mime: str
    width: int
    height: int
    name: str
    source_width: int
    source_height: int
    source_bytes: int
    source_format: str
    settings: EncodeSettings
    flags: tuple[str, ...]
    timings_ms: dict[str, float]
    backend: str = "pillow"

    @property
    def bytes(self) -> int:
        return len(self.data)

    @property
    def base64_chars(self) -> int:
        return 4 * math.ceil(len(self.data) / 3)

    def _repr_html_(self) -> str:  # notebooks: a thumbnail and the facts
        from toolkit.display import encoded_image_html

        return encoded_image_html(self)

    def _repr_png_(self) -> builtins.bytes:
        from toolkit.display import thumbnail_png

        return thumbnail_png(self.data)


def _read(source: Source) -> tuple[bytes, str]:
    """The source's bytes and a name for messages."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), "<bytes>"
    if isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        with _open_file(name) as handle:
            try:
                return handle.read(), name
            except OSError as exc:
                raise ImageError(name, f"cannot read: {exc.strerror or exc}") from exc
    name = str(getattr(source, "name", "<stream>"))
    try:
        data = source.read()
    except OSError as exc:
        raise ImageError(name, f"cannot read: {exc}") from exc
    if not isinstance(data, bytes):
        raise ImageError(name, "file object must be opened in binary mode")
    return data, name


def _open_file(name: str) -> BinaryIO:
    """A regular file opened for reading; anything else an `ImageError` naming it."""
    try:
        return open_regular(name, MAX_IMAGE_BYTES)
    except OSError as exc:
        raise ImageError(name, f"cannot read: {exc.strerror or exc}") from exc


def _identify(fp: BinaryIO, name: str) -> Image.Image:
    """Pillow's lazy open (the header only); its failures as `ImageError`s naming `name`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(fp)
    except UnidentifiedImageError:
        raise NotAnImageError(name, "bytes are not an image format Pillow recognises") from None
    except Image.DecompressionBombError as exc:
        raise DecompressionBombError(name, str(exc)) from None
    except DECODE_ERRORS as exc:
        raise CorruptImageError(name, f"cannot read header: {exc}") from exc


def _open(data: bytes, name: str, settings: EncodeSettings) -> Image.Image:
    """Identify the format from the bytes and enforce the pixel limit."""
    if not data:
        raise EmptyImageError(name, "file is empty (0 bytes)")
    image = _identify(io.BytesIO(data), name)
    width, height = image.size
    if width * height > settings.max_pixels:
        raise DecompressionBombError(
            name,
            f"{width}x{height} = {width * height} pixels exceeds the limit of "
            f"{settings.max_pixels} (EncodeSettings.max_pixels)",
        )
    if width < 1 or height < 1:
        raise CorruptImageError(name, f"declares an empty size {width}x{height}")
    return image


def _draft(image: Image.Image, side: int, factor: float) -> bool:
    """DCT-scale a JPEG decode so its longest side keeps >= factor * side; True if scaled."""
    width, height = image.size
    scale = side / max(width, height)
    if image.format not in JPEG_FORMATS or scale * factor >= 1:
        return False
    wanted = (math.ceil(width * scale * factor), math.ceil(height * scale * factor))
    image.draft(image.mode, wanted)
    return image.size != (width, height)


def _scale_to_8bit(image: Image.Image) -> Image.Image:
    """16/32-bit integer or float pixels to `L`, stretched over their actual min..max."""
    if image.mode.startswith("I;16"):
        image = image.convert("I")
    low, high = cast(tuple[float, float], image.getextrema())  # one band: (min, max)
    if high > low:
        scale = 255 / (high - low)
        return image.point(lambda v: v * scale - low * scale).convert("L")
    return image.convert("L")  # a constant image: clipped to 0..255, nothing to stretch


def _to_working_mode(image: Image.Image, name: str, flags: list[str]) -> Image.Image:
    """Bring any Pillow mode to `L`, `LA`, `RGB` or `RGBA` (alpha is kept for later)."""
    mode = image.mode
    if mode in ("L", "RGB") and image.has_transparency_data:
        return image.convert(mode + "A")
    if mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode.startswith(("I", "F")):
        flags.append("high_bit_depth_scaled")
        return _scale_to_8bit(image)
    if mode in ("P", "PA"):
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    if mode in ("La", "RGBa"):
        return image.convert(mode[:-1] + "A")
    if mode == "CMYK":
        flags.append("cmyk_converted")
    elif mode != "RGBX":
        flags.append(f"{mode.lower()}_converted")
    try:
        return image.convert("RGB")
    except ValueError as exc:
        raise UnsupportedImageError(name, f"cannot convert mode {mode} to RGB") from exc


_ICC_ERRORS = (ImageCms.PyCMSError, OSError, ValueError, TypeError)


def _source_profile(icc: bytes) -> ImageCms.ImageCmsProfile | None:
    """The embedded profile when pixels need converting to sRGB, None when it is sRGB
    already; one of `_ICC_ERRORS` when it is broken."""
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    if ImageCms.getProfileDescription(profile).strip().startswith("sRGB"):
        return None
    return profile


def _to_srgb(image: Image.Image, icc: bytes, flags: list[str]) -> Image.Image:
    """Convert through an embedded ICC profile to sRGB; sRGB profiles are left alone."""
    try:
        profile = _source_profile(icc)
        if profile is None:
            return image
        out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode=out_mode)
    except _ICC_ERRORS:
        converted = None
    if converted is None:
        flags.append("icc_ignored")
        return image
    flags.append("icc_converted")
    return converted


def _background_in(icc: bytes | None, background: tuple[int, int, int]) -> tuple[int, int, int]:
    """`background` in the colours of an embedded profile that `_to_srgb` converts from, so a
    composite made before that conversion (the libvips path) ends on `background`."""
    try:
        profile = _source_profile(icc) if icc else None
        if profile is None:
            return background
        pixel = ImageCms.profileToProfile(Image.new("RGB", (1, 1), background), _SRGB, profile)
    except _ICC_ERRORS:
        return background
    if pixel is None:
        return background
    red, green, blue = pixel.getpixel((0, 0))  # type: ignore[misc]
    return red, green, blue


@dataclass
class _Decoded:
    image: Image.Image  # L or RGB
    name: str
    width: int
    height: int
    nbytes: int
    fmt: str
    flags: list[str]
    backend: str = "pillow"

    def source_image(self, start: float) -> SourceImage:
        """As a `SourceImage` loaded since `start` (a `time.perf_counter()` reading)."""
        return SourceImage(
            image=self.image,
            name=self.name,
            source_width=self.width,
            source_height=self.height,
            source_bytes=self.nbytes,
            source_format=self.fmt,
            flags=tuple(self.flags),
            load_ms=(time.perf_counter() - start) * 1000,
            backend=self.backend,
        )


def _decode(
    source: Source, settings: EncodeSettings, draft_side: int | None, *, vips: bool = False
) -> _Decoded:
    """Read, decode and normalize; `draft_side` as in `load_image`. With `vips`, an image
    `libvips` can take comes back already resized to fit `draft_side` (see `_vips_takes`)."""
    data, name = _read(source)
    image = _open(data, name, settings)
    if vips and draft_side is not None and _vips_takes(image, data, settings, draft_side):
        try:
            return _decode_vips(image, data, name, settings, draft_side)
        except CorruptImageError:  # Pillow decides whether the file is usable
            image = _open(data, name, settings)
    return _decode_pillow(image, data, name, settings, draft_side)


def _decode_pillow(
    image: Image.Image, data: bytes, name: str, settings: EncodeSettings, draft_side: int | None
) -> _Decoded:
    fmt = image.format or "unknown"
    flags: list[str] = []
    try:
        if getattr(image, "is_animated", False):
            flags.append("first_frame_only")
        src_w, src_h = image.size
        if (
            draft_side
            and settings.draft_factor
            and _draft(image, draft_side, settings.draft_factor)
        ):
            flags.append("draft_decoded")
        image.load()
        icc = image.info.get("icc_profile")
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        if orientation in range(2, 9):
            image = ImageOps.exif_transpose(image)
            flags.append("exif_rotated")
            if orientation in SWAPPED:
                src_w, src_h = src_h, src_w
        image = _to_working_mode(image, name, flags)
    except DECODE_ERRORS as exc:
        raise CorruptImageError(name, f"cannot decode {fmt}: {exc}") from exc
    if icc and image.mode in ("RGB", "RGBA"):
        image = _to_srgb(image, icc, flags)
    if image.mode in ("LA", "RGBA"):
        if cast(tuple[int, int], image.getchannel("A").getextrema())[0] < 255:
            flags.append("alpha_flattened")
            image = flatten_alpha(image, settings.background)
        else:  # an alpha channel that hides nothing
            image = image.convert(image.mode[:-1])
    return _Decoded(image, name, src_w, src_h, len(data), fmt, flags)


def _vips_takes(
    image: Image.Image, data: bytes, settings: EncodeSettings, draft_side: int | None
) -> bool:
    """Whether libvips can do what the Pillow path would, faster: a single-frame 8-bit colour
    JPEG or PNG (RGB, or RGBA without palette or colour-key transparency, and no orientation
    after the pixels) that shrinks with LANCZOS and no reducing gap, when pyvips is
    installed. Grey images stay with Pillow: its one-channel resize beats libvips'."""
    if draft_side is None or fit_size(*image.size, draft_side) == image.size:
        return False
    if settings.resample != "lanczos" or settings.reducing_gap is not None:
        return False
    if image.format == "JPEG":
        plain = image.mode == "RGB"
    elif image.format == "PNG":
        plain = (
            image.mode in ("RGB", "RGBA")
            and not getattr(image, "is_animated", False)
            and "transparency" not in image.info
            and _png_pixels_last(data)
        )
    else:
        plain = False
    return plain and libvips.available()


def _png_pixels_last(data: bytes) -> bool:
    """An 8-bit PNG with no orientation after its pixel data (an `eXIf` chunk, or text keyed
    as XMP or an EXIF profile, which Pillow reads only when it decodes), so the header as
    Pillow opened it holds every orientation (profiles must precede the pixels)."""
    if len(data) < 33 or data[24] != 8:  # IHDR bit depth
        return False
    position, pixels_seen = 8, False
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if kind == b"IEND":
            return pixels_seen
        if kind == b"IDAT":
            pixels_seen = True
        elif pixels_seen and (kind == b"eXIf" or data.startswith(_LATE_KEYS, position + 8)):
            return False
        position += 12 + length
    return False


_LATE_KEYS = (b"XML:com.adobe.xmp\0", b"Raw profile type exif\0")


def _decode_vips(
    image: Image.Image, data: bytes, name: str, settings: EncodeSettings, side: int
) -> _Decoded:
    """`_decode_pillow`'s result resized to fit `side`, the pixels made by libvips: decisions
    come from the header Pillow opened (draft scale, orientation, profile), so the flags are
    the same; the profile and the orientation are applied after the resize."""
    flags: list[str] = []
    src_w, src_h = image.size
    shrink = 1
    if settings.draft_factor and _draft(image, side, settings.draft_factor):
        flags.append("draft_decoded")
        shrink = image.decoderconfig[0]  # type: ignore[attr-defined]
    # The base-class reader: PNG's own would decode the pixels to look for late metadata.
    orientation = Image.Image.getexif(image).get(ExifTags.Base.Orientation, 1)
    turned = orientation in range(5, 9)
    upright = (src_h, src_w) if turned else (src_w, src_h)
    width, height = fit_size(*upright, side)
    icc = image.info.get("icc_profile")
    pixels, flattened = libvips.resize(
        data,
        name,
        shrink=shrink,
        size=(height, width) if turned else (width, height),
        background=_background_in(icc, settings.background),
        transposed=turned,
    )
    if orientation in range(2, 9):
        pixels = pixels.transpose(_TRANSPOSE[orientation])
        flags.append("exif_rotated")
    if icc:
        pixels = _to_srgb(pixels, icc, flags)
    if flattened:
        flags.append("alpha_flattened")
    fmt = image.format or "JPEG"  # libvips only takes what Pillow identified
    return _Decoded(pixels, name, *upright, len(data), fmt, flags, backend="vips")


def flatten_alpha(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Composite `LA`/`RGBA` over an opaque background (straight alpha); `LA` stays grey when
    the background is grey. Other modes are returned unchanged."""
    if image.mode not in ("LA", "RGBA"):
        return image
    if image.mode == "LA" and len(set(background)) == 1:
        base = Image.new("L", image.size, background[0])
    else:
        base = Image.new("RGB", image.size, background)
    base.paste(image, mask=image)  # the mask is the image's own alpha band
    return base


def fit_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """The size `resize_image` gives a `width` x `height` image: the longest side at most
    `max_side` (None: unchanged), aspect kept, never enlarged, each side at least 1."""
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_image(
    image: Image.Image,
    max_side: int | None,
    resample: str = "lanczos",
    reducing_gap: float | None = None,
) -> Image.Image:
    """Shrink so the longest side is at most `max_side`; never enlarges, keeps the aspect."""
    size = fit_size(*image.size, max_side)
    if size == image.size:
        return image
    try:
        filter_ = RESAMPLING[resample]
    except KeyError:
        raise SettingsError(f"resample must be one of {sorted(RESAMPLING)}") from None
    return image.resize(size, filter_, reducing_gap=reducing_gap)


def encode_pixels(
    image: Image.Image, settings: EncodeSettings, *, name: str = "<pixels>"
) -> bytes:
    """Encode a normalized `L`/`RGB` image with the settings' format and options."""
    if image.mode not in ("L", "RGB"):
        raise UnsupportedImageError(name, f"mode {image.mode} must be normalized first")
    if image.mode == "L" and (settings.format == "webp" or not settings.keep_grayscale):
        image = image.convert("RGB")
    options: dict[str, object]
    if settings.format == "jpeg":
        options = {
            "quality": settings.quality,
            "optimize": settings.optimize,
            "progressive": settings.progressive,
        }
        if settings.subsampling is not None:
            options["subsampling"] = settings.subsampling
    elif settings.format == "webp":
        options = {
            "quality": settings.quality,
            "method": settings.webp_method,
            "lossless": settings.lossless,
        }
    else:
        options = {"compress_level": settings.png_compress_level}
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=settings.format.upper(), **options)
    except (OSError, ValueError) as exc:
        raise UnsupportedImageError(name, f"cannot encode as {settings.format}: {exc}") from exc
    return buffer.getvalue()


def read_size(path: str | os.PathLike) -> tuple[int, int]:
    """Width and height of an image file as displayed (EXIF orientations 5-8 swap them), from
    its header alone: no pixel is decoded. Failures are `ImageError`s, as `encode_image`'s."""
    name = os.fspath(path)
    with _open_file(name) as handle:
        if not handle.read(1):
            raise EmptyImageError(name, "file is empty (0 bytes)")
        handle.seek(0)
        with _identify(handle, name) as image:
            width, height = image.size
            try:  # PNG keeps eXIf after the pixels unless it is in the header: not read
                exif = image.getexif() if image.format != "PNG" or "exif" in image.info else {}
                orientation = exif.get(ExifTags.Base.Orientation, 1)
            except DECODE_ERRORS as exc:
                raise CorruptImageError(name, f"cannot read header: {exc}") from exc
    return (height, width) if orientation in SWAPPED else (width, height)


def load_image(
    source: Source, settings: EncodeSettings = DEFAULT_SETTINGS, *, draft_side: int | None = None
) -> SourceImage:
    """Decode and normalize a path, bytes or binary file object.

    `draft_side` is the longest side the caller will resize to: JPEGs then decode at the
    smallest DCT scale that keeps `settings.draft_factor` times that side.
    """
    start = time.perf_counter()
    decoded = _decode(source, settings, draft_side)
    if decoded.image.mode == "L" and not settings.keep_grayscale:
        decoded.image = decoded.image.convert("RGB")
    return decoded.source_image(start)


def encode_image(source: Source, settings: EncodeSettings = DEFAULT_SETTINGS) -> EncodedImage:
    """The whole pipeline: load, normalize, resize, encode (decode and resize by libvips
    where `settings.backend` allows and it applies, see `EncodeSettings`)."""
    start = time.perf_counter()
    decoded = _decode(source, settings, settings.max_side, vips=settings.backend == "auto")
    return encode_source(decoded.source_image(start), settings)


def encode_source(
    source: SourceImage, settings: EncodeSettings = DEFAULT_SETTINGS
) -> EncodedImage:
    """Resize and encode a loaded image; its `load_ms` becomes the `load` timing."""
    start = time.perf_counter()
    image = resize_image(source.image, settings.max_side, settings.resample, settings.reducing_gap)
    resized = time.perf_counter()
    data = encode_pixels(image, settings, name=source.name)
    encoded = time.perf_counter()
    return EncodedImage(
        data=data,
        mime=settings.mime,
        width=image.width,
        height=image.height,
        name=source.name,
        source_width=source.source_width,
        source_height=source.source_height,
        source_bytes=source.source_bytes,
        source_format=source.source_format,
        settings=settings,
        flags=source.flags,
        timings_ms={
            "load": source.load_ms,
            "resize": (resized - start) * 1000,
            "encode": (encoded - resized) * 1000,
        },
        backend=source.backend,
    )


# Extensions every Pillow build registers (a test checks), known without importing all of
# Pillow's plugins: that import (~40 ms) is only paid for a name outside this set.
COMMON_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp"})


@functools.cache
def _image_suffixes() -> frozenset[str]:
    return frozenset(ext.lower() for ext in Image.registered_extensions())


def has_image_suffix(name: str | os.PathLike) -> bool:
    """Whether a file name ends with an image extension Pillow knows (any case)."""
    suffix = os.path.splitext(name)[1].lower()
    return suffix in COMMON_SUFFIXES or (bool(suffix) and suffix in _image_suffixes())


def iter_image_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Files as given (any name; the format comes from the bytes) and, inside folders, every
    non-hidden file with an image extension Pillow knows, sorted. Missing paths and folders
    that cannot be listed are yielded too, so that loading them reports the error in order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(_walk(path))
        else:
            yield path


def _walk(root: Path) -> Iterator[Path]:
    """Image files under `root` (hidden names skipped) and the folders that cannot be listed."""
    unlisted: list[OSError] = []
    for folder, subfolders, names in os.walk(root, onerror=unlisted.append):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        for name in names:
            path = Path(folder, name)
            if not name.startswith(".") and has_image_suffix(name) and path.is_file():
                yield path
    yield from (Path(exc.filename) for exc in unlisted)
