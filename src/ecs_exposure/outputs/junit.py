"""JUnit XML for CI test reports: one test case per resource scanned.

A case fails when its resource has a finding at or above ``fail_on`` (default: any finding that is
not informational) that is not suppressed and, with a baseline, is new; a suppressed finding is
*skipped* with its reason; a resource without a finding, or with one below the threshold or known
from the baseline, passes (with the finding in ``system-out``). Inputs that could not be read are
one *error* case, so an incomplete scan never looks green. Valid against the Jenkins JUnit schema
(``junit-10.xsd``), which GitLab, GitHub test reporters and Jenkins read.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

from ..model import ExposureFinding, Resource, ScanResult, Severity, Status
from ._common import contributing, gates, printable, remediation_lines, status

# characters XML 1.0 cannot carry at all, even escaped
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: object) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", printable(str(text), keep_newlines=True))


def _classname(r: Resource) -> str:
    if r.account_id and r.region:
        return f"ecs-exposure.{r.account_id}.{r.region}"
    return "ecs-exposure.files"


def _details(f: ExposureFinding) -> str:
    lines = [f"{f.severity.name} {f.title}", f.explanation, f"resource: {f.resource.uid}", f"finding: {f.id}"]
    if f.suppression is not None:
        lines.append(f"suppressed by {f.suppression.source}: {f.suppression.reason}")
    if f.new is False:
        lines.append("known: in the baseline")
    for h in contributing(f):
        lines.extend(f"{h.trait_id}: {e.summary}" for e in h.evidence)
    lines.extend(f"fix {trait}: {text}" for trait, text in remediation_lines(f))
    return "\n".join(lines)


def render(result: ScanResult, fail_on: Severity | None = None, **_: Any) -> bytes:
    by_resource: dict[tuple[str, str], ExposureFinding] = {
        (f.resource.type, f.resource.uid): f for f in result.findings
    }
    resources = list(result.resources) or [f.resource for f in result.findings]
    cases: list[ET.Element] = []
    failures = skipped = errors = 0
    for r in sorted(resources, key=lambda r: (_classname(r), r.name, r.uid)):
        case = ET.Element("testcase", name=_x(f"{r.name} ({r.uid})"), classname=_x(_classname(r)), time="0")
        f = by_resource.get((r.type, r.uid))
        if f is not None and status(f) == Status.SUPPRESSED:
            skipped += 1
            reason = f.suppression.reason if f.suppression else "suppressed"
            ET.SubElement(case, "skipped", message=_x(f"suppressed: {reason}")).text = _x(_details(f))
        elif f is not None and gates(f, fail_on):
            failures += 1
            el = ET.SubElement(
                case, "failure", message=_x(f"{f.severity.name}: {f.title}"), type=f.severity.name
            )
            el.text = _x(_details(f))
        elif f is not None:
            ET.SubElement(case, "system-out").text = _x(_details(f))
        cases.append(case)
    if result.issues:
        errors = 1
        case = ET.Element("testcase", name="inputs could be read", classname="ecs-exposure.scan", time="0")
        ET.SubElement(
            case,
            "error",
            message=_x(f"scan incomplete: {len(result.issues)} input problem(s); their traits are unknown"),
            type="ScanIncomplete",
        ).text = _x("\n".join(str(i) for i in result.issues))
        cases.append(case)
    suite = ET.Element(
        "testsuite",
        name="ecs-exposure",
        tests=str(len(cases)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time="0",
    )
    props = ET.SubElement(suite, "properties")
    threshold = (fail_on or Severity.LOW).name.lower()
    ET.SubElement(props, "property", name="fail-on", value=threshold)
    ET.SubElement(props, "property", name="resources-scanned", value=str(result.resources_scanned))
    suite.extend(cases)
    root = ET.Element(
        "testsuites",
        name="ecs-exposure",
        tests=str(len(cases)),
        failures=str(failures),
        errors=str(errors),
        time="0",
    )
    root.append(suite)
    ET.indent(root)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return text.encode("utf-8")
