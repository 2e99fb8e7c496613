"""Scan results for the format tests: the example estate as scanned, and the same with the states
that suppressions, a baseline and the history set (built here with ``dataclasses.replace``, so the
formats are tested on them before those features land)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache

from ecs_exposure.cli.common import example_path
from ecs_exposure.engine import ScanOptions, scan
from ecs_exposure.model import ScanResult, Status, SuppressionRule
from ecs_exposure.sources import load_paths
from ecs_exposure.sources.vulns import load_vuln_file

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@cache
def example_result(include_informational: bool = True) -> ScanResult:
    inv = load_paths([example_path()])
    for path in sorted((example_path().parent / "vulns").glob("*.json")):
        reports, issues = load_vuln_file(path)
        inv.image_reports.extend(reports)
        inv.issues.extend(issues)
        inv.vuln_sources.append(str(path))
    return scan(inv, ScanOptions(include_informational=include_informational))


ACCEPTED = SuppressionRule(
    reason="worker is an isolated batch host; SSH is allowed from the bastion only <b>by NACL</b>",
    source=".ecs-exposure.yaml: suppressions[0]",
    resources=("arn:aws:ecs:*:*:service/shop/worker",),
    expires=date(2026, 12, 31),
)
TRAIT_ACCEPTED = SuppressionRule(
    reason="ECS Exec is needed for on-call debugging",
    source="tag ecs-exposure:suppress on service web",
    traits=("public-ip",),
)


@cache
def states_result() -> ScanResult:
    """The example with every state: worker suppressed as a whole, web in progress with one trait
    suppressed, a baseline that knows billing (not new) and not the others (new)."""
    result = example_result()
    findings = []
    for f in result.findings:
        name = f.resource.name
        if name == "worker":
            f = replace(f, status=Status.SUPPRESSED, suppression=ACCEPTED, new=True)
        elif name == "web":
            f = replace(
                f, status=Status.IN_PROGRESS, suppressed_traits=(("public-ip", TRAIT_ACCEPTED),), new=True
            )
        elif name == "billing":
            f = replace(f, new=False)
        else:
            f = replace(f, new=True)
        findings.append(f)
    return replace(result, findings=tuple(findings))
