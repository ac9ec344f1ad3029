"""`toolkit encode PATH…`: encode images (folders walked) and report sizes, one row per image."""

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from toolkit import libvips
from toolkit.cli.args import (
    PATHS_HELP,
    SUFFIXES,
    add_encode_arguments,
    add_workers_argument,
    check_output,
    colour,
    from_args,
)
from toolkit.cli.output import error_row, print_json_lines, print_table
from toolkit.cli.tokens import check_model, token_fields
from toolkit.dataurl import to_data_url
from toolkit.errors import SettingsError, ToolkitError
from toolkit.images import BACKENDS, EncodedImage, EncodeSettings, encode_image, iter_image_files
from toolkit.runtime import process_pool, tune_malloc

TABLE_COLUMNS = (
    "path",
    "width",
    "height",
    "source_width",
    "source_height",
    "source_bytes",
    "bytes",
    "base64_chars",
    "flags",
    "encode_ms",
)
TOTALLED = ("source_bytes", "bytes", "base64_chars", "encode_ms")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "encode",
        help="encode images for a vision API and report their sizes",
        description=__doc__,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help=PATHS_HELP)
    add_encode_arguments(parser)
    parser.add_argument(
        "--background", type=colour, default=(255, 255, 255), help="colour under transparency"
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="auto: libvips decodes and resizes large JPEGs and PNGs when installed (faster); "
        "pillow: Pillow only, the reference",
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="write the encoded files here")
    parser.add_argument("--data-url", action="store_true", help="emit each image's data URL")
    parser.add_argument("--json", action="store_true", help="one JSON object per image")
    parser.add_argument("--model", help="add each image's tokens and cost_usd for this model")
    parser.add_argument("--detail", default="auto", help="detail level for --model")
    add_workers_argument(parser)
    parser.set_defaults(handler=run)


def encode_row(path: str, encoded: EncodedImage) -> dict:
    """The JSON/table row for one encoded image (the contract's field names)."""
    return {
        "path": path,
        "mime": encoded.mime,
        "width": encoded.width,
        "height": encoded.height,
        "source_width": encoded.source_width,
        "source_height": encoded.source_height,
        "source_bytes": encoded.source_bytes,
        "bytes": encoded.bytes,
        "base64_chars": encoded.base64_chars,
        "flags": list(encoded.flags),
        "backend": encoded.backend,
        "encode_ms": round(sum(encoded.timings_ms.values()), 2),
    }


def _encode_one(job: tuple[Path, EncodeSettings]) -> EncodedImage | ToolkitError:
    path, settings = job
    try:
        return encode_image(path, settings)
    except ToolkitError as exc:
        return exc


def _jobs(paths: list[str], out: Path | None) -> list[tuple[Path, Path | None]]:
    """Each input file and, with --out, its output path (folder structure kept)."""
    jobs = []
    for arg in paths:
        root = Path(arg)
        for path in iter_image_files([root]):
            relative = path.relative_to(root) if root.is_dir() else Path(path.name)
            jobs.append((path, out / relative if out else None))
    return jobs


def _results(
    files: list[Path], settings: EncodeSettings, workers: int
) -> Iterator[EncodedImage | ToolkitError]:
    """Encode in input order; a process pool when there is more than one worker and file."""
    jobs = [(path, settings) for path in files]
    workers = min(workers, len(jobs))
    if workers <= 1:
        yield from map(_encode_one, jobs)
        return
    libvips.available()  # loaded (no thread started yet) before the fork: workers inherit it
    with process_pool(workers) as pool:
        yield from pool.map(_encode_one, jobs)


def run(args: argparse.Namespace) -> int:
    try:
        settings = from_args(EncodeSettings, args)
    except SettingsError as exc:
        print(f"toolkit encode: error: {exc}", file=sys.stderr)
        return 2
    if args.model and not check_model("encode", args.model, args.detail):
        return 2
    check_output(args.out, folder=True)
    tune_malloc()
    jobs = _jobs(args.paths, args.out)
    rows = []
    failed = 0
    results = _results([path for path, _ in jobs], settings, args.workers)
    for (path, target), result in zip(jobs, results, strict=True):
        if isinstance(result, ToolkitError):
            row = error_row(path, result)
            failed += 1
        else:
            row = encode_row(str(path), result)
            if args.model:
                row.update(token_fields(result.width, result.height, args.model, args.detail))
            if target is not None:
                _write(target.with_suffix(SUFFIXES[settings.format]), result.data)
            if args.data_url:
                row["data_url"] = to_data_url(result)
        if args.json:
            print_json_lines([row], sys.stdout)
        elif args.data_url:
            _print_plain(row)
        else:
            rows.append(row)
    if not args.json and not args.data_url:
        columns = (*TABLE_COLUMNS, "tokens", "cost_usd") if args.model else TABLE_COLUMNS
        print_table([*rows, _totals(rows)], columns, sys.stdout)
    return 1 if failed else 0


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _print_plain(row: dict) -> None:
    """--data-url without --json: data URLs alone on stdout, failures on stderr."""
    if "error" in row:
        print(f"{row['path']}: {row['error']['type']}: {row['error']['message']}", file=sys.stderr)
    else:
        print(row["data_url"])


def _totals(rows: list[dict]) -> dict:
    done = [row for row in rows if "error" not in row]
    total = {column: sum(row[column] for row in done) for column in TOTALLED}
    total["encode_ms"] = round(total["encode_ms"], 2)
    failed = len(rows) - len(done)
    label = f"TOTAL {len(done)} encoded" + (f", {failed} failed" if failed else "")
    return {"path": label, **total}
