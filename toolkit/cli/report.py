"""`toolkit report`: run every notebook with a preset and write an HTML report."""

import argparse
import sys

from toolkit.cli.output import print_json_lines, print_table
from toolkit.errors import ReportError
from toolkit.reports import NotebookRun, build_report

COLUMNS = ("notebook", "status", "seconds")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="run the notebooks headlessly and write reports/<run-id>/",
        description=__doc__,
    )
    parser.add_argument(
        "--preset", default="default", help="name in notebooks/params or a YAML path"
    )
    parser.add_argument(
        "--images", metavar="DIR", help="folder of input images (default: preset's)"
    )
    parser.add_argument("--out", metavar="DIR", help="report folder (default: reports/<run-id>)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(handler=handle)


def _row(run: NotebookRun) -> dict:
    """The notebook's outcome; a failed one carries the contract's `path` and `error`."""
    row = {"notebook": run.name, "status": run.status, "seconds": run.seconds}
    if run.error:
        row.update(
            path=run.name, error={"type": run.error["type"], "message": run.error["message"]}
        )
    return row


def handle(args: argparse.Namespace) -> int:
    rows: list[dict] = []

    def on_notebook(run: NotebookRun) -> None:
        rows.append(_row(run))
        if args.json:
            print_json_lines([rows[-1]])
        else:
            print(f"{run.name}: {run.status} in {run.seconds:.1f} s", file=sys.stderr, flush=True)

    try:
        out = build_report(args.preset, args.images, args.out, on_notebook=on_notebook)
        failure = None
    except ReportError as exc:
        out, failure = None, exc
    if not args.json and rows:
        print_table(rows, COLUMNS)
    if failure is not None:
        if args.json:
            print_json_lines([{"error": {"type": "ReportError", "message": str(failure)}}])
        else:
            print(f"toolkit report: error: {failure}", file=sys.stderr)
        return 1 if rows else 2  # no notebook ran: the preset or the inputs are wrong
    if args.json:
        print_json_lines([{"report": str(out / "index.html")}])
    else:
        print(f"report: {out / 'index.html'}")
    return 0
