"""What the command line needs around the collector: progress, statistics, writing a snapshot."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from .collector import CallStats, NoCredentials

__all__ = ["NoCredentials", "collect_progress", "format_stats", "write_snapshot"]


@contextmanager
def collect_progress(stats: CallStats, enabled: bool) -> Iterator[None]:
    """A live count of API calls on a terminal; nothing otherwise."""
    if not enabled:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True) as progress:
        task = progress.add_task("collecting", total=None)

        def update(api: str) -> None:
            progress.update(
                task, description=f"collecting: {sum(stats.calls.values())} API calls, last {api}"
            )

        stats.on_call = update
        try:
            yield
        finally:
            stats.on_call = None


def format_stats(stats: CallStats) -> str:
    width = max((len(k) for k in stats.calls), default=10)
    lines = [f"{'API call':<{width}}  {'calls':>6}  {'requests':>8}"]
    for api in sorted(stats.calls):
        lines.append(f"{api:<{width}}  {stats.calls[api]:>6}  {stats.requests.get(api, 0):>8}")
    lines.append(f"{'total':<{width}}  {sum(stats.calls.values()):>6}  {sum(stats.requests.values()):>8}")
    return "\n".join(lines) + "\n"


def write_snapshot(doc: dict[str, Any], path: Path) -> None:
    data = orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
