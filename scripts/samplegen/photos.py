"""The two photos derived from the committed originals in data/samples/photo/.

- `camera_12mp.jpg`: a 4032x3024 (12.2 MP) phone-sized JPEG. No permissively licensed photo
  that large ships in a package, so four committed photos are upscaled into a 2x2 mosaic with
  an unsharp mask and seeded sensor-like noise, so its JPEG entropy (and decode time) is that of
  a real camera file rather than of a smooth upscale (see research/perf-anchors.md).
- `grace_hopper_exif_rotated.jpg`: Grace Hopper's portrait stored sideways with EXIF
  Orientation 6, the way phones save a photo taken in portrait; upright only if the reader
  applies EXIF.
"""

from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageFilter, ImageOps

from toolkit.paths import SAMPLES_DIR

MOSAIC_SOURCES = (
    "photo/coffee.png",
    "photo/china.jpg",
    "photo/hubble_deep_field.jpg",
    "photo/grace_hopper.jpg",
)
CAMERA_SIZE = (4032, 3024)
SEED = 20260
ORIENTATION_ROTATE_90_CW = 6  # EXIF: display after rotating 90 degrees clockwise


def camera_mosaic(sources: tuple[str, ...] = MOSAIC_SOURCES, seed: int = SEED) -> Image.Image:
    """Four photos upscaled into one 12 MP frame, sharpened, with luma and chroma noise."""
    tile = (CAMERA_SIZE[0] // 2, CAMERA_SIZE[1] // 2)
    frame = Image.new("RGB", CAMERA_SIZE)
    for index, name in enumerate(sources):
        with Image.open(SAMPLES_DIR / name) as source:
            photo = ImageOps.fit(source.convert("RGB"), tile, Image.Resampling.LANCZOS)
        frame.paste(photo, ((index % 2) * tile[0], (index // 2) * tile[1]))
    frame = frame.filter(ImageFilter.UnsharpMask(radius=2, percent=120, threshold=2))
    rng = np.random.default_rng(seed)
    pixels = np.asarray(frame, dtype=np.float32)
    luma_noise = rng.normal(0, 3.0, pixels.shape[:2])[..., None]
    chroma_noise = rng.normal(0, 1.5, pixels.shape)
    noisy = np.clip(pixels + luma_noise + chroma_noise, 0, 255).astype(np.uint8)
    return Image.fromarray(noisy, "RGB")


def exif_rotated(upright: Image.Image) -> tuple[Image.Image, Image.Exif]:
    """The image stored 90 degrees counter-clockwise, tagged so readers turn it back."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = ORIENTATION_ROTATE_90_CW
    return upright.transpose(Image.Transpose.ROTATE_90), exif


def write_camera_12mp(path: Path) -> None:
    camera_mosaic().save(path, quality=92, subsampling="4:2:0")


def write_exif_rotated(path: Path) -> None:
    with Image.open(SAMPLES_DIR / "photo/grace_hopper.jpg") as upright:
        stored, exif = exif_rotated(upright.convert("RGB"))
    stored.save(path, quality=95, exif=exif)
