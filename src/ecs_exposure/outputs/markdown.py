"""A pull-request comment in GitHub-flavoured Markdown: counts by severity, the top findings with
their exposure path, traits and fix, the rest in collapsed sections.

GitHub refuses a comment over 65,536 characters: when the full comment would be longer, fewer
findings are listed (the most severe first) and a note says how many were left out.
"""

from __future__ import annotations

from typing import Any

from ..model import ExposureFinding, ScanResult, Severity, Status
from ._common import (
    contextual,
    contributing,
    exposure_path,
    gates,
    path_text,
    remediation_lines,
    severity_counts,
    specs,
    status,
    suppressed_traits,
)
from ._templates import environment

GITHUB_COMMENT_LIMIT = 65_536
TOP = 10  # findings shown with their details
MARKER = "<!-- ecs-exposure -->"  # lets a workflow find and update its own comment
ICON = {
    Severity.CRITICAL: "🟥",
    Severity.HIGH: "🟧",
    Severity.MEDIUM: "🟨",
    Severity.LOW: "🟦",
    Severity.INFORMATIONAL: "⬜",
}


def _finding(f: ExposureFinding, fail_on: Severity | None) -> dict[str, Any]:
    suppressed = suppressed_traits(f)
    return {
        "f": f,
        "status": status(f),
        "gates": gates(f, fail_on),
        "path": path_text(exposure_path(f)),
        "traits": [
            {
                "id": h.trait_id,
                "title": specs()[h.trait_id].title,
                "evidence": [e.summary for e in h.evidence],
                "note": h.note,
                "suppressed": suppressed.get(h.trait_id),
            }
            for h in contributing(f)
        ],
        "context": [h.trait_id for h in contextual(f)],
        "fixes": remediation_lines(f),
    }


def _render(result: ScanResult, shown: int, fail_on: Severity | None, title: str) -> str:
    active = [f for f in result.findings if status(f) != Status.SUPPRESSED]
    suppressed = [f for f in result.findings if status(f) == Status.SUPPRESSED]
    listed = active[:shown]
    listed_suppressed = suppressed[: max(0, shown - len(active))]
    left_out = len(result.findings) - len(listed) - len(listed_suppressed)
    return (
        environment()
        .get_template("comment.md.j2")
        .render(
            marker=MARKER,
            title=title,
            result=result,
            counts=[(s, n, ICON[s]) for s, n in severity_counts(result).items()],
            total=len(result.findings),
            gating=sum(1 for f in result.findings if gates(f, fail_on)),
            fail_on=fail_on,
            baseline=any(f.new is not None for f in result.findings),
            new=sum(1 for f in result.findings if f.new),
            top=[_finding(f, fail_on) for f in listed[:TOP]],
            rest=[_finding(f, fail_on) for f in listed[TOP:]],
            suppressed=[_finding(f, fail_on) for f in listed_suppressed],
            suppressed_total=len(suppressed),
            left_out=left_out,
            limit=GITHUB_COMMENT_LIMIT,
        )
    )


def render(result: ScanResult, fail_on: Severity | None = None, title: str = "ecs-exposure", **_: Any) -> str:
    everything = len(result.findings)
    fits = lambda n: len(_render(result, n, fail_on, title)) <= GITHUB_COMMENT_LIMIT  # noqa: E731
    # the most findings whose comment fits: grow by doubling (each try renders only what it lists,
    # so 10,000 findings never render all at once), then bisect
    lo, hi = 0, min(everything, 64)
    while hi < everything and fits(hi):
        lo, hi = hi, min(everything, hi * 2)
    if hi == everything and fits(hi):
        return _render(result, everything, fail_on, title)
    while lo < hi - 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return _render(result, lo, fail_on, title)
