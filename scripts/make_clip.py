"""Make `data/video/clip.mp4`: a short H.264 clip of pans, a zoom and hard cuts over real photos.

No permissively licensed video ships in a registry package, so the clip is built from four
photos in `data/samples/photo/` (licences in `data/SOURCES.md`): a diagonal pan over the coffee
photo, a still of the China photo (its frames are exact duplicates), a zoom into the Hubble
deep field, a vertical pan over Grace Hopper's portrait; 24 fps, 640x360, hard cuts between.
Run `python scripts/make_clip.py` to rebuild it.
"""

import argparse
from pathlib import Path

import av
from PIL import Image

from toolkit.paths import DATA_DIR, SAMPLES_DIR

WIDTH, HEIGHT, FPS = 640, 360, 24
SHOT_SECONDS = (2.5, 1.5, 2.5, 1.5)  # pan, still, zoom, pan
PAN_PX_PER_S = 150  # along each axis, at most the room the photo leaves
PHOTOS = [
    SAMPLES_DIR / name
    for name in (
        "photo/coffee.png",
        "photo/china.jpg",
        "photo/hubble_deep_field.jpg",
        "photo/grace_hopper.jpg",
    )
]


def cover(photo: Image.Image, scale: float) -> Image.Image:
    """The photo scaled so that it covers `scale` times the frame in both directions."""
    factor = scale * max(WIDTH / photo.width, HEIGHT / photo.height)
    size = (round(photo.width * factor), round(photo.height * factor))
    return photo.resize(size, Image.Resampling.LANCZOS)


def window(photo: Image.Image, left: float, top: float, width: float) -> Image.Image:
    """The frame-shaped window at (left, top), `width` px wide, resampled to the frame size."""
    box = (left, top, left + width, top + width * HEIGHT / WIDTH)
    return photo.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS, box=box)


def shot_frames(kind: str, photo: Image.Image, seconds: float):
    n = round(seconds * FPS)
    big = cover(photo, 1.4 if kind != "still" else 1.0)
    spare_x, spare_y = big.width - WIDTH, big.height - HEIGHT
    travel_x, travel_y = (min(spare, PAN_PX_PER_S * seconds) for spare in (spare_x, spare_y))
    for i in range(n):
        t = i / (n - 1)
        if kind == "pan":
            left = (spare_x - travel_x) / 2 + travel_x * t
            yield window(big, left, (spare_y - travel_y) / 2 + travel_y * t, WIDTH)
        elif kind == "still":
            yield window(big, spare_x / 2, spare_y / 2, WIDTH)
        else:  # zoom from the whole covered photo to its middle half
            width = WIDTH * 1.4 * (1 - 0.5 * t)
            height = width * HEIGHT / WIDTH
            yield window(big, (big.width - width) / 2, (big.height - height) / 2, width)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR / "video" / "clip.mp4")
    parser.add_argument("--crf", type=int, default=28, help="x264 constant rate factor")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    kinds = ("pan", "still", "zoom", "pan")
    options = {"movflags": "faststart"}
    with av.open(str(args.out), "w", options=options) as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": str(args.crf), "preset": "slow", "threads": "1"}
        for kind, path, seconds in zip(kinds, PHOTOS, SHOT_SECONDS, strict=True):
            photo = Image.open(path).convert("RGB")
            for image in shot_frames(kind, photo, seconds):
                container.mux(stream.encode(av.VideoFrame.from_image(image)))
        container.mux(stream.encode())
    print(f"{args.out}: {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
