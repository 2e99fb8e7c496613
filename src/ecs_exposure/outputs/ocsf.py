"""OCSF 1.6.0 Detection Finding (class 2004) objects, in the shape Security Hub's ``GetFindingsV2``
returns exposure findings (spec §7): one object per finding, each trait one
``finding_info.related_events[]`` entry with ``traits[{category, name, type}]``.

The output is a JSON array. Tests validate every object against the official OCSF 1.6.0 schema
(Detection Finding with the ``cloud`` and ``datetime`` profiles). Security Hub supports OCSF 1.6.
"""

from __future__ import annotations

from typing import Any

import orjson

from .. import __version__
from ..correlate import contributes
from ..model import ExposureFinding, ScanResult, Severity, Status
from ._common import (
    TOOL,
    contributing,
    impact_kind,
    iso,
    plain,
    related_resources,
    specs,
    status,
    suppressed_traits,
    timestamp,
)

OCSF_VERSION = "1.6.0"
PROFILES = ["cloud", "datetime"]
CLASS_UID, CATEGORY_UID, ACTIVITY_CREATE = 2004, 2, 1
TYPE_UID = CLASS_UID * 100 + ACTIVITY_CREATE  # 200401 Detection Finding: Create

# OCSF enum ids and their captions (the ``severity`` / ``status`` / ``impact`` siblings)
SEVERITY = {
    Severity.INFORMATIONAL: (1, "Informational"),
    Severity.LOW: (2, "Low"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
STATUS = {Status.NEW: 1, Status.IN_PROGRESS: 2, Status.SUPPRESSED: 3, Status.RESOLVED: 4}
IMPACT = {"Low": 1, "Medium": 2, "High": 3}  # impact_id: 1 Low, 2 Medium, 3 High, 4 Critical
RESOURCE_ROLE = {"Target": 1, "Related": 4}
MAX_VALUES = 20  # evidence summaries per trait: enough to act on, bounded for SIEM ingestion


def _resource(type_: str, uid: str, name: str, f: ExposureFinding, role: str | None) -> dict[str, Any]:
    r = f.resource
    out: dict[str, Any] = {"type": type_, "uid": uid, "name": name}
    if r.region:
        out["region"] = r.region
    if r.partition:
        out["cloud_partition"] = r.partition
    if role:
        out["role_id"], out["role"] = RESOURCE_ROLE[role], role  # the finding's resource, or one around it
    return out


def _related_event(
    f: ExposureFinding, hit_id: str, evidence: list[str], note: str | None, contributing: bool
) -> dict[str, Any]:
    spec = specs()[hit_id]
    trait_type = "Contributing Trait" if contributing else "Contextual Trait"
    event: dict[str, Any] = {
        "uid": f"{f.id}/{hit_id}",
        "type": "Finding" if contributing else "ResourceConfiguration",
        "title": spec.title,
        "desc": plain(spec.description),
        "traits": [
            {
                "uid": hit_id,
                "name": spec.title,
                "category": spec.category.label,
                "type": trait_type,
                "values": evidence[:MAX_VALUES] or [spec.title],
            }
        ],
    }
    suppressed = suppressed_traits(f).get(hit_id)
    if suppressed is not None:
        event["status"] = f"{Status.SUPPRESSED}: {suppressed}"
    elif note:
        event["status"] = note
    return event


def finding_object(f: ExposureFinding, t_ms: int, t_iso: str) -> dict[str, Any]:
    r = f.resource
    sev_id, sev = SEVERITY[f.severity]
    st = status(f)
    events = [
        _related_event(f, h.trait_id, [e.summary for e in h.evidence], h.note, contributes(h.trait_id, h))
        for h in f.hits
        if h.trait_id in specs()
    ]
    resources = [_resource(r.type, r.uid, r.name, f, "Target")]
    resources += [_resource(x.type, x.uid, x.name, f, "Related") for x in related_resources(f)]
    cloud: dict[str, Any] = {"provider": "AWS"}
    if r.account_id:
        cloud["account"] = {"uid": r.account_id, "type_id": 10, "type": "AWS Account"}
    if r.region:
        cloud["region"] = r.region
    if r.partition:
        cloud["cloud_partition"] = r.partition
    fixes = [f"{h.trait_id}: {plain(specs()[h.trait_id].remediation)}" for h in contributing(f)]
    obj: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": TYPE_UID,
        "type_name": "Detection Finding: Create",
        "time": t_ms,
        "time_dt": t_iso,
        "severity_id": sev_id,
        "severity": sev,
        "status_id": STATUS.get(st, 99),
        "status": st,
        "impact_id": IMPACT[f.impact.label],
        "impact": f.impact.label,
        "message": f.title,
        "finding_info": {
            "uid": f.id,
            "title": f.title,
            "desc": f.explanation,
            "types": [f"Exposure/{impact_kind(f)}"],
            "analytic": {
                "uid": "ecs-exposure/exposure-correlation",
                "name": "Exposure",
                "type_id": 1,
                "type": "Rule",
                "desc": "Traits of one ECS resource correlated into one finding, rated likelihood × impact",
                "version": __version__,
            },
            "created_time": t_ms,
            "created_time_dt": t_iso,
            "related_events": events,
            "related_events_count": len(events),
        },
        "resources": resources,
        "cloud": cloud,
        "remediation": {
            "desc": " ".join(fixes) if fixes else "No change needed: the finding has only contextual traits.",
            "references": [
                "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-tasks-containers.html",
            ],
        },
        "metadata": {
            "version": OCSF_VERSION,
            "profiles": PROFILES,
            "uid": f.id,
            "product": {"name": TOOL, "vendor_name": TOOL, "version": __version__, "uid": TOOL},
        },
        "unmapped": {
            "likelihood": f.likelihood.label,
            "likelihood_traits": list(f.likelihood_traits),
            "impact_traits": list(f.impact_traits),
            "task_definitions": list(f.task_definitions),
            "unknown_traits": {u.trait_id: u.reason for u in f.unknown},
        },
    }
    if f.suppression is not None:
        obj["status_detail"] = f"suppressed by {f.suppression.source}: {f.suppression.reason}"
    if f.new is not None:
        obj["unmapped"]["new"] = f.new
    return obj


def render(result: ScanResult, **options: Any) -> bytes:
    t = timestamp(options, required=True)
    assert t is not None
    t_ms, t_iso = int(t.timestamp() * 1000), iso(t)
    findings = [finding_object(f, t_ms, t_iso) for f in result.findings]
    return orjson.dumps(findings, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
