"""What a report run says before it starts (its images, about how long), where its inputs
and outputs are (the working folder, else the toolkit's shipped files) and the vocabulary
every page links to."""

import papermill
import pytest

from toolkit.glossary import TERMS, glossary_html, glossary_markdown, seed_recipe_text
from toolkit.images import DEFAULT_SETTINGS
from toolkit.paths import CHECKOUT_DIR, NOTEBOOKS_DIR, SAMPLES_DIR, input_path, reports_dir
from toolkit.report_estimate import MEASURED, duration_text, estimate_seconds
from toolkit.reports import images_used, notebook_output


@pytest.fixture(scope="module")
def declared() -> dict:
    return papermill.inspect_notebook(str(NOTEBOOKS_DIR / "02-max-size.ipynb"))


def test_the_estimate_follows_the_images_and_the_grid(declared):
    fixed, per_image = MEASURED["02-max-size"]
    assert estimate_seconds("02-max-size", {}, declared, 10) == fixed + 10 * per_image
    half = {"models": ["gpt-4o", "gpt-5.5"]}  # the default grid has 4 models
    assert estimate_seconds("02-max-size", half, declared, 10) == fixed + 5 * per_image
    sampled = {"sample": 3}
    assert estimate_seconds("02-max-size", sampled, declared, 10) == fixed + 3 * per_image
    assert estimate_seconds("my-own", {}, declared, 0) > 0  # a notebook never measured


def test_durations_read_as_a_person_would_say_them():
    assert [duration_text(s) for s in (4, 44, 200, 5400)] == [
        "about 10 s",
        "about 40 s",
        "about 3 min",
        "about 1.5 h",
    ]


def test_a_preset_that_samples_says_how_many_of_how_many(tmp_path):
    for i in range(5):
        (tmp_path / f"{i}.png").write_bytes(b"")  # listed by name, not read
    used = images_used(tmp_path, {"limit": 2})
    assert (used["available"], used["used"]) == (5, 2)
    assert used["text"].startswith("2 of 5 images in ") and "limit" in used["text"]
    sampled = images_used(tmp_path, {"sample": 3, "seed": 7})["text"]
    assert sampled.startswith("3 of 5 images") and "random sample of 3 (seed 7)" in sampled
    assert images_used(tmp_path, {})["text"].startswith("all 5 images in ")


def test_inputs_are_found_from_the_working_folder_then_among_the_shipped_files(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert input_path("data/samples") == SAMPLES_DIR  # nothing here: the shipped samples
    (tmp_path / "data" / "samples").mkdir(parents=True)
    assert input_path("data/samples") == tmp_path / "data" / "samples"  # the user's own
    assert input_path("missing") == tmp_path / "missing"  # the error names where it looked
    assert input_path(SAMPLES_DIR) == SAMPLES_DIR


def test_outputs_go_to_the_working_folder_never_beside_the_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert reports_dir() == tmp_path / "reports"
    assert notebook_output() == tmp_path / "reports" / "interactive"
    assert notebook_output(tmp_path / "r") == tmp_path / "r"
    if CHECKOUT_DIR is not None:
        assert not reports_dir().is_relative_to(CHECKOUT_DIR)


def test_the_glossary_page_is_the_glossary(tmp_path):
    assert CHECKOUT_DIR is None or (
        (CHECKOUT_DIR / "docs" / "GLOSSARY.md").read_text() == glossary_markdown()
    ), "docs/GLOSSARY.md is stale: python -m toolkit.glossary > docs/GLOSSARY.md"
    words = {"seed recipe", "change", "floor", "seen view", "ceiling", "binding rule", "crops"}
    assert words <= {t.term for t in TERMS}
    html = glossary_html()
    assert all(f">{t.term}</dt>" in html for t in TERMS)
    seed = DEFAULT_SETTINGS
    assert seed_recipe_text() == f"longest side {seed.max_side} px, JPEG quality 85, detail high"
