"""``--workers`` / ``--scheduler``: the command-line side of a sharded scan (progress, statistics,
where the shards' snapshots go, and one result out of the merged shards)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..engine import ScanOptions
from ..model import ScanResult
from ..sources.aws.cli import format_stats
from ..suppress import merge_uses
from .common import EXIT_OK, EXIT_USAGE, collect_config, error


def save_target(value: str | None) -> str | bool | None:
    """A sharded scan writes one snapshot per shard: a directory or an s3:// prefix, not a file.
    False (after one line on stderr) when ``value`` names a file."""
    if value is None:
        return None
    if value.startswith("s3://"):
        return value
    if value.endswith((".json", ".json.gz", ".gz")):
        error(
            f"{value}: with --workers or --scheduler each account×region is written by its worker: "
            "give a directory or an s3://bucket/prefix"
        )
        return False
    return value


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, Any], None]]:
    counts: Counter[str] = Counter()

    def line(kind: str, payload: Any) -> str | None:
        if kind == "plan":
            counts["planned"] += len(payload.regions)
            if payload.failed:
                first = payload.errors[0]["error"] if payload.errors else "unknown"
                return f"account {payload.key}: not entered ({first})"
            return None
        if kind == "shard":
            counts["done"] += 1
            r = payload
            return (
                f"shard {r.key}: {r.services} services, {len(r.findings)} findings, "
                f"{sum(r.stats.requests.values())} requests, {sum(r.stats.throttled.values())} throttled, "
                f"{len(r.errors)} errors, {r.seconds:.1f} s"
            )
        counts["done"] += 1
        key, exc = payload
        return f"shard {key}: failed ({exc.__class__.__name__})"

    if not enabled:

        def quiet(kind: str, payload: Any) -> None:
            text = line(kind, payload)
            if text and (kind == "failed" or (kind == "plan" and payload.failed)):
                print(f"ecs-exposure: {text}", file=sys.stderr)

        yield quiet
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
    ) as progress:
        task = progress.add_task("shards", total=None)

        def show(kind: str, payload: Any) -> None:
            text = line(kind, payload)
            progress.update(task, total=counts["planned"] or None, completed=counts["done"])
            if text:
                progress.console.print(text, markup=False, highlight=False)

        yield show


def run_shards(
    args: argparse.Namespace,
    scan_options: ScanOptions | None,
    save_to: str | None,
    image_reports: tuple = (),
    vuln_sources: tuple[str, ...] = (),
    kev: frozenset[str] = frozenset(),
) -> tuple[Any, int]:
    """The merged shards (a :class:`~ecs_exposure.shard.merge.Merger`), or None and an exit code."""
    config = collect_config(args)
    if isinstance(config, str):
        error(config)
        return None, EXIT_USAGE
    try:
        import distributed  # noqa: F401
    except ImportError:
        error("--workers and --scheduler need Dask distributed: pip install 'ecs-exposure[org]'")
        return None, EXIT_USAGE
    from ..shard.model import AccountTarget, ShardOptions
    from ..shard.runner import ClusterSpec, connect, run_sharded

    targets = [AccountTarget(r) for r in config.role_arns] or [AccountTarget(None)]
    options = ShardOptions(config, scan_options, save_to, tuple(image_reports), tuple(vuln_sources), kev)
    spec = ClusterSpec(workers=args.workers, scheduler=args.scheduler)
    try:
        with _progress(sys.stderr.isatty()) as on_event, connect(spec) as client:
            merger = run_sharded(client, targets, options, on_event)
    except OSError as e:  # the scheduler cannot be reached, a scheduler file cannot be read
        error(f"cannot reach the Dask scheduler {args.scheduler or ''}: {e}".replace("  ", " "))
        return None, EXIT_USAGE
    if args.stats:
        print(format_stats(merger.stats), file=sys.stderr, end="")
        throttled = sum(merger.stats.throttled.values())
        print(f"throttling answers: {throttled}", file=sys.stderr)
    for note in merger.collector_notes():
        print(f"ecs-exposure: note: {note}", file=sys.stderr)
    return merger, EXIT_OK


def combine(local: ScanResult | None, remote: ScanResult) -> ScanResult:
    """The scan of the local inputs (files) and the merged shards as one result."""
    if local is None:
        return remote
    findings = sorted(
        [*local.findings, *remote.findings], key=lambda f: (-f.severity, f.resource.type, f.resource.uid)
    )
    unknown = Counter(dict(local.unknown_traits))
    unknown.update(dict(remote.unknown_traits))
    return ScanResult(
        tuple(findings),
        local.issues + remote.issues,
        local.resources_scanned + remote.resources_scanned,
        local.notes,
        tuple(sorted(unknown.items())),
        positions=local.positions,
        suppressions=merge_uses(local.suppressions, remote.suppressions),
        resources=local.resources + remote.resources,
    )
