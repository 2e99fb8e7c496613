"""fix --apply, the AWS CLI script and rollback on a 40-service estate on a real moto server.

moto completes no rollout: UpdateService changes ``taskDefinition`` but never ``deployments[]``, as
if every deployment were still running. Where a test rescans "after the rollout", it reads AWS
through ``FaultProxy(complete_rollouts=True)``, which answers DescribeServices as AWS does once the
new deployment is the only one. The other rescans see the rollout still in progress.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from awsfake import ACCOUNT, REGION, FaultProxy, moto_post
from ecs_exposure.cli import main
from ecs_exposure.iam import evaluate
from ecs_exposure.model import Loc, PolicyDocument
from fixestate import PASSWORD, VALUES, build_fix_estate, clients, dump, few_managed_policies, same_as_before

pytestmark = pytest.mark.usefixtures("aws_env")

FLAGS = ("--apply-iam", "--allow-cidr", "10.0.0.0/8", "--network-mode", "bridge")


@pytest.fixture
def fresh(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    few_managed_policies(monkeypatch)  # a new execution role needs AmazonECSTaskExecutionRolePolicy
    moto_post(moto_url, "/moto-api/reset")
    return moto_url


def run(*argv: str) -> tuple[int, str, str]:
    """The CLI in this process (faster than a subprocess; the subprocess path is test_cli's)."""
    raw = io.BytesIO()
    out, err = io.TextIOWrapper(raw, encoding="utf-8"), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    out.flush()
    return code, raw.getvalue().decode(), err.getvalue()


def aws(url: str) -> tuple[str, ...]:
    return ("--aws", "--endpoint-url", url, "--region", REGION)


def traits(url: str) -> dict[str, set[str]]:
    code, out, err = run("scan", *aws(url), "-f", "json", "--debug")
    assert code in (0, 1), err
    return {f["resource"]["name"]: {t["id"] for t in f["traits"]} for f in json.loads(out)["findings"]}


def new_revisions(url: str, journal: Path) -> list[dict[str, Any]]:
    ecs = clients(url)["ecs"]
    arns = []
    for e in json.loads(journal.read_text())["entries"]:
        if e["op"] == "register_task_definition" and e["status"] == "done":
            arns.append(e["result"]["arn"])
    return [ecs.describe_task_definition(taskDefinition=a)["taskDefinition"] for a in arns]


def role_documents(url: str, role: str) -> list[PolicyDocument]:
    iam = clients(url)["iam"]
    docs = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        stmts = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        docs.append(PolicyDocument(name, tuple(stmts), Loc(role)))
    for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=p["PolicyArn"])["Policy"]
        doc = iam.get_policy_version(PolicyArn=p["PolicyArn"], VersionId=policy["DefaultVersionId"])[
            "PolicyVersion"
        ]["Document"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        stmts = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        docs.append(PolicyDocument(p["PolicyArn"], tuple(stmts), Loc(role), p["PolicyArn"]))
    return docs


def readable_secrets(url: str, role: str, action: str = "secretsmanager:GetSecretValue") -> set[str] | str:
    """With the project's IAM evaluator: the resources the role may read secrets from ("broad" when
    it may read every secret)."""
    perms = evaluate(role_documents(url, role), account=ACCOUNT)
    level = perms.grant(action)
    if level is None:
        return set()
    if level == "broad":
        return "broad"
    out: set[str] = set()
    for s in perms.granting(perms.cat.bit(action)):
        res = s.doc.statements[s.index].get("Resource")
        out |= set(res if isinstance(res, list) else [res])
    return out


def assert_no_value(text: str) -> None:
    for value in VALUES:
        assert value not in text


def test_apply_rescan_api_second_apply_rollback(fresh: str, tmp_path: Path) -> None:
    """The issue's 'Done when' on 40+ services: every claimed trait gone and none new, credentials by
    ARN, each execution role reads exactly its secrets, a second apply records nothing, rollback
    restores everything."""
    url = fresh
    build_fix_estate(url, fillers=35)
    before = dump(url)
    assert len(before["services"]) >= 40
    with FaultProxy(url, complete_rollouts=True) as done:
        traits_before = traits(done.url)
    code, out, err = run("fix", *aws(url), "-f", "json", *FLAGS)
    plans = json.loads(out)["plans"]
    assert code in (0, 3), err
    journal = tmp_path / "j.json"
    code, _, err = run("fix", *aws(url), "--apply", "--journal", str(journal), *FLAGS)
    assert code == 0, err
    assert_no_value(err + journal.read_text())
    entries = json.loads(journal.read_text())["entries"]
    assert entries and all(e["status"] == "done" for e in entries)

    # rescan after the rollouts: every trait a plan claims is gone, no trait is new
    with FaultProxy(url, complete_rollouts=True) as done:
        after = traits(done.url)
    for p in plans:
        claimed = (
            {c["trait"] for c in p["changes"] if c["effective"] and c["requires"] in (None, "--apply-iam")}
            - {m["trait"] for m in p["manual"]}
            - {"(new revision)"}
        )
        remaining = after.get(p["resource"], set())
        assert not claimed & remaining, (p["resource"], claimed & remaining)
    for name, now in after.items():
        assert now <= traits_before.get(name, set()), (name, now - traits_before.get(name, set()))
    assert "public-ip" in traits_before["edge"] and "public-ip" not in after.get("edge", set())
    assert "plaintext-credentials" in after["blue"]  # CODE_DEPLOY: the deployment is a manual step
    # api's group is also the ALB's (its network interface uses it): left alone, with the reason
    [api] = [p for p in plans if p["resource"] == "api"]
    assert "open-security-group" not in {c["trait"] for c in api["changes"]}
    assert any(m["trait"] == "open-security-group" and "ELB app/shop/" in m["why"] for m in api["manual"])

    # through the API: every moved credential is referenced by the ARN AWS returned, and holds the value
    sm = clients(url)["secretsmanager"]
    expected: dict[str, set[str]] = {}
    moved = 0
    for td in new_revisions(url, journal):
        for c in td["containerDefinitions"]:
            assert not any(
                e["name"].endswith(("PASSWORD", "TOKEN", "SECRET_KEY")) for e in c.get("environment", [])
            )
            for s in c.get("secrets", []):
                assert s["valueFrom"].startswith(f"arn:aws:secretsmanager:{REGION}:")
                secret = sm.describe_secret(SecretId=s["valueFrom"])
                assert secret["ARN"] == s["valueFrom"]  # the full ARN, random suffix included
                assert sm.get_secret_value(SecretId=s["valueFrom"])["SecretString"] in (
                    *VALUES,
                    *(f"{PASSWORD}-{i}" for i in range(35)),
                )
                expected.setdefault(td["executionRoleArn"].rsplit("/", 1)[-1], set()).add(s["valueFrom"])
                moved += 1
    assert moved >= 40
    # every execution role reads exactly its secrets (shared-exec serves web, api, edge, blue, svc-0, …)
    assert len(expected["shared-exec"]) >= 10
    for role, arns in expected.items():
        assert readable_secrets(url, role) == arns, role
    assert readable_secrets(url, "web-task") == set()  # its `*` statement is gone (--apply-iam)

    # a rerun while the deployments are still rolling out (moto never finishes them) changes nothing …
    again = tmp_path / "again.json"
    code, _, err = run("fix", *aws(url), "--apply", "--journal", str(again), *FLAGS)
    assert code == 0, err
    assert json.loads(again.read_text())["entries"] == []
    # … nor once they are done
    with FaultProxy(url, complete_rollouts=True) as done:
        code, _, err = run("fix", *aws(done.url), "--apply", "--journal", str(again), *FLAGS)
    assert code == 0, err
    assert json.loads(again.read_text())["entries"] == []

    code, _, err = run("rollback", str(journal), "--endpoint-url", url)
    assert code == 0, err
    assert "NOT restored" not in err
    assert same_as_before(before, dump(url)) == []
    # a second rollback finds everything done
    code, _, err = run("rollback", str(journal), "--endpoint-url", url)
    assert code == 0 and "0 of 0" in err


def test_commands_script_reaches_the_same_state(fresh: str, tmp_path: Path) -> None:
    """The emitted script, run with the AWS CLI (awscli from PyPI) against moto, makes the state
    --apply makes; no credential value is in the script or what it prints."""
    url = fresh
    build_fix_estate(url, fillers=1)
    journal = tmp_path / "j.json"
    assert run("fix", *aws(url), "--apply", "--journal", str(journal), *FLAGS)[0] == 0
    applied = dump(url)
    moto_post(url, "/moto-api/reset")
    build_fix_estate(url, fillers=1)
    code, script, err = run("fix", *aws(url), "-f", "commands", *FLAGS)
    assert code in (0, 3), err
    plans = json.loads(run("fix", *aws(url), "-f", "json", *FLAGS)[1])["plans"]
    assert_no_value(script)
    path = tmp_path / "fix.sh"
    path.write_text(script)
    env = {
        **os.environ,
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
        "AWS_ENDPOINT_URL": url,
    }
    done = subprocess.run(
        ["bash", str(path)], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert_no_value(done.stdout + done.stderr)
    assert not list(Path(tmp_path).glob("tmp*"))  # the private request files are gone
    scripted = dump(url)
    # rescan after the rollouts: what the plans claim is gone
    with FaultProxy(url, complete_rollouts=True) as rolled:
        after = traits(rolled.url)
    for p in plans:
        claimed = {
            c["trait"] for c in p["changes"] if c["effective"] and c["requires"] in (None, "--apply-iam")
        }
        claimed -= {m["trait"] for m in p["manual"]}
        assert not claimed & after.get(p["resource"], set()), p["resource"]
    # same services, revisions, rules, grants; secrets tagged by the script instead of a journal id
    assert scripted == applied
    # the CodeDeploy step is left to a person, with the request written for them
    request = json.loads((tmp_path / "deploy-create-deployment-blue.json").read_text())
    appspec = json.loads(request["revision"]["appSpecContent"]["content"])
    target = appspec["Resources"][0]["TargetService"]["Properties"]
    assert target["TaskDefinition"].endswith("task-definition/blue:2")
    assert request["applicationName"] == "shop-blue" and request["deploymentGroupName"] == "blue-dg"
    assert "next, by hand: aws deploy create-deployment" in done.stdout


def test_secret_store_ssm(fresh: str, tmp_path: Path) -> None:
    url = fresh
    build_fix_estate(url, fillers=0)
    before = dump(url)
    journal = tmp_path / "j.json"
    out_dir = tmp_path / "revisions"
    code, _, err = run(
        "fix",
        *aws(url),
        "--service",
        "web",
        "--secret-store",
        "ssm",
        "--apply",
        "--journal",
        str(journal),
        "--write-dir",
        str(out_dir),
    )
    assert code == 0, err
    ssm = clients(url)["ssm"]
    [td] = new_revisions(url, journal)
    [secret] = td["containerDefinitions"][0]["secrets"]
    assert secret["valueFrom"] == f"arn:aws:ssm:{REGION}:123456789012:parameter/ecs/web/web/DB_PASSWORD"
    param = ssm.get_parameter(Name="/ecs/web/web/DB_PASSWORD", WithDecryption=True)["Parameter"]
    assert param["Type"] == "SecureString" and param["Value"] == PASSWORD
    # ECS reads SecureString parameters with ssm:GetParameters (the default key needs no kms:Decrypt)
    assert readable_secrets(url, "shared-exec", "ssm:GetParameters") == {secret["valueFrom"]}
    written = json.loads((out_dir / "web.json").read_text())
    assert written["containerDefinitions"][0]["secrets"] == [secret]
    assert run("rollback", str(journal), "--endpoint-url", url)[0] == 0
    assert same_as_before(before, dump(url)) == []


def test_irreversible_change_is_held_back_then_reported(fresh: str, tmp_path: Path) -> None:
    url = fresh
    ids = build_fix_estate(url, fillers=0, hostnet=True)
    net = ("--service", "hostnet", "--subnet", ids["private"], "--security-group", ids["sg_fill"])
    code, out, err = run("fix", *aws(url), *net)
    assert "IRREVERSIBLE" in out and "UpdateService cannot remove a network configuration" in out
    journal = tmp_path / "j.json"
    code, _, err = run("fix", *aws(url), *net, "--apply", "--journal", str(journal))
    assert code == 0, err
    assert "not applied without --allow-irreversible" in err
    assert json.loads(journal.read_text())["entries"] == []  # the secret/revision chain is held back too
    assert (
        clients(url)["ecs"]
        .describe_services(cluster="shop", services=["hostnet"])["services"][0]["taskDefinition"]
        .endswith("hostnet:1")
    )
    code, _, err = run("fix", *aws(url), *net, "--apply", "--allow-irreversible", "--journal", str(journal))
    assert code == 0, err
    svc = clients(url)["ecs"].describe_services(cluster="shop", services=["hostnet"])["services"][0]
    assert svc["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == [ids["private"]]
    code, _, err = run("rollback", str(journal), "--endpoint-url", url)
    assert code == 3
    assert "NOT restored: update service hostnet — irreversible" in err
    assert "rollback: 1 of 2 change(s)" in err  # the revision was deregistered; the service could not go back


def test_rollback_names_what_it_cannot_restore(fresh: str, tmp_path: Path) -> None:
    url = fresh
    build_fix_estate(url, fillers=0)
    c = clients(url)
    journal = tmp_path / "j.json"
    assert (
        run("fix", *aws(url), "--service", "web", "--service", "api", "--apply", "--journal", str(journal))[0]
        == 0
    )
    # after the apply, someone deregisters the revision web ran before, and rotates api's new secret
    c["ecs"].deregister_task_definition(taskDefinition="web:1")
    c["secretsmanager"].put_secret_value(SecretId="ecs/api/api/API_TOKEN", SecretString="rotated-value-0000")
    code, _, err = run("rollback", str(journal), "--endpoint-url", url)
    assert code == 3
    assert "NOT restored: update service web — the previous revision web:1 is INACTIVE" in err
    assert (
        "NOT restored: create secret ecs/api/api/API_TOKEN" in err and "new versions since the apply" in err
    )
    assert "restored: update service api" in err
    assert "rotated-value-0000" not in err


def test_apply_skips_a_service_changed_since_the_plan(fresh: str, tmp_path: Path) -> None:
    """fix --apply plans from a collection made just before; each call re-checks that the resource is
    still what the plan was made from."""
    url = fresh
    build_fix_estate(url, fillers=0)
    c = clients(url)
    other = c["ecs"].register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": "nginx:1.27", "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    journal = tmp_path / "j.json"
    with FaultProxy(url) as proxy:
        seen: list[str] = []

        def deploy_other_first(op: str) -> None:  # someone deploys after our plan, before our UpdateService
            if op == "DescribeServices" and "RegisterTaskDefinition" in proxy.faults.writes and not seen:
                seen.append(op)
                c["ecs"].update_service(cluster="shop", service="web", taskDefinition=other)

        proxy.on_request = deploy_other_first
        code, _, err = run("fix", *aws(proxy.url), "--service", "web", "--apply", "--journal", str(journal))
    assert code == 3, err
    assert "skipped the rest of its plan: service web now runs web:2, not web:1 as planned" in err
    svc = c["ecs"].describe_services(cluster="shop", services=["web"])["services"][0]
    assert svc["taskDefinition"] == other  # not overwritten
    ops = [e["op"] for e in json.loads(journal.read_text())["entries"]]
    assert "update_service" not in ops
    assert run("rollback", str(journal), "--endpoint-url", url)[0] == 0


def test_trait_filter_gives_manual_steps(cli) -> None:
    r = cli("fix", "--example", "--trait", "malicious-package")
    assert r.code == 0, r.err
    assert "Nothing to fix" not in r.out
    assert "[manual] malicious-package: remove the malicious package" in r.out
    report = json.loads(cli("fix", "--example", "-f", "json").out)
    for p in report["plans"]:  # every trait of every finding is in its plan
        covered = {c["trait"] for c in p["changes"]} | {m["trait"] for m in p["manual"]}
        assert set(p["traits"]) <= covered, (p["resource"], set(p["traits"]) - covered)


def test_apply_stops_before_the_inline_policy_quota(fresh: str, tmp_path: Path) -> None:
    """IAM: a role's inline policies total at most 10,240 characters (white space not counted);
    moto does not enforce it, so the apply checks it before PutRolePolicy."""
    url = fresh
    build_fix_estate(url, fillers=2)
    statements = [
        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": f"arn:aws:logs:*:*:{'x' * 200}-{i}"}
        for i in range(45)
    ]
    clients(url)["iam"].put_role_policy(
        RoleName="exec-b",
        PolicyName="big",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    journal = tmp_path / "j.json"
    code, _, err = run("fix", *aws(url), "--service", "svc-1", "--apply", "--journal", str(journal))
    assert code == 3, err
    assert "over IAM's limit of 10240" in err
    assert "put_role_policy" not in [e["op"] for e in json.loads(journal.read_text())["entries"]]
    assert run("rollback", str(journal), "--endpoint-url", url)[0] == 0
