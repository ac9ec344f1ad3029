"""`toolkit encode`: JSON contract, failure lines, exit codes, table, --out, --data-url."""

import json

import pytest
from helpers import quadrants, run_cli
from PIL import Image

from toolkit.cli import main
from toolkit.dataurl import parse_data_url
from toolkit.paths import SAMPLES_DIR

FIELDS = [
    "path",
    "mime",
    "width",
    "height",
    "source_width",
    "source_height",
    "source_bytes",
    "bytes",
    "base64_chars",
    "flags",
    "backend",
    "encode_ms",
]


@pytest.fixture
def folder(write, tmp_path):
    write("a.png", quadrants((1600, 1000)))
    write("b/c.jpg", quadrants((300, 200)), "JPEG")
    write("d.gif", Image.new("RGBA", (50, 50), (0, 0, 0, 0)), "GIF")
    return tmp_path


def run(capsys, *argv):
    code = run_cli("encode", *argv)
    out, err = capsys.readouterr()
    return code, out, err


def json_rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_json_rows_have_exactly_the_contract_fields(capsys, folder):
    code, out, _ = run(capsys, folder, "--json", "--workers", "1")
    rows = json_rows(out)
    assert code == 0 and [list(row) for row in rows] == [FIELDS] * 3
    assert [row["path"] for row in rows] == [
        str(folder / n) for n in ("a.png", "b/c.jpg", "d.gif")
    ]
    first = rows[0]
    assert (first["width"], first["height"], first["source_width"]) == (800, 500, 1600)
    assert first["mime"] == "image/jpeg" and first["base64_chars"] == 4 * -(-first["bytes"] // 3)
    assert rows[2]["flags"] == ["alpha_flattened"]


def test_a_failure_prints_an_error_line_finishes_the_rest_and_exits_1(capsys, write, folder):
    bad = write("bad.jpg", b"not a jpeg")
    code, out, _ = run(capsys, folder / "a.png", bad, folder / "d.gif", "--json")
    rows = json_rows(out)
    assert code == 1 and len(rows) == 3
    assert rows[1] == {
        "path": str(bad),
        "error": {"type": "NotAnImageError", "message": rows[1]["error"]["message"]},
    }
    assert str(bad) in rows[1]["error"]["message"]
    assert "error" not in rows[0] and "error" not in rows[2]


def test_missing_path_is_reported_not_raised(capsys, tmp_path):
    code, out, _ = run(capsys, tmp_path / "nope.png", "--json")
    assert code == 1 and json_rows(out)[0]["error"]["type"] == "ImageError"


def test_folders_walk_image_extensions_but_a_named_file_always_gets_a_row(capsys, write, folder):
    jpeg = (folder / "b" / "c.jpg").read_bytes()
    named = write("b/photo.bin", jpeg), write("b/notes.txt", b"hello")
    code, out, _ = run(capsys, folder / "b", "--json")
    assert code == 0 and [r["path"] for r in json_rows(out)] == [str(folder / "b" / "c.jpg")]
    code, out, _ = run(capsys, *named, "--json")
    photo, notes = json_rows(out)
    assert code == 1 and (photo["path"], photo["mime"]) == (str(named[0]), "image/jpeg")
    assert notes["error"]["type"] == "NotAnImageError"
    with pytest.raises(SystemExit):
        main(["encode", "--help"])
    assert "others are skipped" in " ".join(capsys.readouterr().out.split())  # the rule, said


def test_table_has_a_totals_row(capsys, folder):
    code, out, _ = run(capsys, folder)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["path", "width", "height"]
    assert lines[-1].startswith("TOTAL 3 encoded")
    assert len(lines) == 5


def test_two_workers_give_the_same_rows_urls_and_files_in_input_order(
    capsys, folder, tmp_path_factory
):
    def strip(rows):  # the time taken and the (per run) output folder aside
        return [{k: v for k, v in row.items() if k not in ("encode_ms", "output")} for row in rows]

    runs = {}
    for workers in ("1", "2"):
        out_dir = tmp_path_factory.mktemp(f"out{workers}")  # outside the input folder
        _, out, _ = run(
            capsys, folder, "--json", "--data-url", "--out", out_dir, "--workers", workers
        )
        files = {p.relative_to(out_dir).as_posix(): p.read_bytes() for p in out_dir.rglob("*.jpg")}
        runs[workers] = (strip(json_rows(out)), files)
    assert runs["1"] == runs["2"]
    rows, files = runs["2"]
    assert [row["path"] for row in rows] == sorted(row["path"] for row in rows)
    assert len(files) == 3 and all("data_url" in row for row in rows)


def test_out_writes_files_keeping_the_folder_structure(capsys, folder, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("out")  # outside the input folder
    code, out, _ = run(capsys, folder, "--out", out_dir, "--json", "--format", "webp")
    rows = json_rows(out)
    written = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.webp"))
    assert code == 0 and written == ["a.webp", "b/c.webp", "d.webp"]
    assert [row["output"] for row in rows] == [str(out_dir / name) for name in written]
    assert (out_dir / "a.webp").stat().st_size == rows[0]["bytes"]
    assert rows[0]["mime"] == "image/webp"


def test_data_url_with_json_adds_a_parseable_url(capsys, folder):
    code, out, _ = run(capsys, folder / "a.png", "--json", "--data-url", "--quality", "50")
    row = json_rows(out)[0]
    assert code == 0 and len(parse_data_url(row["data_url"]).data) == row["bytes"]


def test_data_url_alone_prints_only_urls(capsys, folder, write):
    bad = write("bad.png", b"")
    code, out, err = run(capsys, folder / "a.png", bad, "--data-url")
    assert code == 1 and out.startswith("data:image/jpeg;base64,") and len(out.splitlines()) == 1
    assert "EmptyImageError" in err


@pytest.mark.parametrize("argv", [["--quality", "99"], ["--workers", "0"]])
def test_bad_settings_exit_2(capsys, folder, argv):
    code, out, err = run(capsys, folder, *argv)
    assert code == 2 and out == "" and "error" in err


def test_background_and_max_side_options(capsys, write):
    path = write("t.png", Image.new("RGBA", (100, 100), (0, 0, 0, 0)))
    code, out, _ = run(capsys, path, "--json", "--background", "#00ff00", "--max-side", "none")
    assert code == 0 and json_rows(out)[0]["width"] == 100


def test_samples_folder_encodes_without_failures(capsys):
    code, out, _ = run(capsys, SAMPLES_DIR, "--json")
    rows = json_rows(out)
    assert code == 0 and len(rows) == sum(p.is_file() for p in SAMPLES_DIR.rglob("*"))


def test_backend_is_reported_and_pillow_can_be_asked_for(capsys, folder):
    code, out, _ = run(capsys, folder / "a.png", folder / "d.gif", "--json")
    assert code == 0 and [r["backend"] for r in json_rows(out)] == ["vips", "pillow"]
    code, out, _ = run(capsys, folder / "a.png", "--json", "--backend", "pillow")
    assert code == 0 and json_rows(out)[0]["backend"] == "pillow"
    assert run(capsys, folder / "a.png", "--backend", "opencv")[0] == 2
