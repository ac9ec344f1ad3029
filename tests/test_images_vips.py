"""encode_image's libvips path against Pillow's, the reference: same flags, geometry,
orientation, alpha and colour handling, pixels within SSIM 0.999; and where it must not run."""

import io
import struct
import subprocess
import sys
import zlib
from concurrent.futures import Executor

import numpy as np
import pytest
from helpers import BLUE, GREEN, RED, STORE, WHITE, quadrants, to_bytes
from PIL import ExifTags, Image

from toolkit import libvips
from toolkit.errors import CorruptImageError, SettingsError
from toolkit.images import EncodeSettings, encode_image, flatten_alpha
from toolkit.paths import SAMPLES_DIR
from toolkit.quality import decode_image, ssim
from toolkit.runtime import ProcessPool

# Lossless output, so that the pixels compared are the ones the encoder was given.
PIXELS = EncodeSettings(format="png", png_compress_level=1)
REFERENCE = EncodeSettings(format="png", png_compress_level=1, backend="pillow")
SAMPLES = sorted(p.relative_to(SAMPLES_DIR).as_posix() for p in SAMPLES_DIR.rglob("*.*"))
# The colour (RGB, RGBA) single-frame 8-bit JPEGs and PNGs larger than 800 px.
TAKEN_BY_VIPS = {
    "chart/line_annotated.png",
    "chart/scatter_legend.png",
    "document/report_a4_150dpi.png",
    "graphic/imagemagick_logo.png",
    "graphic/imagemagick_wizard.png",
    "photo/camera_12mp.jpg",
    "photo/hubble_deep_field.jpg",
    "screenshot/code_editor_1x.png",
    "screenshot/data_table_1x.png",
    "screenshot/jupyter_notebook_edit.png",
    "screenshot/jupyter_running_2x.png",
    "screenshot/settings_form_2x.png",
    "screenshot/terminal_2x.png",
}

pytestmark = pytest.mark.skipif(not libvips.available(), reason="pyvips is not installed")


def both(source, **settings):
    """(libvips result, Pillow result) for the same source and settings."""
    fast = encode_image(source, EncodeSettings(**{**vars(PIXELS), **settings}))
    reference = encode_image(source, EncodeSettings(**{**vars(REFERENCE), **settings}))
    return fast, reference


def assert_same_normalization(fast, reference, min_ssim=0.999):
    assert (fast.backend, reference.backend) == ("vips", "pillow")
    assert fast.flags == reference.flags
    assert (fast.width, fast.height) == (reference.width, reference.height)
    assert (fast.source_width, fast.source_height) == (
        reference.source_width,
        reference.source_height,
    )
    a, b = decode_image(fast.data), decode_image(reference.data)
    assert a.mode == b.mode
    assert ssim(a, b) >= min_ssim


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_gets_the_same_normalization_from_either_backend(name):
    fast, reference = both(SAMPLES_DIR / name)
    assert fast.backend == ("vips" if name in TAKEN_BY_VIPS else "pillow")
    if fast.backend == "pillow":
        assert fast.data == reference.data
        return
    assert_same_normalization(fast, reference)


def test_the_12mp_photo_stays_within_the_exact_reference():
    """Resize fidelity against a full decode and one exact LANCZOS resize."""
    path = SAMPLES_DIR / "photo/camera_12mp.jpg"
    with Image.open(path) as image:
        exact = image.convert("RGB").resize((800, 600), Image.Resampling.LANCZOS)
    fast = encode_image(path, PIXELS)
    assert fast.backend == "vips" and "draft_decoded" in fast.flags
    assert ssim(exact, decode_image(fast.data)) >= 0.998


def photo(size=(1800, 1200)) -> Image.Image:
    """Quadrants with texture, so that the SSIM compares detail, not flat colour."""
    noise = Image.effect_noise(size, 40).convert("RGB")
    return Image.blend(quadrants(size), noise, 0.25)


@pytest.mark.parametrize("orientation", sorted(STORE))
def test_exif_orientation_turns_the_picture_upright(write, orientation):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    stored = photo().transpose(STORE[orientation])
    path = write(f"o{orientation}.jpg", stored, "JPEG", quality=95, exif=exif)
    fast, reference = both(path)
    assert_same_normalization(fast, reference)
    assert (fast.width, fast.height) == (800, 533) and "exif_rotated" in fast.flags
    upright = decode_image(fast.data)
    for xy, colour in [((100, 100), RED), ((700, 100), GREEN), ((100, 430), BLUE)]:
        assert np.allclose(upright.getpixel(xy), colour, atol=70), (orientation, xy)


@pytest.mark.parametrize("size", [(1601, 1201), (3001, 17), (17, 3001), (2400, 2399)])
def test_odd_sizes_give_the_same_geometry(write, size):
    path = write("odd.jpg", Image.effect_noise(size, 60).convert("RGB"), "JPEG", quality=90)
    fast, reference = both(path)
    assert (fast.backend, fast.flags) == ("vips", reference.flags)
    assert (fast.width, fast.height) == (reference.width, reference.height)


def screenshot_with_profile() -> tuple[Image.Image, bytes]:
    """The Jupyter sample (a display profile, a transparent margin) at twice its size."""
    with Image.open(SAMPLES_DIR / "screenshot/jupyter_notebook_edit.png") as shot:
        profile = shot.info["icc_profile"]
        image = shot.resize((shot.width * 2, shot.height * 2), Image.Resampling.LANCZOS)
    return image, profile


@pytest.mark.parametrize("background", [WHITE, (0, 0, 255)])
def test_profile_and_transparency_together(write, background):
    image, profile = screenshot_with_profile()
    path = write("shot.png", image, icc_profile=profile)
    fast, reference = both(path, background=background)
    assert_same_normalization(fast, reference)
    assert fast.flags == ("icc_converted", "alpha_flattened")


def test_opaque_alpha_is_dropped_without_a_flag(write):
    path = write("opaque.png", photo().convert("RGBA"))
    fast, reference = both(path)
    assert_same_normalization(fast, reference)
    assert fast.flags == ()


def test_rgba_is_composited_before_the_resize_as_pillow_does(write):
    image = photo((2000, 1000)).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize((2000, 1000)))
    path = write("fade.png", image)
    fast, reference = both(path, background=(255, 0, 0))
    assert_same_normalization(fast, reference)
    exact = flatten_alpha(image, (255, 0, 0)).resize((800, 400), Image.Resampling.LANCZOS)
    assert ssim(exact, decode_image(fast.data)) >= 0.999


@pytest.mark.parametrize("columns_first", [False, True])
def test_the_line_cache_before_the_vertical_pass_changes_no_pixel(columns_first):
    image = photo((1203, 901)).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize(image.size))
    data = to_bytes(image, "PNG")

    def flattened():  # a computed chain, as the resize is fed
        loaded = libvips._pyvips().Image.new_from_buffer(data, "", access="sequential")
        return libvips._opaque(loaded, (255, 0, 0))[0]

    cached = libvips._reduce(flattened(), (401, 300), columns_first=columns_first)
    plain = flattened()
    for axis in ("v", "h") if columns_first else ("h", "v"):
        if axis == "h":
            plain = plain.reduceh(plain.width / 401, kernel="lanczos3")
        else:
            plain = plain.reducev(plain.height / 300, kernel="lanczos3")
    assert cached.write_to_memory() == plain.write_to_memory()


def png_with_late_chunk(image: Image.Image, kind: bytes, body: bytes) -> bytes:
    """A PNG of `image` with one more chunk between its pixel data and its end."""
    data = to_bytes(image, "PNG")
    end = data.rindex(b"IEND") - 4
    chunk = struct.pack(">I", len(body)) + kind + body
    chunk += struct.pack(">I", zlib.crc32(kind + body))
    return data[:end] + chunk + data[end:]


def test_text_after_the_pixels_keeps_the_fast_path_orientation_there_does_not(write):
    dated = png_with_late_chunk(photo(), b"tEXt", b"date:create\x002026-10-29")
    assert encode_image(dated, PIXELS).backend == "vips"
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    turned = png_with_late_chunk(photo().transpose(STORE[6]), b"eXIf", exif.tobytes())
    late = encode_image(turned, PIXELS)
    assert late.backend == "pillow" and "exif_rotated" in late.flags
    assert (late.width, late.height) == (800, 533)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"backend": "pillow"},
        {"max_side": 1800},  # no resize
        {"max_side": None},
        {"resample": "bicubic"},
        {"reducing_gap": 2.0},
    ],
)
def test_pillow_does_what_libvips_would_do_differently(write, kwargs):
    path = write("p.jpg", photo(), "JPEG", quality=90)
    assert encode_image(path, EncodeSettings(**kwargs)).backend == "pillow"


@pytest.mark.parametrize(
    ("image", "fmt"),
    [
        (Image.new("CMYK", (1800, 1200), (0, 255, 0, 0)), "JPEG"),
        (Image.new("L", (1800, 1200), 90), "JPEG"),
        (Image.new("LA", (1800, 1200), (90, 0)), "PNG"),
        (Image.new("P", (1800, 1200), 3), "PNG"),
        (Image.new("I;16", (1800, 1200), 300), "PNG"),
        (Image.new("RGB", (1800, 1200), RED), "WEBP"),
    ],
    ids=["cmyk-jpeg", "grey-jpeg", "grey-alpha-png", "palette-png", "16-bit-png", "webp"],
)
def test_other_kinds_of_image_go_to_pillow(image, fmt):
    assert encode_image(to_bytes(image, fmt)).backend == "pillow"


def test_colour_key_transparency_and_animation_go_to_pillow():
    keyed = to_bytes(photo(), "PNG", transparency=(255, 0, 0))
    first, second = photo(), photo().transpose(Image.Transpose.ROTATE_180)
    animated = to_bytes(first, "PNG", save_all=True, append_images=[second])
    assert encode_image(keyed).backend == encode_image(animated).backend == "pillow"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_truncated_file_is_the_same_typed_error(fmt):
    data = to_bytes(photo(), fmt)[:-20_000]
    for backend in ("auto", "pillow"):
        with pytest.raises(CorruptImageError, match="<bytes>"):
            encode_image(data, EncodeSettings(backend=backend))


def test_without_pyvips_auto_falls_back_to_pillow(write, monkeypatch):
    monkeypatch.setattr(libvips, "available", lambda: False)
    path = write("p.jpg", photo(), "JPEG")
    assert encode_image(path).backend == "pillow"


def test_backend_is_validated():
    with pytest.raises(SettingsError, match="backend"):
        EncodeSettings(backend="vips")


def test_libvips_is_configured_for_one_image_per_call():
    """No operation cache (a repeated input is decoded again, memory stays flat) and one
    thread per call, set on first use; the same bytes give the same output every time."""
    data = to_bytes(photo(), "JPEG")
    assert encode_image(data).data == encode_image(data).data
    pyvips = sys.modules["pyvips"]
    assert pyvips.cache_get_max() == 0 and pyvips.concurrency_get() == 1


def _encode_backend(data: bytes) -> str:
    return encode_image(data).backend


def test_a_process_pool_after_libvips_loaded_does_not_hang():
    """Forking after libvips started its threads deadlocks the child; the pool must not."""
    data = to_bytes(photo(), "JPEG")
    assert encode_image(data).backend == "vips"
    with ProcessPool(2) as pool:
        assert isinstance(pool, Executor)
        results = [pool.submit(_encode_backend, data) for _ in range(2)]
        assert [r.result(timeout=120) for r in results] == ["vips", "vips"]


def test_a_bytes_buffer_and_a_path_agree(write):
    path = write("p.jpg", photo(), "JPEG")
    assert encode_image(path).data == encode_image(io.BytesIO(path.read_bytes())).data


FORK_SAFETY = """
import sys
from toolkit import libvips
from toolkit.images import encode_image
steps = [libvips.fork_safe()]
libvips.available()  # loaded and configured: libvips starts no thread for that
steps.append(libvips.fork_safe())
encode_image(sys.argv[1])  # its first operation starts libvips' worker threads
steps.append(libvips.fork_safe())
print(steps)
"""


def test_forking_is_safe_until_libvips_has_run(write):
    path = write("p.jpg", photo(), "JPEG")
    out = subprocess.run(
        [sys.executable, "-c", FORK_SAFETY, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[True, True, False]"
    preloaded = "import pyvips\nfrom toolkit import libvips\nprint(libvips.fork_safe())"
    out = subprocess.run([sys.executable, "-c", preloaded], capture_output=True, text=True)
    assert out.stdout.strip() == "False"  # imported by someone else: it may have run
