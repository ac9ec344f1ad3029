"""The explorer: the sweep's numbers, work redone only where a control asks for it, the widget's
controls, errors, the copy-settings box and the static view."""

import base64
import io
import json
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli
from PIL import Image, ImageDraw, ImageFont

from toolkit import explorer as explorer_module
from toolkit.errors import (
    SettingsError,
    SourceError,
    UnknownModelError,
    UnsupportedDetailError,
)
from toolkit.explorer import Choice, ExploreSession, explore
from toolkit.sweep import run_sweep

pytest.importorskip("ipywidgets")


def photo(path: Path, width: int = 600, height: int = 400) -> Path:
    rng = np.random.default_rng(7)
    x = np.linspace(0, 1, width)[None, :, None]
    y = np.linspace(0, 1, height)[:, None, None]
    base = 30 + 180 * (0.5 * x + 0.3 * y + 0.2 * np.sin(25 * x * y))
    pixels = np.clip(base + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, quality=92)
    return path


def text_page(path: Path) -> Path:
    page = Image.new("RGB", (1200, 300), "white")
    text = "Invoice 4821 total 93.50 due 2026-11-30 paid by transfer to Acme Supplies"
    ImageDraw.Draw(page).text((30, 110), text, fill="black", font=ImageFont.load_default(14))
    path.parent.mkdir(parents=True, exist_ok=True)
    page.save(path)
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    photo(tmp_path / "images" / "photo" / "a.jpg")
    text_page(tmp_path / "images" / "text" / "page.png")
    return tmp_path / "images"


def sweep_row(path: Path, choice: Choice, reference_side: int) -> dict:
    """The sweep's row for `path` with the settings of `choice`."""
    with ThreadPoolExecutor(1) as threads:
        grid = choice.sweep_grid(reference_side)
        return run_sweep(path, grid, threads, progress=False).iloc[0].to_dict()


@pytest.mark.parametrize(
    ("name", "choice", "reference_side"),
    [
        ("photo/a.jpg", dict(max_side=384, quality=60, model="gpt-4o", detail="low"), 512),
        ("photo/a.jpg", dict(max_side=512, format="webp", quality=70, model="gpt-5.4"), 512),
        ("text/page.png", dict(max_side=1024, quality=80, model="gpt-4o", detail="high"), 2048),
    ],
)
def test_the_numbers_are_the_sweeps(folder, name, choice, reference_side):
    session = ExploreSession(reference_side)
    shown = Choice(folder / name, **choice)
    numbers, fidelity = session.numbers(shown), session.fidelity(shown)
    row = sweep_row(folder / name, shown, reference_side)
    for column in ("width", "height", "bytes", "base64_chars", "tokens", "cost_usd"):
        assert numbers[column] == row[column], column
    assert (numbers["provider_width"], numbers["provider_height"]) == (
        row["provider_width"],
        row["provider_height"],
    )
    assert fidelity["seen_ssim"] == row["seen_ssim"]
    assert (fidelity["reference_width"], fidelity["reference_height"]) == (
        row["reference_width"],
        row["reference_height"],
    )
    assert fidelity["text_words"] == row["text_words"]
    if name.startswith("text"):  # the original has text: legibility judged, as in the sweep
        assert fidelity["seen_word_recall"] == row["seen_word_recall"] > 0.9
        assert fidelity["seen_char_accuracy"] == row["seen_char_accuracy"]
    else:
        assert "seen_word_recall" not in fidelity and np.isnan(row["seen_word_recall"])


def counting(monkeypatch, calls: dict, name: str) -> None:
    original = getattr(explorer_module, name)

    def wrapper(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        return original(*args, **kwargs)

    monkeypatch.setattr(explorer_module, name, wrapper)


def test_each_control_redoes_only_its_stage(folder, monkeypatch):
    calls: dict = {}
    for name in ("load_image", "resize_image", "encode_pixels", "legibility", "read_text"):
        counting(monkeypatch, calls, name)
    shown = explore(folder, image="page.png", max_side=768, quality=85)
    # the first view: one decode, one encode, one reading of the original and one of the kept
    # view; the reference and every max-side stop resized once (the others in the background)
    shown.session.prefetching.result()
    assert calls == {
        "load_image": 1,
        "resize_image": 1 + len(shown.sides),
        "encode_pixels": 1,
        "read_text": 1,
        "legibility": 1,
    }
    resizes = calls["resize_image"]
    views = {view(shown)}  # (encode settings, kept size): each is read once
    shown.controls["quality"].value = 60
    views.add(view(shown))
    assert calls["encode_pixels"] == 2  # re-encoded only
    shown.controls["model"].value = "gpt-4.1-mini"
    views.add(view(shown))
    shown.controls["detail"].value = "low"
    views.add(view(shown))
    assert calls["encode_pixels"] == 2  # re-priced only
    shown.controls["max_side"].value = 512
    views.add(view(shown))
    assert calls["encode_pixels"] == 3
    for control, value in (("max_side", 768), ("quality", 85), ("model", "gpt-4o")):
        shown.controls[control].value = value
        views.add(view(shown))
    shown.controls["detail"].value = "high"  # the first view again
    assert calls["encode_pixels"] == 3  # encodes seen before are not redone
    assert calls["resize_image"] == resizes  # nor resizes
    assert (calls["load_image"], calls["read_text"]) == (1, 1)
    assert calls["legibility"] == len(views) > 3


def view(shown) -> tuple:
    numbers = shown.session.numbers(shown.choice)
    return shown.choice.settings, numbers["provider_width"], numbers["provider_height"]


def test_controls_change_the_numbers_and_the_pictures(folder):
    shown = explore(folder, image="a.jpg", max_side=512, quality=85, ocr=False)
    controls = shown.controls
    first = (shown.numbers.value, [p.value for p in shown.pictures])
    assert "toolkit-error" not in shown.status.value
    assert all(first[1]) and "measuring" not in first[0]
    controls["quality"].value = 30
    assert shown.choice.quality == 30
    assert number(shown, "bytes") < number(first[0], "bytes")
    assert shown.pictures[1].value != first[1][1] and shown.pictures[0].value == first[1][0]
    controls["model"].value = "claude-sonnet-4-5"  # no `high` detail: falls back to auto
    assert controls["detail"].value == "auto" and controls["detail"].options == ("auto",)
    assert "no price" not in shown.numbers.value
    controls["model"].value = "gemini-3-pro-preview"  # left the price page for 3.1
    assert "no price" in shown.numbers.value
    controls["format"].value = "png"
    assert controls["quality"].disabled and "PNG" in shown.numbers.value
    controls["zoom"].value = 1  # the crop is the whole image
    assert shown.session.crop_box(shown.choice) == (0, 0, 600, 400)
    controls["image"].value = folder / "text" / "page.png"  # the crop moves to its text
    assert (controls["centre_x"].value, controls["centre_y"].value) == shown.choice.centre
    controls["zoom"].value = 4
    _, top, _, bottom = shown.session.crop_box(shown.choice)
    assert top <= 110 and bottom >= 125  # the line of text, not the blank margins


def number(shown_or_html, key: str) -> int:
    """A whole number from the numbers table (explorer or its HTML)."""
    text = getattr(shown_or_html, "numbers", None)
    html = text.value if text is not None else shown_or_html
    cell = re.search(rf'data-key="{key}"><td class="label">[^<]*</td><td>([^<]*)<', html)
    return int(cell.group(1).split()[0].replace(",", ""))


def test_a_broken_image_is_reported_and_the_others_still_work(folder):
    (folder / "photo" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    shown = explore(folder, image="a.jpg", ocr=False)
    shown.controls["image"].value = folder / "photo" / "broken.jpg"
    assert "NotAnImageError" in shown.status.value and "broken.jpg" in shown.status.value
    assert [p.value for p in shown.pictures] == [b""] * 4 and shown.numbers.value == ""
    shown.controls["image"].value = folder / "text" / "page.png"
    assert "toolkit-error" not in shown.status.value
    assert shown.choice.image.name == "page.png"


def test_a_size_the_provider_refuses_shows_why_and_no_kept_view(tmp_path):
    wide = tmp_path / "wide.png"
    Image.new("RGB", (8100, 40), "white").save(wide)  # over Anthropic's 8,000 px
    session = ExploreSession(reference_side=8192)
    refused = Choice(wide, max_side=8100, format="png", model="claude-sonnet-4-5", detail="auto")
    numbers = session.numbers(refused)
    assert "8000" in numbers["error"] and "tokens" not in numbers
    pictures = session.pictures(refused)
    assert pictures.kept is None and pictures.original
    assert session.fidelity(refused) == {}


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (dict(model="gpt-99"), UnknownModelError, "gpt-99"),
        (dict(model="gpt-4o", detail="original"), UnsupportedDetailError, "original"),
        (dict(quality=96), SettingsError, "quality"),
        (dict(format="gif"), SettingsError, "format"),
        (dict(max_side=4096), SettingsError, "reference_side"),
        (dict(background="no-such-colour"), SettingsError, "colour"),
        (dict(zoom=3), SettingsError, "zoom"),
        (dict(monthly_images=0), SettingsError, "monthly_images"),
        (dict(image="missing.png"), SourceError, "missing.png"),
        (dict(models=["gpt-4.1"]), SettingsError, "gpt-4o"),
    ],
)
def test_bad_arguments_are_typed_errors(folder, options, error, message):
    with pytest.raises(error, match=message):
        explore(folder, **options)


def test_a_path_without_images_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        explore(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="holds no image"):
        explore(tmp_path / "empty")


def test_copy_settings_give_the_numbers_on_screen(folder, capsys):
    shown = explore(folder, image="page.png", max_side=512, format="webp", quality=70, ocr=False)
    shown.controls["background"].value = "#102030"
    shown.controls["model"].value = "gpt-5.4-mini"
    on_screen = shown.session.numbers(shown.choice)
    argv = shlex.split(shown.choice.command())
    assert argv[:2] == ["toolkit", "encode"] and "--background" in argv
    assert run_cli(*argv[1:], "--json") == 0
    row = json.loads(capsys.readouterr().out)
    assert (row["bytes"], row["tokens"]) == (on_screen["bytes"], on_screen["tokens"])
    namespace: dict = {}
    python = shown.choice.python().replace(
        "toolkit.image_tokens", "estimate = toolkit.image_tokens"
    )
    exec("import toolkit\n" + python, namespace)
    assert namespace["encoded"].bytes == on_screen["bytes"]
    assert namespace["estimate"].tokens == on_screen["tokens"]
    assert shown.choice.python() in html_text(shown.settings.value)


def html_text(html: str) -> str:
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


def test_the_static_view_holds_the_pictures_and_the_numbers(folder):
    shown = explore(folder, image="page.png")
    bundle = shown._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    static = bundle["text/html"]
    pictures = re.findall(r'src="data:(image/\w+);base64,([^"]+)"', static)
    assert [mime for mime, _ in pictures] == ["image/jpeg"] * 2 + ["image/png"] * 2
    for _, data in pictures:
        with Image.open(io.BytesIO(base64.b64decode(data))) as image:
            assert max(image.size) == explorer_module.DISPLAY_SIDE
    for key in ("bytes", "tokens", "cost_usd_per_month", "seen_ssim", "seen_word_recall"):
        assert f'data-key="{key}"' in static
    assert "measuring" not in static and "toolkit encode" in static


def test_importing_toolkit_loads_no_widget_library():
    code = "import sys, toolkit; print([m for m in ('ipywidgets', 'IPython') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
