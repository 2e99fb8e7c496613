"""``ecs-exposure collect``: read an AWS estate into a snapshot file (read-only)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_USAGE,
    add_aws_options,
    collect_live,
    save_snapshot,
    sharded,
)
from .shards import run_shards, save_target

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
        required=True,
        metavar="FILE|DIR",
        help="the snapshot to write (.json, or .json.gz to compress); with --workers or --scheduler, a "
        "directory or s3://bucket/prefix where each worker writes its account×region",
    )
    add_aws_options(c)
    c.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    c.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if sharded(args):
        return _run_sharded(args)
    doc, code = collect_live(args)
    if doc is None:
        return code
    if not save_snapshot(doc, Path(args.output)):
        return EXIT_USAGE
    for e in doc["errors"]:
        where = "/".join(x for x in (e.get("account_id"), e.get("region")) if x) or "aws"
        print(f"ecs-exposure: {where}: {e['api']} failed: {e['error']}", file=sys.stderr)
    return EXIT_INCOMPLETE if doc["errors"] else EXIT_OK


def _run_sharded(args: argparse.Namespace) -> int:
    target = save_target(args.output)
    if not target:
        return EXIT_USAGE
    merger, code = run_shards(args, None, target)  # type: ignore[arg-type]
    if merger is None:
        return code
    errors = merger.errors_all()
    if merger.errors:  # accounts not entered have no shard: their errors get a file of their own
        from ..shard.store import encode, write_named

        doc = {"format": "ecs-exposure/snapshot@1", "accounts": [], "errors": merger.errors}
        write_named(encode(doc), target, "errors.json.gz", merger_config(args))
    for issue in merger.failures:
        print(f"ecs-exposure: {issue}", file=sys.stderr)
    for e in errors:
        where = "/".join(x for x in (e.get("account_id"), e.get("region")) if x) or "aws"
        print(f"ecs-exposure: {where}: {e['api']} failed: {e['error']}", file=sys.stderr)
    print(
        f"ecs-exposure: note: wrote {len(merger.results)} shard snapshots to {target}; they may hold "
        "credentials from task definitions: protect them like secrets",
        file=sys.stderr,
    )
    return EXIT_INCOMPLETE if errors or merger.failures else EXIT_OK


def merger_config(args: argparse.Namespace):  # the profile and endpoint, for writing to S3
    from ..sources.aws.collector import CollectConfig

    return CollectConfig(profile=args.profile, endpoint_url=args.endpoint_url)
