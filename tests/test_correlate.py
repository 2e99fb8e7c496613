"""Spec §6: the full likelihood × impact table, the rules that set each, and titles."""

from __future__ import annotations

import itertools

import pytest

from ecs_exposure.correlate import SEVERITY_TABLE, correlate, rate_impact, rate_likelihood
from ecs_exposure.model import Evidence, Impact, Likelihood, Loc, Resource, Severity, TraitHit, TraitUnknown

L, Im, S = Likelihood, Impact, Severity

REFERENCE = {
    "VERY_HIGH": {"LOW": "HIGH", "MEDIUM": "CRITICAL", "HIGH": "CRITICAL"},
    "HIGH": {"LOW": "MEDIUM", "MEDIUM": "HIGH", "HIGH": "CRITICAL"},
    "MODERATE": {"LOW": "LOW", "MEDIUM": "MEDIUM", "HIGH": "HIGH"},
    "LOW": {"LOW": "LOW", "MEDIUM": "LOW", "HIGH": "MEDIUM"},
}

SERVICE = Resource(
    "AWS::ECS::Service",
    "arn:aws:ecs:eu-west-1:111122223333:service/c/web",
    "web",
    Loc("snap.json"),
    "111122223333",
    "eu-west-1",
    "aws",
)


def hit(trait: str, *qualifiers: str) -> TraitHit:
    return TraitHit(trait, (Evidence(f"{trait} seen"),), frozenset(qualifiers))


def hits(*items: TraitHit | str) -> dict[str, TraitHit]:
    out = [i if isinstance(i, TraitHit) else hit(i) for i in items]
    return {h.trait_id: h for h in out}


@pytest.mark.parametrize(("likelihood", "impact"), list(itertools.product(L, Im)))
def test_severity_table_matches_reference(likelihood: Likelihood, impact: Impact) -> None:
    assert SEVERITY_TABLE[(likelihood, impact)].name == REFERENCE[likelihood.name][impact.name]


# (traits, unknown traits, expected likelihood, the traits that set it)
LIKELIHOOD_CASES = [
    (
        ["internet-reachable", "exploitable-vulnerability"],
        [],
        L.VERY_HIGH,
        ["internet-reachable", "exploitable-vulnerability"],
    ),
    (
        ["public-ip", "open-security-group", "exploitable-vulnerability"],
        ["internet-reachable"],
        L.VERY_HIGH,
        ["public-ip", "open-security-group", "exploitable-vulnerability"],
    ),
    # with reachability decided absent, public IP + open group are not a path
    (
        ["public-ip", "open-security-group", "exploitable-vulnerability"],
        [],
        L.HIGH,
        ["exploitable-vulnerability"],
    ),
    (
        ["internet-reachable", "software-vulnerability"],
        [],
        L.HIGH,
        ["internet-reachable", "software-vulnerability"],
    ),
    (["internet-reachable", "malicious-package"], [], L.HIGH, ["internet-reachable", "malicious-package"]),
    (["exploitable-vulnerability"], [], L.HIGH, ["exploitable-vulnerability"]),
    ([hit("plaintext-credentials", "cloud")], [], L.HIGH, ["plaintext-credentials"]),
    ([hit("credentials-outside-environment", "cloud")], [], L.HIGH, ["credentials-outside-environment"]),
    (["internet-reachable"], [], L.MODERATE, ["internet-reachable"]),
    (["public-ip"], [], L.MODERATE, ["public-ip"]),
    (["open-security-group"], [], L.MODERATE, ["open-security-group"]),
    (["software-vulnerability"], [], L.MODERATE, ["software-vulnerability"]),
    (["plaintext-credentials"], [], L.MODERATE, ["plaintext-credentials"]),
    (["end-of-life-os"], [], L.MODERATE, ["end-of-life-os"]),
    (["stale-revision-credentials"], [], L.MODERATE, ["stale-revision-credentials"]),
    (["privileged-container"], [], L.LOW, []),
    (["ecs-exec-enabled", "root-user"], [], L.LOW, []),
]


@pytest.mark.parametrize(("traits", "unknown", "expected", "setters"), LIKELIHOOD_CASES)
def test_likelihood(traits: list, unknown: list[str], expected: Likelihood, setters: list[str]) -> None:
    got, by = rate_likelihood(hits(*traits), set(unknown))
    assert (got, by) == (expected, setters)


IMPACT_CASES = [
    (["admin-access-role"], Im.HIGH, ["admin-access-role"]),
    (["impact-full-control"], Im.HIGH, ["impact-full-control"]),
    (["impact-policy-escalation"], Im.HIGH, ["impact-policy-escalation"]),
    (["impact-credential-minting"], Im.HIGH, ["impact-credential-minting"]),
    (["privileged-container"], Im.HIGH, ["privileged-container"]),
    (["host-pid-namespace"], Im.HIGH, ["host-pid-namespace"]),
    ([hit("host-filesystem-mount", "sensitive")], Im.HIGH, ["host-filesystem-mount"]),
    ([hit("dangerous-capabilities", "escape")], Im.HIGH, ["dangerous-capabilities"]),
    (["host-filesystem-mount"], Im.MEDIUM, ["host-filesystem-mount"]),
    (["dangerous-capabilities"], Im.MEDIUM, ["dangerous-capabilities"]),
    (["service-admin-role"], Im.MEDIUM, ["service-admin-role"]),
    (["impact-data-access"], Im.MEDIUM, ["impact-data-access"]),
    (["host-network-mode"], Im.MEDIUM, ["host-network-mode"]),
    (["host-ipc-namespace"], Im.MEDIUM, ["host-ipc-namespace"]),
    (["plaintext-credentials"], Im.MEDIUM, ["plaintext-credentials"]),
    (["public-ip", "open-security-group"], Im.LOW, []),
    (["writable-root-filesystem"], Im.LOW, []),
]


@pytest.mark.parametrize(("traits", "expected", "setters"), IMPACT_CASES)
def test_impact(traits: list, expected: Impact, setters: list[str]) -> None:
    assert rate_impact(hits(*traits)) == (expected, setters)


def test_finding_explains_its_rating() -> None:
    f = correlate(
        SERVICE,
        ["web:7"],
        [
            hit("internet-reachable"),
            hit("plaintext-credentials", "cloud"),
            hit("privileged-container"),
            hit("root-user"),
        ],
        [],
    )
    assert f is not None
    assert (f.likelihood, f.impact, f.severity) == (L.HIGH, Im.HIGH, S.CRITICAL)
    assert f.likelihood_traits == ("plaintext-credentials",)
    assert f.impact_traits == ("privileged-container",)
    assert "plaintext-credentials" in f.explanation and "privileged-container" in f.explanation
    assert f.title == (
        "Potential Container Escape: internet-reachable ECS service has a privileged container "
        "and plaintext credentials"
    )
    assert f.hits[0].trait_id == "privileged-container"  # the traits that set the rating come first


def test_title_for_remote_code_execution() -> None:
    f = correlate(
        SERVICE,
        ["web:7"],
        [hit("internet-reachable"), hit("admin-access-role")],
        [TraitUnknown("exploitable-vulnerability", "no report")],
    )
    assert f is not None and f.title.startswith(
        "Potential Privilege Escalation: internet-reachable ECS service"
    )


def test_title_for_reachability_alone() -> None:
    f = correlate(SERVICE, [], [hit("internet-reachable"), hit("public-ip")], [])
    assert f is not None
    assert f.title == "Potential Unauthorized Access: internet-reachable ECS service has a public IP"
    assert f.severity == S.LOW


def test_task_definition_title() -> None:
    td = Resource("AWS::ECS::TaskDefinition", "td.json", "app", Loc("td.json"))
    f = correlate(td, ["app"], [hit("plaintext-credentials")], [])
    assert f is not None
    assert f.title == "Potential Credential Exposure: ECS task definition has plaintext credentials"


def test_only_contextual_traits_is_informational() -> None:
    f = correlate(
        SERVICE, [], [hit("root-user"), hit("writable-root-filesystem"), hit("assumable-task-role")], []
    )
    assert f is not None and f.informational and f.severity == S.INFORMATIONAL


def test_no_traits_no_finding() -> None:
    assert correlate(SERVICE, [], [], [TraitUnknown("public-ip", "x")]) is None


def test_finding_id_is_stable_and_distinct() -> None:
    a = correlate(SERVICE, [], [hit("public-ip")], [])
    b = correlate(SERVICE, ["other"], [hit("privileged-container")], [])
    other = Resource(
        "AWS::ECS::Service",
        SERVICE.uid.replace("web", "api"),
        "api",
        Loc("s"),
        "111122223333",
        "eu-west-1",
        "aws",
    )
    c = correlate(other, [], [hit("public-ip")], [])
    assert a is not None and b is not None and c is not None
    assert a.id == b.id != c.id
    assert len(a.id) == 32
