"""`toolkit frames VIDEO`: sample, dedupe and encode video frames; tokens and dollars per frame."""

import argparse
import sys
from pathlib import Path

from toolkit.cli.args import (
    SUFFIXES,
    add_detail_argument,
    add_encode_arguments,
    add_json_argument,
    add_progress_argument,
    add_tier_argument,
    check_output,
    from_args,
)
from toolkit.cli.output import error_row, print_json_lines, print_table
from toolkit.errors import RulesError, ToolkitError
from toolkit.images import EncodedImage, EncodeSettings
from toolkit.outputs import write_atomic
from toolkit.tokens import image_tokens
from toolkit.video import (
    DEFAULT_DEDUPE_THRESHOLD,
    DEFAULT_SCENE_THRESHOLD,
    Frame,
    SamplingPlan,
    open_video,
)
from toolkit.video_cost import FrameCost, FrameTotals, frame_costs

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


def configure(parser: argparse.ArgumentParser) -> None:
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
        help=f"a frame at each cut: difference above T (T default {DEFAULT_SCENE_THRESHOLD})",
    )
    parser.add_argument(
        "--dedupe",
        type=float,
        nargs="?",
        const=DEFAULT_DEDUPE_THRESHOLD,
        metavar="T",
        help=f"drop frames nearer than T to the last kept (T default {DEFAULT_DEDUPE_THRESHOLD})",
    )
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after N kept frames")
    add_encode_arguments(parser)
    parser.add_argument("--model", help="price the frames for this model")
    add_detail_argument(parser, "detail level of every frame")
    add_tier_argument(parser)
    parser.add_argument("--out", type=Path, metavar="DIR", help="write the encoded frames here")
    add_json_argument(parser, "frame")
    add_progress_argument(parser)


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


def summary_row(args: argparse.Namespace, plan: SamplingPlan, totals: FrameTotals) -> dict:
    """Totals over the frames: kept, dropped, bytes, tokens and dollars; `detail` resolved."""
    estimate = totals.last.estimate if totals.last else None
    return {
        "summary": True,
        "path": args.video,
        "mode": plan.mode,
        "frames_sampled": totals.frames + totals.duplicates_dropped,
        "frames_kept": totals.frames,
        "duplicates_dropped": totals.duplicates_dropped,
        "model": args.model,
        "detail": estimate.detail if estimate else None,
        "tier": args.tier if args.model else None,
        "rules": estimate.rules if estimate else None,
        "bytes": totals.bytes,
        "base64_chars": totals.base64_chars,
        "tokens": totals.tokens if args.model else None,
        "cost_usd": totals.cost_usd(args.model, args.tier) if args.model else None,
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
    settings, plan = _settings_and_plan(args)
    check_output(args.out, folder=True)
    rows: list[dict] = []
    totals = FrameTotals()
    failure = None
    try:
        info = open_video(args.video)
        if args.model:
            image_tokens(info.width, info.height, args.model, args.detail)
        costs = frame_costs(args.video, plan, settings, args.model, args.detail, tier=args.tier)
        with _timeline_bar(info.duration_s, not args.no_progress) as bar:
            for item in map(totals.add, costs):
                bar.update(item.frame.timestamp_s - bar.n)
                row = frame_row(item)
                if args.out is not None and item.encoded is not None:
                    row["file"] = str(_write(args.out, item.frame, item.encoded, settings.format))
                rows.append(row)
                if args.json:
                    print_json_lines([row], sys.stdout)
    except RulesError:
        raise  # a model, detail or price no frame could be priced with: exit 2
    except ToolkitError as exc:
        failure = error_row(args.video, exc)
    if failure is not None:
        print_json_lines([failure], sys.stdout if args.json else sys.stderr)
    if rows or failure is None:
        _finish(args, summary_row(args, plan, totals), rows)
    return 1 if failure else 0


def _timeline_bar(duration_s: float, enabled: bool):
    """A bar over the video's seconds, advanced to each frame's time: its total and ETA hold
    whichever way frames are sampled (a rate, a count, scene cuts)."""
    from tqdm import tqdm

    return tqdm(total=round(duration_s, 1), desc="frames", unit="s of video", disable=not enabled)


def _write(folder: Path, frame: Frame, encoded: EncodedImage, fmt: str) -> Path:
    """Save an encoded frame as `frame_<index>_<seconds>s.<ext>`."""
    target = folder / f"frame_{frame.index:04d}_{frame.timestamp_s:09.3f}s{SUFFIXES[fmt]}"
    write_atomic(target, encoded.data)
    return target


def _finish(args: argparse.Namespace, summary: dict, rows: list[dict]) -> None:
    if args.json:
        print_json_lines([summary], sys.stdout)
        return
    total = {"index": f"TOTAL {summary['frames_kept']} kept", **{c: summary[c] for c in TOTALLED}}
    total["duplicate_dropped"] = summary["duplicates_dropped"]
    print_table([*rows, total], TABLE_COLUMNS, sys.stdout)
