"""Set up the project's virtual environment and run its main job or its tests.

    python3 scripts/dev.py report   # set up, then build the reports on data/samples
    python3 scripts/dev.py test     # set up, then lint, type-check and run the whole test suite

Needs only Python 3.11+. Everything else is installed here: the venv (pip upgraded first, the
machine's pip is old), the package with its notebook, neural-reader and test extras
(ipywidgets for the explorer; RapidOCR, the PP-OCR of the default `auto` reader; Playwright,
which drives the system's Chromium and downloads no browser), and, for the tests, the
Debian packages they use (Tesseract OCR for both, headless Chromium for the report pages and
the JupyterLab test) when running as root.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".toolkit-installed"
REPORT_PACKAGES = {"tesseract": "tesseract-ocr"}  # OCR's English model, for legibility
TEST_PACKAGES = {**REPORT_PACKAGES, "chromium": "chromium"}  # report pages, JupyterLab


def run(*cmd: object, **kwargs) -> None:
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def setup_venv(extras: str) -> None:
    """Create the venv and install the package editable; skip when nothing changed."""
    if not (BIN / "python").exists():
        run(sys.executable, "-m", "venv", VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[{extras}]")
    STAMP.write_text(wanted)


def install_debian_packages(packages: dict[str, str]) -> None:
    """Install the system tools a job uses, when missing and when we may (root)."""
    missing = [pkg for tool, pkg in packages.items() if shutil.which(tool) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        print(f"not root: cannot install {missing}; install them (apt) for legibility and tests")
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run("apt-get", "update", "-qq", env=env)
    run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, env=env)


def main_job() -> None:
    setup_venv("notebooks,neural")  # neural: the `auto` reader's PP-OCR, for charts
    install_debian_packages(REPORT_PACKAGES)
    run(BIN / "toolkit", "report", "--preset", "default", "--images", ROOT / "data" / "samples")


def tests() -> None:
    setup_venv("notebooks,test")
    install_debian_packages(TEST_PACKAGES)
    env = {**os.environ, "MPLBACKEND": "agg", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    run(BIN / "ruff", "check", ROOT, cwd=ROOT)
    run(BIN / "ruff", "format", "--check", ROOT, cwd=ROOT)
    run(BIN / "mypy", cwd=ROOT)  # over toolkit/, configured in pyproject.toml
    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    if notebooks:
        run(BIN / "nbstripout", "--verify", *notebooks, cwd=ROOT)
    run(BIN / "python", "-m", "pytest", "-p", "no:cacheprovider", cwd=ROOT, env=env)


if __name__ == "__main__":
    jobs = {"report": main_job, "test": tests}
    if len(sys.argv) != 2 or sys.argv[1] not in jobs:
        sys.exit(f"usage: python3 scripts/dev.py {{{'|'.join(jobs)}}}")
    try:
        jobs[sys.argv[1]]()
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
