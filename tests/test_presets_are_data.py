"""A preset shared by a colleague is data, never code: tags that build other Python values,
alias bombs, recursive aliases and values of the wrong type are refused (one line, exit 2)
before papermill writes anything into a notebook, and no report folder is made."""

import base64
import textwrap
from pathlib import Path

import papermill
import pytest
from helpers import run_cli, toolkit

from toolkit.errors import ReportError
from toolkit.paths import NOTEBOOKS_DIR
from toolkit.reports import load_preset, notebook_parameters

# What papermill would write, unescaped, into the parameters cell for a bytes or set value
# (`Translator.translate_escaped_str` wraps their `str()` in quotes without escaping them).
CODE = '"; open(__import__("os").environ["MARKER"], "w").close(); x = "'
NOTEBOOK = NOTEBOOKS_DIR / "02-max-size.ipynb"


def preset(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "shared.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def report(tmp_path: Path, preset_path: Path, capsys) -> str:
    """`toolkit report` with the preset: its one error line (the run must be refused)."""
    out = tmp_path / "report"
    assert run_cli("report", "--preset", preset_path, "--out", out) == 2
    assert not out.exists()
    (line,) = capsys.readouterr().err.splitlines()
    return line


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        (f"!!binary {base64.b64encode(CODE.encode()).decode()}", "binary"),
        (f"!!set {{'{CODE}'}}", "set"),
        ("!!python/object/apply:os.system ['true']", "python/object/apply:os.system"),
        ("2026-11-30", "timestamp"),  # a date, not text: quote it
    ],
)
def test_a_value_that_is_not_plain_data_is_refused(tmp_path, capsys, monkeypatch, value, tag):
    marker = tmp_path / "marker"
    monkeypatch.setenv("MARKER", str(marker))
    path = preset(tmp_path, f"shared:\n  images_dir: {value}\n")
    line = report(tmp_path, path, capsys)
    assert line.startswith(f"toolkit report: error: {path}: not a readable YAML preset: ")
    assert f"{tag} is not plain data (line 2, column 15)" in line
    assert not marker.exists()


def test_an_alias_bomb_is_refused_before_it_is_expanded(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):  # 9 levels of 9 aliases: 387 million values once expanded
        name, below = chr(ord("a") + level), chr(ord("a") + level - 1)
        levels.append(f"{name}: &{name} [{', '.join([f'*{below}'] * 9)}]")
    path = preset(tmp_path, "shared:\n" + "".join(f"  {line}\n" for line in levels))
    result = toolkit("report", "--preset", path, "--out", tmp_path / "report", timeout=60)
    assert result.returncode == 2
    assert result.stderr.endswith(
        "not a readable YAML preset: stands for more than 10000 values once its aliases are "
        "expanded\n"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("shared: &s {loop: *s}\n", "a recursive alias (line 1, column 9)"),
        ("shared:\n  1: 2\n", "a mapping key that is not text (line 2, column 3)"),
        ("shared:\n  " + "[" * 5000 + "]" * 5000 + ": 1\n", "nested too deeply"),
    ],
    ids=["recursive", "number-key", "deep"],
)
def test_other_shapes_that_are_not_plain_data_are_refused(tmp_path, capsys, body, reason):
    assert report(tmp_path, preset(tmp_path, body), capsys).endswith(reason)


@pytest.mark.parametrize(
    ("section", "value", "declared"),
    [
        ("limit", '"2"', "int"),
        ("limit", "true", "int"),
        ("models", "gpt-4o", "list"),
        ("ocr", "1", "bool"),
        ("categories", "[a, b]", "dict"),
    ],
)
def test_a_value_of_another_type_than_the_notebook_declares_is_refused(
    tmp_path, capsys, section, value, declared
):
    path = preset(tmp_path, f"shared:\n  images_dir: data/samples\n  {section}: {value}\n")
    line = report(tmp_path, path, capsys)
    assert f"parameter {section} is declared {declared}, not " in line


def test_only_plain_values_of_the_declared_type_reach_papermill(tmp_path):
    declared = papermill.inspect_notebook(str(NOTEBOOK))
    config = load_preset("smoke")
    for value in (CODE.encode(), {CODE}, (1, 2)):  # built in Python, not read from YAML
        config["notebooks"]["02-max-size"] = {"image_format": value}
        with pytest.raises(ReportError, match="parameter image_format is declared str"):
            notebook_parameters(config, NOTEBOOK, declared, {})
    config["notebooks"]["02-max-size"] = {"image_format": "webp", "reference_side": 4096}
    parameters = notebook_parameters(config, NOTEBOOK, declared, {"out_dir": "x"})
    assert parameters["image_format"] == "webp" and parameters["reference_side"] == 4096


def test_a_float_parameter_takes_an_integer(tmp_path):
    notebook = NOTEBOOKS_DIR / "03-detail-levels.ipynb"
    config = {"report": {}, "shared": {}, "notebooks": {notebook.stem: {"view_crop": 1}}}
    declared = papermill.inspect_notebook(str(notebook))
    assert notebook_parameters(config, notebook, declared, {})["view_crop"] == 1
