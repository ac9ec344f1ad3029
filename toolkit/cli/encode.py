"""`toolkit encode PATH…`: encode images (folders walked) and report sizes, one row per image.

With `--policy FILE` each image gets its category's pick (its folder's name; FILE is what
`toolkit recommend --json` prints), with `--adaptive` its own cheapest setting that keeps the
floors (searched cheapest first for `--model`, each candidate measured as a sweep measures
it), with `--crops` the crops `--model` keeps whole; each row then says the `setting` and
`detail` it was sent at. An image sent as crops gives one row per crop (`crop`: its row and
column, "r0c1"; `crop_box`: left, top, right, bottom in the upright original), and `--out`
writes each crop as NAME.crop-r0c1.jpg.
"""

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path

from toolkit import libvips
from toolkit.cli.args import (
    FLOORS,
    PATHS_HELP,
    SUFFIXES,
    add_detail_argument,
    add_encode_arguments,
    add_grid_arguments,
    add_json_argument,
    add_plan_arguments,
    add_progress_argument,
    add_reader_arguments,
    add_rules_arguments,
    add_workers_argument,
    check_output,
    check_unset,
    colour,
    from_args,
    given,
    plan_source,
    rules_from,
)
from toolkit.cli.output import error_row, print_json_lines, print_table, printable
from toolkit.dataurl import to_data_url
from toolkit.errors import ImageRejectedError, SettingsError, ToolkitError, WorkerDiedError
from toolkit.images import (
    BACKENDS,
    DEFAULT_SETTINGS,
    EncodedImage,
    EncodeSettings,
    encode_image,
    iter_image_files,
)
from toolkit.outputs import refuse_inputs, unique_targets, write_atomic
from toolkit.plans import SendPlan
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
PLANNED_COLUMNS = ("crop", "tokens", "cost_usd", "setting")  # with --policy, --adaptive, --crops
Planned = tuple[SendPlan, dict]  # how an image is sent, and fields its rows add


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
    add_plan_arguments(parser, adaptive=True)
    add_grid_arguments(parser, lazy=True)
    add_rules_arguments(parser, lazy=True)
    add_reader_arguments(parser, None)
    add_progress_argument(parser)


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
) -> list[tuple[dict, str | None]]:
    """One image, in whichever process runs it: encoded, written whole to its --out path (or
    an `OutputError`), and reduced to its row and (with --data-url) its data URL, so that the
    encoded bytes do not travel back to the parent."""
    path, target = job
    encoded = encode_image(path, settings)
    row = encode_row(str(path), encoded)
    if target is not None:
        write_atomic(target, encoded.data)
        row["output"] = str(target)
    return [(row, to_data_url(encoded) if data_url else None)]


def _planned_job(
    job: tuple[Path, Path | None], plan_for: Callable[[Path], Planned], data_url: bool
) -> list[tuple[dict, str | None]]:
    """One image sent as `plan_for` says: a row (and file) per piece, whole or crop."""
    path, target = job
    plan, fields = plan_for(path)
    rows = []
    suffix = SUFFIXES[plan.settings.format]
    for piece in plan.encode(path):
        row = {**encode_row(str(path), piece.encoded), "setting": plan.describe()}
        row.update(detail=plan.detail, **fields)
        if piece.box is not None:
            row.update(crop=piece.label, crop_box=list(piece.box))
        if target is not None:
            name = target.stem + (f".crop-{piece.label}" if piece.label else "") + suffix
            write_atomic(target.with_name(name), piece.encoded.data)
            row["output"] = str(target.with_name(name))
        rows.append((row, to_data_url(piece.encoded) if data_url else None))
    return rows


def _given(path: Path, plan_for: Callable[[Path], SendPlan]) -> Planned:
    return plan_for(path), {}


def _searched(path: Path, grid, rules, base: EncodeSettings) -> Planned:
    """The image's own cheapest setting, and how many of the grid's settings it measured."""
    from toolkit.adaptive import search_image  # pandas and the sweep: only for --adaptive

    found = search_image(path, grid, rules, base)
    return found.plan, {"measured_settings": found.measured, "grid_settings": found.candidates}


SEARCH = (
    "max_sides",
    "formats",
    "qualities",
    "details",
    "reference_side",
    "prices",
    "reader",
    "combine",
)


def _planner(args: argparse.Namespace, settings: EncodeSettings):
    """(how each image is sent, None for whole with the options; the model), checked."""
    if not args.adaptive:
        options = given(args, (*SEARCH, *FLOORS))
        if options:
            names = ", ".join(f"--{name.replace('_', '-')}" for name in options)
            raise SettingsError(f"{names}: for --adaptive only")
        plan_for, model = plan_source(args)
        return plan_for and functools.partial(_given, plan_for=plan_for), model
    from toolkit.sweep import SweepGrid

    if not args.model:
        raise SettingsError("--adaptive needs --model: the settings are searched for it")
    check_unset(args, ("max_side", "format", "quality", "detail"), "--adaptive")
    grid = SweepGrid(
        **given(args, SEARCH),
        models=(args.model,),
        compression_metrics=False,
        ocr=True,
        base=settings,
    )
    searched = functools.partial(_searched, grid=grid, rules=rules_from(args), base=settings)
    return searched, args.model


def run(args: argparse.Namespace) -> int:
    settings = from_args(EncodeSettings, args)
    plan_for, model = _planner(args, settings)
    if model and plan_for is None:
        check_detail(model, args.detail)
    check_output(args.out, folder=True)
    tune_malloc()
    jobs = _jobs(args.paths, args.out, SUFFIXES[settings.format])
    rows = []
    failed = 0
    if plan_for is None:
        encode = functools.partial(_encode_job, settings=settings, data_url=args.data_url)
    else:
        encode = functools.partial(_planned_job, plan_for=plan_for, data_url=args.data_url)
    if settings.backend == "auto":
        libvips.available()  # loaded before the pool starts (no thread yet): workers inherit it
    results = map_in_order(
        encode, jobs, args.workers, preload=[__name__], cost=lambda job: _file_size(job[0])
    )
    from tqdm import tqdm

    searching = args.adaptive and not args.no_progress  # seconds an image: a bar
    with tqdm(total=len(jobs), desc="search", unit="image", disable=not searching) as bar:
        for (path, _), result in zip(jobs, results, strict=True):
            bar.update()
            failed += isinstance(result, ToolkitError)
            rows += _print_rows(path, result, args, model)
    if not args.json and not args.data_url:
        extra = PLANNED_COLUMNS if plan_for else ("tokens", "cost_usd") if model else ()
        columns = (*TABLE_COLUMNS, *extra, *(("output",) if args.out else ()))
        print_table([*rows, _totals(rows)], columns, sys.stdout)
    return 1 if failed else 0


def _print_rows(path: Path, result, args: argparse.Namespace, model: str | None) -> list[dict]:
    """One image's rows (an error row if it failed), priced for `model`: printed as they come
    with --json or --data-url, else returned for the table."""
    if isinstance(result, ToolkitError):
        result = [(error_row(path, result), None)]
    kept = []
    for row, url in result:
        if model and "error" not in row:
            detail = row.get("detail", args.detail)
            row.update(token_fields(row["width"], row["height"], model, detail))
        if url is not None:
            row["data_url"] = url
        if args.json:
            print_json_lines([row], sys.stdout)
        elif args.data_url:
            _print_plain(row)
        else:
            kept.append(row)
    return kept


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
    originals = {row["path"]: row["source_bytes"] for row in done}  # once for all its crops
    total["source_bytes"] = sum(originals.values())
    total["encode_ms"] = round(total["encode_ms"], 2)
    failed = len(rows) - len(done)
    died = sum(row["error"]["type"] == WorkerDiedError.__name__ for row in rows if "error" in row)
    label = f"TOTAL {len(done)} encoded" + (f", {failed} failed" if failed else "")
    label += f" ({died} when their worker died)" if died else ""
    return {"path": label, **total}
