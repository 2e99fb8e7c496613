"""Remediation plans: each fix on task-definition JSON, the service and group changes, the CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from builders import container, service, sg, snapshot, taskdef
from builders import rule as sg_rule
from conftest import load
from ecs_exposure.engine import scan
from ecs_exposure.model import Evidence, TraitHit
from ecs_exposure.remediation import FixOptions, plans
from ecs_exposure.remediation.plan import fix_task_definition, registration_input

SECRET = "Hunter2-Plaintext-Value"


def hit(trait: str, *evidence: Evidence) -> dict[str, TraitHit]:
    return {trait: TraitHit(trait, evidence or (Evidence("x"),))}


def cred(container_name: str, variable: str) -> Evidence:
    return Evidence("x", (("container", container_name), ("variable", variable)))


def fix(td: dict, hits: dict[str, TraitHit], **options) -> tuple[dict, list, list]:
    new, changes, notes = fix_task_definition(td, hits, FixOptions(**options), "111122223333", "eu-west-1")
    assert new is not None
    return new, changes, notes


def test_registration_input_drops_describe_only_keys() -> None:
    described = {
        "taskDefinition": {
            **taskdef(revision=7),
            "status": "ACTIVE",
            "compatibilities": ["FARGATE"],
            "requiresAttributes": [],
            "registeredAt": "2026-01-01",
            "registeredBy": "me",
            "pidMode": None,
        }
    }
    out = registration_input(described)
    assert set(out) == {"family", "networkMode", "containerDefinitions"}
    assert described["taskDefinition"]["revision"] == 7  # the input is not modified


def test_privileged_dropped_or_kept_read_only() -> None:
    td = taskdef(container(privileged=True), revision=3)
    new, [change], _ = fix(td, hit("privileged-container"))
    assert "privileged" not in new["containerDefinitions"][0] and change.safety == "needs-review"
    new, _, _ = fix(td, hit("privileged-container"), keep_privileged=True)
    assert new["containerDefinitions"][0]["privileged"] is True
    assert new["containerDefinitions"][0]["readonlyRootFilesystem"] is True


def test_host_mounts_removed_or_read_only() -> None:
    td = taskdef(
        container(
            mountPoints=[
                {"sourceVolume": "sock", "containerPath": "/var/run/docker.sock"},
                {"sourceVolume": "efs", "containerPath": "/data"},
            ]
        ),
        volumes=[
            {"name": "sock", "host": {"sourcePath": "/var/run/docker.sock"}},
            {"name": "efs", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}},
        ],
    )
    new, changes, _ = fix(td, hit("host-filesystem-mount"))
    assert new["volumes"] == [{"name": "efs", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]
    assert new["containerDefinitions"][0]["mountPoints"] == [
        {"sourceVolume": "efs", "containerPath": "/data"}
    ]
    assert len(changes) == 1
    new, _, _ = fix(td, hit("host-filesystem-mount"), read_only_mounts=True)
    assert len(new["volumes"]) == 2
    assert new["containerDefinitions"][0]["mountPoints"][0]["readOnly"] is True
    assert new["containerDefinitions"][0]["readonlyRootFilesystem"] is True


def test_namespaces_and_network_mode() -> None:
    td = taskdef(pidMode="host", ipcMode="host", networkMode="host")
    new, changes, _ = fix(
        td, hit("host-pid-namespace") | hit("host-ipc-namespace") | hit("host-network-mode")
    )
    assert "pidMode" not in new and "ipcMode" not in new and new["networkMode"] == "awsvpc"
    assert any("networkConfiguration" in e for c in changes for e in c.side_effects)
    new, _, _ = fix(td, hit("host-network-mode"), network_mode="bridge")
    assert new["networkMode"] == "bridge"


def test_capabilities_and_devices() -> None:
    td = taskdef(
        container(
            linuxParameters={
                "capabilities": {"add": ["SYS_ADMIN", "NET_BIND_SERVICE", "cap_bpf"]},
                "devices": [{"hostPath": "/dev/fuse"}],
            }
        )
    )
    new, changes, _ = fix(td, hit("dangerous-capabilities"))
    linux = new["containerDefinitions"][0]["linuxParameters"]
    assert linux["capabilities"]["add"] == ["NET_BIND_SERVICE"] and linux["devices"] == []
    assert len(changes) == 2


def test_credentials_move_to_secrets_with_a_scoped_grant() -> None:
    td = taskdef(
        container(environment=[{"name": "DB_PASSWORD", "value": SECRET}, {"name": "LOG", "value": "info"}]),
        executionRoleArn="arn:aws:iam::111122223333:role/exec",
    )
    new, changes, notes = fix(td, hit("plaintext-credentials", cred("app", "DB_PASSWORD")))
    c = new["containerDefinitions"][0]
    assert c["environment"] == [{"name": "LOG", "value": "info"}]
    assert c["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": "ecs/app/app/DB_PASSWORD"}]
    grant = changes[-1].after
    assert grant["Statement"][0]["Action"] == "secretsmanager:GetSecretValue"
    assert grant["Statement"][0]["Resource"] == [
        "arn:aws:secretsmanager:eu-west-1:111122223333:secret:ecs/app/app/DB_PASSWORD-??????"
    ]
    assert not notes
    assert SECRET not in json.dumps([c.__dict__ for c in changes], default=str)


def test_credentials_without_execution_role_create_one() -> None:
    td = taskdef(container(environment=[{"name": "API_TOKEN", "value": SECRET}]))
    new, changes, notes = fix(
        td, hit("plaintext-credentials", cred("app", "API_TOKEN")), secret_name_template="{family}-{name}"
    )
    assert new["executionRoleArn"].endswith("role/ecsTaskExecutionRole-app")
    assert "iam:CreateRole" in changes[-1].permissions and "no execution role" in notes[0]
    assert new["containerDefinitions"][0]["secrets"][0]["valueFrom"] == "app-API_TOKEN"


def test_nothing_to_change_gives_no_revision() -> None:
    assert fix_task_definition(taskdef(), {}, FixOptions(), None, None)[0] is None


def shared_group_estate() -> dict:
    return snapshot(
        services=[service("a", public=True), service("b")], security_groups=[sg("sg-app", sg_rule(8080))]
    )


def test_shared_group_is_left_alone_without_force() -> None:
    inv = load(shared_group_estate())
    result = scan(inv)
    [plan_a] = [p for p in plans(inv, result, FixOptions()) if p.resource == "a"]
    assert not [c for c in plan_a.changes if c.trait == "open-security-group"]
    assert any("sg-app is shared with b" in n for n in plan_a.notes)
    [plan_a] = [
        p
        for p in plans(inv, result, FixOptions(force_shared_groups=True, allow_sgs=("sg-alb",)))
        if p.resource == "a"
    ]
    [change] = [c for c in plan_a.changes if c.trait == "open-security-group"]
    assert change.after == {"allow": ["from sg-alb"]}
    assert any("--source-group sg-alb" in c for c in plan_a.commands)


def test_cli_fix_example_and_written_revisions_rescan_clean(cli, tmp_path: Path) -> None:
    out = tmp_path / "revisions"
    r = cli("fix", "--example", "--write-dir", str(out))
    assert r.code == 0, r.err
    assert "== Service web" in r.out and "[needs-review] public-ip" in r.out
    assert "aws ecs register-task-definition --cli-input-json file://" in r.out
    written = sorted(p.name for p in out.glob("*.json"))
    assert "web.json" in written and "node-agent.json" in written
    rescan = json.loads(cli("scan", str(out), "-f", "json").out)
    traits = {t["id"] for f in rescan["findings"] for t in f["traits"]}
    for fixed in (
        "privileged-container",
        "plaintext-credentials",
        "host-filesystem-mount",
        "host-pid-namespace",
        "host-ipc-namespace",
        "host-network-mode",
    ):
        assert fixed not in traits, fixed


def test_cli_fix_json_and_filters(cli) -> None:
    report = json.loads(cli("fix", "--example", "-f", "json", "--service", "worker").out)
    assert report["schema"] == "ecs-exposure/plans@1"
    [plan] = report["plans"]
    assert plan["resource"] == "worker"
    assert "open-security-group" in {c["trait"] for c in plan["changes"]}
    # the privileged container is in worker:2, which an old deployment still runs
    assert any("privileged-container is in worker:2" in n for n in plan["notes"])
    only = json.loads(cli("fix", "--example", "-f", "json", "--trait", "public-ip").out)
    assert {c["trait"] for p in only["plans"] for c in p["changes"]} == {"public-ip"}
    commands = cli("fix", "--example", "-f", "commands", "--service", "web").out
    assert commands.startswith("aws secretsmanager create-secret --name ecs/web/web/")


def test_fix_outputs_hold_no_credential(cli, tmp_path: Path) -> None:
    from test_no_secret_leak import EXAMPLE, planted_values

    values = set(planted_values(json.loads(EXAMPLE.read_text())))
    text = ""
    for fmt in ("text", "json", "commands"):
        r = cli("fix", "--example", "-f", fmt, "--write-dir", str(tmp_path / fmt))
        text += r.out + r.err
        text += "".join(p.read_text() for p in (tmp_path / fmt).glob("*.json"))
    for value in values:
        assert value not in text


def test_revision_still_holding_a_credential_is_not_written(cli, tmp_path: Path) -> None:
    td = taskdef(
        container(privileged=True, command=["app", "--password=Hunter2-Plaintext-Value"]), revision=None
    )
    (tmp_path / "td.json").write_text(json.dumps(td))
    r = cli("fix", "td.json", "--write-dir", "out", cwd=tmp_path)
    assert r.code == 0
    assert "app: new revision not written, it would still hold a credential" in r.err
    assert not list((tmp_path / "out").glob("*.json"))
    assert SECRET not in r.out + r.err


def test_host_to_awsvpc_needs_subnets() -> None:
    doc = snapshot(services=[service("a", network=False)], task_definitions=[taskdef(networkMode="host")])
    inv = load(copy.deepcopy(doc))  # the loader frees what it models
    [plan] = plans(inv, scan(inv), FixOptions(), documents={"fixture.json": doc})
    assert any("--subnet" in n for n in plan.notes)
    [plan] = plans(
        inv,
        scan(inv),
        FixOptions(subnets=("subnet-1",), security_groups=("sg-1",)),
        documents={"fixture.json": doc},
    )
    [update] = [c.step for c in plan.changes if c.step and c.step.get("new_revision")]
    assert update["awsvpc"] == {
        "subnets": ["subnet-1"],
        "securityGroups": ["sg-1"],
        "assignPublicIp": "DISABLED",
    }
    [plan] = plans(inv, scan(inv), FixOptions(network_mode="bridge"), documents={"fixture.json": doc})
    assert plan.new_revision["networkMode"] == "bridge" and not any("--subnet" in n for n in plan.notes)


def test_iam_fix_is_advice_with_commands() -> None:
    from builders import ROLE, role

    doc = snapshot(
        task_definitions=[taskdef(taskRoleArn=f"{ROLE}/task")],
        roles=[role("task", managed=("arn:aws:iam::aws:policy/AdministratorAccess",))],
    )
    inv = load(doc)
    [plan] = plans(inv, scan(inv), FixOptions(), documents={"fixture.json": doc})
    [change] = [c for c in plan.changes if c.trait == "admin-access-role"]
    assert change.safety == "needs-review" and "unknown to ecs-exposure" in change.action
    assert any(c.startswith("aws iam detach-role-policy --role-name task") for c in plan.commands)


def test_iam_suggestion_is_the_policy_without_the_wildcard() -> None:
    from builders import ROLE, role

    doc = snapshot(
        task_definitions=[taskdef(taskRoleArn=f"{ROLE}/task")],
        roles=[
            role(
                "task",
                inline=(
                    [
                        {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
                        {
                            "Sid": "Queue",
                            "Effect": "Allow",
                            "Action": "sqs:SendMessage",
                            "Resource": "arn:aws:sqs:eu-west-1:1:q",
                        },
                    ],
                ),
            )
        ],
    )
    inv = load(copy.deepcopy(doc))
    [plan] = plans(inv, scan(inv), FixOptions(), documents={"fixture.json": doc})
    [change] = [c for c in plan.changes if c.trait == "admin-access-role"]
    assert [s["Sid"] for s in change.after["Statement"]] == ["Queue"]
