"""What the `toolkit` subcommands share: the help format, argument types and groups (their
defaults read from the library's dataclasses and constants), checks made before any work, and
the images-to-requests step of `request` and `batch`."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import errno
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from toolkit.cli.output import error_row
from toolkit.errors import SettingsError, ToolkitError
from toolkit.files import check_regular
from toolkit.images import (
    DEFAULT_SETTINGS,
    EncodeSettings,
    format_name,
    iter_image_files,
    read_size,
)
from toolkit.pricing import TIERS
from toolkit.rulesets import DEFAULT_DETAIL, check_detail
from toolkit.runtime import available_cpus

if TYPE_CHECKING:
    from toolkit.payload import ImagePart, RequestLimits, RequestSpec
    from toolkit.plans import SendPlan

SUFFIXES = {"jpeg": ".jpg", "webp": ".webp", "png": ".png"}  # output format -> file suffix
PATHS_HELP = (  # the rule `toolkit.images.iter_image_files` applies
    "image files (any name: the format comes from the bytes) or folders, walked for "
    "non-hidden files with an image extension (.jpg, .png, .webp, ...; others are skipped)"
)


class Parser(argparse.ArgumentParser):
    """argparse whose errors name the fix: the closest choice or option to a typo
    (`--detial`: did you mean --detail?) and the command's --help."""

    def _check_value(self, action: argparse.Action, value: object) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(choice) for choice in choices]
        close = difflib.get_close_matches(str(value), names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise argparse.ArgumentError(
            action, f"invalid choice: {value!r} (choose from {', '.join(names)}){hint}"
        )

    def unrecognized(self, extras: list[str]) -> NoReturn:
        """Exit with the arguments not understood, each with the closest option if any."""
        options = [o for o in self._option_string_actions if o.startswith("--")]
        typed = [extra.split("=")[0] for extra in extras if extra.startswith("-")]
        close = [
            f"{option} for {typo}"
            for typo in typed
            for option in difflib.get_close_matches(typo, options, n=1)
        ]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        self.error(f"unrecognized arguments: {' '.join(extras)}{hint}")

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (every option: {self.prog} --help)\n")


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
    add_format_argument(parser, DEFAULT_SETTINGS.format)


def add_format_argument(parser: argparse.ArgumentParser, default: str) -> None:
    """`--format`: jpeg, webp or png (`jpg` and upper case are understood)."""
    parser.add_argument(
        "--format", type=format_name, choices=sorted(SUFFIXES), default=default, help="encoder"
    )


def _field_defaults(cls) -> dict:
    return {f.name: f.default for f in dataclasses.fields(cls)}


def add_grid_arguments(parser: argparse.ArgumentParser, lazy: bool = False) -> None:
    """The settings a grid sweeps (`toolkit.SweepGrid`'s fields of those names, its defaults)
    and the size seen SSIM is compared at. With `lazy` (a command that sweeps only on request)
    every default is None, left to `SweepGrid`: parsing imports no sweep."""
    note = " (default: toolkit sweep's)" if lazy else ""
    if lazy:
        defaults = dict.fromkeys(("max_sides", "formats", "qualities", "details"))
    else:
        from toolkit.sweep import SweepGrid

        defaults = _field_defaults(SweepGrid)
    parser.add_argument(
        "--max-sides",
        nargs="+",
        type=max_side,
        default=defaults["max_sides"],
        help=f"longest sides in px (none keeps the size){note}",
    )
    parser.add_argument(
        "--formats",
        nargs="+",
        type=format_name,
        choices=sorted(SUFFIXES),
        default=defaults["formats"],
        help=f"encoders{note}",
    )
    parser.add_argument(
        "--qualities", nargs="+", type=int, default=defaults["qualities"], help=f"qualities{note}"
    )
    parser.add_argument("--details", nargs="+", default=defaults["details"], help=f"levels{note}")
    parser.add_argument(
        "--reference-side",
        type=int,
        help="longest side seen SSIM is compared at, px (default: the largest max side)",
    )


def add_plan_arguments(parser: argparse.ArgumentParser, adaptive: bool = False) -> None:
    """`--policy FILE` and `--crops` (and, with `adaptive`, `--adaptive`): how each image is
    sent, instead of whole with the encode options."""
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="send each image with its category's pick (the category is its folder's name): "
        "FILE holds the JSON lines `toolkit recommend --json` prints; --model chooses the "
        "model when it holds several. Sets max side, format, quality and detail per image; "
        "images the pick sends as crops go as crops",
    )
    how.add_argument(
        "--crops",
        action="store_true",
        help="send each image as the crops --model keeps whole at --detail (toolkit."
        "split_for_legibility), cut from the full-resolution original, each encoded with "
        "--format and --quality at its own size",
    )
    if adaptive:
        how.add_argument(
            "--adaptive",
            action="store_true",
            help="search each image's own cheapest setting (of --max-sides x --formats x "
            "--qualities x --details, for --model) that keeps the floors (--min-legibility, "
            "--min-fidelity), cheapest first, each measured as a sweep measures it (needs "
            "Tesseract); crops when no setting keeps its text legible",
        )


ENCODE_DEFAULTS = {  # the options a per-image plan sets, with their defaults
    "max_side": DEFAULT_SETTINGS.max_side,
    "format": DEFAULT_SETTINGS.format,
    "quality": DEFAULT_SETTINGS.quality,
    "detail": DEFAULT_DETAIL,
}


def check_unset(args: argparse.Namespace, names: tuple[str, ...], flag: str) -> None:
    """A `SettingsError` when an option that `flag` sets per image was given another value."""
    options = [f"--{n.replace('_', '-')}" for n in names if getattr(args, n) != ENCODE_DEFAULTS[n]]
    if options:
        them = "them" if len(options) > 1 else "it"
        raise SettingsError(f"{flag} sets {', '.join(options)} per image: leave {them} out")


def plan_source(args: argparse.Namespace) -> tuple[Callable[[Path], SendPlan] | None, str | None]:
    """How each image is sent under `--policy` or `--crops` (None: whole, with the encode
    options) and the model it is sent to (`--model`, or the policy's), checked before any
    work: a bad policy file, a missing `--model` or an option the plan sets is an error."""
    settings = from_args(EncodeSettings, args)
    if args.policy is not None:
        from toolkit.policy import load_policy

        check_unset(args, ("max_side", "format", "quality", "detail"), "--policy")
        policy = load_policy(args.policy, args.model)
        return functools.partial(policy.plan, base=settings), policy.model
    if args.crops:
        if not args.model:
            raise SettingsError("--crops needs --model: the crops are those it keeps whole")
        check_unset(args, ("max_side",), "--crops")
        check_detail(args.model, args.detail)
        crops = functools.partial(
            _crops_plan, settings=settings, model=args.model, detail=args.detail
        )
        return crops, args.model
    return None, args.model


def _crops_plan(path: Path, settings: EncodeSettings, model: str, detail: str) -> SendPlan:
    from toolkit.plans import crop_plan

    return crop_plan(read_size(path), settings, model, detail)


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


def add_reader_arguments(parser: argparse.ArgumentParser, default: str | None) -> None:
    """`--reader` (also `--readers`): the OCR reader legibility is read with, or two
    combined as `--combine` says (`toolkit.readers.ReaderSpec`)."""
    from toolkit.readers import AUTO, COMBINE, READERS, THIN_WORDS

    parser.add_argument(
        "--reader",
        "--readers",
        dest="reader",
        metavar="NAME[,NAME]",
        default=default,
        help=f"OCR reader for legibility: {AUTO} (Tesseract, and PP-OCR for an original "
        f"Tesseract reads in fewer than {THIN_WORDS} words, such as a chart, when installed), "
        f"{', '.join(READERS)}, or both comma-separated (combined as --combine says)",
    )
    parser.add_argument(
        "--combine",
        choices=COMBINE,
        default=COMBINE[0] if default else None,
        help="with two named readers: a view is as legible as the better (looser) or the "
        f"worse (stricter) reader finds it, or as {AUTO} judges it",
    )


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (on stderr: total and ETA)"
    )


def add_workers_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=available_cpus(),
        help="processes (default: all %(default)s CPUs)",
    )


def default_cache_dir() -> Path:
    """The sweep cache `sweep` and `calibrate` share: $XDG_CACHE_HOME/toolkit/sweep."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "toolkit" / "sweep"


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


FLOORS = ("min_legibility", "min_fidelity", "text_categories")  # `DecisionRules` fields


def add_rules_arguments(parser: argparse.ArgumentParser, lazy: bool = False) -> None:
    """The recommendation's floors (`toolkit.recommend.DecisionRules`, its defaults; None with
    `lazy`, as in `add_grid_arguments`) and price table."""
    note = " (default: toolkit recommend's)" if lazy else ""
    if lazy:
        defaults = dict.fromkeys(FLOORS)
    else:
        from toolkit.recommend import DecisionRules

        defaults = _field_defaults(DecisionRules)
        defaults["text_categories"] = list(defaults["text_categories"])
    parser.add_argument(
        "--min-legibility",
        type=float,
        default=defaults["min_legibility"],
        help=f"share of the original's words text images must keep{note}",
    )
    parser.add_argument(
        "--min-fidelity",
        type=float,
        default=defaults["min_fidelity"],
        help=f"share of the model's ceiling seen SSIM other images keep{note}",
    )
    parser.add_argument(
        "--text-categories",
        nargs="+",
        default=defaults["text_categories"],
        help=f"categories judged by legibility{note}",
    )
    parser.add_argument("--prices", metavar="ID|FILE", help="price table (default: newest)")


def rules_from(args: argparse.Namespace):
    """The floors given (`DecisionRules`' own defaults for those left out)."""
    from toolkit.recommend import DecisionRules

    return from_args(DecisionRules, argparse.Namespace(**given(args, FLOORS)))


def given(args: argparse.Namespace, names: tuple[str, ...]) -> dict:
    """The options of `names` that were given (not None)."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


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
    add_plan_arguments(parser)
    add_json_argument(parser)


def request_spec(args: argparse.Namespace, command: str):
    """The request settings, checked before any image is encoded: a model the rule sets
    know, at a detail it has (else `RulesError`: a typo would be sent, priced as null). No
    prompt is a warning unless `--no-prompt` says it is meant."""
    from toolkit.payload import RequestSpec

    check_detail(args.model, args.detail)
    if args.prompt is None and not args.no_prompt:
        print(
            f"toolkit {command}: warning: no --prompt: the images go with no instruction "
            "(give --prompt TEXT, or --no-prompt to say it is meant)",
            file=sys.stderr,
        )
    return from_args(RequestSpec, args, prompt=args.prompt or "")


def image_parts(
    args: argparse.Namespace, plan_for: Callable[[Path], SendPlan] | None, failures: list[dict]
) -> Iterator:
    """The images as `ImagePart`s, in order, each sent as `plan_for` says (None: whole, with
    the encode options), a cropped image's crops together; a file that fails becomes an error
    row in `failures` and the rest go on."""
    from toolkit.plans import SendPlan

    whole = SendPlan(from_args(EncodeSettings, args), args.detail)
    for path in iter_image_files(args.images):
        try:
            parts = (plan_for(path) if plan_for else whole).image_parts(path)
        except ToolkitError as exc:
            failures.append(error_row(path, exc))
            continue
        yield from parts


def within_limits(
    parts: Iterator[ImagePart],
    spec: RequestSpec,
    limits: RequestLimits,
    failures: list[dict],
) -> Iterator[ImagePart]:
    """The `parts` that can travel within `limits` (`toolkit.payload.fit_part`), the crops of
    one image all or none: an image too large for any request becomes an error row in
    `failures` and the rest go on."""
    from toolkit.errors import PayloadError
    from toolkit.payload import fit_part, together

    for group in together(parts):
        try:
            fitted = [fit_part(part, spec, limits) for part in group]
        except PayloadError as exc:
            failures.append(error_row(group[0].name, exc))
            continue
        yield from fitted
