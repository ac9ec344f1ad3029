"""The `toolkit` command: one subcommand module per job, each with `register(subparsers)`."""

import argparse
import importlib
import logging
import os
import sys

from toolkit import __version__
from toolkit.errors import ToolkitError

# Each name is a module in this package that defines `register(subparsers)`.
COMMANDS = (
    "encode",
    "report",
    "tokens",
    "frames",
    "request",
    "batch",
    "emulator",
    "sweep",
    "recommend",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toolkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"toolkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"toolkit.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; its handler returns the exit code.

    Failures that end the whole command are one line on stderr, never a traceback: a bad
    setting (`ToolkitError`) or an output that cannot be written (`OSError`) exit 2, Ctrl-C
    exits 130 (with what was kept, when the command says so in its `KeyboardInterrupt`).
    """
    command = "toolkit"
    try:
        args = build_parser().parse_args(argv)
        command = f"toolkit {args.command}"
        return args.handler(args)
    except KeyboardInterrupt as exc:
        # a notebook cell cut off mid-run leaves an asyncio task whose end would be logged
        logging.getLogger("asyncio").disabled = True
        note = f"; {exc}" if str(exc) else ""
        print(f"{command}: interrupted{note}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`toolkit models | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # an output path that cannot be written: said once, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except ToolkitError as exc:  # a setting no item could succeed with
        print(f"{command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
