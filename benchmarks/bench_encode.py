"""The brief's encoding recipe against `toolkit`, on the same images and settings, in one run.

    .venv/bin/python benchmarks/bench_encode.py [--photos 6] [--repeats 3] [--rounds 2]

Corpus (generated deterministically into a temporary folder): 12 MP phone-sized JPEGs (the
`scripts/samplegen/photos.py` mosaic with different seeds and tile orders), a 2560x1440 PNG
screenshot built from the Jupyter sample screenshot, and a 2400x2400 RGBA PNG cutout.

Each pipeline runs in fresh processes pinned to one CPU (so the peak RSS is its own),
alternating with the others for `--rounds` rounds; figures are medians over rounds:
- `baseline`: exactly the brief's `encode_image_to_base64` (open, RGB if RGBA/P/LA,
  `thumbnail((800, 800), LANCZOS)`, JPEG q85 optimize, Base64 data URL);
- `toolkit`: `to_data_url(encode_image(path))` with default settings (the same recipe) under
  the same default allocator;
- `baseline+malloc` and `toolkit+malloc`: the same after `toolkit.runtime.tune_malloc()`, which
  is how `toolkit encode` and its pool workers run.
Then the resize fidelity (SSIM on luma, `toolkit.quality.ssim`) of each pipeline's pre-encode
pixels against an exact reference: full decode, alpha over white, one LANCZOS resize with
`reducing_gap=None`. Last, `toolkit encode` over a folder of the corpus with 1 and 2 workers.
"""

import argparse
import base64
import contextlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from samplegen.photos import MOSAIC_SOURCES, camera_mosaic  # noqa: E402

from toolkit.paths import SAMPLES_DIR  # noqa: E402

KINDS = ("photo_12mp", "screenshot_png", "rgba_png")


def encode_image_to_base64(image_path: Path) -> str:
    """The brief's recipe, verbatim (brief/09-base64-image-transfer.es.md, "Código Completo")."""
    with Image.open(image_path) as img:
        if img.mode in ("RGBA", "P", "LA"):
            img = img.convert("RGB")
        if max(img.size) > 800:
            img.thumbnail((800, 800), Image.Resampling.LANCZOS)
        buffered = io.BytesIO()
        img.save(buffered, format="JPEG", quality=85, optimize=True)
        b64 = base64.b64encode(buffered.getvalue()).decode("utf-8")
        return f"data:image/jpeg;base64,{b64}"


def toolkit_data_url(path: Path) -> str:
    from toolkit.dataurl import to_data_url
    from toolkit.images import encode_image

    return to_data_url(encode_image(path))


# --- corpus ----------------------------------------------------------------------------------


def make_corpus(folder: Path, photos: int) -> dict[str, list[Path]]:
    corpus: dict[str, list[Path]] = {kind: [] for kind in KINDS}
    for index in range(photos):
        order = MOSAIC_SOURCES[index % 4 :] + MOSAIC_SOURCES[: index % 4]
        path = folder / f"photo_12mp_{index}.jpg"
        camera_mosaic(order, seed=1000 + index).save(path, quality=92, subsampling="4:2:0")
        corpus["photo_12mp"].append(path)
    with Image.open(SAMPLES_DIR / "screenshot/jupyter_notebook_edit.png") as shot:
        shot = shot.convert("RGB")
    screen = Image.new("RGB", (2560, 1440), (255, 255, 255))
    for x, y in ((0, 0), (1280, 0), (0, 720), (1280, 720)):
        screen.paste(shot.crop((0, 0, 1280, 720)), (x, y))
    corpus["screenshot_png"].append(folder / "screenshot_2560x1440.png")
    screen.save(corpus["screenshot_png"][0])
    cutout = camera_mosaic(MOSAIC_SOURCES, seed=7).crop((800, 300, 3200, 2700))
    mask = Image.new("L", cutout.size, 0)
    ImageDraw.Draw(mask).ellipse((150, 150, 2250, 2250), fill=255)
    cutout.putalpha(mask.filter(ImageFilter.GaussianBlur(40)))
    corpus["rgba_png"].append(folder / "cutout_2400_rgba.png")
    cutout.save(corpus["rgba_png"][0])
    return corpus


# --- one pipeline in one process -------------------------------------------------------------


def worker(pipeline: str, corpus: dict[str, list[str]], repeats: int) -> dict:
    """Median ms per image for each kind, and this process's peak RSS."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if pipeline.endswith("+malloc"):
        from toolkit.runtime import tune_malloc

        tune_malloc()
    encode = encode_image_to_base64 if pipeline.startswith("baseline") else toolkit_data_url
    for paths in corpus.values():  # warm-up: imports, page cache, allocator
        encode(Path(paths[0]))
    result = {}
    for kind, paths in corpus.items():
        per_image = []
        for path in paths:
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                encode(Path(path))
                times.append((time.perf_counter() - start) * 1000)
            per_image.append(statistics.median(times))
        result[kind] = statistics.median(per_image)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def peak_rss_mb() -> float:
    """This process's high-water resident set (VmHWM restarts at exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_worker(pipeline: str, corpus: dict[str, list[Path]], repeats: int) -> dict:
    payload = json.dumps({k: [str(p) for p in v] for k, v in corpus.items()})
    out = subprocess.run(
        [sys.executable, __file__, "--worker", pipeline, "--repeats", str(repeats)],
        input=payload,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


# --- fidelity --------------------------------------------------------------------------------


def reference_pixels(path: Path) -> Image.Image:
    from toolkit.images import flatten_alpha

    with Image.open(path) as image:
        image.load()
        image = flatten_alpha(image, (255, 255, 255)) if image.mode == "RGBA" else image
        scale = 800 / max(image.size)
        size = (round(image.width * scale), round(image.height * scale))
        return image.convert("RGB").resize(size, Image.Resampling.LANCZOS, reducing_gap=None)


def baseline_pixels(path: Path) -> Image.Image:
    with Image.open(path) as img:  # the recipe up to, not including, the JPEG encode
        if img.mode in ("RGBA", "P", "LA"):
            img = img.convert("RGB")
        img.thumbnail((800, 800), Image.Resampling.LANCZOS)
        return img.copy()


def toolkit_pixels(path: Path) -> Image.Image:
    from toolkit.images import EncodeSettings, load_image, resize_image

    settings = EncodeSettings()
    source = load_image(path, settings, draft_side=settings.max_side)
    return resize_image(source.image, settings.max_side, settings.resample)


def fidelity(corpus: dict[str, list[Path]]) -> dict[str, dict[str, float]]:
    from toolkit.quality import ssim

    scores: dict[str, dict[str, float]] = {}
    for kind, paths in corpus.items():
        refs = [reference_pixels(p) for p in paths]
        scores[kind] = {
            name: statistics.mean(
                ssim(ref, to_size(make(p), ref.size)) for p, ref in zip(paths, refs, strict=True)
            )
            for name, make in (("baseline", baseline_pixels), ("toolkit", toolkit_pixels))
        }
    return scores


def to_size(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Rounding may differ by a pixel between pipelines; compare on the reference grid."""
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


# --- the CLI over a folder -------------------------------------------------------------------


def cli_scaling(corpus: dict[str, list[Path]], folder: Path, rounds: int = 3) -> dict[int, float]:
    """Median wall seconds of `toolkit encode FOLDER --json` in a fresh process per run."""
    for copy in range(2):
        for paths in corpus.values():
            for path in paths:
                shutil.copy(path, folder / f"{copy}_{path.name}")
    script = (
        "import sys, time, contextlib, os\n"
        "from toolkit.cli import main\n"
        "start = time.perf_counter()\n"
        "with open(os.devnull, 'w') as sink, contextlib.redirect_stdout(sink):\n"
        "    code = main(['encode', sys.argv[1], '--json', '--workers', sys.argv[2]])\n"
        "print(time.perf_counter() - start, code)\n"
    )
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(rounds):
        for workers in times:
            out = subprocess.run(
                [sys.executable, "-c", script, str(folder), str(workers)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            assert out[1] == "0", "toolkit encode failed on the benchmark corpus"
            times[workers].append(float(out[0]))
    return {workers: statistics.median(values) for workers, values in times.items()}


# --- report ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=6, help="12 MP JPEGs in the corpus")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per image")
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per pipeline")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(sys.stdin.read()), args.repeats)))
        return
    with tempfile.TemporaryDirectory(prefix="bench_encode_") as tmp:
        corpus_dir, folder = Path(tmp, "corpus"), Path(tmp, "folder")
        corpus_dir.mkdir()
        folder.mkdir()
        corpus = make_corpus(corpus_dir, args.photos)
        pipelines = ("baseline", "toolkit", "baseline+malloc", "toolkit+malloc")
        rounds = [  # pipelines alternate, so drifting machine load hits them alike
            {name: run_worker(name, corpus, args.repeats) for name in pipelines}
            for _ in range(args.rounds)
        ]
        results = {
            name: {key: statistics.median(r[name][key] for r in rounds) for key in rounds[0][name]}
            for name in pipelines
        }
        scores = fidelity(corpus)
        scaling = cli_scaling(corpus, folder)
        n_folder = sum(1 for _ in folder.iterdir())
    print_report(results, scores, scaling, n_folder, corpus)


def print_report(results, scores, scaling, n_folder, corpus) -> None:
    base, tool = results["baseline"], results["toolkit"]
    base_m, tool_m = results["baseline+malloc"], results["toolkit+malloc"]
    print(f"Pillow {Image.__version__}, one CPU per pipeline process, median ms per image\n")
    header = (
        f"{'kind':<15}{'n':>3}{'baseline':>10}{'toolkit':>9}{'ratio':>7}"
        f"{'base+malloc':>13}{'tool+malloc':>13}{'ratio':>7}{'tool+m/base':>13}"
        f"{'SSIM base':>11}{'SSIM tool':>11}"
    )
    print(header)
    for kind in KINDS:
        print(
            f"{kind:<15}{len(corpus[kind]):>3}{base[kind]:>10.1f}{tool[kind]:>9.1f}"
            f"{base[kind] / tool[kind]:>6.2f}x{base_m[kind]:>13.1f}{tool_m[kind]:>13.1f}"
            f"{base_m[kind] / tool_m[kind]:>6.2f}x{base[kind] / tool_m[kind]:>12.2f}x"
            f"{scores[kind]['baseline']:>11.4f}{scores[kind]['toolkit']:>11.4f}"
        )
    rss = "  ".join(f"{name} {r['peak_rss_mb']:.0f} MB" for name, r in results.items())
    print(f"\npeak RSS: {rss}")
    print(
        f"toolkit encode over {n_folder} files: 1 worker {scaling[1]:.2f} s, "
        f"2 workers {scaling[2]:.2f} s, speed-up {scaling[1] / scaling[2]:.2f}x "
        f"({os.cpu_count()} CPUs)"
    )
    print(
        "\nSSIM: luma SSIM of the pre-encode pixels against full decode + alpha over white + "
        "LANCZOS with reducing_gap=None. The baseline's RGBA score is low because "
        "convert('RGB') drops alpha (hidden colour shows instead of white)."
    )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
