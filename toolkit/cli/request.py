"""`toolkit request IMAGE…`: build (and optionally send) vision request bodies.

Images are encoded with the seed recipe (or the given settings), packed in order into the
fewest requests within the observed limits, and each body is summarized, written with `-o`
and sent with `--send` (results appended to `--results`, resumable).
"""

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from toolkit.cli.args import (
    PATHS_HELP,
    add_encode_arguments,
    check_output,
    from_args,
    positive_int,
)
from toolkit.cli.output import error_row, print_rows
from toolkit.errors import ToolkitError
from toolkit.images import EncodeSettings, encode_image, iter_image_files
from toolkit.payload import (
    DETAILS,
    ENDPOINTS,
    ImagePart,
    Request,
    RequestSpec,
    serialize,
    split_requests,
    usage_cost_usd,
)
from toolkit.rulesets import find_model

COLUMNS = ("id", "images", "body_bytes", "estimated_image_tokens", "estimated_cost_usd", "path")
RESULT_COLUMNS = ("id", "status", "attempts", "input_tokens", "output_tokens", "cost_usd")


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by `request` and `batch`: images, endpoint, model, prompt, encoding."""
    parser.add_argument("images", nargs="+", metavar="IMAGE", help=PATHS_HELP)
    parser.add_argument("--api", choices=sorted(ENDPOINTS), default="chat")
    parser.add_argument("--model", required=True)
    parser.add_argument("--detail", choices=DETAILS, default="high")
    parser.add_argument("--prompt", default="", help="text sent before the images")
    parser.add_argument("--system", help="system message (Chat) or instructions (Responses)")
    parser.add_argument("--json-format", action="store_true", help="ask for a JSON object answer")
    add_encode_arguments(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def request_spec(args: argparse.Namespace) -> RequestSpec:
    """The request settings, checked before any image is encoded: a model the rule sets
    know, at a detail it has (else `RulesError`: a typo would be sent, priced as null)."""
    find_model(args.model)[1].resolve_detail(args.detail)
    return from_args(RequestSpec, args)


def image_parts(args: argparse.Namespace, failures: list[dict]) -> Iterator[ImagePart]:
    """Encoded images in order; a file that fails becomes an error row in `failures`."""
    settings = from_args(EncodeSettings, args)
    for path in iter_image_files(args.images):
        try:
            yield ImagePart.from_encoded(encode_image(path, settings), args.detail)
        except ToolkitError as exc:
            failures.append(error_row(path, exc))


def request_row(request: Request) -> dict:
    row = request.summary()
    tokens = row["estimated_image_tokens"]
    cost = None if tokens is None else usage_cost_usd(request.model, tokens, 0, 0, "standard")
    return {**row, "estimated_cost_usd": cost}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "request", help="build vision request bodies; --send sends them", description=__doc__
    )
    add_request_arguments(parser)
    parser.add_argument("-o", "--out", type=Path, help="write the body here (body-2.json, …)")
    parser.add_argument("--send", action="store_true", help="send with the openai SDK")
    parser.add_argument("--base-url", help="API base URL (default: OPENAI_BASE_URL or OpenAI)")
    parser.add_argument(
        "--results", type=Path, default=Path("toolkit-results.jsonl"), help="results JSONL"
    )
    parser.add_argument("--concurrency", type=positive_int, default=8)
    parser.set_defaults(handler=run)


def _body_path(out: Path, index: int) -> Path:
    return out if index == 1 else out.with_name(f"{out.stem}-{index}{out.suffix}")


def _check_sending(args: argparse.Namespace) -> None:
    """Before any work: a key, and a results file this run can read and append to."""
    from toolkit.client import read_results, resolve_api_key

    resolve_api_key()
    check_output(args.results)
    read_results(args.results)


def run(args: argparse.Namespace) -> int:
    from toolkit.client import read_results, run_requests  # imports the SDK only when used

    spec = request_spec(args)
    check_output(args.out)
    if args.send:
        _check_sending(args)
    try:
        failures: list[dict] = []
        requests = list(split_requests(image_parts(args, failures), spec))
    except ToolkitError as exc:
        print(f"toolkit request: error: {exc}", file=sys.stderr)
        return 2
    rows = []
    for index, request in enumerate(requests, 1):
        row = request_row(request)
        if args.out:
            path = _body_path(args.out, index)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(serialize(request.body()))
            row["path"] = str(path)
        rows.append(row)
    if args.send and requests:
        try:
            run_requests(
                requests,
                results_path=args.results,
                base_url=args.base_url,
                concurrency=args.concurrency,
            )
        except KeyboardInterrupt:  # the requests in flight were answered and recorded
            raise KeyboardInterrupt(
                f"answers so far are in {args.results}; run the same command to send the rest"
            ) from None
        records = read_results(args.results)
        rows = [{**row, **records.get(row["id"], {})} for row in rows]
    print_rows(rows + failures, args.json, RESULT_COLUMNS if args.send else COLUMNS)
    bad = failures or (args.send and any(r.get("status") != "ok" for r in rows))
    return 1 if bad else 0
