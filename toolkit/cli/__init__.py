"""The `toolkit` command: one subcommand module per job, each with `register(subparsers)`."""

import argparse
import importlib
import os
import sys

from toolkit import __version__

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
    """Run a subcommand; its handler returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:
        # The reader went away (`toolkit models | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # an output path that cannot be written: said once, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"toolkit {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
