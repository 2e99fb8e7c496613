"""A self-contained HTML report: one file, nothing fetched (CSS and script inline, locked down by a
Content-Security-Policy that allows only those two blocks by hash), readable without JavaScript —
the severity summary, every finding with its exposure path, traits, evidence and fix in native
``<details>`` — and, with JavaScript, sortable columns and filters by severity, status and text."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources
from typing import Any

from .. import __version__
from ..correlate import contributes
from ..model import ExposureFinding, ScanResult, Severity, Status
from ._common import (
    exposure_path,
    gates,
    iso,
    related_resources,
    severity_counts,
    specs,
    status,
    suppressed_traits,
    timestamp,
)
from ._templates import environment


@cache
def _asset(name: str) -> tuple[str, str]:
    """An inline asset and its CSP hash source."""
    text = (resources.files("ecs_exposure.outputs") / "templates" / name).read_text("utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
    return text, f"'sha256-{digest}'"


def _trait(f: ExposureFinding, trait_id: str, hit: Any, suppressed: dict[str, str]) -> dict[str, Any]:
    spec = specs()[trait_id]
    return {
        "id": trait_id,
        "title": spec.title,
        "category": spec.category.label,
        "contextual": not contributes(trait_id, hit),
        "description": spec.description,
        "remediation": spec.remediation,
        "note": hit.note,
        "suppressed": suppressed.get(trait_id),
        "evidence": [
            {
                "summary": e.summary,
                "revision": e.revision,
                "where": f"{e.loc.file} {e.loc.pointer}".strip() if e.loc else "",
            }
            for e in hit.evidence
        ],
    }


def _finding(f: ExposureFinding, fail_on: Severity | None) -> dict[str, Any]:
    suppressed = suppressed_traits(f)
    traits = [_trait(f, h.trait_id, h, suppressed) for h in f.hits if h.trait_id in specs()]
    st = status(f)
    return {
        "f": f,
        "status": st,
        "gates": gates(f, fail_on),
        "traits": [t for t in traits if not t["contextual"]],
        "context": [t for t in traits if t["contextual"]],
        "path": exposure_path(f),
        "related": related_resources(f),
        "search": " ".join(
            [f.resource.name, f.resource.uid, f.title, st, *(h.trait_id for h in f.hits)]
        ).lower(),
    }


def render(
    result: ScanResult, fail_on: Severity | None = None, title: str = "ecs-exposure report", **options: Any
) -> str:
    css, css_hash = _asset("report.css")
    js, js_hash = _asset("report.js")
    t = timestamp(options, required=False)
    counts = severity_counts(result)
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            version=__version__,
            generated=iso(t) if t else None,
            result=result,
            counts=list(counts.items()),
            findings=[_finding(f, fail_on) for f in result.findings],
            suppressed_total=sum(1 for f in result.findings if status(f) == Status.SUPPRESSED),
            gating=sum(1 for f in result.findings if gates(f, fail_on)),
            fail_on=fail_on,
            css=css,
            js=js,
            csp=f"default-src 'none'; style-src {css_hash}; script-src {js_hash}; img-src data:; "
            "base-uri 'none'; form-action 'none'",
        )
    )
