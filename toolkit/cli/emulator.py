"""`toolkit emulator`: run the local OpenAI-compatible server on 127.0.0.1 until Ctrl-C.

Prints one JSON line with `base_url`; point a client at it (`OPENAI_BASE_URL`, any key).
`--faults "429=0.2,500=0.1,drop=0.05,hang=0.02,slow=0.1,retry_after_s=1,seed=1"` injects
faults (see `toolkit.emulator.FaultPlan`). The server never downloads: an http(s) image URL
is billed as `--url-image-size` (or a request's `X-Emulator-Image-Size` header) unless
`--offline-urls refuse`.
"""

import argparse
import sys

from toolkit.cli.args import positive_int
from toolkit.cli.output import print_json_lines
from toolkit.emulator import OFFLINE_URLS, Emulator, FaultPlan, ServerSettings, parse_size
from toolkit.errors import SettingsError

DEFAULTS = ServerSettings()


def size(text: str) -> tuple[int, int]:
    """A `WIDTHxHEIGHT` argument."""
    try:
        return parse_size(text)
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--faults", default="", help="fault rates and settings (none: no faults)")
    parser.add_argument(
        "--offline-urls",
        choices=OFFLINE_URLS,
        default=DEFAULTS.offline_urls,
        help="http(s) image URLs: accepted without downloading them, or refused",
    )
    parser.add_argument(
        "--url-image-size",
        type=size,
        metavar="WxH",
        default="{}x{}".format(*DEFAULTS.url_image_size),
        help="size a URL image is billed at",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        metavar="S",
        default=DEFAULTS.read_timeout_s,
        help="close a connection idle for S seconds",
    )
    parser.add_argument(
        "--max-image-pixels",
        type=positive_int,
        default=DEFAULTS.max_image_pixels,
        help="refuse images with more pixels (from their header)",
    )
    parser.add_argument(
        "--bandwidth-mbit",
        type=float,
        metavar="M",
        default=DEFAULTS.bandwidth_mbit,
        help="emulate a link of M Mbit/s for request and response bodies (none: unpaced)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        settings = ServerSettings(
            offline_urls=args.offline_urls,
            url_image_size=args.url_image_size,
            max_image_pixels=args.max_image_pixels,
            read_timeout_s=args.read_timeout,
            bandwidth_mbit=args.bandwidth_mbit,
        )
        emulator = Emulator(args.port, faults=FaultPlan.parse(args.faults), settings=settings)
    except (SettingsError, ValueError, OverflowError, OSError) as exc:  # Overflow: bad port
        print(f"toolkit emulator: error: {exc}", file=sys.stderr)
        return 2
    print_json_lines([{"base_url": emulator.base_url, "port": emulator.port}], sys.stdout)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
