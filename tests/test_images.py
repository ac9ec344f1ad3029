"""toolkit.images: every normalization case, on generated images and on data/samples."""

import io
import pickle
from collections import Counter

import numpy as np
import pytest
from helpers import BLUE, GREEN, RED, STORE, WHITE, frames, png_header, quadrants, to_bytes
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms, JpegImagePlugin

from toolkit.errors import (
    CorruptImageError,
    DecompressionBombError,
    EmptyImageError,
    ImageError,
    NotAnImageError,
    SettingsError,
    ToolkitError,
)
from toolkit.images import (
    COMMON_SUFFIXES,
    EncodedImage,
    EncodeSettings,
    encode_image,
    encode_pixels,
    fit_size,
    iter_image_files,
    load_image,
    mime_for,
    resize_image,
)
from toolkit.paths import SAMPLES_DIR

NO_RESIZE = EncodeSettings(max_side=None)


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.convert("RGB").getpixel(xy)
    return tuple(value)


def close(a, b, tol=12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def decoded(encoded: EncodedImage) -> Image.Image:
    image = Image.open(io.BytesIO(encoded.data))
    image.load()
    return image


# --- settings -------------------------------------------------------------------------------


def test_defaults_are_the_seed_recipe():
    s = EncodeSettings()
    assert (s.max_side, s.format, s.quality, s.optimize, s.resample) == (
        800,
        "jpeg",
        85,
        True,
        "lanczos",
    )
    assert s.background == WHITE and s.mime == "image/jpeg"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"quality": 0},
        {"quality": 96},
        {"quality": 85.0},
        {"quality": True},
        {"format": "gif"},
        {"max_side": 0},
        {"background": (0, 0)},
        {"background": (0, 0, 256)},
        {"resample": "cubic"},
        {"subsampling": "4:1:1"},
        {"webp_method": 7},
        {"png_compress_level": 10},
        {"max_pixels": 0},
        {"draft_factor": 0.5},
    ],
)
def test_invalid_settings_raise_settings_error(kwargs):
    with pytest.raises(SettingsError):
        EncodeSettings(**kwargs)


def test_webp_quality_may_reach_100_and_format_is_case_insensitive():
    s = EncodeSettings(format="WEBP", quality=100, background=[1, 2, 3])
    assert s.format == "webp" and s.background == (1, 2, 3) and s.mime == mime_for("webp")


# --- reading and errors ----------------------------------------------------------------------


def test_format_comes_from_the_bytes_not_the_name(write):
    path = write("really_a_png.jpg", quadrants(), "PNG")
    assert encode_image(path).source_format == "PNG"


def test_sources_path_bytes_and_file_object_agree(write):
    path = write("q.png", quadrants())
    from_path = encode_image(path)
    with path.open("rb") as handle:
        from_file = encode_image(handle)
    from_bytes = encode_image(path.read_bytes())
    assert from_path.data == from_file.data == from_bytes.data
    assert from_path.name == str(path) and from_bytes.name == "<bytes>"


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("empty.jpg", b"", EmptyImageError),
        ("notes.jpg", b"these are my notes, not a photo\n", NotAnImageError),
    ],
)
def test_unusable_files_raise_typed_errors_naming_the_file(write, name, content, error):
    path = write(name, content)
    with pytest.raises(error, match=name) as info:
        encode_image(path)
    assert isinstance(info.value, ToolkitError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_truncated_files_raise_corrupt_image_error(write, fmt):
    data = to_bytes(Image.effect_noise((200, 150), 50).convert("RGB"), fmt)
    path = write(f"cut.{fmt.lower()}", data[: len(data) // 2])
    with pytest.raises(CorruptImageError, match="cut"):
        encode_image(path)


def test_missing_file_is_an_image_error_naming_it(tmp_path):
    with pytest.raises(ImageError, match="nowhere.png"):
        encode_image(tmp_path / "nowhere.png")


def test_pixel_limit_is_a_setting(write):
    path = write("big.png", Image.new("RGB", (300, 200)))
    with pytest.raises(DecompressionBombError, match=r"big\.png.*60000 pixels"):
        encode_image(path, EncodeSettings(max_pixels=50_000))
    assert encode_image(path, EncodeSettings(max_pixels=60_000)).width == 300


def test_bomb_sized_header_is_refused_before_decoding(write):
    path = write("bomb.png", png_header(50_000, 50_000))
    with pytest.raises(DecompressionBombError, match="bomb.png"):
        encode_image(path)


def test_errors_pickle_for_process_pools():
    error = pickle.loads(pickle.dumps(CorruptImageError("a.png", "truncated")))
    assert isinstance(error, CorruptImageError) and str(error) == "a.png: truncated"


# --- orientation -----------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", sorted(STORE))
def test_exif_orientation_is_applied(write, orientation):
    upright = quadrants((120, 80))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    stored = upright.transpose(STORE[orientation])
    path = write(f"o{orientation}.jpg", stored, "JPEG", quality=95, exif=exif)
    loaded = load_image(path, NO_RESIZE)
    assert loaded.image.size == (120, 80)
    assert (loaded.source_width, loaded.source_height) == (120, 80)
    assert "exif_rotated" in loaded.flags
    for xy, colour in [((10, 10), RED), ((110, 10), GREEN), ((10, 70), BLUE), ((110, 70), WHITE)]:
        assert close(pixel(loaded.image, xy), colour), (orientation, xy)


def test_orientation_1_is_not_flagged(write):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 1
    path = write("o1.jpg", quadrants(), "JPEG", exif=exif)
    assert "exif_rotated" not in encode_image(path).flags


# --- alpha -----------------------------------------------------------------------------------


def transparent_red() -> Image.Image:
    image = Image.new("RGBA", (60, 40), (0, 0, 0, 0))  # hidden colour is black
    image.paste((255, 0, 0, 255), (0, 0, 30, 40))
    return image


def test_rgba_is_composited_over_white_not_turned_black(write):
    path = write("rgba.png", transparent_red())
    loaded = load_image(path)
    assert loaded.image.mode == "RGB" and "alpha_flattened" in loaded.flags
    assert pixel(loaded.image, (50, 20)) == WHITE
    assert pixel(loaded.image, (10, 20)) == RED


def test_background_is_a_setting_and_half_alpha_blends(write):
    image = Image.new("RGBA", (20, 20), (255, 0, 0, 128))
    loaded = load_image(write("half.png", image), EncodeSettings(background=(0, 0, 255)))
    assert close(pixel(loaded.image, (5, 5)), (128, 0, 127), tol=1)


def test_la_stays_grey_over_a_grey_background_and_turns_rgb_over_a_colour(write):
    image = Image.new("LA", (20, 20), (0, 0))
    image.paste((200, 255), (0, 0, 10, 20))
    path = write("la.png", image)
    grey = load_image(path)
    assert grey.image.mode == "L" and grey.image.getpixel((15, 5)) == 255
    coloured = load_image(path, EncodeSettings(background=(0, 255, 0)))
    assert coloured.image.mode == "RGB" and pixel(coloured.image, (15, 5)) == GREEN


def test_palette_transparency_is_composited(write):
    image = Image.new("P", (20, 20), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 10, 20))
    path = write("t.gif", image, "GIF", transparency=0)
    loaded = load_image(path)
    assert pixel(loaded.image, (15, 5)) == WHITE and pixel(loaded.image, (5, 5)) == RED
    assert "alpha_flattened" in loaded.flags


def test_png_colour_key_transparency_is_composited(write):
    image = quadrants()
    path = write("trns.png", image, transparency=BLUE)
    assert pixel(load_image(path).image, (10, 70)) == WHITE


def test_fully_opaque_alpha_is_dropped_without_a_flag(write):
    image = quadrants().convert("RGBA")
    loaded = load_image(write("opaque.png", image))
    assert loaded.image.mode == "RGB" and "alpha_flattened" not in loaded.flags


# --- bit depth and colour --------------------------------------------------------------------


def gradient(mode: str, low: float, high: float, size=(64, 8)) -> Image.Image:
    values = np.tile(np.linspace(low, high, size[0]), (size[1], 1))
    dtype = {"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode]
    image = Image.fromarray(values.astype(dtype))
    assert image.mode == mode
    return image


@pytest.mark.parametrize(
    ("mode", "low", "high", "fmt"),
    [("I;16", 1000, 3000, "PNG"), ("I", -5000, 70000, "TIFF"), ("F", 0.0, 1.0, "TIFF")],
)
def test_high_bit_depth_is_scaled_by_its_range_not_clipped(write, mode, low, high, fmt):
    path = write(f"deep.{fmt.lower()}", gradient(mode, low, high), fmt)
    loaded = load_image(path, NO_RESIZE)
    row = np.asarray(loaded.image)[0]
    assert loaded.image.mode == "L" and "high_bit_depth_scaled" in loaded.flags
    assert row.min() == 0 and row.max() == 255
    assert np.all(np.diff(row.astype(int)) >= 0) and len(np.unique(row)) > 50


def test_cmyk_becomes_rgb(write):
    image = Image.new("CMYK", (20, 20), (255, 0, 0, 0))  # pure cyan ink
    loaded = load_image(write("cmyk.jpg", image, "JPEG", quality=95))
    assert loaded.image.mode == "RGB" and "cmyk_converted" in loaded.flags
    assert close(pixel(loaded.image, (5, 5)), (0, 255, 255), tol=20)


@pytest.mark.parametrize("mode", ["YCbCr", "LAB"])
def test_other_colour_spaces_become_rgb(write, mode):
    image = quadrants().convert(mode)
    loaded = load_image(write(f"{mode}.tif", image, "TIFF"), NO_RESIZE)
    assert loaded.image.mode == "RGB" and f"{mode.lower()}_converted" in loaded.flags
    assert close(pixel(loaded.image, (10, 10)), RED, tol=40)


def test_non_srgb_icc_profile_is_converted_to_srgb(write):
    with Image.open(SAMPLES_DIR / "screenshot/jupyter_notebook_edit.png") as sample:
        profile = sample.info["icc_profile"]
    image = Image.new("RGB", (16, 16), (200, 40, 40))
    loaded = load_image(write("display.png", image, icc_profile=profile))
    expected = ImageCms.profileToProfile(
        image, ImageCms.ImageCmsProfile(io.BytesIO(profile)), ImageCms.createProfile("sRGB")
    )
    assert "icc_converted" in loaded.flags
    assert pixel(loaded.image, (3, 3)) == pixel(expected, (3, 3))
    assert pixel(loaded.image, (3, 3)) != (200, 40, 40)


def test_srgb_profile_is_left_alone_and_a_broken_one_is_ignored(write):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = Image.new("RGB", (16, 16), (200, 40, 40))
    kept = load_image(write("srgb.png", image, icc_profile=srgb))
    assert "icc_converted" not in kept.flags and pixel(kept.image, (1, 1)) == (200, 40, 40)
    broken = load_image(write("broken.png", image, icc_profile=b"not a profile"))
    assert "icc_ignored" in broken.flags and pixel(broken.image, (1, 1)) == (200, 40, 40)


def test_bilevel_becomes_grey(write):
    loaded = load_image(write("bw.png", Image.new("1", (10, 10), 1)))
    assert loaded.image.mode == "L" and loaded.image.getpixel((0, 0)) == 255


@pytest.mark.parametrize(("fmt", "mode"), [("jpeg", "L"), ("png", "L"), ("webp", "RGB")])
def test_grayscale_stays_l_where_the_format_allows(write, fmt, mode):
    path = write("grey.png", Image.linear_gradient("L").resize((64, 64)))
    encoded = encode_image(path, EncodeSettings(format=fmt))
    assert decoded(encoded).mode == mode


def test_keep_grayscale_off_gives_rgb(write):
    path = write("grey.png", Image.new("L", (8, 8), 100))
    assert decoded(encode_image(path, EncodeSettings(keep_grayscale=False))).mode == "RGB"


# --- frames ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "name"), [("GIF", "a.gif"), ("WEBP", "a.webp"), ("PNG", "a.png"), ("MPO", "a.mpo")]
)
def test_animations_and_multi_picture_files_give_their_first_frame(write, fmt, name):
    first, *rest = frames([RED, GREEN, BLUE])
    path = write(name, first, fmt, save_all=True, append_images=rest, duration=100)
    loaded = load_image(path)
    assert "first_frame_only" in loaded.flags
    assert close(pixel(loaded.image, (5, 5)), RED, tol=30)


def test_single_frame_gif_is_not_flagged(write):
    assert "first_frame_only" not in load_image(write("one.gif", quadrants(), "GIF")).flags


# --- geometry --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "max_side", "expected"),
    [
        ((4000, 3000), 800, (800, 600)),
        ((3000, 4000), 800, (600, 800)),
        ((100, 50), 800, (100, 50)),
        ((1, 1), 800, (1, 1)),
        ((10_000, 3), 800, (800, 1)),
        ((1000, 333), 512, (512, 170)),
        ((900, 700), None, (900, 700)),
    ],
)
def test_resize_never_enlarges_and_keeps_the_aspect(size, max_side, expected):
    assert resize_image(Image.new("RGB", size), max_side).size == expected
    assert fit_size(*size, max_side) == expected


def test_one_pixel_and_a_very_long_strip_encode(write):
    assert encode_image(write("dot.png", Image.new("RGB", (1, 1), RED))).width == 1
    strip = encode_image(write("strip.png", Image.new("RGB", (20_000, 2), BLUE)))
    assert (strip.width, strip.height) == (800, 1)


def test_jpeg_draft_decodes_at_twice_the_final_size_with_no_visible_loss(write):
    photo = Image.effect_noise((1600, 1200), 30).convert("RGB").resize((3200, 2400))
    path = write("photo.jpg", photo, "JPEG", quality=90)
    fast = load_image(path, draft_side=800)
    assert "draft_decoded" in fast.flags and fast.image.size == (1600, 1200)
    assert (fast.source_width, fast.source_height) == (3200, 2400)
    full = load_image(path)
    assert full.image.size == (3200, 2400) and "draft_decoded" not in full.flags
    a = np.asarray(resize_image(fast.image, 800), dtype=float)
    b = np.asarray(resize_image(full.image, 800), dtype=float)
    assert 10 * np.log10(255**2 / np.mean((a - b) ** 2)) > 40  # PSNR in dB
    off = encode_image(path, EncodeSettings(draft_factor=None))
    assert "draft_decoded" not in off.flags and off.width == 800


# --- encoding --------------------------------------------------------------------------------


def test_jpeg_options_reach_the_encoder(write):
    path = write("q.png", Image.effect_noise((300, 200), 40).convert("RGB"))
    plain = encode_image(path, EncodeSettings(subsampling="4:4:4", progressive=True))
    image = decoded(plain)
    assert JpegImagePlugin.get_sampling(image) == 0 and image.info.get("progressive")
    low = encode_image(path, EncodeSettings(quality=20))
    assert low.bytes < plain.bytes


@pytest.mark.parametrize(("fmt", "magic"), [("webp", b"RIFF"), ("png", b"\x89PNG")])
def test_other_formats(write, fmt, magic):
    path = write("q.png", quadrants())
    encoded = encode_image(path, EncodeSettings(format=fmt, lossless=True))
    assert encoded.data.startswith(magic) and encoded.mime == f"image/{fmt}"
    assert decoded(encoded).size == (120, 80)


def test_encoded_image_reports_sizes_and_timings(write):
    path = write("q.png", quadrants())
    encoded = encode_image(path)
    assert encoded.bytes == len(encoded.data)
    assert encoded.base64_chars == len(__import__("base64").b64encode(encoded.data))
    assert set(encoded.timings_ms) == {"load", "resize", "encode"}
    assert encoded.source_bytes == path.stat().st_size and encoded.settings == EncodeSettings()


def test_encode_pixels_refuses_unnormalized_modes():
    with pytest.raises(ImageError, match="RGBA"):
        encode_pixels(Image.new("RGBA", (2, 2)), EncodeSettings())


# --- files and samples -----------------------------------------------------------------------


def test_iter_image_files_walks_sorted_and_skips_hidden_and_non_images(write, tmp_path):
    names = ["b.png", "a.jpg", "sub/c.gif", ".hidden.png", ".git/d.png", "notes.txt", "e.JP2"]
    for name in names:
        write(name, b"x")
    folder = sorted(p.relative_to(tmp_path).as_posix() for p in iter_image_files([tmp_path]))
    assert folder == ["a.jpg", "b.png", "e.JP2", "sub/c.gif"]  # .jp2: a plugin's extension
    explicit = list(iter_image_files([tmp_path / "notes.txt", tmp_path / "missing.png"]))
    assert [p.name for p in explicit] == ["notes.txt", "missing.png"]


def test_the_extensions_known_without_plugins_are_pillows_own():
    assert COMMON_SUFFIXES <= {ext.lower() for ext in Image.registered_extensions()}


SAMPLE_FLAGS = {
    "photo/camera_12mp.jpg": {"draft_decoded"},
    "photo/grace_hopper_exif_rotated.jpg": {"exif_rotated"},
    "screenshot/jupyter_notebook_edit.png": {"icc_converted", "alpha_flattened"},
    "screenshot/jupyter_running_2x.png": {"icc_converted"},
    "screenshot/jupyter_screencast.gif": {"first_frame_only"},
    "graphic/matplotlib_logo.png": {"alpha_flattened"},
    "graphic/imagemagick_wizard.png": {"alpha_flattened"},
    "graphic/smile_palette.gif": {"alpha_flattened"},
}
SAMPLES = sorted(p.relative_to(SAMPLES_DIR).as_posix() for p in SAMPLES_DIR.rglob("*.*"))


def test_samples_hold_four_images_per_category_and_the_flagged_files():
    per_category = Counter(name.split("/")[0] for name in SAMPLES)
    assert set(per_category) == {"chart", "document", "graphic", "photo", "screenshot"}
    assert min(per_category.values()) >= 4
    assert set(SAMPLE_FLAGS) <= set(SAMPLES)


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_encodes(name):
    encoded = encode_image(SAMPLES_DIR / name)
    assert max(encoded.width, encoded.height) <= 800
    assert SAMPLE_FLAGS.get(name, set()) <= set(encoded.flags)
    assert decoded(encoded).format == "JPEG"


def test_exif_rotated_sample_comes_out_upright():
    upright = encode_image(SAMPLES_DIR / "photo/grace_hopper.jpg")
    rotated = encode_image(SAMPLES_DIR / "photo/grace_hopper_exif_rotated.jpg")
    assert (rotated.width, rotated.height) == (upright.width, upright.height) == (512, 600)
    a = np.asarray(decoded(upright), dtype=float)
    b = np.asarray(decoded(rotated), dtype=float)
    assert np.mean(np.abs(a - b)) < 4


# --- property --------------------------------------------------------------------------------

VALID_HEADS = [
    to_bytes(quadrants((16, 12)), fmt)
    for fmt in ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF", "ICO")
]
SMALL = EncodeSettings(max_side=64, max_pixels=1_000_000)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=2048),
        st.tuples(st.sampled_from(VALID_HEADS), st.integers(0, 400), st.binary(max_size=256)).map(
            lambda t: t[0][: t[1]] + t[2]
        ),
    )
)
@example(
    b"GIF87a" + bytes(7) + b",\x00\x00\x00\x00\x00\x01\x01" + bytes(4) + b","
)  # 2nd frame cut
def test_arbitrary_bytes_encode_or_raise_a_toolkit_error(data):
    try:
        encoded = encode_image(data, SMALL)
    except ToolkitError:
        return
    assert decoded(encoded).size == (encoded.width, encoded.height)
