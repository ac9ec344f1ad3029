"""`toolkit encode PATH…`: encode images (folders walked) and report sizes, one row per image."""

import argparse
import functools
import sys
from pathlib import Path

from toolkit import libvips
from toolkit.cli.args import (
    PATHS_HELP,
    SUFFIXES,
    add_detail_argument,
    add_encode_arguments,
    add_json_argument,
    add_workers_argument,
    check_output,
    colour,
    from_args,
)
from toolkit.cli.output import error_row, print_json_lines, print_table, printable
from toolkit.dataurl import to_data_url
from toolkit.errors import ImageRejectedError, ToolkitError, WorkerDiedError
from toolkit.images import (
    BACKENDS,
    DEFAULT_SETTINGS,
    EncodedImage,
    EncodeSettings,
    encode_image,
    iter_image_files,
)
from toolkit.outputs import refuse_inputs, unique_targets, write_atomic
from toolkit.pricing import cost_or_none
from toolkit.rulesets import check_detail
from toolkit.runtime import map_in_order, tune_malloc
from toolkit.tokens import image_tokens

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


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help=PATHS_HELP)
    add_encode_arguments(parser)
    parser.add_argument(
        "--background",
        type=colour,
        default=DEFAULT_SETTINGS.background,
        help="colour under transparency",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=DEFAULT_SETTINGS.backend,
        help="auto: libvips decodes and resizes large JPEGs and PNGs when installed (faster); "
        "pillow: Pillow only, the reference",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write the encoded files here (outside the inputs; folders mirrored, clashing "
        "names made unique: each row's output says where)",
    )
    parser.add_argument("--data-url", action="store_true", help="emit each image's data URL")
    add_json_argument(parser, "image")
    parser.add_argument("--model", help="add each image's tokens and cost_usd for this model")
    add_detail_argument(parser, "detail level for --model")
    add_workers_argument(parser)


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


def token_fields(width: int, height: int, model: str, detail: str) -> dict:
    """`tokens` and `cost_usd` for one image sent as is; an image the API would reject gets
    nulls and a `tokens_error`."""
    try:
        tokens = image_tokens(width, height, model, detail).tokens
    except ImageRejectedError as exc:
        return {"tokens": None, "cost_usd": None, "tokens_error": str(exc)}
    return {"tokens": tokens, "cost_usd": cost_or_none(tokens, model)}


def _jobs(paths: list[str], out: Path | None, suffix: str) -> list[tuple[Path, Path | None]]:
    """Each input file and, with --out, its output path: the folder structure kept, names
    that would clash made unique (`toolkit.outputs.unique_targets`). An output that would
    replace an input, or an --out inside an input folder, is an `OutputError` (no work done)."""
    sources, targets = [], []
    for arg in paths:
        root = Path(arg)
        for path in iter_image_files([root]):
            sources.append(path)
            targets.append(path.relative_to(root) if root.is_dir() else Path(path.name))
    if out is None:
        return [(path, None) for path in sources]
    unique = unique_targets([(out / t).with_suffix(suffix) for t in targets], sources)
    written = {target.resolve() for target in unique}
    refuse_inputs(paths, written.__contains__, out)
    return list(zip(sources, unique, strict=True))


def _encode_job(
    job: tuple[Path, Path | None], settings: EncodeSettings, data_url: bool
) -> tuple[dict, str | None]:
    """One image, in whichever process runs it: encoded, written whole to its --out path (or
    an `OutputError`), and reduced to its row and (with --data-url) its data URL, so that the
    encoded bytes do not travel back to the parent."""
    path, target = job
    encoded = encode_image(path, settings)
    row = encode_row(str(path), encoded)
    if target is not None:
        write_atomic(target, encoded.data)
        row["output"] = str(target)
    return row, to_data_url(encoded) if data_url else None


def run(args: argparse.Namespace) -> int:
    settings = from_args(EncodeSettings, args)
    if args.model:
        check_detail(args.model, args.detail)
    check_output(args.out, folder=True)
    tune_malloc()
    jobs = _jobs(args.paths, args.out, SUFFIXES[settings.format])
    rows = []
    failed = 0
    encode = functools.partial(_encode_job, settings=settings, data_url=args.data_url)
    if settings.backend == "auto":
        libvips.available()  # loaded before the pool starts (no thread yet): workers inherit it
    results = map_in_order(
        encode, jobs, args.workers, preload=[__name__], cost=lambda job: _file_size(job[0])
    )
    for (path, _), result in zip(jobs, results, strict=True):
        if isinstance(result, ToolkitError):
            row = error_row(path, result)
            failed += 1
        else:
            row, url = result
            if args.model:
                row.update(token_fields(row["width"], row["height"], args.model, args.detail))
            if url is not None:
                row["data_url"] = url
        if args.json:
            print_json_lines([row], sys.stdout)
        elif args.data_url:
            _print_plain(row)
        else:
            rows.append(row)
    if not args.json and not args.data_url:
        columns = (*TABLE_COLUMNS, "tokens", "cost_usd") if args.model else TABLE_COLUMNS
        columns = (*columns, "output") if args.out else columns
        print_table([*rows, _totals(rows)], columns, sys.stdout)
    return 1 if failed else 0


def _file_size(path: Path) -> int:
    """Bytes on disk: the work an image will take, roughly (0 if it cannot be read)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _print_plain(row: dict) -> None:
    """--data-url without --json: data URLs alone on stdout, failures on stderr."""
    if "error" in row:
        error = row["error"]
        print(printable(f"{row['path']}: {error['type']}: {error['message']}"), file=sys.stderr)
    else:
        print(row["data_url"])


def _totals(rows: list[dict]) -> dict:
    done = [row for row in rows if "error" not in row]
    total = {column: sum(row[column] for row in done) for column in TOTALLED}
    total["encode_ms"] = round(total["encode_ms"], 2)
    failed = len(rows) - len(done)
    died = sum(row["error"]["type"] == WorkerDiedError.__name__ for row in rows if "error" in row)
    label = f"TOTAL {len(done)} encoded" + (f", {failed} failed" if failed else "")
    label += f" ({died} when their worker died)" if died else ""
    return {"path": label, **total}
