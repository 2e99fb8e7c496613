"""Which roles a resource's tasks use, and which statements make them admin or service-admin.

This is the statement-level reading of spec §3.1/§3.3: an Allow of ``*`` (or ``<service>:*``) on
Resource ``*``, ``NotAction`` with Resource ``*`` (near-admin), the ``AdministratorAccess``
managed policy, and an unconditional Deny of the same that cancels it. A permissions boundary
whose document is known limits what counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..model import AccountInventory, Evidence, Loc, PolicyDocument, Role
from .base import Target, failed_api

ADMIN_POLICY_SUFFIX = ":iam::aws:policy/AdministratorAccess"

# Documents of well-known AWS managed policies (the same in every account), used only when a
# snapshot lists the attachment but not the document. Source: the policies as AWS publishes them.
AWS_MANAGED: dict[str, list[dict[str, object]]] = {
    "AdministratorAccess": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    "PowerUserAccess": [
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": [
                "account:GetAccountInformation",
                "account:GetPrimaryEmail",
                "account:ListRegions",
                "iam:CreateServiceLinkedRole",
                "iam:DeleteServiceLinkedRole",
                "iam:ListRoles",
                "organizations:DescribeOrganization",
            ],
            "Resource": "*",
        },
    ],
    "service-role/AmazonECSTaskExecutionRolePolicy": [
        {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        }
    ],
    "AmazonS3FullAccess": [{"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"}],
    "AmazonS3ReadOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:Get*",
                "s3:List*",
                "s3:Describe*",
                "s3-object-lambda:Get*",
                "s3-object-lambda:List*",
            ],
            "Resource": "*",
        }
    ],
    "IAMFullAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:*",
                "organizations:DescribeAccount",
                "organizations:DescribeOrganization",
                "organizations:DescribeOrganizationalUnit",
                "organizations:DescribePolicy",
                "organizations:ListChildren",
                "organizations:ListParents",
                "organizations:ListPoliciesForTarget",
                "organizations:ListRoots",
                "organizations:ListPolicies",
                "organizations:ListTargetsForPolicy",
            ],
            "Resource": "*",
        }
    ],
    "AmazonSQSFullAccess": [{"Effect": "Allow", "Action": ["sqs:*"], "Resource": "*"}],
    "AmazonSNSFullAccess": [{"Effect": "Allow", "Action": ["sns:*"], "Resource": "*"}],
    "AmazonEC2ContainerRegistryReadOnly": [
        {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:GetRepositoryPolicy",
                "ecr:DescribeRepositories",
                "ecr:ListImages",
                "ecr:DescribeImages",
                "ecr:BatchGetImage",
                "ecr:GetLifecyclePolicy",
                "ecr:GetLifecyclePolicyPreview",
                "ecr:ListTagsForResource",
                "ecr:DescribeImageScanFindings",
            ],
            "Resource": "*",
        }
    ],
}


def _builtin(arn: str) -> PolicyDocument | None:
    marker = ":iam::aws:policy/"
    if marker not in arn:
        return None
    name = arn.split(marker, 1)[1]
    stmts = AWS_MANAGED.get(name)
    if stmts is None:
        return None
    return PolicyDocument(name, tuple(stmts), Loc("(built-in AWS managed policy catalogue)", (name,)), arn)


def as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


@dataclass
class RolePolicies:
    role: Role
    documents: list[PolicyDocument] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # attached policies whose document is unknown
    boundary: PolicyDocument | None = None
    boundary_missing: bool = False


def task_roles(target: Target) -> list[tuple[str, str, str]]:
    """(role ARN, "task role" / "execution role", revision label), each role once."""
    seen: dict[str, tuple[str, str, str]] = {}
    for td in target.task_definitions:
        for arn, kind in ((td.task_role_arn, "task role"), (td.execution_role_arn, "execution role")):
            if arn and arn not in seen:
                seen[arn] = (arn, kind, td.label)
    return list(seen.values())


def resolve(account: AccountInventory | None, arn: str, unknown: list[str]) -> RolePolicies | None:
    if account is None:
        unknown.append("no IAM data in the inputs (task definition file)")
        return None
    if account.roles is None:
        reason = failed_api(account.errors, ("iam:",))
        unknown.append(reason or "IAM roles not in the inputs")
        return None
    role = account.role(arn)
    if role is None:
        parts = arn.split(":")
        other = len(parts) > 4 and parts[4] and parts[4] != account.account_id
        unknown.append(f"role {arn} {'is in another account, ' if other else ''}not in the inputs")
        return None
    out = RolePolicies(role)
    for parn in role.attached_policy_arns:
        doc = (account.policies or {}).get(parn) or _builtin(parn)
        if doc is None and not parn.endswith(ADMIN_POLICY_SUFFIX):
            out.missing.append(parn)
        elif doc is not None:
            out.documents.append(doc)
    out.documents.extend(role.inline_policies)
    if role.permissions_boundary_arn:
        out.boundary = (account.policies or {}).get(role.permissions_boundary_arn) or _builtin(
            role.permissions_boundary_arn
        )
        out.boundary_missing = out.boundary is None
    return out


def statements(docs: Iterable[PolicyDocument]) -> Iterable[tuple[PolicyDocument, int, Mapping[str, object]]]:
    for doc in docs:
        for i, s in enumerate(doc.statements):
            yield doc, i, s


def _allows_all_resources(s: Mapping[str, object]) -> bool:
    return "*" in as_list(s.get("Resource")) and "NotResource" not in s


def denied(docs: Iterable[PolicyDocument], action: str) -> bool:
    """An unconditional Deny of ``action`` (``*`` or ``svc:*``) on every resource."""
    service = action.split(":", 1)[0].lower()
    for _, _, s in statements(docs):
        if s.get("Effect") != "Deny" or "Condition" in s or not _allows_all_resources(s):
            continue
        actions = [a.lower() for a in as_list(s.get("Action"))]
        if "*" in actions or "*:*" in actions or (action != "*" and f"{service}:*" in actions):
            return True
    return False


def statement_evidence(
    rp: RolePolicies,
    kind: str,
    revision: str,
    doc: PolicyDocument,
    index: int,
    s: Mapping[str, object],
    what: str,
) -> Evidence:
    sid = s.get("Sid") if isinstance(s.get("Sid"), str) else None
    conditional = "Condition" in s
    text = f"{kind} {rp.role.name}: policy {doc.name} statement {sid or index} {what}" + (
        " (only under its Condition)" if conditional else ""
    )
    return Evidence(
        text,
        (
            ("role", rp.role.arn),
            ("roleKind", kind),
            ("policy", doc.managed_arn or doc.name),
            ("statement", sid or str(index)),
            ("conditional", conditional),
        ),
        revision,
        doc.loc.child("Statement", index),
    )


def admin_statements(
    docs: Iterable[PolicyDocument],
) -> list[tuple[PolicyDocument, int, Mapping[str, object], str]]:
    out = []
    for doc, i, s in statements(docs):
        if s.get("Effect") != "Allow" or not _allows_all_resources(s):
            continue
        actions = as_list(s.get("Action"))
        if "*" in actions or "*:*" in actions:
            out.append((doc, i, s, "allows Action * on Resource *"))
        elif "NotAction" in s:
            excluded = ", ".join(as_list(s.get("NotAction"))) or "nothing"
            out.append((doc, i, s, f"allows every action except {excluded} on Resource * (near-admin)"))
    return out


def service_admin_statements(
    docs: Iterable[PolicyDocument],
) -> list[tuple[PolicyDocument, int, Mapping[str, object], list[str]]]:
    out = []
    for doc, i, s in statements(docs):
        if s.get("Effect") != "Allow" or not _allows_all_resources(s):
            continue
        services = sorted({a.lower() for a in as_list(s.get("Action")) if a.endswith(":*") and a != "*:*"})
        if services:
            out.append((doc, i, s, services))
    return out
