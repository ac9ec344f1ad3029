"""The public API and its defaults: one curated, lazy `toolkit` namespace, and one default
detail level that estimates and sent requests share (library, video and CLI alike)."""

import ast
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli
from PIL import Image
from videogen import shots, write_video

import toolkit
from toolkit.images import DEFAULT_SETTINGS
from toolkit.payload import ImagePart, Request, RequestSpec
from toolkit.rulesets import DEFAULT_DETAIL, SEED_DETAIL, find_model
from toolkit.tokens import image_tokens
from toolkit.video import SamplingPlan
from toolkit.video_cost import video_cost, video_requests

HEAVY = ("pandas", "scipy", "av", "openai", "matplotlib", "tesserocr", "numpy")
BIG = (3000, 2000)  # gpt-5.5 keeps more of it at `auto` (original) than at `high`


def modules_after(code: str) -> set[str]:
    """The top-level packages loaded once `code` has run in a fresh interpreter."""
    script = f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return {name.split(".")[0] for name in json.loads(run.stdout.splitlines()[-1])}


def test_import_toolkit_loads_no_heavy_library():
    assert modules_after("import toolkit").isdisjoint(HEAVY)


def test_the_tokens_command_loads_no_heavy_library():
    code = "from toolkit.cli import main; main(['tokens', '1024x1024', '--model', 'gpt-4o'])"
    assert modules_after(code).isdisjoint(HEAVY)


def test_a_sweep_without_ocr_never_loads_tesserocr():
    code = "import toolkit; toolkit.SweepGrid(); toolkit.ocr_unavailable()"
    assert "tesserocr" not in modules_after(code)


def test_every_public_name_resolves_and_is_listed_by_dir():
    for name in toolkit.__all__:
        assert getattr(toolkit, name) is not None, name
    assert set(toolkit.__all__) <= set(dir(toolkit))
    assert len(toolkit.__all__) == len(set(toolkit.__all__))


def test_all_is_the_api_table_each_group_sorted():
    groups = [sorted(n for names in g.values() for n in names) for g in toolkit.API.values()]
    assert toolkit.__all__[: sum(map(len, groups))] == [n for g in groups for n in g]
    assert list(toolkit.API) == [
        "images",
        "data URLs",
        "tokens and prices",
        "requests",
        "sweeps and recommendations",
        "reports",
        "video",
        "transports",
        "exploring in notebooks",
    ]


def test_what_type_checkers_see_is_what_loads():
    tree = ast.parse(Path(toolkit.__file__).read_text())
    (block,) = [n for n in tree.body if isinstance(n, ast.If)]  # `if TYPE_CHECKING:`
    seen = {
        (node.module, alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module != "toolkit"
        for alias in node.names
    }
    api = {(m, n) for g in toolkit.API.values() for m, names in g.items() for n in names}
    assert seen == api


def test_a_function_named_like_its_module_stays_the_function():
    import toolkit.projection  # noqa: F401  (imports the module toolkit.recommend)
    import toolkit.recommend  # noqa: F401

    assert callable(toolkit.recommend) and toolkit.recommend.__name__ == "recommend"


def test_version_errors_and_submodules():
    assert toolkit.__version__ == importlib.metadata.version("toolkit")
    assert issubclass(toolkit.errors.PayloadError, toolkit.ToolkitError)
    assert toolkit.plots.plot_facets
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        toolkit.nope  # noqa: B018


# ---- one default detail: what we estimate is what we send ----------------------------------


def test_the_defaults_are_the_documented_ones():
    assert (DEFAULT_DETAIL, SEED_DETAIL) == ("auto", "high")
    assert (DEFAULT_SETTINGS.max_side, DEFAULT_SETTINGS.format, DEFAULT_SETTINGS.quality) == (
        800,
        "jpeg",
        85,
    )
    assert toolkit.SweepGrid().details == (SEED_DETAIL,)


def test_image_tokens_and_an_image_part_use_the_same_default_detail():
    estimate = image_tokens(*BIG, "gpt-5.5")
    part = ImagePart(url="https://images.example/big.png", width=BIG[0], height=BIG[1])
    assert part.detail == DEFAULT_DETAIL
    assert Request(RequestSpec("gpt-5.5"), (part,)).estimated_image_tokens() == estimate.tokens
    assert estimate.tokens != image_tokens(*BIG, "gpt-5.5", "high").tokens  # it matters here


def test_video_cost_prices_the_detail_video_requests_send(tmp_path):
    clip = write_video(tmp_path / "shots.mp4", shots((40, 10), (200, 10)))
    plan = SamplingPlan(fps=10, dedupe_threshold=0.02)
    cost = video_cost(clip, plan, "gpt-5.5")
    requests = list(video_requests(clip, plan, RequestSpec("gpt-5.5")))
    details = {part.detail for request in requests for part in request.parts}
    assert {find_model("gpt-5.5")[1].resolve_detail(d) for d in details} == {cost.detail}
    assert sum(r.estimated_image_tokens() or 0 for r in requests) == cost.tokens


def test_the_cli_estimates_and_sends_the_library_default(tmp_path, capsys):
    assert run_cli("tokens", "{}x{}".format(*BIG), "--model", "gpt-5.5", "--json") == 0
    row = json.loads(capsys.readouterr().out)
    assert row["tokens"] == image_tokens(*BIG, "gpt-5.5").tokens
    image = tmp_path / "big.png"
    Image.new("RGB", BIG, (90, 120, 200)).save(image)
    body = tmp_path / "body.json"
    argv = ["request", image, "--model", "gpt-5.5", "--max-side", "none", "--no-prompt"]
    assert run_cli(*argv, "-o", body, "--json") == 0
    row = json.loads(capsys.readouterr().out)
    assert row["estimated_image_tokens"] == image_tokens(*BIG, "gpt-5.5").tokens
    (part,) = json.loads(body.read_bytes())["messages"][0]["content"]
    assert part["image_url"]["detail"] == DEFAULT_DETAIL
