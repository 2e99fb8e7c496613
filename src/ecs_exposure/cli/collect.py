"""``ecs-exposure collect``: read an AWS estate into a snapshot file (read-only)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, add_aws_options, collect_live, save_snapshot

NAME = "collect"


def register(sub: argparse._SubParsersAction, description: str, epilog: str) -> None:
    c = sub.add_parser(
        NAME,
        help="read an AWS estate into a snapshot (read-only)",
        description="Read ECS, EC2, ELBv2, IAM, Inspector and ECR with read-only calls and write an "
        "ecs-exposure/snapshot@1 file. Failed calls are recorded in the snapshot's errors (exit 3).",
    )
    c.add_argument("--aws", action="store_true", required=True, help="read from the AWS APIs")
    c.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="FILE",
        help="the snapshot to write (.json, or .json.gz to compress)",
    )
    add_aws_options(c)
    c.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    c.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    doc, code = collect_live(args)
    if doc is None:
        return code
    if not save_snapshot(doc, args.output):
        return EXIT_USAGE
    for e in doc["errors"]:
        where = "/".join(x for x in (e.get("account_id"), e.get("region")) if x) or "aws"
        print(f"ecs-exposure: {where}: {e['api']} failed: {e['error']}", file=sys.stderr)
    return EXIT_INCOMPLETE if doc["errors"] else EXIT_OK
