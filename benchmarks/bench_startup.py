"""Start-up: what `import toolkit` and a one-line CLI command cost before any work is done.

    .venv/bin/python benchmarks/bench_startup.py [--runs 15] [--tree PATH]

Two figures, each the median of `--runs` fresh processes after one discarded warm-up run:
- `import_s`: the cumulative time of `import toolkit` as `python -X importtime` reports it
  (target: under 0.3 s), with the heavy libraries it pulled in (pandas, scipy, av, openai,
  matplotlib, tesserocr should stay out);
- `tokens_cli_s`: wall time of `toolkit tokens 1024x1024 --model gpt-4o`, process start to
  exit (target: under 0.5 s).

`--tree PATH` measures another checkout of the package (put first on `PYTHONPATH`), e.g. the
commit before a change: `git archive <commit> | tar -x -C /tmp/base`, then
`--tree /tmp/base`.

Measured on the project's 2-core VM (medians of 15 warm runs): before the lazy API (d953776)
`import_s` 0.80 s and `tokens_cli_s` 0.99 s on an idle machine (1.15 s and 1.61 s while
other jobs ran), pandas, SciPy, PyAV, numpy and Pillow loaded by `import toolkit`; after,
0.010 s and 0.15 s idle (0.01-0.02 s and 0.22-0.35 s loaded), nothing heavy loaded.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("pandas", "scipy", "av", "openai", "matplotlib", "tesserocr", "numpy", "PIL")
NEUTRAL = (
    tempfile.gettempdir()
)  # the working directory: never a checkout (`python -c` imports from it)
TARGETS = {"import_s": 0.3, "tokens_cli_s": 0.5}
TOKENS_ARGS = ("tokens", "1024x1024", "--model", "gpt-4o")


def environment(tree: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return env


def import_time(env: dict[str, str]) -> tuple[float, list[str]]:
    """Seconds `import toolkit` took (cumulative, from -X importtime) and the heavy top-level
    packages it imported."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import toolkit"],
        capture_output=True,
        text=True,
        env=env,
        cwd=NEUTRAL,
        check=True,
    )
    seconds, loaded = None, set()
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        name = name.strip()
        if name == "toolkit":
            seconds = int(cumulative) / 1e6
        loaded.add(name.split(".")[0])
    if seconds is None:
        raise RuntimeError(f"no `toolkit` line in -X importtime output:\n{run.stderr[-2000:]}")
    return seconds, sorted(loaded & set(HEAVY))


def command() -> list[str]:
    """The `toolkit` console script next to this interpreter, else `python -m toolkit`."""
    script = Path(sys.executable).with_name("toolkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "toolkit"]


def tokens_cli_time(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [*command(), *TOKENS_ARGS], capture_output=True, env=env, cwd=NEUTRAL, check=True
    )
    return time.perf_counter() - start


def median_of(runs: int, measure) -> float:
    measure()  # warm-up: file system caches, .pyc files
    return statistics.median(measure() for _ in range(runs))


def check_tree(env: dict[str, str], tree: Path | None) -> None:
    """The package measured is the one asked for (`--tree`, else the installed one)."""
    code = "import toolkit; print(toolkit.__file__)"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=NEUTRAL
    )
    if tree is not None and not run.stdout.startswith(str(tree.resolve())):
        sys.exit(f"measuring {run.stdout.strip()}, not {tree}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--tree", type=Path, help="measure this checkout instead")
    args = parser.parse_args()
    env = environment(args.tree)
    check_tree(env, args.tree)
    _, heavy = import_time(env)
    figures = {
        "import_s": median_of(args.runs, lambda: import_time(env)[0]),
        "tokens_cli_s": median_of(args.runs, lambda: tokens_cli_time(env)),
    }
    for name, value in figures.items():
        verdict = "ok" if value < TARGETS[name] else "OVER"
        print(f"{name:14} {value:7.3f} s  (target < {TARGETS[name]} s: {verdict})")
    print(f"heavy packages loaded by `import toolkit`: {', '.join(heavy) or 'none'}")
    print(json.dumps({**{k: round(v, 4) for k, v in figures.items()}, "heavy": heavy}))


if __name__ == "__main__":
    main()
