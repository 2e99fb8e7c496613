"""fix --apply and rollback against a moto server: the fixes land, undo cleanly, never leak values."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from awsfake import DB_PASSWORD, OLD_TOKEN, REGION, FaultProxy, build_estate, moto_post
from fixestate import few_managed_policies

pytestmark = pytest.mark.usefixtures("aws_env")


@pytest.fixture
def estate(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    few_managed_policies(monkeypatch)  # a new execution role needs AmazonECSTaskExecutionRolePolicy
    moto_post(moto_url, "/moto-api/reset")
    return build_estate(moto_url)


def aws(url: str) -> tuple[str, ...]:
    return ("--aws", "--endpoint-url", url, "--region", REGION)


def client(url: str, name: str):
    return boto3.client(name, region_name=REGION, endpoint_url=url)


def web_service(url: str, name: str = "web") -> dict:
    return client(url, "ecs").describe_services(cluster="shop", services=[name])["services"][0]


def ingress(url: str, group: str) -> list:
    return client(url, "ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]


def traits_of(cli, url: str, name: str) -> set[str]:
    report = json.loads(cli("scan", *aws(url), "-f", "json").out)
    return {t["id"] for f in report["findings"] if f["resource"]["name"] == name for t in f["traits"]}


def test_dry_run_changes_nothing(cli, moto_url: str, estate: dict) -> None:
    before = web_service(moto_url)["taskDefinition"]
    r = cli("fix", *aws(moto_url), "--service", "web")
    assert r.code == 0, r.err
    assert "== Service web" in r.out and "AWS call(s) with --apply" in r.out
    assert web_service(moto_url)["taskDefinition"] == before
    assert client(moto_url, "secretsmanager").list_secrets()["SecretList"] == []


def test_apply_fixes_then_rollback_restores(cli, moto_url: str, estate: dict, tmp_path: Path) -> None:
    before = web_service(moto_url)
    open_rules = ingress(moto_url, estate["sg_web"])
    journal = tmp_path / "journal.json"
    r = cli(
        "fix",
        *aws(moto_url),
        "--service",
        "web",
        "--apply",
        "--allow-cidr",
        "10.0.0.0/8",
        "--journal",
        str(journal),
    )
    assert r.code == 0, r.err
    assert "web: create secret ecs/web/web/DB_PASSWORD" in r.err

    after = web_service(moto_url)
    assert after["taskDefinition"] != before["taskDefinition"]
    assert after["taskDefinition"].endswith("web:3")
    assert after["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    td = client(moto_url, "ecs").describe_task_definition(taskDefinition=after["taskDefinition"])[
        "taskDefinition"
    ]
    c = td["containerDefinitions"][0]
    assert "privileged" not in c or not c["privileged"]
    assert [s["name"] for s in c["secrets"]] == ["DB_PASSWORD"]
    assert "DB_PASSWORD" not in {e["name"] for e in c.get("environment", [])}
    assert td["executionRoleArn"].endswith("role/ecsTaskExecutionRole-web")
    value = client(moto_url, "secretsmanager").get_secret_value(SecretId="ecs/web/web/DB_PASSWORD")[
        "SecretString"
    ]
    assert value == DB_PASSWORD  # the value went into Secrets Manager …
    text = journal.read_text()
    assert DB_PASSWORD not in text and DB_PASSWORD not in r.out + r.err  # … and nowhere else
    assert {p["IpRanges"][0]["CidrIp"] for p in ingress(moto_url, estate["sg_web"]) if p.get("IpRanges")} == {
        "10.0.0.0/8"
    }

    with FaultProxy(moto_url, complete_rollouts=True) as aws_after_rollout:
        remaining = traits_of(cli, aws_after_rollout.url, "web")
    for fixed in (
        "privileged-container",
        "plaintext-credentials",
        "public-ip",
        "open-security-group",
        "internet-reachable",
    ):
        assert fixed not in remaining, fixed
    assert "admin-access-role" in remaining  # IAM is changed only with --apply-iam

    again = tmp_path / "again.json"
    with FaultProxy(moto_url, complete_rollouts=True) as aws_after_rollout:
        r = cli("fix", *aws(aws_after_rollout.url), "--service", "web", "--apply", "--journal", str(again))
    assert r.code == 0, r.err
    assert json.loads(again.read_text())["entries"] == []  # idempotent: nothing left to change

    r = cli("rollback", str(journal), "--endpoint-url", moto_url)
    assert r.code == 0, r.err
    restored = web_service(moto_url)
    assert restored["taskDefinition"] == before["taskDefinition"]
    assert restored["networkConfiguration"] == before["networkConfiguration"]
    assert client(moto_url, "secretsmanager").list_secrets()["SecretList"] == []
    assert sorted(map(json.dumps, ingress(moto_url, estate["sg_web"]))) == sorted(map(json.dumps, open_rules))
    iam = client(moto_url, "iam")
    assert "ecsTaskExecutionRole-web" not in {r["RoleName"] for r in iam.list_roles()["Roles"]}


def test_apply_iam_narrows_and_rolls_back(cli, moto_url: str, estate: dict, tmp_path: Path) -> None:
    journal = tmp_path / "j.json"
    r = cli(
        "fix",
        *aws(moto_url),
        "--service",
        "web",
        "--trait",
        "admin-access-role",
        "--apply",
        "--apply-iam",
        "--journal",
        str(journal),
    )
    assert r.code == 0, r.err
    iam = client(moto_url, "iam")
    assert (
        iam.list_role_policies(RoleName="web-task")["PolicyNames"] == []
    )  # its only statement was the wildcard
    with FaultProxy(moto_url, complete_rollouts=True) as aws_after_rollout:
        assert "admin-access-role" not in traits_of(cli, aws_after_rollout.url, "web")
    assert cli("rollback", str(journal), "--endpoint-url", moto_url).code == 0
    doc = iam.get_role_policy(RoleName="web-task", PolicyName="admin")["PolicyDocument"]
    assert doc["Statement"][0]["Action"] == "*"


def test_failure_mid_plan_leaves_a_journal_that_rolls_back(
    cli, moto_url: str, estate: dict, tmp_path: Path
) -> None:
    before = web_service(moto_url)["taskDefinition"]
    journal = tmp_path / "journal.json"
    with FaultProxy(moto_url) as proxy:
        proxy.faults.deny = {"UpdateService"}
        r = cli("fix", *aws(proxy.url), "--service", "web", "--apply", "--journal", str(journal))
    assert r.code == 2
    assert "update service web: AccessDenied" in r.err and "ecs-exposure rollback" in r.err
    doc = json.loads(journal.read_text())
    # every call is journalled before it is made: the refused UpdateService too
    assert [e["op"] for e in doc["entries"]] == [
        "create_secret",
        "create_role",
        "attach_role_policy",
        "put_role_policy",
        "register_task_definition",
        "update_service",
    ]
    assert [e["status"] for e in doc["entries"]] == ["done"] * 5 + ["failed"]
    assert doc["entries"][-1]["error"]["code"].startswith("AccessDenied")
    assert doc["entries"][-1]["error"]["made"] == "no"  # AWS refused it
    assert web_service(moto_url)["taskDefinition"] == before  # stopped before touching the service
    r = cli("rollback", str(journal), "--endpoint-url", moto_url)
    assert r.code == 0, r.err
    assert client(moto_url, "secretsmanager").list_secrets()["SecretList"] == []
    new = doc["entries"][4]["result"]["arn"]
    status = client(moto_url, "ecs").describe_task_definition(taskDefinition=new)["taskDefinition"]["status"]
    assert status == "INACTIVE"
    assert OLD_TOKEN not in journal.read_text() and DB_PASSWORD not in journal.read_text()


def test_apply_needs_aws(cli) -> None:
    r = cli("fix", "--example", "--apply")
    assert r.code == 2 and "--apply needs --aws" in r.err


def test_rollback_bad_journal(cli, tmp_path: Path) -> None:
    (tmp_path / "j.json").write_text("{}")
    r = cli("rollback", str(tmp_path / "j.json"))
    assert r.code == 2 and "not an ecs-exposure journal" in r.err


def test_apply_fixes_the_host_level_traits(cli, moto_url: str, estate: dict, tmp_path: Path) -> None:
    r = cli(
        "fix",
        *aws(moto_url),
        "--service",
        "agent",
        "--apply",
        "--network-mode",
        "bridge",
        "--journal",
        str(tmp_path / "j.json"),
    )
    assert r.code == 0, r.err
    with FaultProxy(moto_url, complete_rollouts=True) as after:
        remaining = traits_of(cli, after.url, "agent")
    for fixed in (
        "privileged-container",
        "host-network-mode",
        "host-pid-namespace",
        "host-ipc-namespace",
        "host-filesystem-mount",
        "dangerous-capabilities",
    ):
        assert fixed not in remaining, fixed
    assert "credentials-outside-environment" in remaining  # a credential in the command is fixed by hand
    td = client(moto_url, "ecs").describe_task_definition(
        taskDefinition=web_service(moto_url, "agent")["taskDefinition"]
    )["taskDefinition"]
    assert td["networkMode"] == "bridge" and "pidMode" not in td and td.get("volumes") == []
