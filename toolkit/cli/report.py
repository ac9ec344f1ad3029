"""`toolkit report`: run every notebook with a preset's parameters (papermill) and write an
HTML report: reports/<run-id>/index.html (in the working folder) with each notebook's page,
figures, tables and a manifest. Before it starts it says which images it uses (how many of
the folder's) and about how long it will take; a bar with an ETA follows, and one line per
notebook as it finishes. Exit 1 if any failed (the report is still written), 2 if the preset
or the images cannot be used."""

import argparse
import sys

from toolkit.cli.args import (
    add_json_argument,
    add_progress_argument,
    add_reader_arguments,
)
from toolkit.cli.output import print_json_lines, print_table
from toolkit.errors import ReportError
from toolkit.paths import presets
from toolkit.report_estimate import duration_text
from toolkit.reports import NotebookRun, ReportPlan, build_report

COLUMNS = ("notebook", "status", "seconds")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset",
        default="default",
        help=f"a preset of notebooks/params ({', '.join(presets())}) or a YAML file",
    )
    add_progress_argument(parser)
    parser.add_argument(
        "--images", metavar="DIR", help="folder of input images (default: the preset's)"
    )
    parser.add_argument("--out", metavar="DIR", help="report folder (default: ./reports/<run-id>)")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="sweep on this Dask cluster (tcp://host:8786; needs dask[distributed])",
    )
    add_reader_arguments(parser, None)
    add_json_argument(parser, "notebook")


def _row(run: NotebookRun) -> dict:
    """The notebook's outcome; a failed one carries the contract's `path` and `error`."""
    row = {"notebook": run.name, "status": run.status, "seconds": run.seconds}
    if run.error:
        row.update(
            path=run.name, error={"type": run.error["type"], "message": run.error["message"]}
        )
    return row


def _say(text: str) -> None:
    """A line on stderr that leaves the progress bar whole."""
    from tqdm import tqdm

    tqdm.write(text, file=sys.stderr)


def on_start(plan: ReportPlan) -> None:
    """What the run will do: its images, its notebooks and about how long they take."""
    _say(
        f"toolkit report: {plan.images['text']}; {len(plan.runs)} notebooks, "
        f"{duration_text(plan.estimate_s)} (a rough estimate); writing {plan.out}"
    )


def run(args: argparse.Namespace) -> int:
    rows: list[dict] = []

    def on_notebook(run: NotebookRun) -> None:
        rows.append(_row(run))
        if args.json:
            print_json_lines([rows[-1]])
        else:
            _say(f"{run.name}: {run.status} in {run.seconds:.1f} s")

    try:
        out = build_report(
            args.preset,
            args.images,
            args.out,
            on_start=on_start,
            on_notebook=on_notebook,
            progress=not args.no_progress,
            scheduler=args.scheduler,
            reader=args.reader,
            combine=args.combine,
        )
    except ReportError as failure:
        _print_table(args, rows)
        if args.json:
            print_json_lines([{"error": {"type": "ReportError", "message": str(failure)}}])
        else:
            print(f"toolkit report: error: {failure}", file=sys.stderr)
        return 1 if rows else 2  # no notebook ran: the preset or the inputs are wrong
    _print_table(args, rows)
    if args.json:
        print_json_lines([{"report": str(out / "index.html")}])
    else:
        print(f"report: {out / 'index.html'}")
    return 0


def _print_table(args: argparse.Namespace, rows: list[dict]) -> None:
    if not args.json and rows:
        print_table(rows, COLUMNS)
