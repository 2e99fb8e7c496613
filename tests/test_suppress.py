"""Suppressions: selectors, partial and whole suppression, expiry, unused rules, AWS tags."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path

import botocore.session
import pytest

from builders import container, service, snapshot, taskdef
from conftest import load
from ecs_exposure.baseline import failing
from ecs_exposure.engine import ScanOptions, scan
from ecs_exposure.model import ScanResult, Severity, Status, SuppressionRule, UseState
from ecs_exposure.suppress import _path_glob, parse_tag, warnings
from estates import AWS_KEY, DB_PASSWORD, arn, estate

TODAY = date(2026, 6, 1)


def run(doc: object, *rules: SuppressionRule, informational: bool = False) -> ScanResult:
    """Scan a copy of ``doc`` (reading a snapshot frees its items)."""
    return scan(
        load(copy.deepcopy(doc)),
        ScanOptions(include_informational=informational, suppressions=rules, today=TODAY),
    )


def named(result: ScanResult) -> dict:
    return {f.resource.name: f for f in result.findings}


def rule(**kw: object) -> SuppressionRule:
    kw.setdefault("reason", "accepted")
    kw.setdefault("source", "test")
    return SuppressionRule(**kw)  # type: ignore[arg-type]


def test_no_rule_changes_nothing() -> None:
    assert run(estate(1)) == scan(load(estate(1)))


def test_whole_finding_is_kept_suppressed_and_ignored_by_fail_on() -> None:
    r = rule(resources=(arn("stable"),))
    result = run(estate(1), r)
    f = named(result)["stable"]
    assert f.status == Status.SUPPRESSED and f.suppression == r
    assert f.severity == Severity.CRITICAL  # the rating of the risk that was accepted
    assert len(result.findings) == 4  # kept
    assert Severity.CRITICAL not in {x.severity for x in failing(result, Severity.LOW)}
    [use] = result.suppressions
    assert (use.state, use.findings) == (UseState.APPLIED, (f.id,))


def test_some_traits_suppressed_rerates_without_them() -> None:
    r = rule(traits=("privileged-container",), resources=(arn("stable"),))
    f = named(run(estate(1), r))["stable"]
    assert f.status == Status.NEW and f.suppression is None
    assert f.suppressed_traits == (("privileged-container", r),)
    assert "privileged-container" not in {h.trait_id for h in f.hits}
    assert (f.severity, f.impact_traits) == (Severity.HIGH, ("plaintext-credentials",))  # was CRITICAL


def test_only_contextual_traits_left_suppresses_the_whole_finding() -> None:
    r = rule(traits=("plaintext-credentials", "root-user"), resources=(arn("accepted"),))
    f = named(run(estate(1), r))["accepted"]
    assert f.status == Status.SUPPRESSED and f.suppression == r
    assert f.severity == Severity.HIGH  # as rated before: what was accepted
    assert [t for t, _ in f.suppressed_traits] == ["plaintext-credentials", "root-user"]


def test_a_trait_rule_matches_only_findings_with_that_trait() -> None:
    r = rule(traits=("host-pid-namespace",))
    result = run(estate(1), r)
    assert all(f.status == Status.NEW for f in result.findings)
    assert result.suppressions[0].state == UseState.UNUSED


def test_expired_rule_is_reported_and_not_applied() -> None:
    r = rule(resources=(arn("stable"),), expires=date(2026, 5, 31), source="cfg:3")
    active = rule(resources=(arn("accepted"),), expires=TODAY)  # through its last day
    result = run(estate(1), r, active)
    by = named(result)
    assert by["stable"].status == Status.NEW and by["accepted"].status == Status.SUPPRESSED
    uses = {u.rule: u for u in result.suppressions}
    assert uses[r].state == UseState.EXPIRED and uses[r].findings == (by["stable"].id,)
    assert uses[active].state == UseState.APPLIED
    assert warnings(result.suppressions) == [
        "cfg:3: suppression expired on 2026-05-31, no longer applied; it would match 1 finding"
    ]


def test_first_whole_rule_wins_and_every_match_counts() -> None:
    a, b = rule(accounts=("111122223333",), source="a"), rule(resources=("*",), source="b")
    result = run(estate(1), a, b)
    assert {f.suppression for f in result.findings} == {a}
    assert all(len(u.findings) == 4 for u in result.suppressions)


@pytest.mark.parametrize(
    ("selectors", "matched"),
    [
        ({"finding_ids": ("0" * 32,)}, set()),
        (
            {"resources": ("arn:aws:ecs:*:111122223333:service/main/*",)},
            {"stable", "accepted", "raised", "fixed"},
        ),
        ({"resources": ("arn:aws:ecs:*:*:*/raised",)}, {"raised"}),  # * crosses '/' and ':' as in IAM
        ({"resources": ("*/RAISED",)}, set()),  # case matters, as in ARNs
        ({"accounts": ("111122223333",)}, {"stable", "accepted", "raised", "fixed"}),
        ({"accounts": ("999999999999",)}, set()),
        ({"accounts": ("111122223333",), "resources": ("*fixed",)}, {"fixed"}),  # every selector must match
        ({"tags": (("team", "pay*"),)}, {"stable"}),
        ({"tags": (("team", "payments"), ("env", "prod"))}, set()),  # every tag must match
        ({"tags": (("team", "payments"), ("env", "dev"))}, {"stable"}),
        ({"tags": (("owner", "*"),)}, {"raised"}),  # the task definition's tag
    ],
)
def test_selectors(selectors: dict, matched: set[str]) -> None:
    doc = estate(1, service_tags={"stable": {"team": "payments", "env": "dev"}})
    tds = doc["accounts"][0]["regions"][0]["ecs"]["taskDefinitions"]
    tds[2]["tags"] = [{"key": "owner", "value": "data"}]  # raised:1
    result = run(doc, rule(**selectors))
    assert {f.resource.name for f in result.findings if f.status == Status.SUPPRESSED} == matched


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        ("infra/*.json", "infra/a.json", True),
        ("infra/*.json", "infra/legacy/a.json", False),  # * stays in its directory
        ("infra/**/*.json", "infra/a.json", True),  # **/ matches no directory too
        ("infra/**/*.json", "infra/legacy/old/a.json", True),
        ("infra/**", "infra/legacy/a.json", True),
        ("**/legacy/*", "infra/legacy/a.json", True),
        ("infra/?.json", "infra/ab.json", False),
        ("infra/[ab].json", "infra/[ab].json", True),  # no character classes: literal
    ],
)
def test_path_globs(glob: str, path: str, hit: bool) -> None:
    assert bool(_path_glob(glob).fullmatch(path)) is hit


def test_paths_are_relative_to_the_config_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ecs_exposure.sources import load_paths

    (tmp_path / "infra" / "legacy").mkdir(parents=True)
    (tmp_path / "infra" / "legacy" / "old.json").write_text(
        '{"family": "old", "containerDefinitions": [{"name": "a", "image": "x", "privileged": true}]}'
    )
    (tmp_path / "infra" / "new.json").write_text(
        '{"family": "new", "containerDefinitions": [{"name": "a", "image": "x", "privileged": true}]}'
    )
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")  # scanned from elsewhere: ../infra/...
    r = rule(paths=("infra/legacy/**",), base=str(tmp_path))
    result = scan(load_paths([Path("../infra")]), ScanOptions(suppressions=(r,), today=TODAY))
    assert {f.resource.name: f.status for f in result.findings} == {
        "old": Status.SUPPRESSED,
        "new": Status.NEW,
    }


def test_inline_rules_of_the_inputs_apply() -> None:
    inv = load(estate(1))
    inv.suppressions.append(rule(traits=("privileged-container",), source="infra/main.tf:12"))
    result = scan(inv, ScanOptions(today=TODAY))
    assert named(result)["fixed"].status == Status.SUPPRESSED
    assert named(result)["stable"].suppressed_traits[0][1].source == "infra/main.tf:12"


def test_informational_findings_not_listed_are_not_matched() -> None:
    doc = snapshot(services=[service("quiet", td="quiet:1")], task_definitions=[taskdef(family="quiet")])
    r = rule(resources=("*",))
    assert run(doc, r).suppressions[0].state == UseState.UNUSED
    shown = run(doc, r, informational=True)
    assert shown.findings[0].status == Status.SUPPRESSED and shown.suppressions[0].state == UseState.APPLIED


# --------------------------------------------------------------------------- AWS tags

TAG_VALUE = re.compile(r"[\w\s.:/=+\-@]*")  # botocore's TagValue pattern, \p{L}\p{Z}\p{N}_.:/=+\-@


def test_the_documented_tag_form_is_a_valid_ecs_tag_value() -> None:
    shape = botocore.session.get_session().get_service_model("ecs").shape_for("TagValue")
    assert shape.metadata["pattern"] == "([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)" and shape.metadata["max"] == 256
    for value in (
        "privileged-container+host-pid-namespace: node agent needs the host expires=2027-01-31",
        "all: sandbox account with no data",
        "open-security-group/public-ip: public web front behind CloudFront",
    ):
        assert TAG_VALUE.fullmatch(value) and "," not in value
        assert not isinstance(parse_tag("ecs-exposure:suppress", value, "arn"), str)


PC, PID = "privileged-container", "host-pid-namespace"


@pytest.mark.parametrize(
    ("value", "traits", "reason", "expires"),
    [
        (f"{PC}: needs the host", (PC,), "needs the host", None),
        (f"{PC}+{PID}: agent", (PC, PID), "agent", None),
        (f"{PC} / {PID} : agent", (PC, PID), "agent", None),
        (f"{PC},root-user: agent", (PC, "root-user"), "agent", None),
        ("all: sandbox account", (), "sandbox account", None),
        (
            "public-ip: ticket SEC-12: until the NAT exists expires=2026-12-31",
            ("public-ip",),
            "ticket SEC-12: until the NAT exists",
            date(2026, 12, 31),
        ),
    ],
)
def test_tag_values(value: str, traits: tuple, reason: str, expires: date | None) -> None:
    r = parse_tag("ecs-exposure:suppress", value, "arn:svc")
    assert not isinstance(r, str), r
    assert (r.traits, r.reason, r.expires, r.source) == (
        traits,
        reason,
        expires,
        "arn:svc: tag ecs-exposure:suppress",
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("privileged-container", "no ':'"),
        ("privileged-container:", "no reason"),
        ("privileged-container:   expires=2026-01-01", "no reason"),
        (": why", "no trait id"),
        ("privileged: why", "unknown trait 'privileged'"),
        ("all+public-ip: why", "name no other trait"),
        ("public-ip: why expires=2026-02-30", "is not a date"),
        ("", "no ':'"),
    ],
)
def test_malformed_tag_values(value: str, problem: str) -> None:
    r = parse_tag("ecs-exposure:suppress", value, "arn")
    assert isinstance(r, str) and problem in r


def test_tags_suppress_where_the_risk_lives() -> None:
    doc = estate(
        1,
        service_tags={
            "stable": {"ecs-exposure:suppress": "privileged-container: the agent needs the host"},
            "accepted": {"Ecs-Exposure:Suppress:2": "all: sandbox keys expires=2026-01-01"},  # expired
            "raised": {"ecs-exposure:suppress": "privileged container: typo"},  # malformed
        },
    )
    tds = doc["accounts"][0]["regions"][0]["ecs"]["taskDefinitions"]
    tds[3]["tags"] = [{"key": "ecs-exposure:suppress", "value": "all: batch job, private"}]  # fixed:1
    result = run(doc)
    by = named(result)
    assert by["stable"].status == Status.NEW and by["stable"].severity == Severity.HIGH
    assert by["stable"].suppressed_traits[0][1].source == f"{arn('stable')}: tag ecs-exposure:suppress"
    assert by["fixed"].status == Status.SUPPRESSED
    assert by["fixed"].suppression.reason == "batch job, private"
    assert by["accepted"].status == Status.NEW and by["raised"].status == Status.NEW
    states = {u.rule.source.split(": tag")[0].rsplit("/", 1)[-1]: u.state for u in result.suppressions}
    assert states == {
        "stable": UseState.APPLIED,
        "accepted": UseState.EXPIRED,
        "raised": UseState.INVALID,
        "fixed:1": UseState.APPLIED,
    }
    lines = warnings(result.suppressions)
    unknown = "unknown trait 'privileged' (see 'ecs-exposure traits'); not applied"
    assert f"{arn('raised')}: tag ecs-exposure:suppress: {unknown}" in lines
    assert any("suppression expired on 2026-01-01" in line for line in lines)


def test_a_task_definition_tag_applies_to_every_service_running_it() -> None:
    td = taskdef(container(environment=DB_PASSWORD), family="shared")
    td["tags"] = [
        {"key": "ecs-exposure:suppress", "value": "plaintext-credentials: rotated by the vault agent"}
    ]
    doc = snapshot(services=[service("a", td="shared:1"), service("b", td="shared:1")], task_definitions=[td])
    result = run(doc)
    assert {f.status for f in result.findings} == {Status.SUPPRESSED}
    [use] = result.suppressions
    assert len(use.findings) == 2  # one rule, reported once


def test_describe_shape_file_tags(tmp_path: Path) -> None:
    from ecs_exposure.sources import load_paths

    td = taskdef(container(environment=AWS_KEY), revision=None)
    doc = {"taskDefinition": td, "tags": [{"key": "ecs-exposure:suppress", "value": "all: test fixture"}]}
    (tmp_path / "td.json").write_text(__import__("json").dumps(doc))
    result = scan(load_paths([tmp_path / "td.json"]), ScanOptions(today=TODAY))
    assert result.findings[0].status == Status.SUPPRESSED
    assert dict(result.findings[0].resource.tags) == {"ecs-exposure:suppress": "all: test fixture"}


@pytest.mark.parametrize(
    ("tags", "read"),
    [
        ([{"key": "team", "value": "web"}], (("team", "web"),)),
        ([{"Key": "team", "Value": "web"}], (("team", "web"),)),  # CloudFormation's spelling
        ({"team": "web", "tier": 2}, (("team", "web"), ("tier", "2"))),  # a mapping, as some tools write
        ([{"key": "", "value": ""}, "junk", {"value": "x"}], ()),  # the console's empty row, junk: skipped
        ("team=web", ()),
    ],
)
def test_tag_shapes_read_from_real_files(tags: object, read: tuple) -> None:
    td = taskdef(revision=None, tags=tags)
    inv = load(td)
    assert inv.task_definition_files[0].task_definition.tags == read
    assert inv.issues == []  # metadata: never makes the scan incomplete
