"""Argument types, argument groups and checks shared by the `toolkit` subcommands."""

import argparse
import dataclasses
import errno
import os
from pathlib import Path

from PIL import ImageColor

from toolkit.files import check_regular
from toolkit.runtime import available_cpus

SUFFIXES = {"jpeg": ".jpg", "webp": ".webp", "png": ".png"}  # output format -> file suffix
PATHS_HELP = (  # the rule `toolkit.images.iter_image_files` applies
    "image files (any name: the format comes from the bytes) or folders, walked for "
    "non-hidden files with an image extension (.jpg, .png, .webp, ...; others are skipped)"
)


def max_side(text: str) -> int | None:
    """A longest side in px; `none` or `0` keeps the size."""
    return None if text.lower() in ("none", "0") else int(text)


def positive_int(text: str) -> int:
    """A whole number >= 1 (workers, concurrency, counts)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def colour(text: str) -> tuple[int, int, int]:
    """An RGB colour in any notation Pillow knows (`white`, `#00ff00`, `rgb(…)`)."""
    try:
        return ImageColor.getrgb(text)[:3]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a colour: {text!r}") from None


def add_encode_arguments(parser: argparse.ArgumentParser) -> None:
    """`--max-side`, `--quality` and `--format` (the `EncodeSettings` fields of those names)."""
    parser.add_argument(
        "--max-side", type=max_side, default=800, help="longest side in px; none keeps the size"
    )
    parser.add_argument("--quality", type=int, default=85, help="JPEG 1-95, WebP 0-100")
    parser.add_argument("--format", choices=sorted(SUFFIXES), default="jpeg")


def add_workers_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=available_cpus(),
        help="processes (default: all CPUs)",
    )


def _os_error(code: int, path: Path) -> OSError:
    return OSError(code, os.strerror(code), str(path))


def check_output(path: Path | None, *, folder: bool = False) -> None:
    """Before any work starts: an `OSError` naming `path` if it cannot be written as a file
    (or, with `folder`, as a folder): it is the other kind or not a regular file, or its
    nearest existing parent is not a writable folder. `None` (no output asked for) passes."""
    if path is None:
        return
    if path.is_dir():
        if not folder:
            raise _os_error(errno.EISDIR, path)
        target = path
    elif path.exists():
        if folder:
            raise _os_error(errno.ENOTDIR, path)
        check_regular(path)  # writing over /dev/null or a FIFO is not an output
        target = path
    else:
        target = next(parent for parent in path.absolute().parents if parent.exists())
        if not target.is_dir():
            raise _os_error(errno.ENOTDIR, target)
    if not os.access(target, os.W_OK | (os.X_OK if target.is_dir() else 0)):
        raise _os_error(errno.EACCES, target)


def from_args(cls, args: argparse.Namespace, **overrides):
    """An instance of dataclass `cls` from the parsed arguments named like its fields;
    `overrides` set the others (fields with neither keep their defaults)."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if f.name in args}
    return cls(**{**given, **overrides})


def add_rules_arguments(parser: argparse.ArgumentParser) -> None:
    """The recommendation's floors (`toolkit.recommend.DecisionRules`) and price table."""
    from toolkit.recommend import DecisionRules

    defaults = DecisionRules()
    parser.add_argument(
        "--min-legibility",
        type=float,
        default=defaults.min_legibility,
        help="share of the original's words text images must keep (default: %(default)s)",
    )
    parser.add_argument(
        "--min-fidelity",
        type=float,
        default=defaults.min_fidelity,
        help="share of the model's ceiling seen SSIM other images keep (default: %(default)s)",
    )
    parser.add_argument(
        "--text-categories",
        nargs="+",
        default=list(defaults.text_categories),
        help="categories judged by legibility (default: %(default)s)",
    )
    parser.add_argument("--prices", help="price table id or TOML file (default: newest)")


def rules_from(args: argparse.Namespace):
    from toolkit.recommend import DecisionRules

    return DecisionRules(args.min_legibility, args.min_fidelity, tuple(args.text_categories))
