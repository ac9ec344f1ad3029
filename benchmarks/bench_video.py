"""Frame sampling speed (seeking vs decoding everything) and memory against video length.

    .venv/bin/python benchmarks/bench_video.py [--minutes 2]

Corpus: `data/video/clip.mp4` (8 s, 640x360, 24 fps) looped into a long H.264 MP4 with a
keyframe every 2 s (x264 `ultrafast`), and a quarter-length copy. In one run, on the long one:
- decode-all: every frame decoded (threaded), the floor for any sequential sampler;
- count=8 and fps=0.1: sparse plans, which seek past the stretches they skip;
- fps=1 and scenes: dense plans (every frame decoded; scenes compares 32x32 thumbnails).
Memory: peak RSS of a fresh process running fps=2 with dedupe and encoding every kept frame,
on the quarter-length and on the full-length video: flat means the two peaks are about equal.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

from toolkit.paths import DATA_DIR
from toolkit.video import (
    DEFAULT_SCENE_THRESHOLD,
    SamplingPlan,
    encode_frame,
    sample_frames,
)

CLIP = DATA_DIR / "video" / "clip.mp4"

# VmHWM, not ru_maxrss: ru_maxrss keeps the high-water mark of the forking parent across exec.
PEAK = """
import sys
from pathlib import Path
from toolkit.video import DEFAULT_DEDUPE_THRESHOLD, SamplingPlan, encode_frame, sample_frames
plan = SamplingPlan(fps=2, dedupe_threshold=DEFAULT_DEDUPE_THRESHOLD)
n = sum(encode_frame(f).bytes > 0 for f in sample_frames(sys.argv[1], plan))
status = Path("/proc/self/status").read_text().splitlines()
print(n, next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM:")))
"""


def loop_clip(target: Path, seconds: float) -> Path:
    """Re-encode the clip over and over into `target` until it lasts `seconds`."""
    with av.open(str(CLIP)) as source:
        frames = [f.to_ndarray(format="rgb24") for f in source.decode(video=0)]
    rate = 24
    with av.open(str(target), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = 2 * rate
        stream.options = {"preset": "ultrafast", "sc_threshold": "0"}
        for i in range(round(seconds * rate)):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frames[i % len(frames)], "rgb24")))
        out.mux(stream.encode())
    return target


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def decode_all(path: Path) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def peak_rss_mb(path: Path) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, check=True
    )
    kept, peak = out.stdout.split()
    return int(kept), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seconds = args.minutes * 60
        long = loop_clip(Path(tmp) / "long.mp4", seconds)
        short = loop_clip(Path(tmp) / "short.mp4", seconds / 4)
        results = {"video_s": seconds, "decode_all_s": None}
        results["decode_all_s"], frames = timed(lambda: decode_all(long))
        results["frames"] = frames
        plans = {
            "count=8": SamplingPlan(count=8),
            "fps=0.1": SamplingPlan(fps=0.1),
            "fps=1": SamplingPlan(fps=1),
            "scenes": SamplingPlan(scene_threshold=DEFAULT_SCENE_THRESHOLD),
        }
        for name, plan in plans.items():
            elapsed, kept = timed(lambda p=plan: sum(1 for _ in sample_frames(long, p)))
            results[name] = {
                "s": round(elapsed, 3),
                "frames": kept,
                "vs_decode_all": round(elapsed / results["decode_all_s"], 3),
            }
        elapsed, _ = timed(
            lambda: [encode_frame(f) for f in sample_frames(long, SamplingPlan(count=8))]
        )
        results["count=8+encode_s"] = round(elapsed, 3)
        results["decode_all_s"] = round(results["decode_all_s"], 3)
        for label, path in (("quarter", short), ("full", long)):
            kept, peak = peak_rss_mb(path)
            results[f"peak_rss_mb_{label}"] = {"kept_frames": kept, "peak_mb": peak}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
