"""Two recorded scans compared: what is new, resolved, suppressed, still open, and what changed
severity. Findings are matched by their stable id (spec §7)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model import Severity, Status

if TYPE_CHECKING:
    from . import StoredFinding

ORDER = {Status.NEW: 0, Status.RESOLVED: 1, Status.SUPPRESSED: 2, Status.IN_PROGRESS: 3}


@dataclass(frozen=True, slots=True)
class Change:
    finding: StoredFinding  # as the newer scan saw it (the older one, for a resolved finding)
    status: str  # New, In Progress (seen in both), Suppressed (in the newer scan), Resolved (gone)
    previous_severity: str | None  # in the older scan, when it was there

    @property
    def severity_change(self) -> str | None:
        """ "raised" or "lowered" between the two scans, None when the same or not in both."""
        if self.previous_severity is None or self.status == Status.RESOLVED:
            return None
        before, after = Severity[self.previous_severity], Severity[self.finding.severity]
        if after > before:
            return "raised"
        if after < before:
            return "lowered"
        return None


def diff(older: Sequence[StoredFinding], newer: Sequence[StoredFinding]) -> list[Change]:
    """Every finding of either scan once, sorted: new, resolved, suppressed, still open; then by
    severity (highest first) and resource."""
    before = {f.finding_id: f for f in older}
    after = {f.finding_id: f for f in newer}
    out: list[Change] = []
    for fid, f in after.items():
        prev = before.get(fid)
        if f.status == Status.SUPPRESSED:
            status = Status.SUPPRESSED
        elif prev is not None:
            status = Status.IN_PROGRESS
        else:
            status = Status.NEW
        out.append(Change(f, status, prev.severity if prev is not None else None))
    for fid, f in before.items():
        if fid not in after:
            out.append(Change(f, Status.RESOLVED, f.severity))
    out.sort(key=lambda c: (ORDER[c.status], -Severity[c.finding.severity], c.finding.resource_uid))
    return out
