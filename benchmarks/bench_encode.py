"""The brief's encoding recipe against `toolkit`, on the same images and settings, in one run.

    .venv/bin/python benchmarks/bench_encode.py [--photos 6] [--repeats 3] [--rounds 2]
                                                [--folder-photos 20] [--process-rounds 5]

Corpus (generated deterministically into a temporary folder): 12 MP phone-sized JPEGs (the
`scripts/samplegen/photos.py` mosaic with different seeds and tile orders), a 2560x1440 PNG
screenshot built from the Jupyter sample screenshot, and a 2400x2400 RGBA PNG cutout.

1. Per core. Each pipeline runs in fresh processes pinned to one CPU (so the peak RSS is its
   own), alternating with the others for `--rounds` rounds; figures are medians over rounds:
   - `seed`: exactly the brief's `encode_image_to_base64` (open, RGB if RGBA/P/LA,
     `thumbnail((800, 800), LANCZOS)`, JPEG q85 optimize, Base64 data URL);
   - `toolkit`: `to_data_url(encode_image(path))` with default settings (the same recipe), as
     a notebook calls it: default allocator, libvips where it applies;
   - `pillow`: the same with `EncodeSettings(backend="pillow")`, the reference path;
   - `seed+malloc`, `toolkit+malloc`: after `toolkit.runtime.tune_malloc()`, which is how
     `toolkit encode` and its pool workers run.
2. Resize fidelity: luma SSIM (`toolkit.quality.ssim`) of each pipeline's pre-encode pixels
   against an exact reference: full decode, alpha over white, one LANCZOS resize with
   `reducing_gap=None`.
3. `toolkit encode FOLDER`, 1 and 2 workers, each run in a fresh process timed from after its
   imports; next to it the ceiling for 2 workers on this machine: the same files dealt to 1
   or 2 processes with no pool (`split_run`).
4. Whole processes over `--folder-photos` photos, started in alternation for
   `--process-rounds` rounds, wall time: the seed recipe as a script against
   `python -m toolkit encode DIR --json --workers 1|2` as shipped (start-up included).

Targets (issue 14) are printed with the figures they are judged on.
"""

import argparse
import base64
import contextlib
import inspect
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

from toolkit import libvips  # noqa: E402
from toolkit.paths import SAMPLES_DIR  # noqa: E402

KINDS = ("photo_12mp", "screenshot_png", "rgba_png")
PIPELINES = ("seed", "toolkit", "pillow", "seed+malloc", "toolkit+malloc")
PNG_PIXELS = {"format": "png", "png_compress_level": 1}  # lossless: the pre-encode pixels


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


def toolkit_data_url(path: Path, backend: str = "auto") -> str:
    from toolkit.dataurl import to_data_url
    from toolkit.images import EncodeSettings, encode_image

    return to_data_url(encode_image(path, EncodeSettings(backend=backend)))


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


# --- 1. one pipeline in one process pinned to one CPU ----------------------------------------


def worker(pipeline: str, corpus: dict[str, list[str]], repeats: int) -> dict:
    """Median wall and CPU ms per image for each kind, and this process's peak RSS. CPU time
    counts only this process's own work (libvips runs one thread): on a shared machine it
    stays put when other jobs slow the wall clock."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if pipeline.endswith("+malloc"):
        from toolkit.runtime import tune_malloc

        tune_malloc()
    encode = {
        "seed": encode_image_to_base64,
        "toolkit": toolkit_data_url,
        "pillow": lambda path: toolkit_data_url(path, "pillow"),
    }[pipeline.removesuffix("+malloc")]
    for paths in corpus.values():  # warm-up: imports, page cache, allocator
        encode(Path(paths[0]))
    result = {}
    for kind, paths in corpus.items():
        wall, cpu = [], []
        for path in paths:
            times = []
            for _ in range(repeats):
                start, start_cpu = time.perf_counter(), time.process_time()
                encode(Path(path))
                times.append((time.perf_counter() - start, time.process_time() - start_cpu))
            wall.append(statistics.median(t[0] for t in times) * 1000)
            cpu.append(statistics.median(t[1] for t in times) * 1000)
        result[kind], result[f"{kind}_cpu"] = statistics.median(wall), statistics.median(cpu)
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


def per_core(corpus: dict[str, list[Path]], rounds: int, repeats: int) -> dict[str, dict]:
    runs = [  # pipelines alternate, so drifting machine load hits them alike
        {name: run_worker(name, corpus, repeats) for name in PIPELINES} for _ in range(rounds)
    ]
    return {
        name: {key: statistics.median(r[name][key] for r in runs) for key in runs[0][name]}
        for name in PIPELINES
    }


# --- 2. fidelity -----------------------------------------------------------------------------


def reference_pixels(path: Path) -> Image.Image:
    from toolkit.images import flatten_alpha

    with Image.open(path) as image:
        image.load()
        image = flatten_alpha(image, (255, 255, 255)) if image.mode == "RGBA" else image
        scale = 800 / max(image.size)
        size = (round(image.width * scale), round(image.height * scale))
        return image.convert("RGB").resize(size, Image.Resampling.LANCZOS, reducing_gap=None)


def seed_pixels(path: Path) -> Image.Image:
    with Image.open(path) as img:  # the recipe up to, not including, the JPEG encode
        if img.mode in ("RGBA", "P", "LA"):
            img = img.convert("RGB")
        img.thumbnail((800, 800), Image.Resampling.LANCZOS)
        return img.copy()


def toolkit_pixels(path: Path, backend: str = "auto") -> Image.Image:
    from toolkit.images import EncodeSettings, encode_image
    from toolkit.quality import decode_image as decode

    return decode(encode_image(path, EncodeSettings(backend=backend, **PNG_PIXELS)).data)


def fidelity(corpus: dict[str, list[Path]]) -> dict[str, dict[str, float]]:
    from toolkit.quality import ssim

    makers = {
        "seed": seed_pixels,
        "toolkit": toolkit_pixels,
        "pillow": lambda path: toolkit_pixels(path, "pillow"),
    }
    scores: dict[str, dict[str, float]] = {}
    for kind, paths in corpus.items():
        refs = [reference_pixels(p) for p in paths]
        scores[kind] = {
            name: statistics.mean(
                ssim(ref, to_size(make(p), ref.size)) for p, ref in zip(paths, refs, strict=True)
            )
            for name, make in makers.items()
        }
    return scores


def to_size(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Rounding may differ by a pixel between pipelines; compare on the reference grid."""
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


# --- 3. the CLI inside this process ----------------------------------------------------------


def scaling_of(folder: Path, mode: str, rounds: int = 5) -> dict[int, float]:
    """Median wall seconds of `cli_run` (mode `--cli-run`) or `split_run` (`--split-run`) on
    FOLDER with 1 and 2 workers, each run in a fresh process, the two alternating."""
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(rounds):
        for workers in times:
            out = subprocess.run(
                [sys.executable, __file__, mode, str(folder), "--workers", str(workers)],
                capture_output=True,
                text=True,
                check=True,
            )
            times[workers].append(float(out.stdout))
    return {workers: statistics.median(values) for workers, values in times.items()}


def cli_run(folder: Path, workers: int) -> float:
    """Seconds of one `toolkit encode FOLDER --json --workers N` in this process, timed from
    after every command module is imported: files found, pool started, images encoded."""
    from toolkit.cli import build_parser, main

    build_parser(["encode"])  # the command's modules imported before the clock starts
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        start = time.perf_counter()
        code = main(["encode", str(folder), "--json", "--workers", str(workers)])
        elapsed = time.perf_counter() - start
    assert code == 0, "toolkit encode failed on the benchmark corpus"
    return elapsed


def split_run(folder: Path, lanes: int) -> float:
    """What `lanes` workers could do at best here: the files dealt out in turn from the
    largest (the order the pool starts them in), this process encoding the first share and
    forked children the others; no pool, no queue, nothing sent back. Each process still
    pays its own first-image warm-up. Timed like `cli_run`."""
    from toolkit.cli import build_parser
    from toolkit.images import encode_image, iter_image_files
    from toolkit.runtime import tune_malloc

    build_parser(["encode"])
    start = time.perf_counter()
    tune_malloc()
    libvips.available()
    files = sorted(iter_image_files([folder]), key=lambda p: p.stat().st_size, reverse=True)
    children = []
    for lane in range(1, lanes):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for path in files[lane::lanes]:
                    encode_image(path)
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    for path in files[0::lanes]:
        encode_image(path)
    failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
    assert not failed, "a split-run child failed on the benchmark corpus"
    return time.perf_counter() - start


def fill_folder(folder: Path, corpus: dict[str, list[Path]]) -> None:
    """Two copies of the corpus: every kind, as the CLI meets them."""
    for copy in range(2):
        for paths in corpus.values():
            for path in paths:
                shutil.copy(path, folder / f"{copy}_{path.name}")


# --- 4. whole processes ----------------------------------------------------------------------

SEED_SCRIPT = '''"""The brief's recipe over a folder: a JSON line per image."""
import base64, io, json, sys
from pathlib import Path
from PIL import Image

{recipe}

for path in sorted(Path(sys.argv[1]).iterdir()):
    url = encode_image_to_base64(path)
    print(json.dumps({{"path": str(path), "base64_chars": len(url.partition(",")[2])}}))
'''


def write_scripts(folder: Path) -> dict[str, Path]:
    seed = folder / "seed_script.py"
    seed.write_text(SEED_SCRIPT.format(recipe=inspect.getsource(encode_image_to_base64)))
    return {"seed": seed}


def process_commands(scripts: dict[str, Path], photos: Path) -> dict[str, list[str]]:
    encode = ["encode", str(photos), "--json", "--workers"]
    return {
        "seed script": [sys.executable, str(scripts["seed"]), str(photos)],
        "toolkit encode, 1 worker": [sys.executable, "-m", "toolkit", *encode, "1"],
        "toolkit encode, 2 workers": [sys.executable, "-m", "toolkit", *encode, "2"],
        "python -c 'import toolkit'": [sys.executable, "-c", "import toolkit"],
    }


def whole_processes(commands: dict[str, list[str]], rounds: int) -> dict[str, list[float]]:
    """Wall seconds of each command per round, the commands started in alternation."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    return times


def paired_ratio(times: dict[str, list[float]], base: str, other: str) -> float:
    """Median over rounds of base/other, each round's pair started back to back."""
    return statistics.median(a / b for a, b in zip(times[base], times[other], strict=True))


# --- report ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=6, help="distinct 12 MP JPEGs")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per image")
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per pipeline")
    parser.add_argument("--folder-photos", type=int, default=20, help="photos, whole process")
    parser.add_argument("--process-rounds", type=int, default=5, help="whole-process rounds")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--cli-run", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--split-run", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(sys.stdin.read()), args.repeats)))
        return
    if args.cli_run:
        print(cli_run(args.cli_run, args.workers))
        return
    if args.split_run:
        print(split_run(args.split_run, args.workers))
        return
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench_encode_") as tmp:
        corpus_dir, folder, photos = Path(tmp, "corpus"), Path(tmp, "folder"), Path(tmp, "20")
        for path in (corpus_dir, folder, photos):
            path.mkdir()
        corpus = make_corpus(corpus_dir, args.photos)
        results = per_core(corpus, args.rounds, args.repeats)
        scores = fidelity(corpus)
        fill_folder(folder, corpus)
        scaling = scaling_of(folder, "--cli-run")
        ceiling = scaling_of(folder, "--split-run")
        for index in range(args.folder_photos):
            source = corpus["photo_12mp"][index % len(corpus["photo_12mp"])]
            shutil.copy(source, photos / f"{index:02d}_{source.name}")
        commands = process_commands(write_scripts(Path(tmp)), photos)
        processes = whole_processes(commands, args.process_rounds)
        n_folder = sum(1 for _ in folder.iterdir())
    print_machine(load_before)
    print_per_core(results, scores, corpus)
    print_processes(processes, scaling, ceiling, n_folder, args.folder_photos)
    print_targets(results, scores, scaling, processes)


def print_machine(load_before: tuple[float, ...]) -> None:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    print(
        f"{model}, {os.cpu_count()} CPUs; Pillow {Image.__version__}, libvips "
        f"{libvips.version()}; load average {load_before[0]:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after (1 min)\n"
    )


def print_per_core(results, scores, corpus) -> None:
    print("1-2. One CPU per pipeline process, median wall ms per image; luma SSIM of the")
    print("     pre-encode pixels against the exact reference (full decode, one LANCZOS resize)\n")
    print_times(results, scores, corpus, "")
    print("\n     The same runs in CPU ms (this process's own work, whatever else runs)\n")
    print_times(results, scores, corpus, "_cpu")
    rss = "  ".join(f"{name} {r['peak_rss_mb']:.0f} MB" for name, r in results.items())
    print(
        "\nlibrary = seed / toolkit (as a notebook calls it); CLI = seed / toolkit+malloc (as "
        "`toolkit encode` runs); same alloc = seed+malloc / toolkit+malloc."
    )
    print(f"peak RSS: {rss}")
    print(
        "The seed's RGBA score is low because convert('RGB') drops alpha (hidden colour shows "
        "instead of white).\n"
    )


def print_times(results, scores, corpus, suffix: str) -> None:
    """One row per kind: the pipelines' ms (wall, or CPU with `_cpu`) and their ratios."""
    seed, tool, pil = results["seed"], results["toolkit"], results["pillow"]
    seed_m, tool_m = results["seed+malloc"], results["toolkit+malloc"]
    print(
        f"{'kind':<15}{'n':>3}{'seed':>8}{'toolkit':>9}{'pillow':>8}{'seed+m':>8}{'tool+m':>8}"
        f"{'library':>9}{'CLI':>7}{'same alloc':>12}{'SSIM seed':>11}{'toolkit':>9}{'pillow':>8}"
    )
    for kind in KINDS:
        key = kind + suffix
        print(
            f"{kind:<15}{len(corpus[kind]):>3}{seed[key]:>8.1f}{tool[key]:>9.1f}"
            f"{pil[key]:>8.1f}{seed_m[key]:>8.1f}{tool_m[key]:>8.1f}"
            f"{seed[key] / tool[key]:>8.2f}x{seed[key] / tool_m[key]:>6.2f}x"
            f"{seed_m[key] / tool_m[key]:>11.2f}x"
            f"{scores[kind]['seed']:>11.4f}{scores[kind]['toolkit']:>9.4f}"
            f"{scores[kind]['pillow']:>8.4f}"
        )


def print_processes(processes, scaling, ceiling, n_folder, n_photos) -> None:
    print(
        f"3. toolkit encode over {n_folder} files, imports done: 1 worker "
        f"{scaling[1]:.2f} s, 2 workers {scaling[2]:.2f} s, speed-up "
        f"{scaling[1] / scaling[2]:.2f}x\n"
        f"   Ceiling, the files dealt to 2 processes with no pool (split_run): 1 process "
        f"{ceiling[1]:.2f} s, 2 processes {ceiling[2]:.2f} s, {ceiling[1] / ceiling[2]:.2f}x\n"
    )
    print(f"4. Whole processes over {n_photos} photos, median wall s and ratio to the seed script")
    seed = "seed script"
    for name, values in processes.items():
        ratio = ""
        if "worker" in name:
            ratio = f"   {paired_ratio(processes, seed, name):.2f}x the seed script"
        print(f"   {name:<28}{statistics.median(values):>7.2f} s{ratio}")
    print()


def print_targets(results, scores, scaling, processes) -> None:
    photo = "photo_12mp"
    seed = results["seed"]
    checks = []
    for suffix, clock in (("", "wall"), ("_cpu", "CPU")):
        for pipeline, label in (("toolkit", "library"), ("toolkit+malloc", "CLI")):
            ratio = seed[photo + suffix] / results[pipeline][photo + suffix]
            checks.append((f"{label} >= 2.2x seed, 12 MP ({clock})", ratio, 2.2))
            for kind in ("screenshot_png", "rgba_png"):
                ratio = seed[kind + suffix] / results[pipeline][kind + suffix]
                checks.append((f"{kind} {label} >= seed ({clock})", ratio, 1.0))
    checks += [
        ("resize SSIM >= 0.998, 12 MP", scores[photo]["toolkit"], 0.998),
        ("toolkit encode, 2 workers >= 1.85x", scaling[1] / scaling[2], 1.85),
    ]
    for workers, target in (("1 worker", 1.9), ("2 workers", 3.4)):
        ratio = paired_ratio(processes, "seed script", f"toolkit encode, {workers}")
        checks.append((f"whole process, toolkit encode, {workers} >= {target}x", ratio, target))
    print("Targets (issue 14)")
    for label, value, target in checks:
        print(f"   {'met    ' if value >= target else 'NOT MET'}  {label:<52}{value:.4g}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
