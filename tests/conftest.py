"""Shared fixtures (helpers the tests import are in `helpers.py`)."""

import os
import subprocess
from pathlib import Path

import pytest
from helpers import to_bytes
from PIL import Image


@pytest.fixture
def write(tmp_path: Path):
    """write(name, data_or_image, fmt=None, **save_options) -> path in tmp_path."""

    def _write(name: str, content, fmt: str | None = None, **options) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Image.Image):
            content = to_bytes(content, fmt or "PNG", **options)
        path.write_bytes(content)
        return path

    return _write


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A real full disk to be: a 1 MiB tmpfs mounted in tmp_path, as root only (skipped
    otherwise, where tests inject `OSError(ENOSPC)` instead); unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    options = ["-t", "tmpfs", "-o", "size=1m,mode=0777", "tmpfs", str(mount)]
    if subprocess.run(["mount", *options], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)
