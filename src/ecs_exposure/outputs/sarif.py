"""SARIF 2.1.0 for code scanning (GitHub ``upload-sarif``, Azure DevOps, IDE viewers).

One rule per trait of the registry — a new trait gets its rule, docs and ``security-severity`` with
no change here — and one result per finding × contributing trait. A result points at the file and
line of the offending field for inputs read from files (the line comes from the file's position
map, computed only now) and names the resource by its ARN as a logical location; live resources
have the logical location alone. ``partialFingerprints`` come from the finding id and the trait, so
code scanning tracks an alert across scans even when lines move.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any
from urllib.parse import quote

import orjson

from .. import __version__
from ..correlate import correlate
from ..model import Evidence, ExposureFinding, Loc, Resource, ScanResult, Severity, TraitHit
from ..traits.base import TraitSpec
from ._common import TOOL, contextual, contributing, plain, specs, status, suppressed_traits

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# GitHub: > 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFORMATIONAL: "note",
}
PROBLEM_SEVERITY = {"error": "error", "warning": "warning", "note": "recommendation"}
MAX_RELATED = 10  # GitHub shows up to 10 locations per result
FINGERPRINT = "ecsExposureFindingTrait/v1"


@cache
def standalone_severity(trait_id: str) -> Severity:
    """What the trait alone rates, with every qualifier the rating reads (cloud credentials,
    sensitive mounts, escape capabilities): the rule's ``security-severity``, so that code scanning
    ranks traits the way the correlation table would on their own."""
    resource = Resource("AWS::ECS::Service", "rule", "rule", Loc("rule"))
    hit = TraitHit(trait_id, (), frozenset({"cloud", "sensitive", "escape"}))
    finding = correlate(resource, [], [hit], [])
    return finding.severity if finding is not None else Severity.INFORMATIONAL


def rule_name(trait_id: str) -> str:
    return "".join(part.capitalize() for part in trait_id.split("-"))


def rule(spec: TraitSpec) -> dict[str, Any]:
    sev = Severity.INFORMATIONAL if spec.contextual else standalone_severity(spec.id)
    level = LEVEL[sev]
    role = "contextual" if spec.contextual else "contributing"
    properties: dict[str, Any] = {
        "tags": ["security", "ecs", spec.category.label.lower(), role],
        "precision": "high",
        "problem.severity": PROBLEM_SEVERITY[level],
    }
    if sev in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[sev]
    return {
        "id": spec.id,
        "name": rule_name(spec.id),
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": plain(spec.description), "markdown": spec.description},
        "help": {
            "text": f"{plain(spec.description)}\n\nHow to fix it: {plain(spec.remediation)}",
            "markdown": f"**{spec.title}** ({spec.category.label}, {role})\n\n{spec.description}\n\n"
            f"**How to fix it.** {spec.remediation}",
        },
        "defaultConfiguration": {"level": level},
        "properties": properties,
    }


def _uri(file: str) -> str:
    if file.startswith("/"):
        return "file://" + quote(file)
    return quote(file)


def _physical(loc: Loc | None, result: ScanResult) -> dict[str, Any] | None:
    """The file and line of a location, when it is in a file the scan read (not a live API)."""
    if loc is None:
        return None
    positions = result.positions.get(loc.file)
    if positions is None:
        return None
    out: dict[str, Any] = {"artifactLocation": {"uri": _uri(loc.file)}}
    where = positions.position(loc.parts)
    if where is not None:
        out["region"] = {"startLine": where[0], "startColumn": where[1]}
    return out


def _evidence_locations(
    h: TraitHit, f: ExposureFinding, result: ScanResult
) -> list[tuple[Evidence | None, dict]]:
    found = []
    for ev in h.evidence:
        phys = _physical(ev.loc, result)
        if phys is not None:
            found.append((ev, phys))
    if not found:
        phys = _physical(f.resource.loc, result)
        if phys is not None:
            found.append((None, phys))
    return found


def _message(h: TraitHit, f: ExposureFinding) -> str:
    spec = specs()[h.trait_id]
    first = h.evidence[0].summary if h.evidence else spec.title
    more = f" (+{len(h.evidence) - 1} more)" if len(h.evidence) > 1 else ""
    return f"{spec.title}: {first}{more}. Part of a {f.severity.name} finding on {f.resource.name}: {f.title}"


def _result(f: ExposureFinding, h: TraitHit, index: dict[str, int], result: ScanResult) -> dict[str, Any]:
    r = f.resource
    located = _evidence_locations(h, f, result)
    location: dict[str, Any] = {
        "logicalLocations": [{"name": r.name, "fullyQualifiedName": r.uid, "kind": "resource"}]
    }
    if located:
        location["physicalLocation"] = located[0][1]
    out: dict[str, Any] = {
        "ruleId": h.trait_id,
        "ruleIndex": index[h.trait_id],
        "level": LEVEL[f.severity],
        "message": {"text": _message(h, f)},
        "locations": [location],
        "partialFingerprints": {
            FINGERPRINT: hashlib.sha256(f"{f.id}/{h.trait_id}".encode()).hexdigest()[:32],
        },
        "properties": {
            "findingId": f.id,
            "findingTitle": f.title,
            "severity": f.severity.name,
            "likelihood": f.likelihood.label,
            "impact": f.impact.label,
            "status": status(f),
            "resourceType": r.type,
        },
    }
    related = [
        {"id": i, "physicalLocation": phys, "message": {"text": ev.summary}}
        for i, (ev, phys) in enumerate(located[1 : MAX_RELATED + 1], 1)
        if ev is not None
    ]
    if related:
        out["relatedLocations"] = related
    reason = suppressed_traits(f).get(h.trait_id)
    if reason is not None:
        out["suppressions"] = [{"kind": "external", "status": "accepted", "justification": reason}]
    if f.new is not None:
        out["baselineState"] = "new" if f.new else "unchanged"
    return out


def sarif_log(result: ScanResult) -> dict[str, Any]:
    rules = [rule(spec) for spec in specs().values()]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for f in result.findings:
        hits = contributing(f) or contextual(f)  # an informational finding has only contextual traits
        results.extend(_result(f, h, index, result) for h in hits)
    notifications = [
        {
            "level": "error",
            "message": {"text": str(issue)},
            **(
                {"locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(issue.source)}}}]}
                if issue.source in result.positions
                else {}
            ),
        }
        for issue in result.issues
    ]
    invocation: dict[str, Any] = {"executionSuccessful": result.complete}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL,
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "invocations": [invocation],
                "results": results,
                "properties": {
                    "resourcesScanned": result.resources_scanned,
                    "unknownTraits": dict(result.unknown_traits),
                },
            }
        ],
    }


def render(result: ScanResult, **_: Any) -> bytes:
    return orjson.dumps(sarif_log(result), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
