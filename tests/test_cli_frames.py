import json
import subprocess
import sys

import pytest
from PIL import Image
from videogen import shots, write_video

from toolkit.cli import main
from toolkit.paths import DATA_DIR
from toolkit.pricing import cost_usd
from toolkit.tokens import image_tokens

CLIP = DATA_DIR / "video" / "clip.mp4"
FRAME_KEYS = {
    "index",
    "timestamp_s",
    "difference",
    "duplicate_dropped",
    "width",
    "height",
    "bytes",
    "base64_chars",
    "tokens",
    "cost_usd",
}


@pytest.fixture(scope="module")
def shots_mp4(tmp_path_factory):
    path = tmp_path_factory.mktemp("v") / "shots.mp4"
    return write_video(path, shots((40, 10), (200, 10), (100, 10)))


def run_json(capsys, *args) -> tuple[int, list[dict]]:
    code = main(["frames", *map(str, args), "--json"])
    lines = capsys.readouterr().out.splitlines()
    return code, [json.loads(line) for line in lines]


def test_json_lines_per_frame_then_a_summary(capsys, shots_mp4):
    code, rows = run_json(capsys, shots_mp4, "--fps", 10, "--dedupe", "--model", "gpt-4o")
    assert code == 0
    frames, summary = rows[:-1], rows[-1]
    assert len(frames) == 30
    assert all(set(row) == FRAME_KEYS for row in frames)
    assert [r["index"] for r in frames] == list(range(30))
    assert [r["timestamp_s"] for r in frames] == pytest.approx([i / 10 for i in range(30)])
    kept = [r for r in frames if not r["duplicate_dropped"]]
    assert [r["timestamp_s"] for r in kept] == [0.0, 1.0, 2.0]
    dropped = [r for r in frames if r["duplicate_dropped"]]
    assert all(r["bytes"] is None and r["tokens"] is None for r in dropped)
    per_frame = image_tokens(64, 48, "gpt-4o", "auto")
    assert all(r["tokens"] == per_frame.tokens for r in kept)
    assert all(r["cost_usd"] == cost_usd(per_frame.tokens, "gpt-4o") for r in kept)
    assert summary == {
        "summary": True,
        "path": str(shots_mp4),
        "mode": "fps",
        "frames_sampled": 30,
        "frames_kept": 3,
        "duplicates_dropped": 27,
        "model": "gpt-4o",
        "detail": per_frame.detail,
        "tier": "standard",
        "rules": per_frame.rules,
        "bytes": sum(r["bytes"] for r in kept),
        "base64_chars": sum(r["base64_chars"] for r in kept),
        "tokens": 3 * per_frame.tokens,
        "cost_usd": cost_usd(3 * per_frame.tokens, "gpt-4o"),
    }


def test_scenes_with_encoding_options_and_out_dir(capsys, tmp_path):
    out = tmp_path / "frames"
    code, rows = run_json(
        capsys, CLIP, "--scenes", "--max-side", 320, "--format", "webp", "--quality", 60,
        "--out", out,
    )  # fmt: skip
    assert code == 0
    frames = rows[:-1]
    assert [r["timestamp_s"] for r in frames] == [0.0, 2.5, 4.0, 6.5]
    files = sorted(out.iterdir())
    assert [str(f) for f in files] == [r["file"] for r in frames]
    for row, path in zip(frames, files, strict=True):
        with Image.open(path) as image:
            assert image.format == "WEBP"
            assert image.size == (row["width"], row["height"]) == (320, 180)
        assert path.stat().st_size == row["bytes"]
    assert rows[-1]["tokens"] is None and rows[-1]["model"] is None


def test_count_and_max_frames(capsys):
    code, rows = run_json(capsys, CLIP, "--count", 5, "--max-frames", 2)
    assert code == 0
    assert [r["timestamp_s"] for r in rows[:-1]] == pytest.approx([0.792, 2.375], abs=1e-3)


def test_table_output_ends_with_totals(capsys, shots_mp4):
    assert main(["frames", str(shots_mp4), "--count", "3", "--model", "gpt-4o"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["index", "timestamp_s", "difference"]
    assert len(lines) == 1 + 3 + 1
    assert lines[-1].startswith("TOTAL 3 kept")


@pytest.mark.parametrize("content", [b"", b"not a video at all\n" * 10])
def test_unusable_file_prints_an_error_row_and_exits_1(capsys, tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    code, rows = run_json(capsys, path, "--fps", 1)
    assert code == 1
    assert rows == [
        {
            "path": str(path),
            "error": {"type": "VideoError", "message": rows[0]["error"]["message"]},
        }
    ]
    assert rows[0]["error"]["message"].startswith(f"{path}: ")


def test_error_goes_to_stderr_without_json(capsys, tmp_path):
    path = tmp_path / "broken.mov"
    path.write_text("nope")
    assert main(["frames", str(path), "--count", "2"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert json.loads(captured.err)["error"]["type"] == "VideoError"


@pytest.mark.parametrize(
    "args",
    [
        ["--fps", "0"],
        ["--count", "0"],
        ["--scenes", "2"],
        ["--fps", "1", "--dedupe", "-1"],
        ["--fps", "1", "--quality", "0"],
        ["--fps", "1", "--model", "no-such-model"],
        ["--fps", "1", "--model", "gpt-4o", "--detail", "ultra"],
    ],
)
def test_bad_settings_exit_2(capsys, args):
    assert main(["frames", str(CLIP), *args]) == 2
    assert "toolkit frames: error:" in capsys.readouterr().err


@pytest.mark.parametrize("args", [[], ["--fps", "1", "--count", "2"]])
def test_exactly_one_sampling_mode_is_required(capsys, args):
    with pytest.raises(SystemExit) as caught:
        main(["frames", str(CLIP), *args])
    assert caught.value.code == 2


def test_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "toolkit", "frames", str(CLIP), "--count", "2", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[-1]["frames_kept"] == 2
