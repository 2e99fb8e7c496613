"""``ecs-exposure history``: the scans recorded in the findings history (``scan --store``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..store import DEFAULT, StoreError
from .common import EXIT_OK, EXIT_USAGE, add_config_options, error, read_config

if TYPE_CHECKING:
    from ..outputs.history import ScanSummary
    from ..store import Store

NAME = "history"


def add_store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        metavar="URL",
        help="the findings history to read: a SQLAlchemy URL (sqlite:///FILE, postgresql://HOST/DB); "
        "default: the config file's 'store', else the SQLite file in your data directory",
    )
    p.add_argument("-f", "--format", choices=("table", "json"), default="table", help="output format")
    p.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    add_config_options(p)


def open_store(args: argparse.Namespace, missing_ok: bool) -> Store | int:
    """The store to read, or the exit code after saying why there is none. A missing SQLite file is
    not created: ``missing_ok`` makes that a note (nothing recorded yet) rather than an error."""
    from ..store import Store, parse_url

    config = read_config(args)
    if config is None:
        return EXIT_USAGE
    value = args.store
    if value is None:
        configured = config.options.get("store")
        value = configured if isinstance(configured, str) else DEFAULT
    try:
        url = parse_url(value)
        if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
            shown = url.render_as_string(hide_password=True)
            message = f"no findings history at {shown} yet: record scans with 'ecs-exposure scan --store'"
            if missing_ok:
                print(f"ecs-exposure: note: {message}", file=sys.stderr)
                return EXIT_OK
            error(message)
            return EXIT_USAGE
        return Store.open(url)
    except StoreError as e:
        error(str(e))
        return EXIT_USAGE


def register(sub: argparse._SubParsersAction, description: str, epilog: str) -> None:
    h = sub.add_parser(
        NAME,
        help="list the scans recorded in the findings history",
        description="List the scans recorded with 'scan --store', newest first, with their findings by "
        "severity and what was new and resolved since the previous scan of the same inputs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    h.add_argument(
        "-n", "--limit", type=int, default=20, metavar="N", help="the N newest scans (default: 20)"
    )
    add_store_options(h)
    h.set_defaults(run=run)


def summaries(store: Store, limit: int | None) -> list[ScanSummary]:
    from ..outputs.history import ScanSummary

    scans = store.scans(limit)
    counts = store.counts(s.id for s in scans)
    out = []
    for s in scans:
        prev = store.previous(s)
        new = resolved = None
        if prev is not None:
            before, after = store.finding_ids(prev.id), store.finding_ids(s.id)
            new, resolved = len(after - before), len(before - after)
        out.append(ScanSummary(s, counts[s.id], new, resolved, prev.id if prev else None))
    return out


def run(args: argparse.Namespace) -> int:
    if args.limit < 1:
        error("--limit must be at least 1")
        return EXIT_USAGE
    store = open_store(args, missing_ok=True)
    if isinstance(store, int):
        return store
    from ..outputs.history import render_history

    with store:
        try:
            text = render_history(store.url, summaries(store, args.limit), args.format)
        except StoreError as e:
            error(str(e))
            return EXIT_USAGE
    sys.stdout.write(text)
    return EXIT_OK
