"""``ecs-exposure diff [A] [B]``: what changed between two recorded scans."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..store import ScanInfo, StoreError
from .common import EXIT_OK, EXIT_USAGE, error
from .history import add_store_options, open_store

if TYPE_CHECKING:
    from ..store import Store

NAME = "diff"


def register(sub: argparse._SubParsersAction, description: str, epilog: str) -> None:
    d = sub.add_parser(
        NAME,
        help="compare two recorded scans: new, resolved, suppressed, still open, severity changes",
        description="Compare two scans of the findings history (see 'ecs-exposure history'). Findings "
        "are matched by their stable id. Statuses: New (not in scan A), In Progress (in both: still "
        "open, with any severity change), Suppressed (suppressed in scan B), Resolved (in A, gone from B).",
        epilog="A and B are scan ids. No id: the latest scan and the previous scan of the same inputs. "
        "One id: that scan and the latest.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("older", nargs="?", type=int, metavar="A", help="the earlier scan's id")
    d.add_argument(
        "newer", nargs="?", type=int, metavar="B", help="the later scan's id (default: the latest)"
    )
    add_store_options(d)
    d.set_defaults(run=run)


def _pick(store: Store, args: argparse.Namespace) -> tuple[ScanInfo, ScanInfo] | str:
    latest = store.scans(1)
    if not latest:
        return f"no scans recorded in {store.url}"
    newer = store.scan(args.newer) if args.newer is not None else latest[0]
    if newer is None:
        return f"no scan {args.newer} in {store.url} (see 'ecs-exposure history')"
    if args.older is None:
        older = store.previous(newer)
        if older is None:
            return (
                f"scan {newer.id} has no earlier scan of the same inputs in {store.url}: "
                "name the two scans (ecs-exposure diff A B)"
            )
    else:
        older = store.scan(args.older)
        if older is None:
            return f"no scan {args.older} in {store.url} (see 'ecs-exposure history')"
    return older, newer


def run(args: argparse.Namespace) -> int:
    from ..outputs.history import render_diff
    from ..store.diff import diff

    store = open_store(args, missing_ok=False)
    if isinstance(store, int):
        return store
    with store:
        try:
            picked = _pick(store, args)
            if isinstance(picked, str):
                error(picked)
                return EXIT_USAGE
            older, newer = picked
            if older.id == newer.id:
                error(f"scan {older.id} compared with itself: name two different scans")
                return EXIT_USAGE
            changes = diff(store.findings(older.id), store.findings(newer.id))
        except StoreError as e:
            error(str(e))
            return EXIT_USAGE
    if older.target_key != newer.target_key:
        print(
            f"ecs-exposure: note: scans {older.id} and {newer.id} read different inputs: findings of "
            "resources only one of them read show as new or resolved",
            file=sys.stderr,
        )
    sys.stdout.write(render_diff(older, newer, changes, args.format))
    return EXIT_OK
