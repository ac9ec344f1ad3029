"""`toolkit emulator`: run the local OpenAI-compatible server on 127.0.0.1 until Ctrl-C.

Prints one JSON line with `base_url`; point a client at it (`OPENAI_BASE_URL`, any key).
`--faults "429=0.2,500=0.1,drop=0.05,hang=0.02,slow=0.1,retry_after_s=1,seed=1"` injects
faults (see `toolkit.emulator.FaultPlan`).
"""

import argparse
import sys

from toolkit.cli.output import print_json_lines
from toolkit.errors import SettingsError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "emulator", help="run a local OpenAI-compatible API emulator", description=__doc__
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--faults", default="", help="fault rates and settings")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from toolkit.emulator import Emulator, FaultPlan

    try:
        emulator = Emulator(args.port, faults=FaultPlan.parse(args.faults))
    except (SettingsError, ValueError, OverflowError, OSError) as exc:  # Overflow: bad port
        print(f"toolkit emulator: error: {exc}", file=sys.stderr)
        return 2
    print_json_lines([{"base_url": emulator.base_url, "port": emulator.port}], sys.stdout)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
