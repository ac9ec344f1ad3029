"""Installed like any package: the built wheel, in a fresh venv, makes a report from an empty
folder (notebooks, presets and sample images ship inside it; reports go to ./reports/)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.paths import CHECKOUT_DIR

pytestmark = [pytest.mark.wheel, pytest.mark.notebooks, pytest.mark.timeout(1800)]


def run(*command: object, cwd: Path | None = None, timeout: float = 900):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        env={**env, "MPLBACKEND": "agg"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with the wheel built from this checkout installed with its notebooks
    extra; skipped when the package registry cannot be reached."""
    if CHECKOUT_DIR is None:
        pytest.skip("the wheel is built from a source checkout")
    root = tmp_path_factory.mktemp("wheel")
    venv = root / "venv"
    assert run(sys.executable, "-m", "venv", venv).returncode == 0
    pip = venv / "bin" / "pip"
    probe = run(pip, "download", "--no-deps", "-d", root / "probe", "hatchling", timeout=300)
    if probe.returncode != 0:
        pytest.skip(f"the package registry cannot be reached: {probe.stderr[-300:]}")
    built = run(pip, "wheel", "--no-deps", "-w", root / "dist", CHECKOUT_DIR)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (root / "dist").glob("toolkit-*.whl")
    installed = run(pip, "install", f"{wheel}[notebooks]", timeout=1200)
    assert installed.returncode == 0, installed.stderr[-2000:]
    return venv


def test_the_installed_toolkit_ships_its_notebooks_presets_and_samples(venv):
    code = (
        "import json, toolkit, toolkit.paths as p; print(json.dumps({"
        "'checkout': str(p.CHECKOUT_DIR), 'presets': p.presets(), "
        "'samples': len(list(toolkit.SAMPLES_DIR.rglob('*.png'))), "
        "'inside': toolkit.SAMPLES_DIR.is_relative_to(p.PACKAGE_DIR)}))"
    )
    done = run(venv / "bin" / "python", "-c", code, cwd=venv)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["checkout"] == "None" and "smoke" in found["presets"]
    assert found["samples"] > 0 and found["inside"]


def test_a_smoke_report_from_an_empty_folder(venv, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    done = run(venv / "bin" / "toolkit", "report", "--preset", "smoke", "--json", cwd=folder)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r"2 of \d+ images in data/samples", done.stderr)  # said before it starts
    (report,) = (folder / "reports").iterdir()  # ./reports/ of the working folder
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest["git_commit"] is None  # the installed toolkit, not this checkout
    assert all(run["status"] == "ok" for run in manifest["notebooks"])
    images = Path(manifest["notebooks"][1]["parameters"]["images_dir"])
    assert images.is_relative_to(venv)  # the samples shipped in the wheel
    assert (report / "index.html").is_file() and list(report.glob("[0-9]*.html"))
