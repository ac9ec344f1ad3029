"""`toolkit request IMAGE…`: build (and optionally send) vision request bodies.

Images are encoded with the seed recipe (or the given settings, or per image with `--policy`
or `--crops`), packed in order into the fewest requests within the provider's limits, and each
body is summarized, written with `-o` and sent with `--send` (results appended to `--results`,
resumable). An image sent as crops is consecutive image parts of one request, after a text
line naming the grid. `--provider anthropic` writes Claude Messages bodies and `--provider
gemini` Gemini generateContent bodies, each as its SDK serializes it, within its own limits;
`--send` sends them with the anthropic or google-genai SDK (the `anthropic` and `gemini`
extras).
"""

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path

from toolkit.cli.args import (
    add_request_arguments,
    check_output,
    image_parts,
    plan_source,
    positive_int,
    request_spec,
    within_limits,
)
from toolkit.cli.output import print_rows
from toolkit.errors import SettingsError
from toolkit.locks import locked
from toolkit.outputs import refuse_inputs, write_atomic
from toolkit.payload import CONCURRENCY, Request, split_requests
from toolkit.pricing import cost_or_none
from toolkit.provider_limits import LIMITS
from toolkit.rulesets import find_model

# --provider -> (RequestSpec.api, None: --api's; the provider its models' rule sets name)
PROVIDERS = {"openai": (None, "openai"), "anthropic": ("anthropic", "anthropic")}
PROVIDERS["gemini"] = ("gemini", "google")

COLUMNS = ("id", "images", "body_bytes", "estimated_image_tokens", "estimated_cost_usd", "path")
RESULT_COLUMNS = ("id", "status", "attempts", "input_tokens", "output_tokens", "cost_usd")


def request_row(request: Request) -> dict:
    row = dict(request.summary())
    tokens = request.estimated_image_tokens()
    cost = None if tokens is None else cost_or_none(tokens, request.model)
    return {**row, "estimated_cost_usd": cost}


def configure(parser: argparse.ArgumentParser) -> None:
    add_request_arguments(parser)
    parser.add_argument(
        "--provider",
        choices=PROVIDERS,
        default="openai",
        help="whose body to build: OpenAI (--api chooses the endpoint), Anthropic Messages or "
        "Gemini generateContent",
    )
    parser.add_argument(
        "--max-output-tokens",
        type=positive_int,
        help="cap on the answer's tokens (required by Anthropic: max_tokens)",
    )
    parser.add_argument("-o", "--out", type=Path, help="write the body here (body-2.json, …)")
    parser.add_argument(
        "--send", action="store_true", help="send with the provider's SDK (openai by default)"
    )
    parser.add_argument(
        "--base-url",
        help="API base URL as its SDK takes it (default: the provider's; OpenAI: also "
        "OPENAI_BASE_URL; the emulator: http://127.0.0.1:PORT/v1 for OpenAI, "
        "http://127.0.0.1:PORT for Claude and Gemini)",
    )
    parser.add_argument(
        "--results", type=Path, default=Path("toolkit-results.jsonl"), help="results JSONL"
    )
    parser.add_argument(
        "--concurrency", type=positive_int, default=CONCURRENCY, help="requests in flight"
    )


def _body_path(out: Path, index: int) -> Path:
    return out if index == 1 else out.with_name(f"{out.stem}-{index}{out.suffix}")


def _writes_body(out: Path) -> Callable[[Path], bool]:
    """Whether a (resolved) path is one `-o out` writes: `out`, `out-2`, `out-3`, ..."""
    folder = out.resolve().parent
    name = re.compile(rf"{re.escape(out.stem)}(-[0-9]+)?{re.escape(out.suffix)}")
    return lambda path: path.parent == folder and name.fullmatch(path.name) is not None


def _check_sending(args: argparse.Namespace, api: str) -> None:
    """Before any work: the API's SDK and key, and a results file this run can read and
    append to, that no other run is writing (the lock is taken again, for the run, when
    sending starts)."""
    from toolkit.client import read_results
    from toolkit.senders import resolve_api_key, sdk

    sdk(api)
    resolve_api_key(api=api)
    check_output(args.results)
    read_results(args.results)
    if args.results.exists():
        with locked(args.results, os.O_RDONLY):
            pass


def run(args: argparse.Namespace) -> int:
    from toolkit.client import read_results, run_requests  # imports the SDK only when used

    api, provider = PROVIDERS[args.provider]
    args.api = api or args.api
    rules_provider = find_model(args.model)[0].provider
    if rules_provider != provider:
        raise SettingsError(
            f"{args.model} is a {rules_provider} model, not a {provider} one (--provider)"
        )
    spec = request_spec(args, "request")
    limits = LIMITS[spec.api]
    plan_for, _ = plan_source(args)
    check_output(args.out)
    if args.out:
        refuse_inputs(args.images, _writes_body(args.out))
    if args.send:
        _check_sending(args, spec.api)
    failures: list[dict] = []
    parts = within_limits(image_parts(args, plan_for, failures), spec, limits, failures)
    requests = list(split_requests(parts, spec, limits=limits))
    rows = []
    for index, request in enumerate(requests, 1):
        row = request_row(request)
        if args.out:
            path = _body_path(args.out, index)
            write_atomic(path, spec.serialize(request.body()))
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
