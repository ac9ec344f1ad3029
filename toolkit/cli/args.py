"""What the `toolkit` subcommands share: the help format, argument types and groups (their
defaults read from the library's dataclasses and constants), checks made before any work, and
the images-to-requests step of `request` and `batch`."""

import argparse
import dataclasses
import errno
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.cli.output import error_row
from toolkit.errors import ToolkitError
from toolkit.files import check_regular
from toolkit.images import DEFAULT_SETTINGS, EncodeSettings, encode_image, iter_image_files
from toolkit.pricing import TIERS
from toolkit.rulesets import DEFAULT_DETAIL
from toolkit.runtime import available_cpus

if TYPE_CHECKING:
    from toolkit.payload import ImagePart, RequestLimits, RequestSpec

SUFFIXES = {"jpeg": ".jpg", "webp": ".webp", "png": ".png"}  # output format -> file suffix
PATHS_HELP = (  # the rule `toolkit.images.iter_image_files` applies
    "image files (any name: the format comes from the bytes) or folders, walked for "
    "non-hidden files with an image extension (.jpg, .png, .webp, ...; others are skipped)"
)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written; every option's help followed by its default, unless it has
    none to show (None, a flag's False) or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or not action.option_strings
            or default is None
            or default is False
            or default is argparse.SUPPRESS
        ):
            return text
        shown = " ".join(map(str, default)) if isinstance(default, list | tuple) else default
        return f"{text} (default: {str(shown).replace('%', '%%')})"


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
    from PIL import ImageColor

    try:
        red, green, blue = ImageColor.getrgb(text)[:3]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a colour: {text!r}") from None
    return red, green, blue


def add_encode_arguments(parser: argparse.ArgumentParser) -> None:
    """`--max-side`, `--quality` and `--format`: the `EncodeSettings` fields of those names,
    defaults the seed recipe's."""
    parser.add_argument(
        "--max-side",
        type=max_side,
        default=DEFAULT_SETTINGS.max_side,
        help="longest side in px; none keeps the size",
    )
    parser.add_argument(
        "--quality", type=int, default=DEFAULT_SETTINGS.quality, help="JPEG 1-95, WebP 0-100"
    )
    parser.add_argument(
        "--format", choices=sorted(SUFFIXES), default=DEFAULT_SETTINGS.format, help="encoder"
    )


def add_detail_argument(parser: argparse.ArgumentParser, help: str = "detail level") -> None:
    """`--detail`, defaulting to `toolkit.DEFAULT_DETAIL` as the library does."""
    parser.add_argument(
        "--detail", default=DEFAULT_DETAIL, help=f"{help}: low, high, original, auto, ..."
    )


def add_tier_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tier", choices=TIERS, default=TIERS[0], help="price tier")


def add_rules_argument(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--rules", metavar="ID|FILE", help=help)


def add_json_argument(parser: argparse.ArgumentParser, what: str = "row") -> None:
    parser.add_argument("--json", action="store_true", help=f"one JSON object per {what}")


def add_workers_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=available_cpus(),
        help="processes (default: all %(default)s CPUs)",
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
        help="share of the original's words text images must keep",
    )
    parser.add_argument(
        "--min-fidelity",
        type=float,
        default=defaults.min_fidelity,
        help="share of the model's ceiling seen SSIM other images keep",
    )
    parser.add_argument(
        "--text-categories",
        nargs="+",
        default=list(defaults.text_categories),
        help="categories judged by legibility",
    )
    parser.add_argument("--prices", metavar="ID|FILE", help="price table (default: newest)")


def rules_from(args: argparse.Namespace):
    from toolkit.recommend import DecisionRules

    return DecisionRules(args.min_legibility, args.min_fidelity, tuple(args.text_categories))


# ---- `request` and `batch` ------------------------------------------------------------------


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by `request` and `batch`: images, endpoint, model, prompt, encoding."""
    from toolkit.payload import DETAILS, ENDPOINTS, RequestSpec

    parser.add_argument("images", nargs="+", metavar="IMAGE", help=PATHS_HELP)
    parser.add_argument(
        "--api", choices=sorted(ENDPOINTS), default=RequestSpec.api, help="endpoint"
    )
    parser.add_argument("--model", required=True, help="e.g. gpt-4o, gpt-5.4-mini")
    parser.add_argument(
        "--detail", choices=DETAILS, default=DEFAULT_DETAIL, help="detail level of every image"
    )
    prompt = parser.add_mutually_exclusive_group()
    prompt.add_argument("--prompt", help="text sent before the images")
    prompt.add_argument(
        "--no-prompt", action="store_true", help="send the images with no instruction"
    )
    parser.add_argument("--system", help="system message (Chat) or instructions (Responses)")
    parser.add_argument("--json-format", action="store_true", help="ask for a JSON object answer")
    add_encode_arguments(parser)
    add_json_argument(parser)


def request_spec(args: argparse.Namespace, command: str):
    """The request settings, checked before any image is encoded: a model the rule sets
    know, at a detail it has (else `RulesError`: a typo would be sent, priced as null). No
    prompt is a warning unless `--no-prompt` says it is meant."""
    from toolkit.payload import RequestSpec
    from toolkit.rulesets import check_detail

    check_detail(args.model, args.detail)
    if args.prompt is None and not args.no_prompt:
        print(
            f"toolkit {command}: warning: no --prompt: the images go with no instruction "
            "(give --prompt TEXT, or --no-prompt to say it is meant)",
            file=sys.stderr,
        )
    return from_args(RequestSpec, args, prompt=args.prompt or "")


def image_parts(args: argparse.Namespace, failures: list[dict]) -> Iterator:
    """The images as `ImagePart`s, in order; a file that fails becomes an error row in
    `failures` and the rest go on."""
    from toolkit.payload import ImagePart

    settings = from_args(EncodeSettings, args)
    for path in iter_image_files(args.images):
        try:
            yield ImagePart.from_encoded(encode_image(path, settings), args.detail)
        except ToolkitError as exc:
            failures.append(error_row(path, exc))


def within_limits(
    parts: Iterator["ImagePart"],
    spec: "RequestSpec",
    limits: "RequestLimits",
    failures: list[dict],
) -> Iterator["ImagePart"]:
    """The `parts` that can travel alone within `limits` (`toolkit.payload.fit_part`); an
    image too large for any request becomes an error row in `failures` and the rest go on."""
    from toolkit.errors import PayloadError
    from toolkit.payload import fit_part

    for part in parts:
        try:
            yield fit_part(part, spec, limits)
        except PayloadError as exc:
            failures.append(error_row(part.name, exc))
