"""Report options shared by the sub-commands that write findings: formats, files, terminal width."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..model import ScanResult
from ..outputs import FILENAMES, FORMATS
from ..outputs.asff import AsffError
from .common import EXIT_OK, EXIT_USAGE, error


def formats(text: str) -> list[str]:
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(unknown) or repr(text)} (one or more of {', '.join(FORMATS)})"
        )
    return list(dict.fromkeys(names))


def moment(text: str) -> datetime:
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2026-01-01T00:00:00Z, not {text!r}"
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-f",
        "--format",
        type=formats,
        default=None,
        metavar="FORMAT[,FORMAT…]",
        help=f"output format(s): {', '.join(FORMATS)} (default: table, or the config file's); several need "
        "--output-dir",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout"
    )
    out.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="write each format to DIR: " + ", ".join(FILENAMES[f] for f in FORMATS if f != "table"),
    )
    p.add_argument("--compact", action="store_true", help="table: one line per finding")
    p.add_argument(
        "--timestamp",
        type=moment,
        metavar="TIME",
        help="time stamped on OCSF and ASFF findings (ISO 8601; default: now, or SOURCE_DATE_EPOCH); other "
        "formats carry a time only when one is given",
    )
    p.add_argument(
        "--asff-account",
        metavar="ID",
        help="ASFF: the AWS account findings of resources read from files are imported into",
    )
    p.add_argument(
        "--asff-region", metavar="REGION", help="ASFF: the Region for findings of resources read from files"
    )


def check(args: argparse.Namespace) -> str | None:
    if len(args.format) > 1 and args.output_dir is None:
        return "several formats need --output-dir DIR (one file per format)"
    return None


def terminal_width() -> int:
    columns = os.environ.get("COLUMNS", "")
    if columns.strip().isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size((140, 24)).columns
    return 140


def render_options(args: argparse.Namespace, color: bool) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "color": color,
        "width": terminal_width(),
        "compact": args.compact,
        "fail_on": getattr(args, "fail_on", None),
        "account_id": args.asff_account,
        "region": args.asff_region,
    }
    if args.timestamp is not None:
        opts["now"] = args.timestamp
    return opts


def _write(path: Path, data: bytes) -> bool:
    try:
        path.write_bytes(data)
    except OSError as e:
        print(f"ecs-exposure: {path}: cannot write: {e.strerror}", file=sys.stderr)
        return False
    return True


def write_reports(args: argparse.Namespace, result: ScanResult, color: bool) -> int:
    """Render each asked format and write it to stdout, ``-o FILE`` or ``--output-dir``."""
    opts = render_options(args, color)
    if args.output_dir is not None:
        try:
            args.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            print(f"ecs-exposure: {args.output_dir}: cannot create: {e.strerror}", file=sys.stderr)
            return EXIT_USAGE
    for name in args.format:
        try:
            text = FORMATS[name](result, **{**opts, "color": color if args.output is None and
                                            args.output_dir is None else False})  # fmt: skip
        except AsffError as e:
            error(str(e))
            return EXIT_USAGE
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        target = args.output_dir / FILENAMES[name] if args.output_dir is not None else args.output
        if target is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            continue
        if not _write(target, data):
            return EXIT_USAGE
        print(f"ecs-exposure: wrote {target} ({name}, {len(data):,} bytes)", file=sys.stderr)
    return EXIT_OK
