"""`toolkit frames VIDEO`: sample, dedupe and encode video frames; tokens and dollars per frame."""

import argparse
import sys
from pathlib import Path

from toolkit.cli.args import SUFFIXES, add_encode_arguments, check_output, from_args
from toolkit.cli.output import error_row, print_json_lines, print_table
from toolkit.errors import RulesError, SettingsError, ToolkitError
from toolkit.images import EncodeSettings
from toolkit.pricing import cost_usd
from toolkit.tokens import TokenEstimate, image_tokens
from toolkit.video import (
    DEFAULT_DEDUPE_THRESHOLD,
    DEFAULT_SCENE_THRESHOLD,
    SamplingPlan,
    open_video,
)
from toolkit.video_cost import FrameCost, frame_costs

TABLE_COLUMNS = (
    "index",
    "timestamp_s",
    "difference",
    "duplicate_dropped",
    "width",
    "height",
    "bytes",
    "base64_chars",
    "tokens",
    "cost_usd",
)
TOTALLED = ("bytes", "base64_chars", "tokens", "cost_usd")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "frames",
        help="sample and encode video frames and price them",
        description=__doc__,
    )
    parser.add_argument("video", metavar="VIDEO", help="an MP4, MOV, WebM or other video file")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--fps", type=float, help="frames per second of video")
    mode.add_argument("--count", type=int, metavar="N", help="N evenly spaced frames")
    mode.add_argument(
        "--scenes",
        type=float,
        nargs="?",
        const=DEFAULT_SCENE_THRESHOLD,
        metavar="T",
        help=f"a frame at each cut: difference above T (default {DEFAULT_SCENE_THRESHOLD})",
    )
    parser.add_argument(
        "--dedupe",
        type=float,
        nargs="?",
        const=DEFAULT_DEDUPE_THRESHOLD,
        metavar="T",
        help=f"drop frames nearer than T to the last kept (default {DEFAULT_DEDUPE_THRESHOLD})",
    )
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after N kept frames")
    add_encode_arguments(parser)
    parser.add_argument("--model", help="price the frames for this model")
    parser.add_argument("--detail", default="auto", help="detail level (default auto)")
    parser.add_argument(
        "--tier", choices=("standard", "batch", "cached"), default="standard", help="price tier"
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="write the encoded frames here")
    parser.add_argument("--json", action="store_true", help="one JSON object per frame")
    parser.set_defaults(handler=run)


def frame_row(item: FrameCost) -> dict:
    """The JSON/table row for one sampled frame; dropped duplicates have no encoding."""
    frame, encoded = item.frame, item.encoded
    return {
        "index": frame.index,
        "timestamp_s": round(frame.timestamp_s, 6),
        "difference": None if frame.difference is None else round(frame.difference, 6),
        "duplicate_dropped": frame.duplicate,
        "width": encoded.width if encoded else None,
        "height": encoded.height if encoded else None,
        "bytes": encoded.bytes if encoded else None,
        "base64_chars": encoded.base64_chars if encoded else None,
        "tokens": item.tokens,
        "cost_usd": item.cost_usd,
    }


def summary_row(
    args: argparse.Namespace, plan: SamplingPlan, rows: list[dict], estimate: TokenEstimate | None
) -> dict:
    """Totals over the frames: kept, dropped, bytes, tokens and dollars; `detail` resolved."""
    kept = [row for row in rows if not row["duplicate_dropped"]]
    totals = {column: sum(row[column] for row in kept) for column in ("bytes", "base64_chars")}
    tokens = sum(row["tokens"] for row in kept) if args.model else None
    totals["tokens"] = tokens
    # priced once on the total, as `video_cost` does
    totals["cost_usd"] = cost_usd(tokens, args.model, args.tier) if args.model else None
    return {
        "summary": True,
        "path": args.video,
        "mode": plan.mode,
        "frames_sampled": len(rows),
        "frames_kept": len(kept),
        "duplicates_dropped": len(rows) - len(kept),
        "model": args.model,
        "detail": estimate.detail if estimate else None,
        "tier": args.tier if args.model else None,
        "rules": estimate.rules if estimate else None,
        **totals,
    }


def _settings_and_plan(args: argparse.Namespace) -> tuple[EncodeSettings, SamplingPlan]:
    settings = from_args(EncodeSettings, args)
    plan = SamplingPlan(
        fps=args.fps,
        count=args.count,
        scene_threshold=args.scenes,
        dedupe_threshold=args.dedupe,
        max_frames=args.max_frames,
    )
    return settings, plan


def run(args: argparse.Namespace) -> int:
    try:
        settings, plan = _settings_and_plan(args)
    except SettingsError as exc:
        print(f"toolkit frames: error: {exc}", file=sys.stderr)
        return 2
    check_output(args.out, folder=True)
    rows: list[dict] = []
    failure = estimate = None
    try:
        info = open_video(args.video)
        if args.model:
            image_tokens(info.width, info.height, args.model, args.detail)
        costs = frame_costs(args.video, plan, settings, args.model, args.detail, tier=args.tier)
        for item in costs:
            row = frame_row(item)
            if args.out is not None and item.encoded is not None:
                row["file"] = str(_write(args.out, item, settings.format))
            rows.append(row)
            estimate = item.estimate or estimate
            if args.json:
                print_json_lines([row], sys.stdout)
    except RulesError as exc:
        print(f"toolkit frames: error: {exc}", file=sys.stderr)
        return 2
    except ToolkitError as exc:
        failure = error_row(args.video, exc)
    if failure is not None:
        print_json_lines([failure], sys.stdout if args.json else sys.stderr)
    if rows or failure is None:
        _finish(args, plan, rows, estimate)
    return 1 if failure else 0


def _write(folder: Path, item: FrameCost, fmt: str) -> Path:
    """Save an encoded frame as `frame_<index>_<seconds>s.<ext>`."""
    name = f"frame_{item.frame.index:04d}_{item.frame.timestamp_s:09.3f}s{SUFFIXES[fmt]}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_bytes(item.encoded.data)
    return target


def _finish(
    args: argparse.Namespace, plan: SamplingPlan, rows: list[dict], estimate: TokenEstimate | None
) -> None:
    summary = summary_row(args, plan, rows, estimate)
    if args.json:
        print_json_lines([summary], sys.stdout)
        return
    total = {"index": f"TOTAL {summary['frames_kept']} kept", **{c: summary[c] for c in TOTALLED}}
    total["duplicate_dropped"] = summary["duplicates_dropped"]
    print_table([*rows, total], TABLE_COLUMNS, sys.stdout)
