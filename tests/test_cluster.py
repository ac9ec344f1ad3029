"""Sweeps beyond one machine: a Dask process cluster, images as bytes or fsspec URLs, samples."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from PIL import Image
from test_sweep import SMALL, corpus, photo  # noqa: F401  (corpus: a fixture)

from toolkit import sources
from toolkit.errors import ReportError, SettingsError
from toolkit.sweep import SweepGrid, run_sweep

distributed = pytest.importorskip("distributed")
fsspec = pytest.importorskip("fsspec")

GRID = SweepGrid(**{**SMALL, "max_sides": (128,), "qualities": (60,)})
STABLE = ["image", "category", "image_sha256", "width", "height", "bytes", "tokens", "seen_ssim"]


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes on this machine, as `dask scheduler` + `dask worker` would be."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


@pytest.fixture
def folder(corpus):  # noqa: F811  (the imported fixture)
    """test_sweep's corpus without its corrupt file: two photos and a screenshot."""
    (corpus / "broken" / "bad.jpg").unlink()
    return corpus


def no_local_files():
    """Run on a worker: from now on the toolkit cannot open a local path there."""
    from toolkit import files

    def refuse(path):
        raise PermissionError(13, "this worker has no local files", str(path))

    files.open_regular = refuse
    import toolkit.images

    toolkit.images.open_regular = refuse


def tesseract_missing(missing: bool):
    """Run on a worker: its toolkit says Tesseract cannot run there (`missing`) or finds out
    again."""
    from toolkit.tesseract_reader import READER

    if missing:
        READER.unavailable = lambda: "no tesseract here"
    else:
        vars(READER).pop("unavailable", None)


def test_a_process_cluster_gives_the_rows_of_the_local_pool(folder, cluster):
    from toolkit.cluster import DaskExecutor

    local = run_sweep(folder, GRID, progress=False)
    with DaskExecutor(cluster.scheduler_address) as executor:
        executor.client.run(no_local_files)  # the images must travel as bytes
        remote = run_sweep(folder, GRID, executor, progress=False)
    assert remote["error"].isna().all()
    pd.testing.assert_frame_equal(remote[STABLE], local[STABLE])
    assert list(remote["path"]) == list(local["path"])  # rows name the caller's files


def test_file_urls_are_read_by_the_workers_and_cached_by_version(folder, tmp_path, cluster):
    from toolkit.cluster import DaskExecutor

    url = folder.as_uri()  # file:///.../images
    local = run_sweep(folder, GRID, progress=False)
    cache = tmp_path / "cache"
    with DaskExecutor(cluster.scheduler_address) as executor:
        first = run_sweep(url, GRID, executor, cache, progress=False)
        again = run_sweep(url, GRID, executor, cache, progress=False)
    assert first["path"].str.startswith("file:///").all()
    pd.testing.assert_frame_equal(first[STABLE], local[STABLE])  # same names, categories, values
    assert again.attrs["sweep"]["computed_encodes"] == 0  # known versions: nothing recomputed
    pd.testing.assert_frame_equal(again[STABLE], first[STABLE])
    Image.new("RGB", (320, 200), "maroon").save(folder / "screens" / "s.png")  # a new version
    changed = run_sweep(url, GRID, executor=None, cache=cache, progress=False)
    assert changed.attrs["sweep"]["computed_images"] == 1


def test_an_unreachable_scheduler_is_one_line_and_no_output(folder, tmp_path, monkeypatch, capsys):
    from toolkit import cluster as module
    from toolkit.cli import main

    monkeypatch.setattr(module, "CONNECT_TIMEOUT_S", 1)
    out = tmp_path / "out.csv"
    code = main(["sweep", str(folder), "-o", str(out), "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.startswith("toolkit sweep: error: cannot reach the Dask scheduler at tcp://")
    assert not out.exists() and not (tmp_path / "out.csv.partial").exists()


def test_a_cluster_is_checked_before_any_work(cluster, monkeypatch):
    from toolkit import cluster as module

    monkeypatch.setattr(module, "_toolkit_version", lambda: "0.0.0-other")
    with pytest.raises(SettingsError, match=r"need toolkit 0\.0\.0-other installed"):
        module.DaskExecutor(cluster.scheduler_address)
    monkeypatch.undo()
    with module.DaskExecutor(cluster.scheduler_address) as executor:
        assert executor.slots == 2  # two workers of one thread: two images at once
        executor.client.run(tesseract_missing, True)
    try:
        with pytest.raises(SettingsError, match="OCR cannot run on Dask worker .*: no tesseract"):
            module.DaskExecutor(cluster.scheduler_address, readers=("tesseract",))
        module.DaskExecutor(cluster.scheduler_address).shutdown()  # no OCR asked: fine
    finally:
        with module.DaskExecutor(cluster.scheduler_address) as executor:
            executor.client.run(tesseract_missing, False)
    with distributed.LocalCluster(n_workers=0, dashboard_address=":0") as empty:
        with pytest.raises(SettingsError, match="has no workers"):
            module.DaskExecutor(empty.scheduler_address)


def test_without_dask_or_fsspec_the_message_says_what_to_install(monkeypatch):
    from toolkit.cluster import DaskExecutor

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(SettingsError, match=r"pip install 'dask\[distributed\]'"):
        DaskExecutor("tcp://127.0.0.1:8786")
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(SettingsError, match="pip install fsspec"):
        sources.list_images(["s3://bucket/shots"])
    monkeypatch.undo()
    with pytest.raises(SettingsError, match="nosuch://x: cannot open this URL"):
        sources.list_images(["nosuch://x"])


def test_urls_in_memory_listing_sampling_and_rows(tmp_path):
    memory = fsspec.filesystem("memory")
    for i in range(6):
        path = tmp_path / f"p{i}.jpg"
        photo(path, 160, 120, seed=i)
        memory.pipe(f"/bucket/shots/p{i}.jpg", path.read_bytes())
    memory.pipe("/bucket/shots/.hidden.jpg", b"x")
    memory.pipe("/bucket/shots/notes.txt", b"x")
    listing = sources.list_images(["memory://bucket"])
    assert listing == [f"memory:///bucket/shots/p{i}.jpg" for i in range(6)]
    chosen = sources.sample_images(listing, 3, seed=7)
    assert chosen == sources.sample_images(listing, 3, seed=7)  # reproducible
    assert chosen == sorted(chosen) and set(chosen) < set(listing)
    assert any(sources.sample_images(listing, 3, seed=s) != chosen for s in range(1, 5))
    assert sources.sample_images(listing, 0) == listing == sources.sample_images(listing, 99)
    with pytest.raises(SettingsError):
        sources.sample_images(listing, -1)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as threads:  # memory:// is this process's: threads read it
        rows = run_sweep(chosen, GRID, threads, progress=False)
    assert rows["error"].isna().all() and set(rows["category"]) == {"shots"}
    assert list(rows["path"].unique()) == chosen
    memory.rm("/bucket", recursive=True)


def test_toolkit_sweep_on_a_cluster_with_a_sample(folder, tmp_path, cluster):
    out = tmp_path / "out.csv"
    command = [sys.executable, "-m", "toolkit", "sweep", str(folder), "-o", str(out)]
    command += ["--scheduler", cluster.scheduler_address, "--sample", "2", "--seed", "5"]
    command += ["--max-sides", "128", "--qualities", "60", "--formats", "jpeg", "--json"]
    command += ["--no-cache", "--no-progress", "--monthly-images", "1000"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    summary, *lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert (summary["corpus_images"], summary["images"]) == (3, 2)
    assert pd.read_csv(out)["path"].nunique() == 2
    projection = [line for line in lines if "monthly_usd" in line]
    assert [p["model"] for p in projection] == ["gpt-4o"]
    for p in projection:  # 2 of 3 images swept: the dollars come with a sampling interval
        assert p["monthly_usd_low"] <= p["monthly_usd"] <= p["monthly_usd_high"]


@pytest.mark.notebooks
def test_a_report_notebook_sweeps_on_the_cluster_given(folder, tmp_path, cluster):
    from toolkit.paths import NOTEBOOKS_DIR
    from toolkit.reports import build_report

    with pytest.raises(ReportError, match="cannot reach the Dask scheduler"):
        build_report("smoke", folder, tmp_path / "none", scheduler="tcp://127.0.0.1:9")

    def jobs_done() -> int:
        prefix = cluster.scheduler.task_prefixes.get("run_job")
        return 0 if prefix is None else prefix.state_counts["memory"]

    before = jobs_done()
    out = build_report(
        "smoke",
        folder,
        tmp_path / "report",
        notebooks=[NOTEBOOKS_DIR / "01-quality.ipynb"],
        scheduler=cluster.scheduler_address,
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["notebooks"][0]["parameters"]["scheduler"] == cluster.scheduler_address
    sweep = pd.read_csv(out / "tables" / "01-quality-sweep.csv")
    assert sweep["error"].isna().all() and sweep["path"].nunique() == 2  # smoke: limit 2
    assert jobs_done() - before == 2  # one job per image, on the cluster's workers
