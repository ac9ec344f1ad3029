"""The `toolkit` command: one module per subcommand, imported only when that subcommand runs."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import TYPE_CHECKING

from toolkit.errors import ToolkitError

if TYPE_CHECKING:
    from toolkit.cli.args import Parser

DESCRIPTION = """\
How should images be encoded for vision LLM APIs, and what will it cost? Encode images the
way they are sent, count their image tokens and dollars per model and detail level, build and
send request bodies (or Batch API files), sweep settings over a folder, get the cheapest
settings that keep text legible, and write the HTML report.

Every command takes --help. Failed items print as error rows and exit 1 after the rest; a bad
setting is one line and exit 2."""

# Subcommand -> the line `toolkit --help` shows. Each is a module of this package (`models`
# too) defining `configure(parser)` and `run(args) -> exit code`; its docstring is its help.
COMMANDS = {
    "encode": "encode images for a vision API and report their sizes",
    "tokens": "image tokens and dollars for sizes or image files",
    "models": "every model with its token scheme, constants, details and price",
    "frames": "sample and encode video frames and price them",
    "request": "build vision request bodies; --send sends them",
    "batch": "write Batch API input files for images",
    "emulator": "run a local OpenAI-compatible API emulator",
    "sweep": "sweep encode settings x models over images",
    "recommend": "cheapest settings per model and category that keep text legible",
    "compare": "the same images on every provider: cheapest setting per category and model",
    "calibrate": "a model transcribes views; the reader's text floor is set against it",
    "report": "run the notebooks headlessly and write reports/<run-id>/",
}


class _Version(argparse.Action):
    """`--version`, read from the package metadata only when asked for."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from toolkit import __version__

        parser.exit(message=f"toolkit {__version__}\n")


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the first argument that is not an option)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(argv: list[str]) -> Parser:
    """The parser for `argv`: every subcommand listed, only the one named configured (its
    module imported), so start-up never pays for the others' libraries."""
    from toolkit.cli.args import HelpFormatter, Parser

    parser = Parser(prog="toolkit", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--version", action=_Version)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = _chosen(argv)
    for name, summary in COMMANDS.items():
        if name != chosen:
            subparsers.add_parser(name, help=summary)
            continue
        module = importlib.import_module(f"toolkit.cli.{name}")
        command = subparsers.add_parser(
            name, help=summary, description=module.__doc__, formatter_class=HelpFormatter
        )
        module.configure(command)
        command.set_defaults(handler=module.run, parser=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; its handler returns the exit code.

    Failures that end the whole command are one line on stderr, never a traceback: a bad
    setting (`ToolkitError`) or an output that cannot be written (`OSError`) exit 2, Ctrl-C
    exits 130, SIGTERM and SIGHUP stop the same way (`toolkit.signals`) and exit 143 and 129
    (with what was kept, when the command says so in its `KeyboardInterrupt`).
    """
    from toolkit.cli.output import printable
    from toolkit.signals import as_interrupt

    argv = sys.argv[1:] if argv is None else list(argv)
    command = "toolkit"
    with as_interrupt() as stop:
        try:
            parser = build_parser(argv)
            args, extras = parser.parse_known_args(argv)
            if extras:  # said by the command's own parser, with the closest options
                command_parser: Parser = getattr(args, "parser", parser)
                command_parser.unrecognized(extras)
            command = f"toolkit {args.command}"
            return args.handler(args)
        except KeyboardInterrupt as exc:
            # tasks cut off by the interrupt (a notebook cell's) fail as they are torn down;
            # asyncio would log each "exception was never retrieved" after this line
            logging.getLogger("asyncio").setLevel(logging.CRITICAL)
            how = f" by {stop.name}" if stop.signal else ""
            note = f"; {printable(str(exc))}" if str(exc) else ""
            print(f"{command}: interrupted{how}{note}", file=sys.stderr)
            return stop.exit_code
        except BrokenPipeError:
            # The reader went away (`toolkit models | head`): stop quietly, as Unix tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        except OSError as exc:  # an output path that cannot be written: said once
            where = f"{exc.filename}: " if exc.filename else ""
            message = printable(f"{where}{exc.strerror or exc}")
            print(f"{command}: error: {message}", file=sys.stderr)
            return 2
        except ToolkitError as exc:  # a setting no item could succeed with
            print(f"{command}: error: {printable(str(exc))}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main())
