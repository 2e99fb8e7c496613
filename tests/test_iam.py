"""The IAM evaluator, feature by feature, and the impact traits it decides."""

from __future__ import annotations

from typing import Any

import pytest

from builders import ROLE, policy, role, snapshot, taskdef
from conftest import outcomes
from ecs_exposure.iam import catalogue, evaluate
from ecs_exposure.model import Loc, PolicyDocument, TraitHit, TraitUnknown


def doc(*statements: dict[str, Any], name: str = "p") -> PolicyDocument:
    return PolicyDocument(name, tuple(statements), Loc("t.json"))


def allow(action: Any, resource: Any = "*", **kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **kw}


def deny(action: Any, resource: Any = "*", **kw: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **kw}


COND = {"Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}
A = "111122223333"  # the account of the roles under test (builders.ACCOUNT)
ROLES = f"arn:aws:iam::{A}:role/*"


def allow_not(action: Any, resource: Any = "*", **kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "NotAction": action, "Resource": resource, **kw}


def allow_notres(action: Any, not_resource: Any, **kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "NotResource": not_resource, **kw}


# (case, statements, boundary statements or None, action, expected grant level)
# 'broad': every resource of every resource type of the action in the role's account (every region);
# 'scoped': some of them; 'conditional-broad' / 'conditional': the same, only under conditions.
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
    ("typed-resource-every-role", [allow("iam:PassRole", ROLES)], None, "iam:PassRole", "broad"),
    # every object, but S3 access points (another resource type of GetObject) are not covered:
    # see ONE_TYPE below for "every object"
    (
        "s3-objects-not-access-points",
        [allow("s3:GetObject", "arn:aws:s3:::*/*")],
        None,
        "s3:GetObject",
        "scoped",
    ),
    ("s3-buckets", [allow("s3:DeleteBucket", "arn:aws:s3:::*")], None, "s3:DeleteBucket", "broad"),
    (
        "s3-objects-are-not-buckets",
        [allow("s3:DeleteBucket", "arn:aws:s3:::*/*")],
        None,
        "s3:DeleteBucket",
        None,
    ),
    # was 'broad' when any NotResource counted as every resource: everything but one bucket is scoped
    (
        "not-resource",
        [allow_notres("s3:GetObject", "arn:aws:s3:::private/*")],
        None,
        "s3:GetObject",
        "scoped",
    ),
    (
        "not-resource-elsewhere",
        [allow_notres("iam:PassRole", "arn:aws:s3:::private/*")],
        None,
        "iam:PassRole",
        "broad",
    ),
    ("not-resource-star", [allow_notres("*", "*")], None, "s3:GetObject", None),
    ("not-action", [allow_not("iam:*")], None, "s3:GetObject", "broad"),
    ("not-action-excludes", [allow_not(["iam:*", "sts:*"])], None, "sts:AssumeRole", None),
    ("condition", [allow("kms:Decrypt", **COND)], None, "kms:Decrypt", "conditional-broad"),
    (
        "condition-scoped",
        [allow("s3:DeleteBucket", "arn:aws:s3:::a*", **COND)],
        None,
        "s3:DeleteBucket",
        "conditional",
    ),
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
        "conditional-broad",
    ),
    # was 'conditional' when any scoped Deny made the whole grant conditional: it removes one bucket
    (
        "scoped-deny",
        [allow("s3:GetObject"), deny("s3:GetObject", "arn:aws:s3:::secret/*")],
        None,
        "s3:GetObject",
        "scoped",
    ),
    # issue #9: a Deny removes an action only where its resources cover the action's resources
    (
        "deny-s3-arns-spares-iam",
        [allow("*:*"), deny("*", "arn:aws:s3:::*")],
        None,
        "iam:PutUserPolicy",
        "broad",
    ),
    (
        "deny-s3-arns-removes-buckets",
        [allow("*:*"), deny("*", "arn:aws:s3:::*")],
        None,
        "s3:DeleteBucket",
        None,
    ),
    (
        "deny-s3-arns-leaves-access-points",
        [allow("*"), deny("*", "arn:aws:s3:::*")],
        None,
        "s3:GetObject",
        "scoped",
    ),
    (
        "deny-s3-arns-spares-untyped",
        [allow("*"), deny("*", "arn:aws:s3:::*")],
        None,
        "s3:ListAllMyBuckets",
        "broad",
    ),
    ("deny-roles-spares-users", [allow("*"), deny("iam:*", ROLES)], None, "iam:PutUserPolicy", "broad"),
    ("deny-roles-removes-roles", [allow("*"), deny("iam:*", ROLES)], None, "iam:PutRolePolicy", None),
    (
        "deny-one-role",
        [allow("*"), deny("iam:*", f"arn:aws:iam::{A}:role/admin")],
        None,
        "iam:PutRolePolicy",
        "scoped",
    ),
    (
        "deny-other-account-role",
        [allow("*"), deny("iam:*", "arn:aws:iam::999999999999:role/*")],
        None,
        "iam:PassRole",
        "broad",
    ),
    # an Allow on some ARNs grants only the actions acting on them
    ("allow-s3-arns-bucket", [allow("*", "arn:aws:s3:::*")], None, "s3:DeleteBucket", "broad"),
    ("allow-s3-arns-not-iam", [allow("*", "arn:aws:s3:::*")], None, "iam:PutUserPolicy", None),
    ("allow-s3-arns-not-untyped", [allow("*", "arn:aws:s3:::*")], None, "s3:ListAllMyBuckets", None),
    ("allow-roles-passrole", [allow("*", ROLES)], None, "iam:PassRole", "broad"),
    ("allow-roles-not-users", [allow("*", ROLES)], None, "iam:PutUserPolicy", None),
    ("allow-roles-not-s3", [allow("*", ROLES)], None, "s3:GetObject", None),
    # accounts and regions: the role's own account, every region
    (
        "other-account",
        [allow("iam:PassRole", "arn:aws:iam::999999999999:role/*")],
        None,
        "iam:PassRole",
        None,
    ),
    ("any-account", [allow("iam:PassRole", "arn:aws:iam::*:role/*")], None, "iam:PassRole", "broad"),
    ("account-glob", [allow("iam:PassRole", "arn:aws:iam::*3:role/*")], None, "iam:PassRole", "broad"),
    (
        "one-region",
        [allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:eu-west-1:{A}:secret:*")],
        None,
        "secretsmanager:GetSecretValue",
        "scoped",
    ),
    (
        "any-region",
        [allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:*:{A}:secret:*")],
        None,
        "secretsmanager:GetSecretValue",
        "broad",
    ),
    # AWS: a * ending an ARN part may run past the colon (its own example: arn:aws:dynamodb:*:table/…)
    (
        "star-crosses-colon",
        [allow("dynamodb:DeleteTable", "arn:aws:dynamodb:*:table/*")],
        None,
        "dynamodb:DeleteTable",
        "broad",
    ),
    (
        "star-inside-part-stays",
        [allow("dynamodb:DeleteTable", "arn:aws:dynamodb:*1:table/*")],
        None,
        "dynamodb:DeleteTable",
        None,
    ),
    (
        "question-mark-one-char",
        [allow("s3:DeleteBucket", "arn:aws:s3:::?")],
        None,
        "s3:DeleteBucket",
        "scoped",
    ),
    # case: partition and service parts are not case-sensitive, the rest is
    ("case-service-part", [allow("s3:DeleteBucket", "arn:AWS:S3:::*")], None, "s3:DeleteBucket", "broad"),
    ("case-resource-part", [allow("iam:PassRole", f"arn:aws:iam::{A}:ROLE/*")], None, "iam:PassRole", None),
    ("partition-star", [allow("s3:DeleteBucket", "arn:*:s3:::*")], None, "s3:DeleteBucket", "broad"),
    ("other-partition", [allow("s3:DeleteBucket", "arn:aws-cn:s3:::*")], None, "s3:DeleteBucket", None),
    # policy variables: one value of the request, so some resources
    (
        "variable",
        [allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*")],
        None,
        "s3:GetObject",
        "scoped",
    ),
    (
        "variable-deny",
        [allow("s3:*"), deny("s3:DeleteBucket", "arn:aws:s3:::${aws:username}")],
        None,
        "s3:DeleteBucket",
        "scoped",
    ),
    (
        "escaped-star-is-literal",
        [allow("s3:DeleteBucket", "arn:aws:s3:::${*}")],
        None,
        "s3:DeleteBucket",
        None,
    ),
    # actions without a resource type act on "*" only
    ("untyped-star", [allow("s3:ListAllMyBuckets")], None, "s3:ListAllMyBuckets", "broad"),
    ("untyped-arn", [allow("s3:ListAllMyBuckets", "arn:aws:s3:::*")], None, "s3:ListAllMyBuckets", None),
    (
        "untyped-not-resource",
        [allow_notres("s3:ListAllMyBuckets", "arn:aws:s3:::x")],
        None,
        "s3:ListAllMyBuckets",
        "broad",
    ),
    # an action with several resource types needs them all for 'broad'
    (
        "multi-type",
        [allow("ec2:RunInstances", "arn:aws:ec2:*:*:instance/*")],
        None,
        "ec2:RunInstances",
        "scoped",
    ),
    # permissions boundaries intersect, resources and conditions included
    ("boundary-allows", [allow("s3:*")], [allow("s3:GetObject")], "s3:GetObject", "broad"),
    ("boundary-limits", [allow("*")], [allow("s3:GetObject")], "kms:Decrypt", None),
    ("boundary-deny", [allow("*")], [allow("*"), deny("iam:*")], "iam:PassRole", None),
    ("boundary-no-grant", [allow("s3:GetObject")], [allow("*")], "kms:Decrypt", None),
    (
        "boundary-one-bucket",
        [allow("s3:*")],
        [allow("s3:*", "arn:aws:s3:::one")],
        "s3:DeleteBucket",
        "scoped",
    ),
    (
        "boundary-one-bucket-no-objects",
        [allow("s3:*")],
        [allow("s3:*", "arn:aws:s3:::one")],
        "s3:GetObject",
        None,
    ),
    ("boundary-condition", [allow("s3:*")], [allow("s3:*", **COND)], "s3:DeleteBucket", "conditional-broad"),
    ("boundary-scoped-deny", [allow("*")], [allow("*"), deny("iam:*", ROLES)], "iam:PutUserPolicy", "broad"),
    ("boundary-scoped-deny-roles", [allow("*")], [allow("*"), deny("iam:*", ROLES)], "iam:PassRole", None),
    ("unknown-action-ignored", [allow("s3:NoSuchAction")], None, "s3:GetObject", None),
]


@pytest.mark.parametrize(
    ("stmts", "boundary", "action", "level"), [g[1:] for g in GRANTS], ids=[g[0] for g in GRANTS]
)
def test_grant(stmts: list, boundary: list | None, action: str, level: str | None) -> None:
    perms = evaluate([doc(*stmts)], doc(*boundary, name="b") if boundary is not None else None, account=A)
    assert perms.errors == []
    assert perms.grant(action) == level


# "every resource of one of its types" (impact rules: read every object, with or without access points)
ONE_TYPE = [
    ("s3-objects", [allow("s3:GetObject", "arn:aws:s3:::*/*")], "s3:GetObject", True),
    ("one-bucket-objects", [allow("s3:GetObject", "arn:aws:s3:::b/*")], "s3:GetObject", False),
    ("deny-objects-leaves-access-points", [allow("*"), deny("*", "arn:aws:s3:::*")], "s3:GetObject", True),
    (
        "deny-both",
        [allow("*"), deny("*", ["arn:aws:s3:::*", "arn:aws:s3:*:*:accesspoint/*"])],
        "s3:GetObject",
        False,
    ),
    ("instances-only", [allow("ec2:RunInstances", "arn:aws:ec2:*:*:instance/*")], "ec2:RunInstances", True),
]


@pytest.mark.parametrize(
    ("stmts", "action", "expected"), [c[1:] for c in ONE_TYPE], ids=[c[0] for c in ONE_TYPE]
)
def test_every_resource_of_one_type(stmts: list, action: str, expected: bool) -> None:
    perms = evaluate([doc(*stmts)], account=A)
    assert bool(perms.every_of_a_type & perms.cat.bit(action)) is expected


def test_statements_of_several_policies_combine() -> None:
    perms = evaluate([doc(allow("iam:PassRole"), name="a"), doc(allow("ecs:RunTask"), name="b")], account=A)
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


# ------------------------------------------------------------------- the policy grammar

OK = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def stmt(**changes: Any) -> dict[str, Any]:
    """OK with elements changed (None: removed)."""
    out = {**OK, **changes}
    return {k: v for k, v in out.items() if v is not None}


# (case, whole document, expected problem text) — AWS's grammar and MalformedPolicyDocument checks
INVALID = [
    ("effect-miscased", {"Statement": [stmt(Effect="allow")]}, "Effect must be exactly"),
    ("effect-missing", {"Statement": [stmt(Effect=None)]}, "no Effect"),
    ("effect-other", {"Statement": [stmt(Effect="Permit")]}, "Effect must be exactly"),
    ("effect-not-string", {"Statement": [stmt(Effect=True)]}, "Effect must be exactly"),
    ("unknown-element", {"Statement": [stmt(Resources="*")]}, "unknown element 'Resources'"),
    ("principal-in-identity-policy", {"Statement": [stmt(Principal="*")]}, "Principal is not allowed"),
    ("action-and-notaction", {"Statement": [stmt(NotAction="iam:*")]}, "both Action and NotAction"),
    ("neither-action", {"Statement": [stmt(Action=None)]}, "neither Action nor NotAction"),
    ("resource-and-notresource", {"Statement": [stmt(NotResource="arn:aws:s3:::x")]}, "both Resource"),
    ("neither-resource", {"Statement": [stmt(Resource=None)]}, "neither Resource nor NotResource"),
    ("action-number", {"Statement": [stmt(Action=3)]}, "must be a string or a list"),
    ("action-empty-list", {"Statement": [stmt(Action=[])]}, "empty list"),
    ("action-list-of-objects", {"Statement": [stmt(Action=[{"a": 1}])]}, "only strings"),
    ("action-no-prefix", {"Statement": [stmt(Action="GetObject")]}, "no service prefix"),
    ("action-two-colons", {"Statement": [stmt(Action="s3:Get:Object")]}, "more than one colon"),
    ("resource-not-arn", {"Statement": [stmt(Resource="my-bucket")]}, "ARN format"),
    ("resource-service-wildcard", {"Statement": [stmt(Resource="arn:aws:*:*:*:*")]}, "service part"),
    ("resource-unknown-partition", {"Statement": [stmt(Resource="arn:amazon:s3:::x")]}, "unknown partition"),
    ("resource-short", {"Statement": [stmt(Resource="arn:aws:s3")]}, "fewer than the six parts"),
    ("condition-string", {"Statement": [stmt(Condition="yes")]}, "Condition must be an object"),
    (
        "condition-operator-list",
        {"Statement": [stmt(Condition={"StringEquals": ["a"]})]},
        "Condition StringEquals",
    ),
    (
        "condition-value-object",
        {"Statement": [stmt(Condition={"StringEquals": {"k": {"v": 1}}})]},
        "values must",
    ),
    ("sid-number", {"Statement": [stmt(Sid=1)]}, "Sid must be a string"),
    ("version", {"Version": "2012-10-18", "Statement": [OK]}, "Version must be"),
    ("unknown-top-level", {"Statement": [OK], "Statements": []}, "unknown top-level element"),
    ("no-statement", {"Version": "2012-10-17"}, "no Statement"),
    ("statement-string", {"Statement": "Allow everything"}, "Statement must be"),
    ("statement-entry-string", {"Statement": [OK, "oops"]}, "statement 1: a statement must be a JSON object"),
    ("not-an-object", ["Statement"], "not a JSON object"),
]
VALID = [
    ("star-colon-star", {"Statement": [stmt(Action="*:*")]}),
    ("single-statement-object", {"Version": "2012-10-17", "Statement": OK}),
    ("version-2008", {"Version": "2008-10-17", "Id": "x", "Statement": [OK]}),
    ("not-resource", {"Statement": [stmt(Resource=None, NotResource=["arn:aws:s3:::x", "*"])]}),
    ("partition-star", {"Statement": [stmt(Resource="arn:*:s3:::x")]}),
    ("trailing-star-short", {"Statement": [stmt(Resource="arn:aws:s3:*")]}),
    ("condition-values", {"Statement": [stmt(Condition={"Bool": {"aws:SecureTransport": [True, "false"]}})]}),
    ("variable", {"Statement": [stmt(Resource="arn:aws:s3:::${aws:username}/*")]}),
]


def raw_doc(document: Any, name: str = "p") -> PolicyDocument:
    stmts = document.get("Statement") if isinstance(document, dict) else None
    stmts = [stmts] if isinstance(stmts, dict) else stmts if isinstance(stmts, list) else []
    return PolicyDocument(
        name, tuple(s for s in stmts if isinstance(s, dict)), Loc("t.json"), document=document
    )


@pytest.mark.parametrize(("document", "problem"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_policy_is_an_error(document: Any, problem: str) -> None:
    perms = evaluate([raw_doc(document)], account=A)
    assert perms.errors and problem in perms.errors[0], perms.errors
    assert perms.any == 0
    boundary = evaluate([doc(allow("*"))], raw_doc(document, "b"), account=A)  # an invalid boundary too
    assert boundary.errors and "permissions boundary b" in boundary.errors[0]


@pytest.mark.parametrize("document", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_policy(document: Any) -> None:
    assert evaluate([raw_doc(document)], account=A).errors == []


def test_statements_without_document_are_checked_too() -> None:
    """Built-in managed policies and tests give statements only: the statement rules still apply."""
    assert evaluate([doc(stmt(Effect="ALLOW"))], account=A).errors


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
        task_role(allow("rds:DeleteDBInstance", f"arn:aws:rds:eu-west-1:{A}:db:app")),
        "impact-data-destruction",
        True,
    ),
    # (this case used account "1": a database of another account is out of the role's reach)
    (
        "destroy-rds-other-account",
        task_role(allow("rds:DeleteDBInstance", "arn:aws:rds:eu-west-1:1:db:app")),
        "impact-data-destruction",
        False,
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
    # ---- issue #9, seen cases
    # Allow everything, Deny everything on S3's ARNs: admin of everything but S3 → near-admin
    ("deny-s3-near-admin", task_role(allow("*:*"), deny("*", "arn:aws:s3:::*")), "admin-access-role", True),
    ("deny-s3-not-full", task_role(allow("*:*"), deny("*", "arn:aws:s3:::*")), "impact-full-control", False),
    (
        "deny-s3-escalation",
        task_role(allow("*:*"), deny("*", "arn:aws:s3:::*")),
        "impact-policy-escalation",
        True,
    ),
    ("deny-s3-still-reads", task_role(allow("*"), deny("*", "arn:aws:s3:::*")), "impact-data-access", True),
    # a Deny on the account's roles leaves iam:PutUserPolicy: the escalation path stays
    ("deny-roles-escalation", task_role(allow("*"), deny("iam:*", ROLES)), "impact-policy-escalation", True),
    ("deny-roles-near-admin", task_role(allow("*"), deny("iam:*", ROLES)), "admin-access-role", True),
    ("deny-roles-not-full", task_role(allow("*"), deny("iam:*", ROLES)), "impact-full-control", False),
    (
        "deny-roles-no-minting-by-assume",
        task_role(allow("sts:*"), deny("*", ROLES)),
        "impact-credential-minting",
        False,
    ),
    # Allow * on S3's ARNs: not admin, not full control, but every bucket and object
    ("allow-s3-arns-not-admin", task_role(allow("*", "arn:aws:s3:::*")), "admin-access-role", False),
    ("allow-s3-arns-not-full", task_role(allow("*", "arn:aws:s3:::*")), "impact-full-control", False),
    ("allow-s3-arns-not-svc-admin", task_role(allow("*", "arn:aws:s3:::*")), "service-admin-role", False),
    ("allow-s3-arns-destroy", task_role(allow("*", "arn:aws:s3:::*")), "impact-data-destruction", True),
    ("allow-s3-arns-read", task_role(allow("*", "arn:aws:s3:::*")), "impact-data-access", True),
    (
        "allow-s3-arns-no-escalation",
        task_role(allow("*", "arn:aws:s3:::*")),
        "impact-policy-escalation",
        False,
    ),
    # Allow * on the account's roles: not admin, but rewrite and assume every role
    ("allow-roles-not-admin", task_role(allow("*", ROLES)), "admin-access-role", False),
    ("allow-roles-not-full", task_role(allow("*", ROLES)), "impact-full-control", False),
    ("allow-roles-escalation", task_role(allow("*", ROLES)), "impact-policy-escalation", True),
    ("allow-roles-minting", task_role(allow("*", ROLES)), "impact-credential-minting", True),
    ("allow-roles-no-runtask", task_role(allow("*", ROLES)), "impact-pass-role-executor", False),
    ("allow-roles-no-data", task_role(allow("*", ROLES)), "impact-data-access", False),
    # a boundary of s3:* on one bucket: scoped, not "on every resource"
    (
        "boundary-bucket-svc-admin",
        task_role(allow("s3:*"), boundary=[allow("s3:*", "arn:aws:s3:::one")]),
        "service-admin-role",
        False,
    ),
    (
        "boundary-bucket-destroy",
        task_role(allow("s3:*"), boundary=[allow("s3:*", "arn:aws:s3:::one")]),
        "impact-data-destruction",
        False,
    ),
    (
        "boundary-star-svc-admin",
        task_role(allow("s3:*"), boundary=[allow("s3:*")]),
        "service-admin-role",
        True,
    ),
    (
        "boundary-admin-bucket",
        task_role(allow("*"), boundary=[allow("*", "arn:aws:s3:::one")]),
        "admin-access-role",
        False,
    ),
    # invalid policies: unknown, never absent
    (
        "miscased-effect-admin",
        task_role({"Effect": "allow", "Action": "*", "Resource": "*"}),
        "admin-access-role",
        "unknown",
    ),
    (
        "miscased-effect-full",
        task_role({"Effect": "allow", "Action": "*", "Resource": "*"}),
        "impact-full-control",
        "unknown",
    ),
    (
        "miscased-deny",
        task_role(allow("*"), {"Effect": "deny", "Action": "*", "Resource": "*"}),
        "admin-access-role",
        "unknown",
    ),
    (
        "missing-effect",
        task_role({"Action": "iam:*", "Resource": "*"}),
        "impact-policy-escalation",
        "unknown",
    ),
    ("unknown-element", task_role(stmt(Resources="*", Resource=None)), "impact-data-access", "unknown"),
    (
        "invalid-boundary",
        task_role(allow("*"), boundary=[{"Effect": "Allow", "Action": "*"}]),
        "admin-access-role",
        "unknown",
    ),
    # conditions make grants conditional, never silently full nor absent
    ("conditional-admin", task_role(allow("*", **COND)), "admin-access-role", True),
    ("conditional-deny-admin", task_role(allow("*"), deny("*", **COND)), "admin-access-role", True),
    ("conditional-not-full", task_role(allow("*", **COND)), "impact-full-control", False),
    (
        "conditional-scoped-read",
        task_role(allow("s3:GetObject", "arn:aws:s3:::b/*", **COND)),
        "impact-data-access",
        False,
    ),
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


def test_conditions_qualify_admin() -> None:
    for document in (task_role(allow("*", **COND)), task_role(allow("*"), deny("*", **COND))):
        hit = outcomes(document)["admin-access-role"]
        assert isinstance(hit, TraitHit) and "conditional" in hit.qualifiers
        assert all(dict(e.facts)["conditional"] is True for e in hit.evidence)
        assert "only under" in hit.evidence[0].summary
    hit = outcomes(task_role(allow("*")))["admin-access-role"]
    assert isinstance(hit, TraitHit) and "conditional" not in hit.qualifiers


def test_near_admin_says_what_is_missing_and_why() -> None:
    hit = outcomes(
        task_role(
            allow("*:*"), {"Sid": "NoS3", "Effect": "Deny", "Action": "*", "Resource": "arn:aws:s3:::*"}
        )
    )["admin-access-role"]
    assert isinstance(hit, TraitHit)
    summary = hit.evidence[0].summary
    assert "near-admin" in summary and "s3:*" in summary and "on some resources only" in summary
    assert "statement NoS3 (Deny on arn:aws:s3:::*)" in summary


def test_escalation_evidence_after_scoped_deny() -> None:
    hit = outcomes(
        task_role(allow("*"), {"Sid": "Roles", "Effect": "Deny", "Action": "iam:*", "Resource": ROLES})
    )["impact-policy-escalation"]
    assert isinstance(hit, TraitHit)
    facts = dict(hit.evidence[0].facts)
    assert "iam:PutUserPolicy" in facts["actions"] and "iam:PutRolePolicy" not in facts["actions"]
    # the facts remediation reads are all there
    assert {"role", "roleKind", "policy", "statement", "conditional", "actions", "scope", "resources"} <= set(
        facts
    )
    assert facts["scope"] == "broad" and facts["conditional"] is False


def test_scoped_grant_says_its_scope() -> None:
    hit = outcomes(task_role(allow("iam:PutRolePolicy", f"arn:aws:iam::{A}:role/app-*")))[
        "impact-policy-escalation"
    ]
    assert isinstance(hit, TraitHit)
    facts = dict(hit.evidence[0].facts)
    assert facts["scope"] == "scoped" and facts["resources"] == f"arn:aws:iam::{A}:role/app-*"
    assert "on some resources" in hit.evidence[0].summary


def test_invalid_policy_reason_names_the_problem() -> None:
    got = outcomes(task_role({"Effect": "allow", "Action": "*", "Resource": "*"}))["admin-access-role"]
    assert isinstance(got, TraitUnknown)
    assert "role task" in got.reason and "inline0" in got.reason and "Effect must be exactly" in got.reason


def test_invalid_task_role_does_not_hide_admin_execution_role() -> None:
    document = snapshot(
        task_definitions=[taskdef(taskRoleArn=f"{ROLE}/task", executionRoleArn=f"{ROLE}/exec")],
        roles=[
            role("task", inline=([{"Effect": "ALLOW", "Action": "*", "Resource": "*"}],)),
            role("exec", inline=([allow("*")],)),
        ],
    )
    hit = outcomes(document)["admin-access-role"]
    assert isinstance(hit, TraitHit) and hit.note and "not decided" in hit.note and "Effect" in hit.note


def test_invalid_document_from_a_snapshot() -> None:
    """A snapshot's policy text that is not JSON, or a document without statements, makes the role
    unknown (the policy used to vanish, leaving the role's traits absent)."""
    for bad in ("%7B%22Statement", {"Version": "2012-10-17"}, None):
        r = role("task")
        r["RolePolicyList"] = [{"PolicyName": "broken", "PolicyDocument": bad}]
        document = snapshot(task_definitions=[taskdef(taskRoleArn=f"{ROLE}/task")], roles=[r])
        got = outcomes(document)["admin-access-role"]
        assert isinstance(got, TraitUnknown) and "broken" in got.reason, (bad, got)


def test_unconditional_scoped_beats_conditional_everywhere() -> None:
    """Found by the property test: iam:PutUserPolicy allowed on every user but one, that one under
    a conditional Deny, is held unconditionally (on some users), not only under conditions."""
    hit = outcomes(task_role(allow("*"), deny("iam:*", [ROLES, f"arn:aws:iam::{A}:user/app"], **COND)))[
        "impact-policy-escalation"
    ]
    assert isinstance(hit, TraitHit) and "conditional" not in hit.qualifiers


@pytest.mark.parametrize(
    "pattern",
    [
        "arn:aws:s3:::" + "*a" * 1000,
        "arn:aws:iam::*:" + "*?" * 1000,
        "arn:aws:s3:::" + "?" * 2000,
        "arn:aws:iam::*:role/" + "x" * 5000,
    ],
    ids=["stars", "stars-and-marks", "marks", "too-long"],
)
def test_hostile_patterns_are_decided_or_unknown_quickly(pattern: str) -> None:
    """A snapshot is input: a pattern built to blow up the automata must neither stall the scan nor
    pass silently. (A generous bound that exponential behaviour cannot meet.)"""
    import time

    start = time.monotonic()
    perms = evaluate([doc(allow("*"), deny("*", pattern))], account=A)
    assert time.monotonic() - start < 30
    if perms.errors:
        assert "too complex" in perms.errors[0] or "longer than any ARN" in perms.errors[0]
    else:
        assert perms.grant("iam:PutUserPolicy") in ("broad", "scoped")


def test_invalid_policy_is_one_line_and_an_incomplete_scan() -> None:
    from conftest import scan_doc

    result = scan_doc(task_role({"Effect": "allow", "Action": "*", "Resource": "*"}))
    assert not result.complete
    [issue] = [i for i in result.issues if "not a valid IAM policy" in str(i)]
    assert "RolePolicyList[0].PolicyDocument" in str(issue) and "Effect must be exactly" in str(issue)
