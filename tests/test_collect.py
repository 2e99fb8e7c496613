"""The live collector against a real moto server on 127.0.0.1, with injected faults."""

from __future__ import annotations

import copy
import gzip
import json
import math
from pathlib import Path

import pytest

from awsfake import (
    ACCOUNT,
    DB_PASSWORD,
    OLD_TOKEN,
    REGION,
    FaultProxy,
    build_estate,
    enforce_iam,
    moto_post,
    user_with_policy,
)
from ecs_exposure.engine import scan
from ecs_exposure.model import TraitHit
from ecs_exposure.sources.aws import CallStats, CollectConfig, collect
from ecs_exposure.sources.snapshot import load_snapshot

pytestmark = pytest.mark.usefixtures("aws_env")

POLICY = json.loads(
    (Path(__file__).parent.parent / "src/ecs_exposure/policies/readonly-policy.json").read_text()
)


@pytest.fixture
def estate(moto_url: str) -> dict[str, str]:
    moto_post(moto_url, "/moto-api/reset")
    return build_estate(moto_url)


def config(url: str, **kw) -> CollectConfig:
    return CollectConfig(regions=(REGION,), endpoint_url=url, **kw)


def findings_of(doc: dict) -> dict[str, dict]:
    result = scan(load_snapshot(copy.deepcopy(doc), "aws"))
    return {
        f.resource.name: {h.trait_id: h for h in f.hits} | {"_unknown": {u.trait_id: u for u in f.unknown}}
        for f in result.findings
    }


def test_collect_then_scan(moto_url: str, estate: dict) -> None:
    stats = CallStats()
    doc = collect(config(moto_url), stats)
    assert doc["errors"] == []
    assert doc["format"] == "ecs-exposure/snapshot@1" and doc["collected_at"].endswith("Z")
    result = scan(load_snapshot(copy.deepcopy(doc), "aws"))
    assert result.complete
    by = findings_of(doc)
    web, api = by["web"], by["api"]
    for trait in (
        "internet-reachable",
        "public-ip",
        "open-security-group",
        "admin-access-role",
        "privileged-container",
        "plaintext-credentials",
        "exploitable-vulnerability",
    ):
        assert isinstance(web.get(trait), TraitHit), trait
    assert any("load balancer shop" in e.summary for e in api["internet-reachable"].evidence)
    assert isinstance(api.get("service-admin-role"), TraitHit)
    assert "open-security-group" not in api  # only the load balancer's group is open
    agent = by["agent"]
    for trait in (
        "host-network-mode",
        "host-pid-namespace",
        "host-ipc-namespace",
        "host-filesystem-mount",
        "dangerous-capabilities",
        "credentials-outside-environment",
        "privileged-container",
    ):
        assert isinstance(agent.get(trait), TraitHit), trait
    assert "internet-reachable" in agent["_unknown"]  # host network: the instance's, not collected
    for trait in ("impact-full-control", "root-user", "writable-root-filesystem", "assumable-task-role"):
        assert isinstance(web.get(trait), TraitHit), trait
    # only the revisions services run were read: the old one is unknown, not clean
    assert "stale-revision-credentials" in web["_unknown"]


def test_all_revisions_finds_stale_credentials(moto_url: str, estate: dict) -> None:
    doc = collect(config(moto_url, all_revisions=True))
    stale = findings_of(doc)["web"]["stale-revision-credentials"]
    assert isinstance(stale, TraitHit) and "GITHUB_TOKEN" in stale.evidence[0].summary


def test_snapshot_is_faithful_and_holds_what_it_read(moto_url: str, estate: dict) -> None:
    doc = collect(config(moto_url))
    region = doc["accounts"][0]["regions"][0]
    assert {s["serviceName"] for s in region["ecs"]["services"]} == {"web", "api", "agent"}
    assert {g["GroupId"] for g in region["ec2"]["securityGroups"]} >= {estate["sg_web"]}
    assert region["elbv2"]["targetGroups"][0]["TargetGroupArn"] == estate["tg"]
    assert {r["RoleName"] for r in doc["accounts"][0]["iam"]["roles"]} == {"web-task", "api-task"}
    assert len(region["inspector2"]["findings"]) == 1


def test_calls_are_batched(moto_url: str) -> None:
    moto_post(moto_url, "/moto-api/reset")
    build_estate(moto_url, services=25)
    stats = CallStats()
    doc = collect(config(moto_url), stats)
    assert doc["errors"] == []
    services = len(doc["accounts"][0]["regions"][0]["ecs"]["services"])
    assert services == 28
    assert stats.calls["ecs:DescribeServices"] == math.ceil(services / 10)
    assert stats.calls["ecs:DescribeTaskDefinition"] == 3  # 28 services, 3 distinct revisions
    assert stats.calls["iam:GetAccountAuthorizationDetails"] <= 2
    assert stats.calls["ec2:DescribeSecurityGroups"] == 1
    assert stats.calls["elasticloadbalancing:DescribeListeners"] == 1
    assert sum(stats.calls.values()) < 30


def test_access_denied_is_unknown_never_a_pass(moto_url: str, estate: dict) -> None:
    with FaultProxy(moto_url) as proxy:
        proxy.faults.deny = {"DescribeSecurityGroups"}
        doc = collect(config(proxy.url))
    [err] = doc["errors"]
    assert (err["api"], err["error"], err["region"]) == (
        "ec2:DescribeSecurityGroups",
        "UnauthorizedOperation",
        REGION,
    )
    result = scan(load_snapshot(copy.deepcopy(doc), "aws"))
    assert not result.complete
    web = findings_of(doc)["web"]
    assert "open-security-group" not in web
    assert "UnauthorizedOperation" in web["_unknown"]["open-security-group"].reason
    assert "internet-reachable" in web["_unknown"]  # the path needs the groups: not decided
    assert isinstance(web["privileged-container"], TraitHit)  # the rest was still read


def test_throttling_after_retries_is_recorded(moto_url: str, estate: dict) -> None:
    stats = CallStats()
    with FaultProxy(moto_url) as proxy:
        proxy.faults.throttle = {"DescribeServices"}
        doc = collect(config(proxy.url, max_attempts=3), stats)
    [err] = doc["errors"]
    assert err["api"] == "ecs:DescribeServices" and err["error"] == "ThrottlingException"
    assert stats.requests["ecs:DescribeServices"] == 3  # adaptive retries tried, then gave up
    assert stats.calls["ecs:DescribeServices"] == 1
    assert "services" in doc["accounts"][0]["regions"][0]["ecs"]  # the cluster list itself was read
    assert not scan(load_snapshot(copy.deepcopy(doc), "aws")).complete


def test_timeout_is_recorded(moto_url: str, estate: dict) -> None:
    with FaultProxy(moto_url) as proxy:
        proxy.faults.hang = {"ListFindings": 2.0}
        doc = collect(config(proxy.url, max_attempts=1, read_timeout=0.5))
    apis = {(e["api"], e["error"]) for e in doc["errors"]}
    assert ("inspector2:ListFindings", "Timeout") in apis
    web = findings_of(doc)["web"]
    assert "exploitable-vulnerability" in web["_unknown"]  # no report read: unknown, not clean


def test_inspector_denied_falls_back_to_ecr(moto_url: str, estate: dict) -> None:
    ecr = __import__("boto3").client("ecr", region_name=REGION, endpoint_url=moto_url)
    ecr.create_repository(repositoryName="web")
    ecr.put_image(
        repositoryName="web",
        imageTag="7",
        imageManifest=json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": "sha256:" + "1" * 64},
            }
        ),
    )
    ecr.start_image_scan(repositoryName="web", imageId={"imageTag": "7"})
    with FaultProxy(moto_url) as proxy:
        proxy.faults.deny = {"ListFindings"}
        doc = collect(config(proxy.url))
    assert doc["errors"] == []
    assert "Inspector unavailable" in doc["notes"][0]
    assert len(doc["accounts"][0]["regions"][0]["ecr"]["imageScanFindings"]) == 1


def test_works_with_exactly_the_shipped_policy(
    moto_url: str, estate: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = collect(config(moto_url, all_revisions=True))
    auditor = user_with_policy(moto_url, "auditor", POLICY)
    narrow = copy.deepcopy(POLICY)
    narrow["Statement"][0]["Action"].remove("ecs:DescribeServices")
    too_narrow = user_with_policy(moto_url, "too-narrow", narrow)
    moto_post(
        moto_url,
        "/moto-api/static/inspector2/findings-results",
        json.dumps(
            {
                "account_id": "123456789012",
                "region": REGION,
                "results": [admin["accounts"][0]["regions"][0]["inspector2"]["findings"]],
            },
            default=str,
        ),
    )
    with enforce_iam(moto_url):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", auditor["aws_access_key_id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", auditor["aws_secret_access_key"])
        doc = collect(config(moto_url, all_revisions=True))
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", too_narrow["aws_access_key_id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", too_narrow["aws_secret_access_key"])
        denied = collect(config(moto_url))
    assert doc["errors"] == []
    assert sorted(findings_of(doc)) == sorted(findings_of(admin))
    assert {t for f in findings_of(doc).values() for t in f} == {
        t for f in findings_of(admin).values() for t in f
    }
    assert [(e["api"], e["error"]) for e in denied["errors"]] == [("ecs:DescribeServices", "AccessDenied")]


def test_policy_is_read_only() -> None:
    from ecs_exposure.iam import catalogue, evaluate
    from ecs_exposure.model import Loc, PolicyDocument

    perms = evaluate([PolicyDocument("p", tuple(POLICY["Statement"]), Loc("p.json"))], account=ACCOUNT)
    granted = catalogue().actions_in(perms.any)
    assert granted and all(a.split(":")[1].startswith(("Describe", "List", "Get")) for a in granted)


def test_cli_collect_scan_and_stats(cli, moto_url: str, estate: dict, tmp_path: Path) -> None:
    snap = tmp_path / "estate.json.gz"
    r = cli("collect", "--aws", "--endpoint-url", moto_url, "--region", REGION, "-o", str(snap), "--stats")
    assert r.code == 0, r.err
    assert "ecs:DescribeServices" in r.err and "total" in r.err and "may hold credentials" in r.err
    assert json.loads(gzip.decompress(snap.read_bytes()))["format"] == "ecs-exposure/snapshot@1"
    r = cli("scan", str(snap), "-f", "json")
    names = {f["resource"]["name"] for f in json.loads(r.out)["findings"]}
    assert {"web", "api", "agent"} <= names
    assert DB_PASSWORD not in r.out + r.err and OLD_TOKEN not in r.out + r.err  # the report never holds them
    saved = tmp_path / "saved.json"
    r = cli(
        "scan",
        "--aws",
        "--endpoint-url",
        moto_url,
        "--region",
        REGION,
        "--save-snapshot",
        str(saved),
        "-f",
        "json",
    )
    assert r.code == 0, r.err
    assert json.loads(saved.read_text())["accounts"][0]["regions"][0]["region"] == REGION
    assert {f["resource"]["name"] for f in json.loads(r.out)["findings"]} == names


def test_cli_failed_call_exit_3(cli, moto_url: str, estate: dict, tmp_path: Path) -> None:
    with FaultProxy(moto_url) as proxy:
        proxy.faults.deny = {"GetAccountAuthorizationDetails"}
        r = cli("scan", "--aws", "--endpoint-url", proxy.url, "--region", REGION, "-f", "json")
    assert r.code == 3
    assert "iam:GetAccountAuthorizationDetails failed when collected: AccessDenied" in r.err
    report = json.loads(r.out)
    assert report["complete"] is False
    web = next(f for f in report["findings"] if f["resource"]["name"] == "web")
    assert "admin-access-role" in {u["id"] for u in web["unknown_traits"]}


def test_multi_account_through_assumed_roles(moto_url: str, estate: dict) -> None:
    other = "210987654321"
    stats = CallStats()
    doc = collect(
        config(
            moto_url,
            role_arns=(
                "arn:aws:iam::123456789012:role/ecs-exposure-readonly",
                f"arn:aws:iam::{other}:role/ecs-exposure-readonly",
            ),
        ),
        stats,
    )
    assert [a["account_id"] for a in doc["accounts"]] == ["123456789012", other]
    assert stats.calls["sts:AssumeRole"] == 2
    assert {s["serviceName"] for s in doc["accounts"][0]["regions"][0]["ecs"]["services"]} == {
        "web",
        "api",
        "agent",
    }
    assert doc["accounts"][1]["regions"][0]["ecs"]["services"] == []  # moto keeps each account apart


def test_cli_accounts_file(cli, moto_url: str, estate: dict, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.txt"
    accounts.write_text("# production\n123456789012\n\n210987654321  # sandbox\n")
    out = tmp_path / "s.json"
    r = cli(
        "collect",
        "--aws",
        "--endpoint-url",
        moto_url,
        "--region",
        REGION,
        "--accounts-file",
        str(accounts),
        "--role-name",
        "audit",
        "-o",
        str(out),
    )
    assert r.code == 0, r.err
    assert [a["account_id"] for a in json.loads(out.read_text())["accounts"]] == [
        "123456789012",
        "210987654321",
    ]
    accounts.write_text("12345\n")
    r = cli("collect", "--aws", "--accounts-file", str(accounts), "-o", str(out))
    assert r.code == 2 and "accounts.txt:1: expected a 12-digit account id" in r.err


def test_all_regions(moto_url: str, estate: dict) -> None:
    stats = CallStats()
    doc = collect(CollectConfig(regions=(REGION,), all_regions=True, endpoint_url=moto_url), stats)
    regions = [r["region"] for r in doc["accounts"][0]["regions"]]
    assert len(regions) > 10 and REGION in regions and regions == sorted(regions)
    assert stats.calls["ec2:DescribeRegions"] == 1
    assert doc["errors"] == []
