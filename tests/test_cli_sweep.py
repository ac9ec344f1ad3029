"""`toolkit sweep`: the CSV, the summary, the exit code, the cache across runs."""

import json

import pandas as pd
from test_sweep import photo

from toolkit.cli import main

GRID = [
    "--max-sides",
    "96",
    "160",
    "--formats",
    "jpeg",
    "webp",
    "--qualities",
    "50",
    "80",
    "--models",
    "gpt-4o",
    "--details",
    "low",
    "high",
    "--reference-side",
    "160",
    "--workers",
    "1",
]
CELLS = 2 * 2 * 2 * 1 * 2


def sweep(args, capsys):
    code = main(["sweep", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.startswith("{") else out, err


def test_sweep_writes_rows_in_input_order_and_resumes_from_the_cache(tmp_path, capsys):
    photos = tmp_path / "in"
    for i, name in enumerate(["c.jpg", "a.jpg", "b.jpg"]):
        photo(photos / "cats" / name, 240, 180, seed=i)
    out, cache = tmp_path / "out" / "results.csv", tmp_path / "cache"
    args = [str(photos), *GRID, "--cache", str(cache), "-o", str(out), "--json"]

    code, summary, err = sweep(args, capsys)
    assert code == 0
    assert "sweep" in err and "3/3" in err  # the bar, on stderr, counts to its total
    assert summary["rows"] == 3 * CELLS
    assert summary["computed_encodes"] == 3 * 8
    df = pd.read_csv(out)
    assert len(df) == 3 * CELLS
    assert df["image"].drop_duplicates().tolist() == ["a.jpg", "b.jpg", "c.jpg"]
    assert set(df["category"]) == {"cats"}
    assert df["error"].isna().all()
    assert (df["tokens"] > 0).all() and df["seen_ssim"].between(0, 1).all()
    assert not list(out.parent.glob("*.partial"))

    code, summary, _ = sweep([*args, "--no-progress"], capsys)
    assert code == 0
    assert (summary["computed_encodes"], summary["cached_encodes"]) == (0, 3 * 8)
    again = pd.read_csv(out)
    timings = ["load_ms", "reference_ms", "resize_ms", "encode_ms", "metrics_ms"]
    pd.testing.assert_frame_equal(again, df.assign(**{t: again[t] for t in timings}))


def test_a_bad_file_exits_1_after_finishing_the_rest(tmp_path, capsys):
    photo(tmp_path / "in" / "ok.jpg", 200, 150)
    (tmp_path / "in" / "zz.jpg").write_bytes(b"not an image")
    out = tmp_path / "r.csv"
    code, summary, _ = sweep(
        [str(tmp_path / "in"), *GRID, "--no-cache", "--no-metrics", "-o", str(out), "--json"],
        capsys,
    )
    assert code == 1
    assert summary["error_rows"] == CELLS
    df = pd.read_csv(out)
    assert len(df) == 2 * CELLS
    assert df[df["image"] == "zz.jpg"]["error"].str.startswith("NotAnImageError").all()
    assert df[df["image"] == "ok.jpg"]["seen_ssim"].isna().all()  # --no-metrics


def test_a_missing_file_is_a_typed_error_row_naming_it(tmp_path, capsys):
    photo(tmp_path / "ok.jpg", 200, 150)
    missing = tmp_path / "gone.jpg"
    out = tmp_path / "r.csv"
    args = [str(missing), str(tmp_path / "ok.jpg"), *GRID, "--no-cache", "--no-metrics"]
    code, summary, _ = sweep([*args, "-o", str(out), "--json"], capsys)
    assert (code, summary["error_rows"]) == (1, CELLS)
    errors = pd.read_csv(out)["error"]
    expected = f"ImageError: {missing}: cannot read: No such file or directory"
    assert (errors[:CELLS] == expected).all()
    assert errors[CELLS:].isna().all()


def test_invalid_settings_exit_2_with_a_message(tmp_path, capsys):
    code, _, err = sweep(
        [str(tmp_path), "--qualities", "120", "--no-cache", "-o", str(tmp_path / "r.csv")],
        capsys,
    )
    assert code == 2
    assert "quality" in err
    assert not (tmp_path / "r.csv").exists()
