"""`toolkit emulator`: run the local OpenAI-compatible server on 127.0.0.1 until Ctrl-C.

Prints one JSON line with `base_url`; point a client at it (`OPENAI_BASE_URL`, any key).
`--faults "429=0.2,500=0.1,drop=0.05,hang=0.02,slow=0.1,retry_after_s=1,seed=1"` injects
faults (see `toolkit.emulator.FaultPlan`). The server never downloads: an http(s) image URL
is billed as `--url-image-size` (or a request's `X-Emulator-Image-Size` header) unless
`--offline-urls refuse`. `--bandwidth-mbit 10` paces request and response bodies to 10 Mbit/s,
an emulated slow link.
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
    # Unset options keep toolkit.emulator.ServerSettings' defaults (not imported here: the
    # emulator loads the SDK, seconds of start-up for every other command).
    parser.add_argument(
        "--offline-urls",
        metavar="accept|refuse",
        help="accept http(s) image URLs without downloading them (default), or refuse them",
    )
    parser.add_argument(
        "--url-image-size",
        metavar="WxH",
        help="size a URL image is billed at (default: ServerSettings.url_image_size)",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        metavar="S",
        help="close a connection idle for S seconds (default: ServerSettings.read_timeout_s)",
    )
    parser.add_argument(
        "--bandwidth-mbit",
        type=float,
        metavar="M",
        help="emulate a link of M Mbit/s for request and response bodies (default: unpaced)",
    )
    parser.set_defaults(handler=run)


def _settings(args: argparse.Namespace):
    from toolkit.emulator import ServerSettings, parse_size

    given = {
        "offline_urls": args.offline_urls,
        "url_image_size": args.url_image_size and parse_size(args.url_image_size),
        "read_timeout_s": args.read_timeout,
        "bandwidth_mbit": args.bandwidth_mbit,
    }
    return ServerSettings(**{k: v for k, v in given.items() if v is not None})


def run(args: argparse.Namespace) -> int:
    from toolkit.emulator import Emulator, FaultPlan

    try:
        faults = FaultPlan.parse(args.faults)
        emulator = Emulator(args.port, faults=faults, settings=_settings(args))
    except (SettingsError, ValueError, OverflowError, OSError) as exc:  # Overflow: bad port
        print(f"toolkit emulator: error: {exc}", file=sys.stderr)
        return 2
    print_json_lines([{"base_url": emulator.base_url, "port": emulator.port}], sys.stdout)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
