"""Drive JupyterLab in Debian's headless Chromium through Playwright (no browser download).

    python scripts/lab.py screenshot docs/explorer.png   # the README's picture of the explorer

`lab_server(root)` runs JupyterLab on 127.0.0.1 (a free port, a random token, its own config,
data and runtime folders) and stops it and its kernels on exit; `chromium_page()` opens a page
in `/usr/bin/chromium` with the flags this machine's closed network needs; `run_notebook`
opens a notebook there and runs every cell; `explorer` finds the explorer's controls and
numbers. Used by `tests/test_explore_browser.py` and `benchmarks/bench_explore.py`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 20


@dataclass(frozen=True)
class Lab:
    url: str  # http://127.0.0.1:PORT
    token: str
    process: subprocess.Popen
    log: Path

    def page_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def lab_server(root: Path) -> Iterator[Lab]:
    """JupyterLab serving `root`; on exit the server is stopped (SIGTERM: it shuts its
    kernels down), then anything left in its process group is killed."""
    state = Path(tempfile.mkdtemp(prefix="toolkit-lab-"))
    quiet = state / "settings" / "@jupyterlab" / "apputils-extension"
    quiet.mkdir(parents=True)  # no "news?" and "updates?" pop-ups over the page
    (quiet / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}'
    )
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(state / "config"),
        "JUPYTER_DATA_DIR": str(state / "data"),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
    }
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_root=True",  # CI runs as root
        "--ServerApp.terminals_enabled=False",
        "--LabApp.extension_manager=readonly",  # never asks PyPI
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = state / "lab.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, process, log)
    try:
        _wait_until_up(lab)
        yield lab
    finally:
        _stop(process)
        shutil.rmtree(state, ignore_errors=True)


def _wait_until_up(lab: Lab) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited: {lab.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{lab.url}/api/status?token={lab.token}", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not answer in {START_TIMEOUT_S} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # kernels that outlived the server
    process.wait()


@contextlib.contextmanager
def chromium_page(width: int = 1500, height: int = 1100):
    """A Playwright page in Debian's Chromium (headless, a fresh profile)."""
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        raise FileNotFoundError("chromium is not installed (apt install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def run_notebook(page, lab: Lab, notebook: str, timeout_s: float = 120) -> None:
    """Open `notebook` (relative to the server's root), run all its cells and wait until
    the kernel is idle again with every cell run."""
    timeout = {"timeout": timeout_s * 1000}
    page.goto(lab.page_url(notebook))
    page.wait_for_function(KERNEL_IDLE, **timeout)  # a kernel started and connected
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.get_by_text("Run All Cells", exact=True).click()
    page.wait_for_function(ALL_CELLS_RUN, **timeout)
    page.wait_for_function(KERNEL_IDLE, **timeout)


KERNEL_IDLE = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(
  (item) => item.textContent.endsWith('| Idle') && !item.textContent.startsWith('No Kernel'))"""
ALL_CELLS_RUN = """() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
  return prompts.length > 0 && prompts.every((p) => /\\[\\d+\\]/.test(p.textContent));
}"""


class Explorer:
    """The explorer's widgets on a JupyterLab page."""

    def __init__(self, page):
        self.page = page
        self.root = page.locator(".toolkit-explore")

    def control(self, label: str):
        """The widget whose description is `label`."""
        return self.root.locator(
            ".widget-inline-hbox", has=self.page.get_by_text(label, exact=True)
        )

    def number(self, key: str) -> str:
        return self.root.locator(f"tr[data-key='{key}'] td").last.inner_text()

    def picture(self, index: int) -> str:
        """A digest of the bytes behind picture `index` (0 original, 1 kept, 2-3 crops)."""
        return (
            self.root.locator(".widget-image")
            .nth(index)
            .evaluate(
                """async (img) => {
              const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
              const digest = await crypto.subtle.digest('SHA-256', bytes);
              return [...new Uint8Array(digest)].map((b) => b.toString(16)).join('');
            }"""
            )
        )

    def drag_slider(self, label: str, share: float) -> float:
        """Drag the slider `label` to `share` (0..1) of its track; return the
        `time.perf_counter()` of the release, when the new value is sent."""
        slider = self.control(label)
        slider.scroll_into_view_if_needed()
        track = slider.locator(".noUi-base").bounding_box()
        handle = slider.locator(".noUi-handle").bounding_box()
        mouse = self.page.mouse
        mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
        mouse.down()
        mouse.move(track["x"] + share * track["width"], track["y"] + track["height"] / 2, steps=8)
        released = time.perf_counter()
        mouse.up()
        return released

    def select(self, label: str, value: str) -> float:
        """Choose `value` in the drop-down `label`; return the `time.perf_counter()` before."""
        menu = self.control(label).locator("select")
        menu.scroll_into_view_if_needed()
        chosen = time.perf_counter()
        menu.select_option(value)
        return chosen

    def wait_for_change(self, key: str, before: str, timeout_s: float = 30) -> str:
        """Wait (checking every frame) until number `key` reads neither `before` nor
        "measuring…"; return what it reads."""
        self.page.wait_for_function(
            CHANGED, arg=[key, before], polling="raf", timeout=timeout_s * 1000
        )
        return self.number(key)


CHANGED = """([key, before]) => {
  const cells = document.querySelectorAll(`.toolkit-explore tr[data-key='${key}'] td`);
  const text = cells.length ? cells[cells.length - 1].textContent : before;
  return text !== before && text !== 'measuring…';
}"""


def notebook_copy(notebook: Path, folder: Path, parameters: dict) -> str:
    """Write `notebook` into `folder` with `parameters` injected (as papermill does), so
    JupyterLab runs and saves a copy, never the project's file; return its name."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    copy = parameterize_notebook(load_notebook_node(str(notebook)), parameters)
    nbformat.write(copy, folder / notebook.name)
    return notebook.name


def screenshot(out: Path, parameters: dict) -> None:
    """Run notebooks/00-explore.ipynb in JupyterLab with `parameters` and photograph the
    explorer."""
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "00-explore.ipynb"
    with tempfile.TemporaryDirectory() as folder:
        name = notebook_copy(notebook, Path(folder), {**parameters, "out_dir": folder})
        with lab_server(Path(folder)) as lab, chromium_page(1500, 2000) as page:
            run_notebook(page, lab, name, timeout_s=600)
            page.keyboard.press("Control+b")  # fold the file browser away
            explorer = Explorer(page)
            explorer.root.scroll_into_view_if_needed()
            explorer.root.screenshot(path=str(out))
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="job", required=True)
    shot = sub.add_parser("screenshot", help="photograph the explorer for the README")
    shot.add_argument("out", type=Path)
    shot.add_argument("--image", default="code_editor_1x.png", help="image shown")
    shot.add_argument("--max-side", type=int, default=1536)
    shot.add_argument("--model", default="gpt-5.4-mini")
    args = parser.parse_args()
    screenshot(
        args.out, {"image": args.image, "max_side": args.max_side, "model": args.model, "limit": 4}
    )
