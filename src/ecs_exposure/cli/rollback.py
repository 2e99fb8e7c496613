"""``ecs-exposure rollback JOURNAL``: undo what a ``fix --apply`` journal records, and say per change
what was restored and what was not (exit 3 when anything was not)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..remediation.journal import Journal, JournalError
from ..remediation.rollback import NOT_RESTORED, rollback
from .common import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE
from .fix import region_clients

NAME = "rollback"


def register(sub: argparse._SubParsersAction, description: str, epilog: str) -> None:
    rb = sub.add_parser(
        NAME,
        help="undo the changes a 'fix --apply' journal records",
        description="Undo, newest first, every change a 'fix --apply' journal records as made or possibly "
        "made, and report per change what was restored and what could not be. Exit 0 when everything was "
        "restored, 3 when something was not, 2 when the journal cannot be read.",
    )
    rb.add_argument("journal", type=Path, metavar="JOURNAL")
    rb.add_argument("--profile", help="AWS profile of the credentials to use")
    rb.add_argument("--endpoint-url", metavar="URL", help="send every AWS call here")
    rb.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        journal = Journal.load(args.journal)
    except JournalError as e:
        print(f"ecs-exposure: {e}", file=sys.stderr)
        return EXIT_USAGE
    report = rollback(journal, region_clients(args.profile, args.endpoint_url))
    for line in report:
        print(f"ecs-exposure: {line}", file=sys.stderr)
    missing = [r for r in report if r.status == NOT_RESTORED]
    restored = sum(1 for r in report if r.status != NOT_RESTORED)
    print(
        f"ecs-exposure: rollback: {restored} of {len(report)} change(s) restored or found as before"
        + (f"; {len(missing)} NOT restored (see above)" if missing else ""),
        file=sys.stderr,
    )
    return EXIT_INCOMPLETE if missing else EXIT_OK
