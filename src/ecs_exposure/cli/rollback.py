"""``ecs-exposure rollback JOURNAL``: undo what a ``fix --apply`` journal records."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..remediation.apply import ApplyError, Journal, rollback
from .common import EXIT_OK, EXIT_USAGE, error
from .fix import region_clients

NAME = "rollback"


def register(sub: argparse._SubParsersAction, description: str, epilog: str) -> None:
    rb = sub.add_parser(NAME, help="undo the changes a 'fix --apply' journal records")
    rb.add_argument("journal", type=Path, metavar="JOURNAL")
    rb.add_argument("--profile", help="AWS profile of the credentials to use")
    rb.add_argument("--endpoint-url", metavar="URL", help="send every AWS call here")
    rb.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        journal = Journal.load(args.journal)
    except (OSError, ValueError) as e:
        print(
            f"ecs-exposure: {args.journal}: cannot read the journal ({e.__class__.__name__})", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        done = rollback(journal, region_clients(args.profile, args.endpoint_url))
    except ApplyError as e:
        error(str(e))
        return EXIT_USAGE
    for line in done:
        print(f"ecs-exposure: {line}", file=sys.stderr)
    print(f"ecs-exposure: rolled back {len(done)} change{'s' if len(done) != 1 else ''}", file=sys.stderr)
    return EXIT_OK
