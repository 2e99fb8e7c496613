"""The versioned JSON report (``ecs-exposure/findings@1``): a documented contract, never a dump
of internal types. See ``docs/json-format.md`` and ``schemas/findings-1.schema.json``."""

from __future__ import annotations

from typing import Any

import orjson

from .. import __version__
from ..correlate import contributes
from ..model import (
    Evidence,
    ExposureFinding,
    Loc,
    ScanResult,
    Severity,
    Status,
    SuppressionRule,
    SuppressionUse,
    TraitHit,
)
from ..traits import registry

SCHEMA = "ecs-exposure/findings@1"


def _loc(loc: Loc | None) -> dict[str, str] | None:
    if loc is None:
        return None
    return {"file": loc.file, "pointer": loc.pointer}


def _evidence(ev: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": ev.summary}
    for key, value in ev.facts:
        out[key] = list(value) if isinstance(value, tuple) else value
    out["revision"] = ev.revision
    out["location"] = _loc(ev.loc)
    return out


def _trait(hit: TraitHit, seen: dict[int, dict[str, Any]]) -> dict[str, Any]:
    spec = registry()[hit.trait_id]
    evidence = []
    for e in hit.evidence:  # evidence shared by many resources (a role, a task definition) is built once
        d = seen.get(id(e))
        if d is None:
            d = seen[id(e)] = _evidence(e)
        evidence.append(d)
    return {
        "id": hit.trait_id,
        "title": spec.title,
        "category": spec.category.label,
        "contribution": "contributing" if contributes(hit.trait_id, hit) else "contextual",
        "qualifiers": sorted(hit.qualifiers),
        "note": hit.note,
        "evidence": evidence,
    }


def _rule(rule: SuppressionRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "reason": rule.reason,
        "source": rule.source,
        "expires": rule.expires.isoformat() if rule.expires else None,
    }


def _selectors(rule: SuppressionRule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (
        ("traits", rule.traits),
        ("findings", rule.finding_ids),
        ("resources", rule.resources),
        ("accounts", rule.accounts),
        ("paths", rule.paths),
    ):
        if value:
            out[key] = list(value)
    if rule.tags:
        out["tags"] = dict(rule.tags)
    return out


def _use(use: SuppressionUse) -> dict[str, Any]:
    return {
        **_rule(use.rule),
        "selectors": _selectors(use.rule),
        "state": use.state,
        "matched": list(use.findings),
        "problem": use.problem,
    }


def finding_dict(f: ExposureFinding, seen: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    seen = {} if seen is None else seen
    specs = registry()
    r = f.resource
    return {
        "id": f.id,
        "status": f.status,
        "new": f.new,
        "baseline_severity": f.baseline_severity.name if f.baseline_severity is not None else None,
        "suppression": _rule(f.suppression),
        "suppressed_traits": [{"id": t, **_rule(rule)} for t, rule in f.suppressed_traits],
        "severity": f.severity.name,
        "likelihood": f.likelihood.label,
        "impact": f.impact.label,
        "title": f.title,
        "explanation": f.explanation,
        "rating": {"likelihood_traits": list(f.likelihood_traits), "impact_traits": list(f.impact_traits)},
        "resource": {
            "type": r.type,
            "uid": r.uid,
            "name": r.name,
            "account": r.account_id,
            "region": r.region,
            "partition": r.partition,
            "cluster": r.cluster_arn,
            "location": _loc(r.loc),
            "tags": dict(r.tags),
        },
        "task_definitions": list(f.task_definitions),
        "traits": [_trait(h, seen) for h in f.hits],
        "unknown_traits": [{"id": u.trait_id, "reason": u.reason} for u in f.unknown],
        "remediation": [
            {"trait": h.trait_id, "text": specs[h.trait_id].remediation}
            for h in f.hits
            if contributes(h.trait_id, h)
        ],
    }


def report_dict(result: ScanResult) -> dict[str, Any]:
    seen: dict[int, dict[str, Any]] = {}  # the findings keep every evidence alive: ids are unique
    by_severity = {s.name: 0 for s in sorted(Severity, reverse=True)}
    by_status = {s: 0 for s in (Status.NEW, Status.IN_PROGRESS, Status.SUPPRESSED)}
    for f in result.findings:
        by_severity[f.severity.name] += 1
        by_status[f.status] = by_status.get(f.status, 0) + 1
    return {
        "schema": SCHEMA,
        "tool": {"name": "ecs-exposure", "version": __version__},
        "complete": result.complete,
        "summary": {
            "resources_scanned": result.resources_scanned,
            "findings": len(result.findings),
            "by_severity": by_severity,
            "by_status": by_status,
            "suppressed": by_status[Status.SUPPRESSED],
            "new": sum(1 for f in result.findings if f.new) if result.baseline is not None else None,
            "unknown_traits": dict(result.unknown_traits),
        },
        "skipped": [n.split(": skipped", 1)[0] for n in result.notes],
        "issues": [
            {"source": i.source, "path": i.path, "message": i.message, "api": i.api} for i in result.issues
        ],
        "baseline": result.baseline,
        "suppressions": [_use(u) for u in result.suppressions],
        "findings": [finding_dict(f, seen) for f in result.findings],
    }


def render(result: ScanResult, **_: object) -> bytes:
    """UTF-8 bytes: a report of thousands of findings is tens of megabytes, and decoding it to a
    str only to encode it again on write costs more than producing it."""
    return orjson.dumps(report_dict(result), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
