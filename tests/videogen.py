"""Small videos written with PyAV for the video tests (no committed fixtures needed)."""

from pathlib import Path

import av
import numpy as np

SIZE = (48, 64)  # height, width


def flat(level: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    """An RGB frame of one gray level."""
    return np.full((*size, 3), level, np.uint8)


def write_video(
    path: Path,
    frames,
    *,
    rate: int = 10,
    codec: str = "libx264",
    gop: int | None = None,
    rotation: int | None = None,
    faststart: bool = False,
) -> Path:
    """Encode RGB arrays into `path` (container chosen by its suffix)."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream(codec, rate=rate)
        first = None
        for array in frames:
            if first is None:
                first = array
                stream.height, stream.width = array.shape[:2]
                stream.pix_fmt = "yuv420p"
                if gop is not None:
                    stream.codec_context.gop_size = gop
                    stream.options = {"sc_threshold": "0"} if codec == "libx264" else {}
                if rotation is not None:
                    stream.set_display_rotation(rotation)
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def ramp(n: int, step: int = 4) -> list[np.ndarray]:
    """Frame i is flat gray `step * i`: its brightness tells which frame it is."""
    return [flat(step * i) for i in range(n)]


def shots(*segments: tuple[int, int]) -> list[np.ndarray]:
    """Still shots: (gray level, frame count) each, joined by hard cuts."""
    return [flat(level) for level, count in segments for _ in range(count)]
