"""Remediation plans: each fix on task-definition JSON, the AWS rules every planned call follows, and
the plan outputs. Live behaviour (apply, rollback, the script run by the AWS CLI) is test_fix_live."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.validate import ParamValidator

from builders import ACCOUNT, ECS, REGION, ROLE, container, role, service, sg, snapshot, taskdef
from builders import rule as sg_rule
from conftest import load
from ecs_exposure.engine import scan
from ecs_exposure.model import Evidence, TraitHit
from ecs_exposure.remediation import FixOptions, Plan, plans
from ecs_exposure.remediation.apply import finalize
from ecs_exposure.remediation.catalogue import FIXES
from ecs_exposure.remediation.commands import script
from ecs_exposure.remediation.plan import (
    ROLE_INLINE_QUOTA,
    Ref,
    RevisionContext,
    Sensitive,
    execution_role_name,
    fix_task_definition,
    grant_policy_name,
    merge_grant,
    policy_size,
    registration_input,
    secret_name,
    walk,
)
from ecs_exposure.traits import registry

SECRET = "Hunter2-Plaintext-Value"
CTX = RevisionContext(ACCOUNT, REGION, "aws", f"{ECS}:task-definition/app:1")


def hit(trait: str, *evidence: Evidence) -> dict[str, TraitHit]:
    return {trait: TraitHit(trait, evidence or (Evidence("x"),))}


def cred(container_name: str, variable: str) -> Evidence:
    return Evidence("x", (("container", container_name), ("variable", variable)))


def fix(td: dict, hits: dict[str, TraitHit], ctx: RevisionContext = CTX, **options: Any):
    out = fix_task_definition(td, hits, FixOptions(**options), ctx)
    assert out.revision is not None
    return out


def plan_for(doc: dict, name: str, **options: Any) -> Plan:
    inv = load(copy.deepcopy(doc))  # the loader frees what it models
    [p] = [
        p
        for p in plans(inv, scan(inv), FixOptions(**options), documents={"fixture.json": doc})
        if p.resource == name
    ]
    return p


# --------------------------------------------------------------------------- task definition fixes


def test_registration_input_drops_describe_only_keys_and_nulls() -> None:
    described = {
        "taskDefinition": {
            **taskdef(revision=7),
            "status": "ACTIVE",
            "compatibilities": ["FARGATE"],
            "requiresAttributes": [],
            "registeredAt": "2026-01-01",
            "registeredBy": "me",
            "pidMode": None,  # RegisterTaskDefinition refuses null
        }
    }
    out = registration_input(described)
    assert set(out) == {"family", "networkMode", "containerDefinitions"}
    assert described["taskDefinition"]["revision"] == 7  # the input is not modified


def test_privileged_dropped_or_kept_with_a_manual_step() -> None:
    td = taskdef(container(privileged=True), revision=3)
    out = fix(td, hit("privileged-container"))
    assert "privileged" not in out.revision["containerDefinitions"][0]
    assert out.changes[0].safety == "needs-review" and out.changes[0].effective
    out = fix(td, hit("privileged-container"), keep_privileged=True)
    assert out.revision["containerDefinitions"][0]["privileged"] is True
    assert not out.changes[0].effective and out.manual[0].trait == "privileged-container"


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
    out = fix(td, hit("host-filesystem-mount"))
    assert out.revision["volumes"] == [{"name": "efs", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]
    assert out.revision["containerDefinitions"][0]["mountPoints"] == [
        {"sourceVolume": "efs", "containerPath": "/data"}
    ]
    out = fix(td, hit("host-filesystem-mount"), read_only_mounts=True)
    assert out.revision["containerDefinitions"][0]["mountPoints"][0]["readOnly"] is True
    assert out.revision["containerDefinitions"][0]["readonlyRootFilesystem"] is True


def test_namespaces_capabilities_and_network_mode() -> None:
    td = taskdef(
        container(linuxParameters={"capabilities": {"add": ["SYS_ADMIN", "NET_BIND_SERVICE", "cap_bpf"]}}),
        pidMode="host",
        ipcMode="host",
        networkMode="host",
    )
    hits = (
        hit("host-pid-namespace")
        | hit("host-ipc-namespace")
        | hit("host-network-mode")
        | hit("dangerous-capabilities")
    )
    out = fix(td, hits)
    new = out.revision
    assert (
        "pidMode" not in new
        and "ipcMode" not in new
        and new["networkMode"] == "awsvpc"
        and out.network_awsvpc
    )
    assert new["containerDefinitions"][0]["linuxParameters"]["capabilities"]["add"] == ["NET_BIND_SERVICE"]
    assert fix(td, hits, network_mode="bridge").revision["networkMode"] == "bridge"
    # no subnets to give the service: the mode stays, with a manual step
    out = fix(td, hits, RevisionContext(ACCOUNT, REGION, can_deploy_awsvpc=False))
    assert out.revision["networkMode"] == "host" and out.manual[0].trait == "host-network-mode"


# --------------------------------------------------------------------------- credentials: AWS's rules


def test_moved_credentials_are_referenced_by_the_arn_secrets_manager_returns() -> None:
    """ECS reads a bare name as an SSM parameter: a Secrets Manager secret must be referenced by its
    full ARN (Secret.valueFrom, ECS API reference), which CreateSecret returns (random suffix)."""
    td = taskdef(
        container(environment=[{"name": "DB_PASSWORD", "value": SECRET}, {"name": "LOG", "value": "info"}]),
        executionRoleArn=f"{ROLE}/exec",
    )
    out = fix(td, hit("plaintext-credentials", cred("app", "DB_PASSWORD")))
    c = out.revision["containerDefinitions"][0]
    assert c["environment"] == [{"name": "LOG", "value": "info"}]
    [entry] = c["secrets"]
    [create] = out.secrets
    assert create.op == "create_secret" and create.params["Name"] == "ecs/app/app/DB_PASSWORD"
    assert entry == {
        "name": "DB_PASSWORD",
        "valueFrom": Ref(create.id, "ARN of secret ecs/app/app/DB_PASSWORD"),
    }
    assert create.source == ("containerDefinitions", 0, "environment", 0, "value")
    # the grant names the same ARN, read by the role ECS uses to fetch secrets: the execution role
    grant = out.grant
    assert grant.params["RoleName"] == "exec" and grant.params["PolicyName"] == "ecs-exposure-secrets-app"
    [statement] = grant.params["PolicyDocument"]["Statement"]
    assert statement["Action"] == "secretsmanager:GetSecretValue" and statement["Resource"] == [
        entry["valueFrom"]
    ]
    assert SECRET not in json.dumps([c.__dict__ for c in out.changes] + [create.params], default=str)


def test_parameter_store_arns_are_known_in_advance() -> None:
    """SecureString parameters are referenced by parameter ARN (arn:…:parameter/<name>, the name's
    leading slash included once) and read by ECS with ssm:GetParameters."""
    td = taskdef(
        container(environment=[{"name": "API_TOKEN", "value": SECRET}]), executionRoleArn=f"{ROLE}/exec"
    )
    out = fix(td, hit("plaintext-credentials", cred("app", "API_TOKEN")), secret_store="ssm")
    [put] = out.secrets
    assert (
        put.op == "put_parameter" and put.params["Type"] == "SecureString" and "Overwrite" not in put.params
    )
    arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/ecs/app/app/API_TOKEN"
    assert out.revision["containerDefinitions"][0]["secrets"] == [{"name": "API_TOKEN", "valueFrom": arn}]
    assert out.grant.params["PolicyDocument"]["Statement"][0] == {
        "Sid": "EcsExposureSecrets",
        "Effect": "Allow",
        "Action": "ssm:GetParameters",
        "Resource": [arn],
    }


def test_a_task_without_execution_role_gets_a_real_one() -> None:
    td = taskdef(container(environment=[{"name": "API_TOKEN", "value": SECRET}]))
    out = fix(td, hit("plaintext-credentials", cred("app", "API_TOKEN")))
    create, attach = out.role
    assert create.op == "create_role" and create.params["RoleName"] == "ecsTaskExecutionRole-app"
    trust = json.loads(create.params["AssumeRolePolicyDocument"])["Statement"][0]
    assert (
        trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    )
    # confused-deputy guard, as AWS recommends for service roles
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert trust["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:*"}
    assert (
        attach.params["PolicyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    )
    # the revision names the role by the ARN IAM gives it (arn:<partition>:iam::<account>:role/<name>)
    assert out.revision["executionRoleArn"] == f"{ROLE}/ecsTaskExecutionRole-app"
    assert any("iam:AttachRolePolicy" in c.permissions for c in out.changes)
    # gov-cloud / china partitions
    cn = fix(
        td,
        hit("plaintext-credentials", cred("app", "API_TOKEN")),
        RevisionContext(ACCOUNT, "cn-north-1", "aws-cn"),
    )
    assert cn.role[1].params["PolicyArn"].startswith("arn:aws-cn:iam::aws:policy/")


def test_names_follow_aws_rules() -> None:
    # Secrets Manager: no name ending in a hyphen and six characters (read as the ARN's suffix)
    assert secret_name("ecs/{family}/{container}/{name}", "secretsmanager", "f", "c", "API-SECRET") == (
        "ecs/f/c/API-SECRET_"
    )
    assert (
        secret_name("ecs/{family}/{container}/{name}", "secretsmanager", "f", "c", "A B$") == "ecs/f/c/A_B_"
    )
    # Parameter Store: a-zA-Z0-9_.-/, a hierarchy starts with /, no aws / ssm prefix
    assert secret_name("/ecs/{family}/{container}/{name}", "ssm", "f", "c", "X:Y") == "/ecs/f/c/X_Y"
    assert secret_name("{family}/{name}", "ssm", "awsome", "c", "X") == "/ecs-exposure/awsome/X"
    # IAM: role names 64 characters, policy names 128, [\w+=,.@-]
    family = "x" * 255  # an ECS family may have 255 characters
    assert len(execution_role_name(family)) == 64 and len(grant_policy_name(family)) == 128
    assert execution_role_name(family) != execution_role_name("x" * 254)
    assert re.fullmatch(r"[\w+=,.@-]+", execution_role_name("a/b c"))


def test_grants_are_added_never_replaced() -> None:
    ours = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": ["arn:b"]}],
    }
    previous = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "arn:a"}],
    }
    merged = merge_grant(previous, ours)
    assert merged["Statement"][0]["Resource"] == ["arn:a", "arn:b"]
    assert merge_grant(merged, ours) == merged  # idempotent: a rerun adds nothing


def test_shared_execution_role_gets_one_policy_per_family() -> None:
    env = [{"name": "DB_PASSWORD", "value": SECRET}]
    doc = snapshot(
        services=[service("a", td="fa:1"), service("b", td="fb:1")],
        task_definitions=[
            taskdef(container(environment=env), family="fa", executionRoleArn=f"{ROLE}/shared"),
            taskdef(container(environment=env), family="fb", executionRoleArn=f"{ROLE}/shared"),
        ],
        roles=[role("shared", inline=([{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],))],
    )
    grants = [s for name in ("a", "b") for s in plan_for(doc, name).steps if s.op == "put_role_policy"]
    assert [g.params["PolicyName"] for g in grants] == ["ecs-exposure-secrets-fa", "ecs-exposure-secrets-fb"]
    assert {g.params["RoleName"] for g in grants} == {"shared"}


def test_inline_policy_quota_is_checked() -> None:
    """IAM: a role's inline policies total at most 10,240 characters, white space not counted."""
    assert policy_size({"a": "b c"}) == len('{"a":"bc"}')
    big = [
        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": f"arn:aws:logs:*:*:{'x' * 200}-{i}"}
        for i in range(45)
    ]
    doc = snapshot(
        services=[service("a", td="fa:1")],
        task_definitions=[
            taskdef(
                container(environment=[{"name": "DB_PASSWORD", "value": SECRET}]),
                family="fa",
                executionRoleArn=f"{ROLE}/shared",
            )
        ],
        roles=[role("shared", inline=(big,))],
    )
    [grant] = [c for c in plan_for(doc, "a").changes if c.target == "execution role shared"]
    assert any("10,240" in e for e in grant.side_effects)
    assert ROLE_INLINE_QUOTA == 10_240


# --------------------------------------------------------------------------- deployment controllers


def controller_estate(controller: str, **extra: Any) -> dict:
    svc = service("s", td="app:1", public=True, **extra)
    svc["deploymentController"] = {"type": controller}
    if controller != "ECS":
        svc["deployments"] = []
        svc["taskSets"] = [
            {
                "taskSetArn": f"{ECS}:task-set/main/s/ecs-svc/1",
                "status": "PRIMARY",
                "taskDefinition": f"{ECS}:task-definition/app:1",
                "launchType": "FARGATE",
                "scale": {"unit": "PERCENT", "value": 100.0},
                "networkConfiguration": svc["networkConfiguration"],
                "loadBalancers": [
                    {"targetGroupArn": "arn:tg", "containerName": "app", "containerPort": 8080}
                ],
            }
        ]
        if controller == "EXTERNAL":
            del svc["networkConfiguration"]
    return snapshot(
        services=[svc],
        task_definitions=[taskdef(container(privileged=True), executionRoleArn=f"{ROLE}/exec")],
    )


UPDATE_SERVICE_ALLOWED = {
    # UpdateService API reference: what each controller lets UpdateService change
    "EXTERNAL": {
        "desiredCount",
        "placementConstraints",
        "placementStrategy",
        "healthCheckGracePeriodSeconds",
        "enableECSManagedTags",
        "propagateTags",
    },
    "CODE_DEPLOY": {
        "desiredCount",
        "deploymentConfiguration",
        "healthCheckGracePeriodSeconds",
        "placementConstraints",
        "placementStrategy",
        "enableECSManagedTags",
        "propagateTags",
    },
}


@pytest.mark.parametrize("controller", ["EXTERNAL", "CODE_DEPLOY"])
def test_update_service_only_changes_what_the_controller_allows(controller: str) -> None:
    p = plan_for(controller_estate(controller, enableExecuteCommand=True), "s")
    for step in p.steps:
        if step.op == "update_service":
            assert set(step.params) - {"cluster", "service"} <= UPDATE_SERVICE_ALLOWED[controller]
    assert any(m.trait == "ecs-exec-enabled" for m in p.manual)  # not through UpdateService


def test_external_controller_gets_a_new_task_set() -> None:
    p = plan_for(controller_estate("EXTERNAL"), "s")
    ops = [s.op for s in p.steps]
    assert ops[-3:] == ["create_task_set", "update_service_primary_task_set", "delete_task_set"]
    create, primary, delete = p.steps[-3:]
    assert create.params["taskDefinition"] == Ref(p.steps[-4].id, p.steps[-4].produces)  # the new revision
    assert create.params["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    assert create.params["loadBalancers"] and create.params["launchType"] == "FARGATE"
    assert primary.params["primaryTaskSet"] == Ref(create.id, create.produces)
    assert delete.params["taskSet"].endswith("ecs-svc/1")
    assert {"privileged-container", "public-ip"} <= p.claimed


def test_code_deploy_controller_registers_and_leaves_the_deployment_to_a_person() -> None:
    p = plan_for(controller_estate("CODE_DEPLOY"), "s")
    assert "update_service" not in {s.op for s in p.steps}
    assert p.steps[-1].op == "register_task_definition"
    [deploy] = [m for m in p.manual if m.request]
    service_name, op, request = deploy.request
    assert (service_name, op) == ("deploy", "create_deployment")
    appspec = request["revision"]["appSpecContent"]["content"]
    props = appspec["Resources"][0]["TargetService"]["Properties"]
    assert appspec["Resources"][0]["TargetService"]["Type"] == "AWS::ECS::Service"
    assert props["TaskDefinition"] == Ref(p.steps[-1].id, p.steps[-1].produces)
    assert props["LoadBalancerInfo"] == {"ContainerName": "app", "ContainerPort": 8080}
    assert props["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    assert not p.claimed  # nothing is gone until the deployment runs


def test_host_to_awsvpc_is_irreversible_and_held_back() -> None:
    """networkConfiguration 'isn't supported for other network modes' and UpdateService cannot remove
    it: a service given one cannot go back to its host-mode revision."""
    doc = snapshot(services=[service("a", network=False)], task_definitions=[taskdef(networkMode="host")])
    assert any(m.trait == "host-network-mode" for m in plan_for(doc, "a").manual)  # no subnets given
    p = plan_for(doc, "a", subnets=("subnet-1",), security_groups=("sg-1",))
    [update] = [s for s in p.steps if s.op == "update_service"]
    assert not update.reversible and update.requires == "--allow-irreversible"
    assert update.params["networkConfiguration"] == {
        "awsvpcConfiguration": {
            "subnets": ["subnet-1"],
            "securityGroups": ["sg-1"],
            "assignPublicIp": "DISABLED",
        }
    }
    assert all(c.requires == "--allow-irreversible" for c in p.changes if c.group == "revision")
    assert "host-network-mode" not in p.claimed
    bridge = plan_for(doc, "a", network_mode="bridge")
    assert bridge.new_revision["networkMode"] == "bridge"
    assert all(s.reversible and not s.requires for s in bridge.steps)


# --------------------------------------------------------------------------- security groups and IAM


def test_a_group_used_by_anything_else_is_left_alone() -> None:
    two = snapshot(
        services=[service("a", public=True), service("b")], security_groups=[sg("sg-app", sg_rule(8080))]
    )
    p = plan_for(two, "a")
    assert not [c for c in p.changes if c.trait == "open-security-group"]
    assert any("sg-app is also used by service b" in m.why for m in p.manual)
    forced = plan_for(two, "a", force_shared_groups=True, allow_sgs=("sg-alb",))
    ops = [(s.op, s.params["IpPermissions"][0]) for s in forced.steps if "security_group" in s.op]
    assert ops[0] == (
        "authorize_security_group_ingress",
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": "sg-alb"}]},
    )
    assert ops[1][0] == "revoke_security_group_ingress"
    # a load balancer's network interface (DescribeNetworkInterfaces filtered by group-id) counts
    one = snapshot(services=[service("a", public=True)], security_groups=[sg("sg-app", sg_rule(8080))])
    one["accounts"][0]["regions"][0]["ec2"]["networkInterfaces"] = [
        {"NetworkInterfaceId": "eni-lb", "Description": "ELB app/shop/1", "Groups": [{"GroupId": "sg-app"}]},
        {
            "NetworkInterfaceId": "eni-task",
            "Description": f"arn:aws:ecs:{REGION}:{ACCOUNT}:attachment/1",
            "Groups": [{"GroupId": "sg-app"}],
        },
    ]
    assert any("eni-lb (ELB app/shop/1)" in m.why for m in plan_for(one, "a").manual)
    one["accounts"][0]["regions"][0]["ec2"]["networkInterfaces"] = one["accounts"][0]["regions"][0]["ec2"][
        "networkInterfaces"
    ][1:]
    assert [c.trait for c in plan_for(one, "a").changes if c.trait == "open-security-group"]
    # interfaces not collected: whether it is shared is unknown, so it is not changed
    del one["accounts"][0]["regions"][0]["ec2"]["networkInterfaces"]
    assert any("is unknown" in m.why for m in plan_for(one, "a").manual)


def test_iam_narrowing_needs_apply_iam() -> None:
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
                managed=("arn:aws:iam::aws:policy/AdministratorAccess",),
            )
        ],
    )
    p = plan_for(doc, "svc")
    steps = {s.op: s for s in p.steps}
    assert steps["detach_role_policy"].requires == steps["narrow_role_policy"].requires == "--apply-iam"
    assert [s["Sid"] for s in steps["narrow_role_policy"].expect["kept"]["Statement"]] == ["Queue"]
    assert any(m.trait == "admin-access-role" and "really uses" in m.what for m in p.manual)


# --------------------------------------------------------------------------- completeness and shapes


def test_every_trait_has_a_fix_or_a_manual_step() -> None:
    assert set(registry()) <= set(FIXES), set(registry()) - set(FIXES)
    for trait, entry in FIXES.items():
        assert entry.kind in ("change", "manual")
        if entry.kind == "manual":
            assert entry.what and entry.why, trait


def _every_plan() -> list[Plan]:
    from ecs_exposure.cli.common import example_path

    doc = json.loads(Path(example_path()).read_text())
    inv = load(copy.deepcopy(doc), str(example_path()))
    options = FixOptions(allow_cidrs=("10.0.0.0/8",), subnets=("subnet-1",), security_groups=("sg-1",))
    out = plans(inv, scan(inv), options, documents={str(example_path()): doc})
    for controller in ("EXTERNAL", "CODE_DEPLOY"):
        out.append(plan_for(controller_estate(controller), "s"))
    env = [{"name": "DB_PASSWORD", "value": SECRET}]
    nothing = snapshot(
        task_definitions=[taskdef(container(environment=env))], services=[service(network=False)]
    )
    nothing["accounts"][0]["regions"][0]["ecs"]["taskDefinitions"][0]["networkMode"] = "host"
    out.append(plan_for(nothing, "svc", subnets=("subnet-1",), security_groups=("sg-1",), secret_store="ssm"))
    return out


def test_every_planned_call_matches_botocores_request_shape() -> None:
    """botocore's service models are the truth for request shapes: every step, finalized as --apply
    sends it and -f commands prints it, validates against its operation's input shape."""
    session = boto3.Session(region_name=REGION)
    validator = ParamValidator()
    ops: set[str] = set()
    for p in _every_plan():
        requests = [(s.service, s.op, s.params) for s in p.steps if s.op != "narrow_role_policy"]
        requests += [m.request for m in p.manual if m.request]
        for service_name, op, params in requests:
            model = session._session.get_service_model(
                "codedeploy" if service_name == "deploy" else service_name
            )
            name = next(o for o in model.operation_names if re.sub(r"(?<!^)(?=[A-Z])", "_", o).lower() == op)
            concrete = walk(params, lambda m: "arn:aws:x:eu-west-1:1:y/z" if isinstance(m, Ref) else "value")
            concrete = finalize(op, json.loads(json.dumps(concrete).replace("<journal>", "j-1")))
            if op == "create_secret":
                concrete["SecretString"] = "value"
            if op == "put_parameter":
                concrete["Value"] = "value"
            report = validator.validate(concrete, model.operation_model(name).input_shape)
            assert not report.has_errors(), (op, report.generate_report())
            ops.add(op)
    assert {
        "create_secret",
        "put_parameter",
        "create_role",
        "attach_role_policy",
        "put_role_policy",
        "register_task_definition",
        "update_service",
        "create_task_set",
        "update_service_primary_task_set",
        "delete_task_set",
        "revoke_security_group_ingress",
        "authorize_security_group_ingress",
        "detach_role_policy",
        "create_deployment",
    } <= ops


def test_plans_keep_every_trait_and_hold_no_value(cli, tmp_path: Path) -> None:
    from test_no_secret_leak import EXAMPLE, planted_values

    values = set(planted_values(json.loads(EXAMPLE.read_text())))
    text = ""
    for fmt in ("text", "json", "commands"):
        r = cli("fix", "--example", "-f", fmt, "--write-dir", str(tmp_path / fmt))
        assert r.code == 0, r.err
        text += r.out + r.err + "".join(p.read_text() for p in (tmp_path / fmt).glob("*.json"))
    for value in values:
        assert value not in text
    report = json.loads(cli("fix", "--example", "-f", "json").out)
    assert report["schema"] == "ecs-exposure/plans@2"
    findings = json.loads(cli("scan", "--example", "-f", "json").out)["findings"]
    assert len(report["plans"]) == len(findings)  # note-only plans are kept: one per finding


def test_write_dir_writes_only_revisions_that_can_be_registered_as_is(cli, tmp_path: Path) -> None:
    r = cli("fix", "--example", "--write-dir", "sm")
    assert "web: new revision not written: it references secrets whose ARN" in r.err
    assert not (tmp_path / "sm" / "web.json").exists()
    r = cli("fix", "--example", "--write-dir", "ssm", "--secret-store", "ssm")
    web = json.loads((tmp_path / "ssm" / "web.json").read_text())
    secrets = {s["name"]: s["valueFrom"] for s in web["containerDefinitions"][0]["secrets"]}
    assert secrets["DB_PASSWORD"] == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/ecs/web/web/DB_PASSWORD"
    rescan = json.loads(cli("scan", str(tmp_path / "ssm"), "-f", "json").out)
    remaining = {t["id"] for f in rescan["findings"] for t in f["traits"]}
    for fixed in (
        "privileged-container",
        "plaintext-credentials",
        "host-filesystem-mount",
        "host-pid-namespace",
    ):
        assert fixed not in remaining, fixed


def test_revision_still_holding_a_credential_is_not_written(cli, tmp_path: Path) -> None:
    td = taskdef(container(privileged=True, command=["app", f"--password={SECRET}"]), revision=None)
    (tmp_path / "td.json").write_text(json.dumps(td))
    r = cli("fix", "td.json", "--write-dir", "out", cwd=tmp_path)
    assert r.code == 0
    assert "app: new revision not written, it would still hold a credential" in r.err
    assert not list((tmp_path / "out").glob("*.json"))
    assert SECRET not in r.out + r.err


def test_commands_script_mirrors_the_steps() -> None:
    p = plan_for(controller_estate("EXTERNAL"), "s")
    text = script([p], set())
    called = [
        m.group(1).replace("-", "_")
        for line in text.splitlines()
        if not line.startswith(("#", "echo"))
        for m in re.finditer(r"\baws \w+ ([a-z-]+)", line)
        if m.group(1) != "describe-task-definition"
    ]
    assert called == [s.op for s in p.steps]
    assert "set -euo pipefail" in text and "umask 077" in text
    # a held-back step is named, not run
    held = script(
        [
            plan_for(
                snapshot(
                    services=[service("a", network=False)], task_definitions=[taskdef(networkMode="host")]
                ),
                "a",
                subnets=("s",),
                security_groups=("g",),
            )
        ],
        set(),
    )
    assert "# held back (needs --allow-irreversible): update service a" in held
    assert "aws ecs update-service" not in held


def test_sensitive_values_stay_markers() -> None:
    td = taskdef(container(command=["app", f"--password={SECRET}"], privileged=True))
    ctx = RevisionContext(
        ACCOUNT,
        REGION,
        arn=f"{ECS}:task-definition/app:1",
        sensitive=[("containerDefinitions", 0, "command", 1)],
    )
    out = fix(td, hit("privileged-container"), ctx)
    assert out.revision["containerDefinitions"][0]["command"][1] == Sensitive(
        ("containerDefinitions", 0, "command", 1)
    )
    assert SECRET not in json.dumps(walk(out.revision, lambda m: "x"))
