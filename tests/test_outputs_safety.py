"""Outputs never destroy inputs: an output folder inside the inputs, or an output named like
an input, is refused before any work; clashing names get names of their own; every output
file appears whole or not at all, a full disk included, and the run says which it did not
write."""

import errno
import json
import pathlib
from pathlib import Path

import pytest
from helpers import fill, png, run_cli
from PIL import Image

from toolkit.payload import BatchLimits, ImagePart, Request, RequestSpec, write_batch_files

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 210)}


def picture(path: Path, colour=(128, 128, 128), size=(60, 40), fmt=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, fmt)
    return path


def noise(path: Path, seed: int, size=(600, 400)) -> Path:
    """A photo-like image that stays large when encoded (about 200 kB at quality 95)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.effect_noise(size, 40 + seed).convert("RGB").save(path, quality=95)
    return path


def snapshot(folder: Path) -> dict[Path, bytes]:
    """Every file below `folder` (hidden ones too) with its bytes."""
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def centre(path: str | Path) -> tuple[int, int, int]:
    with Image.open(path) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def near(a, b, tolerance=12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


# ---- refused before any work ---------------------------------------------------------------


@pytest.mark.parametrize("inside", [".", "enc", "enc/deeper"])
def test_an_out_folder_that_is_or_is_inside_an_input_folder_is_refused(tmp_path, capsys, inside):
    photos = tmp_path / "photos"
    picture(photos / "a.jpg", COLOURS["red"])
    picture(photos / "b.png", COLOURS["green"])
    before = snapshot(photos)
    for _ in range(2):  # run twice: never an enc/enc/a.jpg, never a 16 px original
        assert run_cli("encode", photos, "--max-side", "16", "--out", photos / inside) == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert "is, or is inside, the input folder" in line and str(photos) in line
    assert snapshot(photos) == before


def test_an_output_that_would_replace_a_named_input_is_refused(tmp_path, capsys):
    source = picture(tmp_path / "a" / "x.jpg", COLOURS["red"])
    other = picture(tmp_path / "b" / "y.jpg", COLOURS["blue"])
    before = source.read_bytes()
    assert run_cli("encode", other, source, "--max-side", "8", "--out", tmp_path / "a") == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert f"{source}: an output of this run would replace it" in line
    assert source.read_bytes() == before and not (tmp_path / "a" / "y.jpg").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["sweep", "{dir}", "--no-cache", "--no-progress", "-o", "{dir}/a.jpg"],
        [
            "request",
            "{dir}/a.jpg",
            "{dir}/b.jpg",
            "--model",
            "gpt-4o",
            "--no-prompt",
            "-o",
            "{dir}/b.jpg",
        ],
        ["batch", "{dir}/batch-0001.jsonl", "--model", "gpt-4o", "--no-prompt", "-o", "{dir}"],
    ],
    ids=["sweep", "request", "batch"],
)
def test_other_commands_never_write_over_their_inputs(tmp_path, capsys, command):
    photos = tmp_path / "photos"
    picture(photos / "a.jpg", COLOURS["red"])
    picture(photos / "b.jpg", COLOURS["green"])
    picture(photos / "batch-0001.jsonl", COLOURS["blue"], fmt="PNG")  # any name is read
    before = snapshot(photos)
    assert run_cli(*(part.format(dir=photos) for part in command)) == 2
    assert "an output of this run would replace it" in capsys.readouterr().err
    assert snapshot(photos) == before


# ---- names of their own --------------------------------------------------------------------


def test_clashing_names_each_get_an_output_and_none_overwrites_another(tmp_path, capsys):
    sources = {
        picture(tmp_path / "a" / "x.jpg", COLOURS["red"]): "x.jpg",
        picture(tmp_path / "b" / "x.jpg", COLOURS["green"]): "x-2.jpg",
        picture(tmp_path / "c" / "y.png", COLOURS["blue"]): "y.png.jpg",  # the source suffix
        picture(tmp_path / "c" / "y.jpg", (250, 250, 250)): "y.jpg",
    }
    out = tmp_path / "enc"
    assert run_cli("encode", *sources, "--out", out, "--json", "--workers", "1") == 0
    written = {Path(r["path"]): Path(r["output"]) for r in rows(capsys.readouterr().out)}
    assert {source: target.name for source, target in written.items()} == {
        source: name for source, name in sources.items()
    }
    assert sorted(p.name for p in out.iterdir()) == sorted(sources.values())
    for source, target in written.items():
        assert near(centre(target), centre(source))


def test_two_input_folders_with_the_same_names_are_mirrored_apart(tmp_path, capsys):
    picture(tmp_path / "a" / "sub" / "x.jpg", COLOURS["red"])
    picture(tmp_path / "b" / "sub" / "x.jpg", COLOURS["green"])
    out = tmp_path / "enc"
    args = ("encode", tmp_path / "a", tmp_path / "b", "--out", out, "--json", "--workers", "2")
    assert run_cli(*args) == 0
    outputs = [r["output"] for r in rows(capsys.readouterr().out)]
    assert outputs == [str(out / "sub" / "x.jpg"), str(out / "sub" / "x-2.jpg")]
    assert near(centre(outputs[0]), COLOURS["red"]) and near(centre(outputs[1]), COLOURS["green"])
    assert run_cli(*args) == 0  # again: the same names, rewritten in place, none added
    assert sorted(p.name for p in (out / "sub").iterdir()) == ["x-2.jpg", "x.jpg"]


# ---- whole or not at all -------------------------------------------------------------------


def test_a_full_disk_during_encode_leaves_whole_files_only_and_names_the_rest(
    tmp_path, tiny_disk, capsys
):
    photos = [noise(tmp_path / "photos" / f"{i}.jpg", i) for i in range(7)]  # ~1.4 MB encoded
    out = tiny_disk / "enc"
    args = ("--out", out, "--max-side", "none", "--quality", "95", "--json", "--workers", "1")
    assert run_cli("encode", *photos, *args) == 1
    results = rows(capsys.readouterr().out)
    written = [r for r in results if "error" not in r]
    refused = [r for r in results if "error" in r]
    assert len(results) == 7 and written and refused
    for row in refused:
        assert row["error"]["type"] == "OutputError"
        target = out / Path(row["path"]).name
        assert row["error"]["message"] == f"{target}: not written: No space left on device"
    assert sorted(map(str, out.iterdir())) == sorted(r["output"] for r in written)  # no temp
    for row in written:  # each file whole: its full size, and it decodes to the last pixel
        assert Path(row["output"]).stat().st_size == row["bytes"] > 0
        with Image.open(row["output"]) as image:
            image.load()


def test_a_write_the_disk_refuses_keeps_the_previous_file_and_is_an_error_row(
    tmp_path, capsys, monkeypatch
):
    photos = [
        picture(tmp_path / "in" / f"{name}.png", colour)
        for name, colour in zip("abc", COLOURS.values(), strict=True)
    ]
    out = tmp_path / "enc"
    previous = picture(out / "b.jpg", (1, 2, 3)).read_bytes()  # from an earlier run
    write_bytes = pathlib.Path.write_bytes

    def refused_half_way(path, data):
        if path.name.startswith(".b.jpg."):  # the temporary b.jpg is written through
            write_bytes(path, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_bytes(path, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", refused_half_way)
    assert run_cli("encode", *photos, "--out", out, "--json", "--workers", "1") == 1
    results = {Path(r["path"]).name: r for r in rows(capsys.readouterr().out)}
    assert results["b.png"]["error"] == {
        "type": "OutputError",
        "message": f"{out / 'b.jpg'}: not written: No space left on device",
    }
    assert "error" not in results["a.png"] and "error" not in results["c.png"]
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg", "b.jpg", "c.jpg"]  # no temp
    assert (out / "b.jpg").read_bytes() == previous  # the old file, whole


def requests(n: int) -> list[Request]:
    spec = RequestSpec("gpt-4o", "Describe")
    return [
        Request(spec, (ImagePart.from_bytes(png(colour=(i, 0, 0)), name=str(i)),))
        for i in range(n)
    ]


def test_ctrl_c_while_batch_files_are_written_keeps_the_complete_ones_and_says_so(tmp_path):
    def interrupted():
        yield from requests(5)
        raise KeyboardInterrupt  # Ctrl-C while the third file has one line of two

    out = tmp_path / "batch"
    with pytest.raises(KeyboardInterrupt) as stopped:
        write_batch_files(interrupted(), out, limits=BatchLimits(max_lines=2))
    assert str(stopped.value) == (
        f"complete batch files kept in {out}: batch-0001.jsonl, batch-0002.jsonl; the one "
        "being written was removed; run again to write them all"
    )
    assert sorted(p.name for p in out.iterdir()) == ["batch-0001.jsonl", "batch-0002.jsonl"]
    for path in out.iterdir():
        assert [json.loads(line)["method"] for line in path.read_text().splitlines()] == [
            "POST",
            "POST",
        ]


def test_a_full_disk_while_batch_files_are_written_keeps_the_complete_ones(tmp_path, tiny_disk):
    out = tiny_disk / "batch"
    fill(tiny_disk, 64 * 1024)
    big = RequestSpec("gpt-4o", "Describe " * 3000)  # about 27 kB a line
    lines = [Request(big, r.parts) for r in requests(8)]
    with pytest.raises(OSError, match="not written: No space left on device"):
        write_batch_files(lines, out, limits=BatchLimits(max_lines=1))
    kept = sorted(out.iterdir())
    assert kept and all(p.name.startswith("batch-") for p in kept)  # no temporary left
    for path in kept:
        (line,) = path.read_text().splitlines()
        assert json.loads(line)["body"]["model"] == "gpt-4o"
