"""Who may assume a task role (its trust policy), and what that does to the finding."""

from __future__ import annotations

from typing import Any

import pytest

from builders import ROLE, role, service, snapshot, taskdef
from conftest import outcomes, scan_doc
from ecs_exposure.model import Likelihood, TraitHit

OTHER = "999999999999"
ECS = {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
GITHUB = f"arn:aws:iam::{OTHER}:oidc-provider/token.actions.githubusercontent.com"


def trusting(*statements: dict[str, Any], read_only: bool = True, document: Any = None) -> dict:
    r = role("task", inline=([{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],))
    r["AssumeRolePolicyDocument"] = (
        document if document is not None else {"Version": "2012-10-17", "Statement": list(statements)}
    )
    return snapshot(services=[service()], task_definitions=[taskdef(taskRoleArn=f"{ROLE}/task")], roles=[r])


def allowing(principal: Any, action: Any = "sts:AssumeRole", **kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, **kw}


# (case, trust statements, expected trust level, expected qualifiers)
CASES = [
    ("ecs-tasks-only", [ECS], "ecs-tasks", set()),
    ("other-service", [ECS, allowing({"Service": "lambda.amazonaws.com"})], "service", set()),
    ("same-account-root", [ECS, allowing({"AWS": "arn:aws:iam::111122223333:root"})], "same-account", set()),
    ("same-account-id", [ECS, allowing({"AWS": "111122223333"})], "same-account", set()),
    ("deleted-principal", [ECS, allowing({"AWS": "AROAEXAMPLEID1234567"})], "same-account", set()),
    (
        "other-account",
        [ECS, allowing({"AWS": f"arn:aws:iam::{OTHER}:root"})],
        "cross-account",
        {"cross-account", "notable"},
    ),
    ("other-account-id", [ECS, allowing({"AWS": [OTHER]})], "cross-account", {"cross-account", "notable"}),
    (
        "other-account-external-id",
        [ECS, allowing({"AWS": OTHER}, Condition={"StringEquals": {"sts:ExternalId": "x"}})],
        "cross-account",
        {"cross-account", "notable", "conditional"},
    ),
    ("star", [ECS, allowing("*")], "public", {"public", "notable"}),
    ("aws-star", [ECS, allowing({"AWS": "*"})], "public", {"public", "notable"}),
    ("wildcard-action", [ECS, allowing({"AWS": "*"}, action="sts:*")], "public", {"public", "notable"}),
    (
        "not-principal",
        [ECS, {"Effect": "Allow", "NotPrincipal": {"AWS": OTHER}, "Action": "sts:AssumeRole"}],
        "public",
        {"public", "notable"},
    ),
    (
        "star-in-org",
        [ECS, allowing("*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})],
        "cross-account",
        {"cross-account", "notable", "conditional"},
    ),
    (
        "oidc-any-repo",
        [
            ECS,
            allowing(
                {"Federated": GITHUB},
                "sts:AssumeRoleWithWebIdentity",
                Condition={"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
            ),
        ],
        "public",
        {"public", "notable", "conditional"},
    ),
    (
        "oidc-one-repo",
        [
            ECS,
            allowing(
                {"Federated": GITHUB},
                "sts:AssumeRoleWithWebIdentity",
                Condition={"StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/app:*"}},
            ),
        ],
        "cross-account",
        {"cross-account", "notable", "conditional"},
    ),
    (
        "saml",
        [
            ECS,
            allowing({"Federated": "arn:aws:iam::111122223333:saml-provider/corp"}, "sts:AssumeRoleWithSAML"),
        ],
        "cross-account",
        {"cross-account", "notable"},
    ),
    ("not-an-assume-action", [ECS, allowing("*", "sts:TagSession")], "ecs-tasks", set()),
    (
        "denied-to-all",
        [ECS, allowing("*"), {"Effect": "Deny", "Principal": "*", "Action": "sts:*"}],
        "ecs-tasks",
        set(),
    ),
    (
        "conditional-deny",
        [
            ECS,
            allowing("*"),
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sts:AssumeRole",
                "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}},
            },
        ],
        "public",
        {"public", "notable", "conditional"},
    ),
]


@pytest.mark.parametrize(
    ("statements", "level", "qualifiers"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_who_may_assume(statements: list, level: str, qualifiers: set[str]) -> None:
    hit = outcomes(trusting(*statements))["assumable-task-role"]
    assert isinstance(hit, TraitHit)
    facts = dict(hit.evidence[0].facts)
    assert facts["trust"] == level
    assert set(hit.qualifiers) == qualifiers
    if level != "ecs-tasks":
        assert "ecs-tasks.amazonaws.com" not in facts["assumableBy"]


def test_contextual_trust_makes_no_finding() -> None:
    assert scan_doc(trusting(ECS)).findings == ()


@pytest.mark.parametrize(
    ("statements", "likelihood"),
    [([ECS, allowing("*")], Likelihood.HIGH), ([ECS, allowing({"AWS": OTHER})], Likelihood.MODERATE)],
    ids=["public-high", "cross-account-moderate"],
)
def test_outside_principals_rate_the_finding(statements: list, likelihood: Likelihood) -> None:
    [f] = scan_doc(trusting(*statements)).findings
    assert f.likelihood is likelihood and "assumable-task-role" in f.likelihood_traits
    assert f.title.startswith("Potential Unauthorized Access:")
    assert "a task role assumable from outside the account" in f.title


def test_trust_json_says_contributing() -> None:
    import json

    from ecs_exposure.outputs import FORMATS

    report = json.loads(FORMATS["json"](scan_doc(trusting(ECS, allowing("*")))))
    [trait] = [t for t in report["findings"][0]["traits"] if t["id"] == "assumable-task-role"]
    assert trait["contribution"] == "contributing" and "public" in trait["qualifiers"]


@pytest.mark.parametrize(
    ("document", "why"),
    [
        ({"Statement": [{"Effect": "allow", "Principal": "*", "Action": "sts:AssumeRole"}]}, "Effect"),
        ({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}, "neither Principal"),
        ({"Statement": [{**ECS, "Resource": "*"}]}, "Resource is not allowed in a trust policy"),
    ],
    ids=["miscased-effect", "no-principal", "resource"],
)
def test_invalid_trust_policy_is_unknown_not_absent(document: dict, why: str) -> None:
    hit = outcomes(trusting(document=document))["assumable-task-role"]
    assert isinstance(hit, TraitHit) and hit.note and "unknown" in hit.note and why in hit.note
    assert "trust" not in dict(hit.evidence[0].facts) and not hit.qualifiers


def test_trust_policy_not_in_the_inputs() -> None:
    document = trusting(ECS)
    del document["accounts"][0]["iam"]["roles"][0]["AssumeRolePolicyDocument"]
    hit = outcomes(document)["assumable-task-role"]
    assert isinstance(hit, TraitHit) and hit.note and "trust policy is not in the inputs" in hit.note


def test_url_encoded_trust_policy() -> None:
    """GetAccountAuthorizationDetails returns policy documents URL-encoded."""
    import json
    import urllib.parse

    text = urllib.parse.quote(json.dumps({"Version": "2012-10-17", "Statement": [ECS, allowing("*")]}))
    hit = outcomes(trusting(document=text))["assumable-task-role"]
    assert isinstance(hit, TraitHit) and "public" in hit.qualifiers


def test_example_estate_has_an_outside_trust() -> None:
    import json

    from conftest import ROOT

    estate = json.loads((ROOT / "src/ecs_exposure/examples/estate.json").read_text())
    found = [h for f in scan_doc(estate).findings for h in f.hits if h.trait_id == "assumable-task-role"]
    assert any("notable" in h.qualifiers for h in found)
