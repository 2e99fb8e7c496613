"""The findings history as text: the list of recorded scans (``history``) and the comparison of two
scans (``diff``), as a terminal table or versioned JSON. No I/O."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..model import Severity, Status
from .table import STYLE

if TYPE_CHECKING:
    from ..store import ScanInfo
    from ..store.diff import Change

HISTORY_SCHEMA = "ecs-exposure/history@1"
DIFF_SCHEMA = "ecs-exposure/diff@1"
SEVERITIES = [s.name for s in sorted(Severity, reverse=True)]


@dataclass(frozen=True, slots=True)
class ScanSummary:
    scan: ScanInfo
    counts: Mapping[str, int]  # severity name and status → findings
    new: int | None  # findings not in the previous scan of the same inputs (None: no previous scan)
    resolved: int | None
    previous: int | None  # that previous scan's id


def _time(scan: ScanInfo) -> str:
    return scan.started_at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _scan_dict(scan: ScanInfo) -> dict[str, Any]:
    return {
        "id": scan.id,
        "started_at": scan.started_at.isoformat().replace("+00:00", "Z"),
        "tool_version": scan.tool_version,
        "target": scan.target,
        "complete": scan.complete,
        "resources_scanned": scan.resources_scanned,
        "findings": scan.finding_count,
    }


def _console(out: io.StringIO, color: bool, width: int) -> Console:
    return Console(file=out, force_terminal=color, no_color=not color, width=width, highlight=False)


# --------------------------------------------------------------------------- history


def render_history(
    url: str, scans: Sequence[ScanSummary], fmt: str = "table", color: bool = False, width: int = 140
) -> str:
    if fmt == "json":
        doc = {
            "schema": HISTORY_SCHEMA,
            "store": url,
            "scans": [
                {
                    **_scan_dict(s.scan),
                    "by_severity": {sev: s.counts.get(sev, 0) for sev in SEVERITIES},
                    "by_status": {
                        st: s.counts.get(st, 0) for st in (Status.NEW, Status.IN_PROGRESS, Status.SUPPRESSED)
                    },
                    "previous": s.previous,
                    "new": s.new,
                    "resolved": s.resolved,
                }
                for s in scans
            ],
        }
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()
    out = io.StringIO()
    console = _console(out, color, width)
    if not scans:
        console.print(f"No scans recorded in {url} (record them with 'ecs-exposure scan --store').")
        return out.getvalue()
    table = Table(title=f"Findings history: {url}", title_justify="left")
    table.add_column("Scan", justify="right", no_wrap=True)
    table.add_column("Started", no_wrap=True)
    table.add_column("Findings", justify="right")
    table.add_column("By severity", no_wrap=True)
    table.add_column("New", justify="right")
    table.add_column("Resolved", justify="right")
    table.add_column("Suppressed", justify="right")
    table.add_column("Complete")
    table.add_column("Inputs", overflow="fold", min_width=30)
    for s in scans:
        sev = Text()
        for name in SEVERITIES:
            n = s.counts.get(name, 0)
            if n:
                sev.append(("  " if sev else "") + f"{n} {name.lower()}", style=STYLE[Severity[name]])
        table.add_row(
            str(s.scan.id),
            _time(s.scan),
            str(s.scan.finding_count),
            sev,
            "-" if s.new is None else str(s.new),
            "-" if s.resolved is None else str(s.resolved),
            str(s.counts.get(Status.SUPPRESSED, 0)),
            "yes" if s.scan.complete else "no",
            s.scan.target,
        )
    console.print(table)
    console.print(
        Text("New and Resolved compare each scan with the previous scan of the same inputs.", style="dim")
    )
    return out.getvalue()


# --------------------------------------------------------------------------- diff

SECTIONS = (
    ("New", lambda c: c.status == Status.NEW),
    ("Resolved", lambda c: c.status == Status.RESOLVED),
    ("Suppressed", lambda c: c.status == Status.SUPPRESSED),
    ("Severity changed", lambda c: c.status == Status.IN_PROGRESS and c.severity_change is not None),
    ("Still open", lambda c: c.status == Status.IN_PROGRESS and c.severity_change is None),
)


def diff_summary(changes: Sequence[Change]) -> dict[str, int]:
    return {
        "new": sum(1 for c in changes if c.status == Status.NEW),
        "resolved": sum(1 for c in changes if c.status == Status.RESOLVED),
        "suppressed": sum(1 for c in changes if c.status == Status.SUPPRESSED),
        "still_open": sum(1 for c in changes if c.status == Status.IN_PROGRESS),
        "raised": sum(1 for c in changes if c.severity_change == "raised"),
        "lowered": sum(1 for c in changes if c.severity_change == "lowered"),
    }


def render_diff(
    older: ScanInfo,
    newer: ScanInfo,
    changes: Sequence[Change],
    fmt: str = "table",
    color: bool = False,
    width: int = 140,
) -> str:
    summary = diff_summary(changes)
    if fmt == "json":
        doc = {
            "schema": DIFF_SCHEMA,
            "from": _scan_dict(older),
            "to": _scan_dict(newer),
            "summary": summary,
            "findings": [
                {
                    "id": c.finding.finding_id,
                    "status": c.status,
                    "severity": c.finding.severity,
                    "previous_severity": c.previous_severity,
                    "severity_change": c.severity_change,
                    "title": c.finding.title,
                    "resource": {
                        "type": c.finding.resource_type,
                        "uid": c.finding.resource_uid,
                        "name": c.finding.resource_name,
                        "account": c.finding.account,
                        "region": c.finding.region,
                    },
                    "traits": list(c.finding.traits),
                    "suppression_source": c.finding.suppression_source,
                }
                for c in changes
            ],
        }
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()
    out = io.StringIO()
    console = _console(out, color, width)
    console.print(Text(f"Scan {older.id} ({_time(older)}) → scan {newer.id} ({_time(newer)})", style="bold"))
    for title, wanted in SECTIONS:
        rows = [c for c in changes if wanted(c)]
        if not rows:
            continue
        table = Table(title=f"{title} ({len(rows)})", title_justify="left", show_lines=False)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Resource", overflow="fold", max_width=60)
        table.add_column("Finding", overflow="fold")
        for c in rows:
            sev = Text(c.finding.severity, style=STYLE[Severity[c.finding.severity]])
            if c.severity_change is not None:
                sev = Text(
                    f"{c.previous_severity} → {c.finding.severity}", style=STYLE[Severity[c.finding.severity]]
                )
            what = Text(c.finding.title)
            if c.finding.suppression_source and c.status == Status.SUPPRESSED:
                what.append(f"\nsuppressed by {c.finding.suppression_source}", style="dim")
            resource = Text(c.finding.resource_name + "\n", style="bold")
            resource.append(c.finding.resource_uid, style="dim")
            table.add_row(sev, resource, what)
        console.print(table)
    console.print(
        f"{summary['new']} new, {summary['resolved']} resolved, {summary['suppressed']} suppressed, "
        f"{summary['still_open']} still open ({summary['raised']} raised, {summary['lowered']} lowered)."
    )
    return out.getvalue()
