"""AWS Security Finding Format (ASFF 2018-10-08): a JSON array ready for
``aws securityhub batch-import-findings --findings file://findings.asff.json`` and for
``ecs-exposure publish --security-hub``.

Findings are imported through a *custom integration*: ``ProductArn`` is
``arn:PARTITION:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`` and Security Hub only accepts
a finding from the account it is about, in the Region the ProductArn names. A resource read from a
file has neither: give them with ``account_id`` / ``region`` (``--asff-account`` /
``--asff-region``), else rendering stops with :class:`AsffError` rather than invent them.

Field limits are AWS's (the ``AwsSecurityFinding`` API reference): Title ≤ 256, Description ≤
1024, Remediation.Recommendation.Text ≤ 512, Types ≤ 50, Resources 1–32, ProductFields ≤ 50 pairs
(key ≤ 128, value ≤ 2048). Tests check every object against botocore's ``securityhub`` model.
"""

from __future__ import annotations

from typing import Any

import orjson

from .. import __version__
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
    timestamp,
)

SCHEMA_VERSION = "2018-10-08"
GENERATOR_ID = "ecs-exposure/exposure"  # one correlation rule makes every finding; publish filters on it
ID_PREFIX = "ecs-exposure/"
RECOMMENDATION_URL = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-tasks-containers.html"
)

LIMITS = {"Title": 256, "Description": 1024, "Recommendation": 512, "Resources": 32, "Types": 50}

# OCSF status (model) → ASFF Workflow.Status; Security Hub's own exposure findings use these words
WORKFLOW = {
    Status.NEW: "NEW",
    Status.IN_PROGRESS: "NOTIFIED",
    Status.SUPPRESSED: "SUPPRESSED",
    Status.RESOLVED: "RESOLVED",
}
RESOURCE_TYPES = {
    "AWS::ECS::Service": "AwsEcsService",
    "AWS::ECS::TaskDefinition": "AwsEcsTaskDefinition",
    "AWS::IAM::Role": "AwsIamRole",
    "AWS::EC2::SecurityGroup": "AwsEc2SecurityGroup",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "AwsElbv2LoadBalancer",
}

# Types in the ASFF namespaces (namespace/category[/classifier]); the impact kind picks the TTP
TTPS = {
    "Potential Remote Code Execution": ["TTPs/Initial Access", "TTPs/Execution"],
    "Potential Container Escape": ["TTPs/Privilege Escalation"],
    "Potential Privilege Escalation": ["TTPs/Privilege Escalation"],
    "Potential Credential Exposure": ["TTPs/Credential Access"],
    "Potential Unauthorized Access": ["TTPs/Initial Access"],
    "Potential Software Exploitation": ["TTPs/Execution"],
}
EFFECTS = {
    "impact-data-access": "Effects/Data Exposure",
    "impact-data-destruction": "Effects/Data Destruction",
}


class AsffError(ValueError):
    """A finding cannot be made into ASFF without inventing a field (account or Region)."""


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, marked with an ellipsis when shortened."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def product_arn(partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"


def types(f: ExposureFinding) -> list[str]:
    hits = {h.trait_id for h in contributing(f)}
    out = ["Software and Configuration Checks/AWS Security Best Practices"]
    if hits & {"internet-reachable", "public-ip", "open-security-group"}:
        out.append("Software and Configuration Checks/AWS Security Best Practices/Network Reachability")
    if hits & {"exploitable-vulnerability", "software-vulnerability", "malicious-package"}:
        out.append("Software and Configuration Checks/Vulnerabilities/CVE")
    out += TTPS.get(impact_kind(f), [])
    out += [t for trait, t in EFFECTS.items() if trait in hits]
    return list(dict.fromkeys(out))[: LIMITS["Types"]]


def _description(f: ExposureFinding) -> str:
    lines = [f.explanation]
    for h in contributing(f):
        first = h.evidence[0].summary if h.evidence else ""
        more = f" (+{len(h.evidence) - 1} more)" if len(h.evidence) > 1 else ""
        lines.append(f"{h.trait_id}: {first}{more}")
    return cut(" ".join(lines), LIMITS["Description"])


def _recommendation(f: ExposureFinding) -> str:
    fixes = [f"{h.trait_id}: {plain(specs()[h.trait_id].remediation)}" for h in contributing(f)]
    text = " ".join(fixes) or "No change needed: the finding has only contextual traits."
    return cut(text, LIMITS["Recommendation"])


def finding_object(
    f: ExposureFinding, now: str, account_id: str | None = None, region: str | None = None
) -> dict[str, Any]:
    r = f.resource
    account = r.account_id or account_id
    where = r.region or region
    if not account or not where:
        raise AsffError(
            f"{r.uid}: ASFF needs the AWS account and Region a finding is imported into; "
            "give --asff-account and --asff-region for resources read from files"
        )
    partition = r.partition or ("aws-cn" if where.startswith("cn-") else
                                "aws-us-gov" if where.startswith("us-gov-") else "aws")  # fmt: skip
    severity = f.severity.name
    primary: dict[str, Any] = {
        "Type": RESOURCE_TYPES.get(r.type, "Other"),
        "Id": r.uid,
        "Partition": partition,
        "Region": where,
    }
    resources = [primary]
    for x in related_resources(f)[: LIMITS["Resources"] - 1]:
        res = {"Type": RESOURCE_TYPES.get(x.type, "Other"), "Id": x.uid, "Partition": partition}
        if x.type != "AWS::IAM::Role":  # IAM is global
            res["Region"] = where
        resources.append(res)
    finding_types = types(f)
    sev = {"Label": severity, "Original": severity}
    out: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": f"{ID_PREFIX}{f.id}",
        "ProductArn": product_arn(partition, where, account),
        "ProductName": TOOL,
        "CompanyName": TOOL,
        "GeneratorId": GENERATOR_ID,
        "AwsAccountId": account,
        "Region": where,
        "Types": finding_types,
        "CreatedAt": now,
        "UpdatedAt": now,
        "Severity": sev,
        "Title": cut(f.title, LIMITS["Title"]),
        "Description": _description(f),
        "Remediation": {
            "Recommendation": {"Text": _recommendation(f), "Url": RECOMMENDATION_URL},
        },
        "ProductFields": {
            "ecs-exposure/FindingId": f.id,
            "ecs-exposure/Likelihood": f.likelihood.label,
            "ecs-exposure/Impact": f.impact.label,
            "ecs-exposure/Traits": cut(",".join(h.trait_id for h in f.hits), 2048),
            "ecs-exposure/TaskDefinitions": cut(",".join(f.task_definitions), 2048) or "-",
            "ecs-exposure/Version": __version__,
        },
        "Resources": resources,
        "RecordState": "ACTIVE",
        "Workflow": {"Status": WORKFLOW.get(status(f), "NEW")},
        "FindingProviderFields": {"Severity": sev, "Types": finding_types},
    }
    if f.suppression is not None:
        out["ProductFields"]["ecs-exposure/Suppression"] = cut(
            f"{f.suppression.source}: {f.suppression.reason}", 2048
        )
    return out


def findings(result: ScanResult, **options: Any) -> list[dict[str, Any]]:
    t = timestamp(options, required=True)
    assert t is not None
    now = iso(t)
    return [finding_object(f, now, options.get("account_id"), options.get("region")) for f in result.findings]


def render(result: ScanResult, **options: Any) -> bytes:
    return orjson.dumps(findings(result, **options), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


__all__ = ["GENERATOR_ID", "AsffError", "Severity", "findings", "product_arn", "render"]
