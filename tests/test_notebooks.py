"""Notebooks: structure, presets, the smoke report end to end, and a failing notebook."""

import ast
import json
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest
import yaml
from smoke_report import smoke_report

from toolkit.cli import main
from toolkit.errors import ReportError
from toolkit.glossary import seed_recipe_text
from toolkit.images import iter_image_files
from toolkit.paths import NOTEBOOKS_DIR, PARAMS_DIR, SAMPLES_DIR, SHIPPED_DIR, input_path
from toolkit.pricing import input_rate
from toolkit.reports import PACKAGES, build_report, load_preset, notebook_parameters

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
PRESETS = sorted(PARAMS_DIR.glob("*.yaml"))
NAMES = [p.stem for p in NOTEBOOKS]


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def test_the_notebooks_and_presets_exist():
    assert {"00-explore", "01-quality", "02-max-size", "03-detail-levels"} <= set(NAMES)
    assert "04-cost-projection" in NAMES
    assert {"05-live-check", "06-video-frames"} <= set(NAMES)
    assert {"smoke", "default", "full"} <= {p.stem for p in PRESETS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_structure(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    cells = code_cells(nb)
    assert all(c.outputs == [] and c.execution_count is None for c in cells), "outputs committed"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged parameters"
    assert nb.cells[0].cell_type == "markdown" and "papermill" in nb.cells[0].source
    for statement in ast.parse(tagged[0].source).body:  # `name: type = literal  # comment`
        assert isinstance(statement, ast.AnnAssign), ast.unparse(statement)
        ast.literal_eval(statement.value)
        line = tagged[0].source.splitlines()[statement.end_lineno - 1]
        assert "#" in line[statement.end_col_offset :], f"no comment: {line}"
    for cell in cells:
        lines = [line for line in cell.source.splitlines() if not line.startswith("%")]
        tree = ast.parse("\n".join(lines))
        defined = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert not defined, f"definitions in a notebook: {[n.name for n in defined]}"
    assert "assert " in cells[-1].source, "the last cell checks the expected row count"
    assert {"out_dir", "show_progress"} <= set(papermill.inspect_notebook(str(path)))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebooks_use_only_the_public_api(path):
    import toolkit

    nb = nbformat.read(path, as_version=4)
    source = "\n".join(
        line for c in code_cells(nb) for line in c.source.splitlines() if not line.startswith("%")
    )
    tree = ast.parse(source)
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {m for m in modules if m.split(".")[0] == "toolkit"} <= {"toolkit"}
    imported = {
        a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "toolkit"
        for a in n.names
    }
    used = {
        n.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and n.value.id == "toolkit"
    }
    assert imported | used <= set(toolkit.__all__), "a name outside toolkit.__all__"


@pytest.mark.parametrize("preset", PRESETS, ids=[p.stem for p in PRESETS])
def test_presets_only_set_declared_parameters(preset):
    config = load_preset(preset.stem)
    assert set(config["notebooks"]) <= set(NAMES)
    for path in NOTEBOOKS:
        declared = papermill.inspect_notebook(str(path))
        params = notebook_parameters(config, path, declared, {"out_dir": "x"})
        assert set(params) <= set(declared)
    assert yaml.safe_load(preset.read_text())  # literals only: plain YAML, no tags


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out, exit_code = smoke_report(tmp_path_factory.getbasetemp())
    manifest = json.loads((out / "manifest.json").read_text())
    failed = {r["name"]: r["error"] for r in manifest["notebooks"] if r["status"] != "ok"}
    assert exit_code == 0 and not failed, f"failed notebooks: {failed}"
    return out, manifest


@pytest.mark.notebooks
def test_smoke_report_runs_every_notebook(report):
    out, manifest = report
    assert [r["name"] for r in manifest["notebooks"]] == NAMES
    for run in manifest["notebooks"]:
        assert (out / run["page"]).is_file() and (out / run["executed"]).is_file()
        assert run["parameters"]["show_progress"] is False
        assert run["parameters"]["out_dir"] == str(out)
        assert run["figures"], f"{run['name']} saved no figure"
        assert all((out / f).is_file() for f in run["figures"] + run["tables"])
    html = (out / "index.html").read_text()
    assert all(f'href="{r["page"]}"' in html for r in manifest["notebooks"])


@pytest.mark.notebooks
def test_smoke_report_manifest(report):
    out, manifest = report
    assert manifest["preset"] == "smoke"
    assert set(manifest["packages"]) == {"toolkit", *PACKAGES}
    assert manifest["rule_sets"], "no rule-set id recorded"
    assert manifest["started_at"] <= manifest["finished_at"]
    assert len(manifest["git_commit"] or "0" * 40) == 40
    samples = load_preset("smoke")["shared"]["images_dir"]
    inputs = {i["path"]: i for i in manifest["inputs"]}
    assert all((SHIPPED_DIR / p).is_file() for p in inputs)
    files = (p for p in (SHIPPED_DIR / samples).rglob("*") if p.is_file())
    assert {p.relative_to(SHIPPED_DIR).as_posix() for p in files} <= set(inputs)
    assert "data/video/clip.mp4" in inputs
    assert all(len(i["sha256"]) == 64 for i in inputs.values())


@pytest.mark.notebooks
def test_smoke_report_tables(report):
    out, manifest = report
    tables = {p.stem: pd.read_csv(p) for p in (out / "tables").glob("*.csv")}
    assert all(len(t) for t in tables.values()), "empty table"
    headline, projection = tables["headline"], tables["projection"]
    assert {"model", "images", "cost_usd_per_1k", "seed_cost_usd_per_1k", "binding"} <= set(
        headline
    )
    picked = headline.dropna(subset=["cost_usd_per_1k"])
    change = 100 * (picked["cost_usd_per_1k"] / picked["seed_cost_usd_per_1k"] - 1)
    assert change.round(6).tolist() == picked["change_pct"].round(6).tolist()  # dearer: +
    for model, rows in headline.groupby("model"):  # the folder's own mix
        share = rows["images"] / rows["images"].sum()
        seed = projection.set_index("model").loc[model]
        expected = seed["monthly_images"] * (share * rows["seed_cost_usd_per_1k"] / 1000).sum()
        assert seed["seed_monthly_usd"] == pytest.approx(expected)
    assert set(headline["model"]) == set(load_preset("smoke")["shared"]["models"])
    assert set(tables["findings"]["model"]) == set(headline["model"])
    for row in projection.itertuples():  # seed and pick at the same tier, both tiers
        batch = float(input_rate(row.model, "batch") / input_rate(row.model, "standard"))
        assert row.seed_monthly_batch_usd == pytest.approx(row.seed_monthly_usd * batch)
        assert row.monthly_batch_usd == pytest.approx(row.monthly_usd * batch)
        assert row.change_pct == pytest.approx(100 * (row.monthly_usd / row.seed_monthly_usd - 1))
    assert all(seed_recipe_text() in f for f in tables["findings"]["finding"])
    assert headline["detail_note"].str.contains(" on ").all()  # the level explained
    assert {"floors", "volume", "category mix", "images", "prices"} <= set(
        tables["assumptions"]["assumption"]
    )
    moves = tables["sensitivity"]
    assert set(moves["model"]) == set(projection["model"])
    base = moves[moves["case"] == "text floor 0.95"].set_index("model")["monthly_usd"]
    assert base.to_dict() == pytest.approx(projection.set_index("model")["monthly_usd"].to_dict())
    assert projection["adaptive_monthly_usd"].le(projection["monthly_usd"] + 1e-9).all()
    assert set(tables["04-per-image"]["model"]) == set(headline["model"])
    index = (out / "index.html").read_text()
    for text in ("Findings", "Assumptions", "Recommended settings", "not for citation"):
        assert text in index
    assert "read by auto: Tesseract, and PP-OCR where Tesseract reads fewer than 20" in index
    for text in ("How the monthly figure moves", "per image (adaptive)", "How it moves"):
        assert text in index
    for text in ("seed recipe at Batch prices, $ a month", 'id="glossary"', "change vs seed"):
        assert text in index
    assert "not for citation" in (out / "01-quality.html").read_text()
    assert "not a validation of the token model" in index  # 05 ran against the emulator
    assert not (out / ".sweep-cache").exists()


@pytest.mark.notebooks
def test_the_explore_page_is_the_explorers_first_view(report):
    out, manifest = report
    page = (out / "00-explore.html").read_text()
    run = next(r for r in manifest["notebooks"] if r["name"] == "00-explore")
    parameters = {**notebook_defaults("00-explore"), **run["parameters"]}
    folder = input_path(parameters["images_dir"])
    first = parameters["image"] or next(iter_image_files([folder])).name
    assert "original: " in page and 'data-key="tokens"' in page and "copy settings" in page
    assert f"{first} --max-side {parameters['max_side']}" in page  # the command for it
    assert "00-explore-sweep" in " ".join(run["tables"])


def notebook_defaults(name: str) -> dict:
    declared = papermill.inspect_notebook(str(NOTEBOOKS_DIR / f"{name}.ipynb"))
    return {key: ast.literal_eval(value["default"]) for key, value in declared.items()}


@pytest.mark.notebooks
def test_same_preset_gives_the_same_numbers(report, tmp_path):
    out, _ = report
    first = NOTEBOOKS[0]
    build_report("smoke", out=tmp_path / "again", notebooks=[first])
    for table in (tmp_path / "again" / "tables").glob("*.csv"):
        again, before = pd.read_csv(table), pd.read_csv(out / "tables" / table.name)
        timing = [c for c in again.columns if c.endswith(("_ms", "_s"))]
        pd.testing.assert_frame_equal(again.drop(columns=timing), before.drop(columns=timing))


def tiny_notebook(path, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell('out_dir: str = ""  # report folder\nrows: int = 1  # rows')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)


@pytest.mark.notebooks
def test_a_failing_notebook_is_reported_and_the_others_still_run(tmp_path):
    tiny_notebook(tmp_path / "a-fails.ipynb", "raise ValueError('no such images')")
    body = "import pandas as pd\nfrom toolkit.reports import save_table\n"
    body += "save_table(pd.DataFrame({'x': range(rows)}), 'ok', out_dir)"
    tiny_notebook(tmp_path / "b-runs.ipynb", body)
    preset = tmp_path / "p.yaml"
    preset.write_text("report: {timeout_s: 60}\nnotebooks:\n  b-runs: {rows: 3}\n")
    notebooks = [tmp_path / "a-fails.ipynb", tmp_path / "b-runs.ipynb"]
    with pytest.raises(ReportError, match="1 of 2 notebooks failed: a-fails"):
        build_report(preset, out=tmp_path / "r", notebooks=notebooks)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    runs = {r["name"]: r for r in manifest["notebooks"]}
    assert runs["a-fails"]["error"]["type"] == "ValueError"
    assert runs["b-runs"]["status"] == "ok" and runs["b-runs"]["parameters"]["rows"] == 3
    assert len(pd.read_csv(tmp_path / "r" / "tables" / "ok.csv")) == 3
    index = (tmp_path / "r" / "index.html").read_text()
    assert "no such images" in index and "1 of 2 notebooks ran" in index


def test_undeclared_preset_parameter_is_an_error(tmp_path):
    tiny_notebook(tmp_path / "a.ipynb", "pass")
    preset = tmp_path / "p.yaml"
    preset.write_text("notebooks:\n  a: {colour: red}\n")
    with pytest.raises(ReportError, match="undeclared parameters"):
        build_report(preset, out=tmp_path / "r", notebooks=[tmp_path / "a.ipynb"])


def test_report_cli_exits_non_zero_on_an_unknown_preset(capsys):
    assert main(["report", "--preset", "no-such-preset"]) == 2
    assert "known presets" in capsys.readouterr().err


def sample(name: str) -> Path:
    """A committed sample image, wherever its category folder puts it."""
    return next(SAMPLES_DIR.rglob(name))


@pytest.mark.notebooks
def test_monthly_total_is_empty_when_a_category_has_no_recommendation(tmp_path):
    # the 12 MP photo sent at 512 px keeps far less than 0.999 of gpt-4o's ceiling SSIM
    images = tmp_path / "images"
    for category, name in (("photo", "camera_12mp.jpg"), ("graphic", "smile_palette.gif")):
        (images / category).mkdir(parents=True)
        (images / category / name).write_bytes(sample(name).read_bytes())
    preset = tmp_path / "p.yaml"
    preset.write_text(
        "shared: {models: [gpt-4o]}\n"
        "notebooks:\n  04-cost-projection:\n"
        "    {max_sides: [512], formats: [jpeg], qualities: [85], details: [high],\n"
        "     min_fidelity: 0.999, monthly_images: 1000}\n"
    )
    out = tmp_path / "r"
    notebook = [NOTEBOOKS_DIR / "04-cost-projection.ipynb"]
    build_report(preset, images, out, notebooks=notebook)
    headline = pd.read_csv(out / "tables" / "headline.csv").set_index("category")
    assert pd.isna(headline.loc["photo", "max_side"]) and headline.loc["photo", "binding"] == (
        "fidelity"
    )
    projection = pd.read_csv(out / "tables" / "projection.csv").iloc[0]
    assert not projection["complete"]
    # half the images have no recommended settings: no recommended total, not half of one
    assert pd.isna(projection["monthly_usd"]) and pd.isna(projection["monthly_batch_usd"])
    assert projection["seed_monthly_usd"] > 0
    finding = pd.read_csv(out / "tables" / "findings.csv")["finding"].iloc[0]
    assert "no complete recommendation" in finding and "photo" in finding


@pytest.mark.notebooks
def test_a_bad_image_in_the_folder_is_listed_and_the_rest_still_run(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.png").write_bytes(sample("pie_imagemagick.png").read_bytes())
    (images / "b.png").write_bytes(b"")  # empty: fails to encode
    preset = tmp_path / "p.yaml"
    preset.write_text(
        "shared: {models: [gpt-4o]}\n"
        "notebooks:\n  04-cost-projection:\n"
        "    {max_sides: [512], formats: [jpeg], qualities: [85], details: [high]}\n"
    )
    out = tmp_path / "r"
    names = ("04-cost-projection", "05-live-check")
    build_report(preset, images, out, notebooks=[NOTEBOOKS_DIR / f"{n}.ipynb" for n in names])
    assert pd.read_csv(out / "tables" / "04-requests.csv")["folder_requests"].eq(1).all()
    assert pd.read_csv(out / "tables" / "05-live-check.csv")["image"].tolist() == ["a.png"]
    page = (out / "05-live-check.html").read_text()
    assert "Not sent, could not be encoded" in page and "EmptyImageError" in page


@pytest.mark.notebooks
def test_smoke_report_compares_providers(report):
    out, _ = report
    table = pd.read_csv(out / "tables" / "09-providers.csv")
    models = load_preset("smoke")["notebooks"]["09-providers"]["compare_models"]
    assert set(table["provider"]) == {"openai", "anthropic", "google"}
    mix = table[table["category"] == "all (this folder's mix)"]
    assert sorted(mix["model"]) == sorted(models)
    (finding,) = pd.read_csv(out / "tables" / "providers-finding.csv")["finding"]
    assert finding.startswith("**Across providers**") and "not measured" in finding
    assert "Across providers" in (out / "index.html").read_text()
