"""Shared fixtures (helpers the tests import are in `helpers.py`)."""

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
