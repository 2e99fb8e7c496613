"""The IAM evaluator, feature by feature, and the impact traits it decides."""

from __future__ import annotations

from typing import Any

import pytest

from builders import ROLE, policy, role, snapshot, taskdef
from conftest import outcomes
from ecs_exposure.iam import catalogue, evaluate
from ecs_exposure.iam.evaluate import broad_resource
from ecs_exposure.model import Loc, PolicyDocument, TraitHit, TraitUnknown


def doc(*statements: dict[str, Any], name: str = "p") -> PolicyDocument:
    return PolicyDocument(name, tuple(statements), Loc("t.json"))


def allow(action: Any, resource: Any = "*", **kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **kw}


def deny(action: Any, resource: Any = "*", **kw: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **kw}


COND = {"Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}

# (case, statements, boundary statements or None, action, expected grant level)
GRANTS = [
    ("exact", [allow("s3:GetObject")], None, "s3:GetObject", "broad"),
    ("case-insensitive", [allow("S3:getobject")], None, "s3:GetObject", "broad"),
    ("not-granted", [allow("s3:GetObject")], None, "s3:PutObject", None),
    ("trailing-wildcard", [allow("s3:Put*")], None, "s3:PutObject", "broad"),
    ("trailing-wildcard-miss", [allow("s3:Put*")], None, "s3:GetObject", None),
    ("middle-wildcard", [allow("iam:*Policy*")], None, "iam:PutRolePolicy", "broad"),
    ("middle-wildcard-miss", [allow("iam:*Policy*")], None, "iam:CreateAccessKey", None),
    ("question-mark", [allow("sts:AssumeRol?")], None, "sts:AssumeRole", "broad"),
    ("service-wildcard", [allow("iam:*")], None, "iam:PassRole", "broad"),
    ("star", [allow("*")], None, "kms:Decrypt", "broad"),
    ("star-colon-star", [allow("*:*")], None, "kms:Decrypt", "broad"),
    ("action-list", [allow(["sqs:SendMessage", "kms:Decrypt"])], None, "kms:Decrypt", "broad"),
    ("scoped-resource", [allow("s3:GetObject", "arn:aws:s3:::bucket/*")], None, "s3:GetObject", "scoped"),
    (
        "broad-typed-resource",
        [allow("iam:PassRole", "arn:aws:iam::111122223333:role/*")],
        None,
        "iam:PassRole",
        "broad",
    ),
    ("broad-s3-arn", [allow("s3:GetObject", "arn:aws:s3:::*/*")], None, "s3:GetObject", "broad"),
    (
        "not-resource",
        [{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::private/*"}],
        None,
        "s3:GetObject",
        "broad",
    ),
    (
        "not-action",
        [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
        None,
        "s3:GetObject",
        "broad",
    ),
    (
        "not-action-excludes",
        [{"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}],
        None,
        "sts:AssumeRole",
        None,
    ),
    ("condition", [allow("kms:Decrypt", **COND)], None, "kms:Decrypt", "conditional"),
    ("deny-wins", [allow("*"), deny("kms:*")], None, "kms:Decrypt", None),
    ("deny-other-action", [allow("*"), deny("kms:*")], None, "s3:GetObject", "broad"),
    ("deny-wildcard-middle", [allow("iam:*"), deny("iam:*Policy*")], None, "iam:PutRolePolicy", None),
    (
        "deny-not-action",
        [allow("*"), {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}],
        None,
        "kms:Decrypt",
        None,
    ),
    (
        "deny-not-action-spares",
        [allow("*"), {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}],
        None,
        "s3:GetObject",
        "broad",
    ),
    (
        "conditional-deny",
        [allow("kms:Decrypt"), deny("kms:Decrypt", **COND)],
        None,
        "kms:Decrypt",
        "conditional",
    ),
    (
        "scoped-deny",
        [allow("s3:GetObject"), deny("s3:GetObject", "arn:aws:s3:::secret/*")],
        None,
        "s3:GetObject",
        "conditional",
    ),
    ("boundary-allows", [allow("s3:*")], [allow("s3:GetObject")], "s3:GetObject", "broad"),
    ("boundary-limits", [allow("*")], [allow("s3:GetObject")], "kms:Decrypt", None),
    ("boundary-deny", [allow("*")], [allow("*"), deny("iam:*")], "iam:PassRole", None),
    ("boundary-no-grant", [allow("s3:GetObject")], [allow("*")], "kms:Decrypt", None),
    ("unknown-action-ignored", [allow("s3:NoSuchAction")], None, "s3:GetObject", None),
]


@pytest.mark.parametrize(
    ("stmts", "boundary", "action", "level"), [g[1:] for g in GRANTS], ids=[g[0] for g in GRANTS]
)
def test_grant(stmts: list, boundary: list | None, action: str, level: str | None) -> None:
    perms = evaluate([doc(*stmts)], doc(*boundary, name="b") if boundary is not None else None)
    assert perms.grant(action) == level


@pytest.mark.parametrize(
    ("resource", "broad"),
    [
        ("*", True),
        ("arn:aws:s3:::*", True),
        ("arn:aws:s3:::*/*", True),
        ("arn:aws:s3:::bucket/*", False),
        ("arn:aws:iam::1:role/*", True),
        ("arn:aws:iam::1:role/app-*", False),
        ("arn:aws:secretsmanager:eu-west-1:1:secret:*", True),
        ("arn:aws:sqs:eu-west-1:1:jobs", False),
        ("not-an-arn", False),
    ],
)
def test_broad_resource(resource: str, broad: bool) -> None:
    assert broad_resource(resource) is broad


def test_statements_of_several_policies_combine() -> None:
    perms = evaluate([doc(allow("iam:PassRole"), name="a"), doc(allow("ecs:RunTask"), name="b")])
    assert perms.grant("iam:PassRole") == perms.grant("ecs:RunTask") == "broad"
    assert {s.doc.name for s in perms.granting(perms.cat.bit("ecs:RunTask"))} == {"b"}


def test_catalogue_is_real_and_large() -> None:
    cat = catalogue()
    assert len(cat) > 15_000 and cat.version
    assert cat.knows("s3:GetObject") and cat.knows("S3:GETOBJECT") and not cat.knows("s3:Nope")
    assert cat.mask("s3:*") == cat.service_mask("s3")


def test_every_action_named_by_a_rule_exists() -> None:
    """A catalogue refresh that renames an action must not silently disable a rule."""
    from ecs_exposure.traits import (
        impact_data_access,
        impact_disable_audit,
        impact_pass_role_executor,
        impact_policy_escalation,
    )

    cat = catalogue()
    names = (
        *impact_policy_escalation.ACTIONS,
        *impact_pass_role_executor.EXECUTORS,
        *impact_disable_audit.ACTIONS,
        *impact_data_access.ACTIONS,
        "iam:PassRole",
        "sts:AssumeRole",
        "iam:CreateAccessKey",
        "s3:DeleteBucket",
        "kms:ScheduleKeyDeletion",
        "rds:DeleteDBInstance",
        "dynamodb:DeleteTable",
    )
    assert [n for n in names if not cat.knows(n)] == []


# ------------------------------------------------------------------- traits decided by the evaluator


def task_role(
    *statements: dict[str, Any], boundary: list | None = None, managed: tuple[str, ...] = ()
) -> dict:
    roles = [
        role(
            "task",
            managed=managed,
            inline=(list(statements),) if statements else (),
            boundary="arn:aws:iam::111122223333:policy/b" if boundary else None,
        )
    ]
    policies = [policy("arn:aws:iam::111122223333:policy/b", boundary)] if boundary else []
    return snapshot(task_definitions=[taskdef(taskRoleArn=f"{ROLE}/task")], roles=roles, policies=policies)


# (case, document, trait, expected: True present / False absent / "unknown")
TRAIT_CASES = [
    ("full-control", task_role(allow("*")), "impact-full-control", True),
    ("full-control-denied", task_role(allow("*"), deny("*")), "impact-full-control", False),
    (
        "full-control-not-near-admin",
        task_role({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        "impact-full-control",
        False,
    ),
    ("admin-agrees-deny", task_role(allow("*"), deny("*")), "admin-access-role", False),
    (
        "admin-near-notaction",
        task_role({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        "admin-access-role",
        True,
    ),
    (
        "admin-near-poweruser",
        task_role(managed=("arn:aws:iam::aws:policy/PowerUserAccess",)),
        "admin-access-role",
        True,
    ),
    ("admin-boundary", task_role(allow("*"), boundary=[allow("s3:GetObject")]), "admin-access-role", False),
    ("admin-not-with-big-service", task_role(allow(["s3:*", "ec2:*"])), "admin-access-role", False),
    (
        "escalation",
        task_role(allow("iam:PutRolePolicy", "arn:aws:iam::111122223333:role/x")),
        "impact-policy-escalation",
        True,
    ),
    ("escalation-wildcard", task_role(allow("iam:*Policy*")), "impact-policy-escalation", True),
    ("escalation-read-only", task_role(allow(["iam:Get*", "iam:List*"])), "impact-policy-escalation", False),
    (
        "escalation-denied",
        task_role(
            allow("iam:*"),
            deny("iam:Put*"),
            deny("iam:Attach*"),
            deny("iam:Create*"),
            deny("iam:Set*"),
            deny("iam:Update*"),
            deny("iam:AddUserToGroup"),
            deny("iam:Delete*"),
        ),
        "impact-policy-escalation",
        False,
    ),
    ("minting-access-key", task_role(allow("iam:CreateAccessKey")), "impact-credential-minting", True),
    ("minting-assume-any", task_role(allow("sts:AssumeRole")), "impact-credential-minting", True),
    (
        "minting-assume-scoped",
        task_role(allow("sts:AssumeRole", "arn:aws:iam::111122223333:role/reader")),
        "impact-credential-minting",
        False,
    ),
    (
        "pass-role-with-runtask",
        task_role(allow(["iam:PassRole", "ecs:RunTask"])),
        "impact-pass-role-executor",
        True,
    ),
    ("pass-role-alone", task_role(allow("iam:PassRole")), "impact-pass-role-executor", False),
    ("runtask-alone", task_role(allow("ecs:RunTask")), "impact-pass-role-executor", False),
    (
        "pass-role-lambda",
        task_role(allow("iam:PassRole"), allow("lambda:Create*")),
        "impact-pass-role-executor",
        True,
    ),
    ("audit", task_role(allow("cloudtrail:StopLogging")), "impact-disable-audit", True),
    ("audit-read", task_role(allow("cloudtrail:Describe*")), "impact-disable-audit", False),
    ("destroy-buckets", task_role(allow("s3:DeleteBucket")), "impact-data-destruction", True),
    (
        "destroy-one-bucket",
        task_role(allow("s3:DeleteBucket", "arn:aws:s3:::tmp")),
        "impact-data-destruction",
        False,
    ),
    (
        "destroy-ransom",
        task_role(allow("s3:PutObject"), allow("kms:ScheduleKeyDeletion", "arn:aws:kms:*:*:key/x")),
        "impact-data-destruction",
        True,
    ),
    ("destroy-put-without-kms", task_role(allow("s3:PutObject")), "impact-data-destruction", False),
    (
        "destroy-rds",
        task_role(allow("rds:DeleteDBInstance", "arn:aws:rds:eu-west-1:1:db:app")),
        "impact-data-destruction",
        True,
    ),
    ("read-all-secrets", task_role(allow("secretsmanager:GetSecretValue")), "impact-data-access", True),
    (
        "read-own-secret",
        task_role(allow("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:eu-west-1:1:secret:x")),
        "impact-data-access",
        False,
    ),
    ("read-conditional", task_role(allow("s3:GetObject", **COND)), "impact-data-access", True),
    (
        "svc-admin-notaction",
        task_role({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}),
        "service-admin-role",
        False,
    ),  # near-admin: admin-access-role says it
    ("svc-admin-listed", task_role(allow(["sqs:*"])), "service-admin-role", True),
]


@pytest.mark.parametrize(
    ("document", "trait", "expected"), [c[1:] for c in TRAIT_CASES], ids=[c[0] for c in TRAIT_CASES]
)
def test_trait_from_evaluator(document: dict, trait: str, expected: bool | str) -> None:
    got = outcomes(document).get(trait)
    if expected == "unknown":
        assert isinstance(got, TraitUnknown)
    elif expected:
        assert isinstance(got, TraitHit), got
        assert all(e.loc is not None and "Statement" in e.loc.parts for e in got.evidence)
    else:
        assert got is None, got


def test_impact_evidence_names_actions_and_statement() -> None:
    hit = outcomes(
        task_role(
            {"Sid": "Jobs", "Effect": "Allow", "Action": ["iam:PassRole", "ecs:RunTask"], "Resource": "*"}
        )
    )["impact-pass-role-executor"]
    assert isinstance(hit, TraitHit)
    [ev] = hit.evidence
    facts = dict(ev.facts)
    assert facts["statement"] == "Jobs" and set(facts["actions"]) == {"iam:PassRole", "ecs:RunTask"}
    assert "policy inline0 statement Jobs grants" in ev.summary


def test_conditional_grant_is_marked() -> None:
    hit = outcomes(task_role(allow("s3:GetObject", **COND)))["impact-data-access"]
    assert isinstance(hit, TraitHit) and "conditional" in hit.qualifiers
    assert dict(hit.evidence[0].facts)["conditional"] is True


def test_execution_role_has_no_impact_traits() -> None:
    doc = snapshot(
        task_definitions=[taskdef(executionRoleArn=f"{ROLE}/exec")],
        roles=[role("exec", inline=([allow("*")],))],
    )
    got = outcomes(doc)
    assert "impact-full-control" not in got and isinstance(got["admin-access-role"], TraitHit)


def test_full_control_folds_other_impacts() -> None:
    from conftest import scan_doc

    [f] = scan_doc(task_role(allow("*"))).findings
    ids = [h.trait_id for h in f.hits]
    assert "impact-full-control" in ids and not [
        i for i in ids if i.startswith("impact-") and i != "impact-full-control"
    ]
    full = next(h for h in f.hits if h.trait_id == "impact-full-control")
    assert full.note and "impact-policy-escalation" in full.note


def test_roles_are_evaluated_once_per_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    import ecs_exposure.traits._iam as iam_traits
    from builders import service
    from conftest import scan_doc

    calls = []
    real = iam_traits.evaluate
    monkeypatch.setattr(iam_traits, "evaluate", lambda *a, **k: calls.append(1) or real(*a, **k))
    doc = snapshot(
        services=[service(name=f"s{i}", td="app:1") for i in range(20)],
        task_definitions=[taskdef(taskRoleArn=f"{ROLE}/task")],
        roles=[role("task", inline=([allow("*")],))],
    )
    assert len(scan_doc(doc).findings) == 20
    assert len(calls) == 1
