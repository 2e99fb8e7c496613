"""Malformed data makes the traits that read it *unknown* for that resource, with the parse error as
the reason (issue #9 §2): never a silent absence. One table of cases, at least one per trait that
reads a task definition or service field, and two checks that keep the declarations honest: every
field a trait's detector touches is declared in its ``reads``, and every name is a real model field.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from builders import ECS, ROLE, container, role, rule, service, sg, snapshot, taskdef
from conftest import load
from ecs_exposure import model
from ecs_exposure.engine import scan, targets
from ecs_exposure.model import TraitHit, TraitUnknown
from ecs_exposure.sources import load_paths
from ecs_exposure.sources.jsonio import read_json
from ecs_exposure.sources.reader import Reader
from ecs_exposure.sources.snapshot import service_fields
from ecs_exposure.sources.taskdef import CONTAINER_FIELDS, LINUX_FIELDS, TASK_FIELDS, task_fields
from ecs_exposure.sources.vulns import trivy_report
from ecs_exposure.traits import registry

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
UNKNOWN, PRESENT = "unknown", "present"
TRIVY = {
    "SchemaVersion": 2,
    "ArtifactName": "nginx:1.27",
    "Metadata": {"OS": {"Family": "debian", "Name": "12", "EOSL": False}},
    "Results": [{"Target": "nginx:1.27", "Vulnerabilities": []}],
}


def td_file(*containers: dict, **kw: Any) -> dict:
    return taskdef(*containers, revision=None, **kw)


def admin_snapshot(**td_kw: Any) -> dict:
    return snapshot(task_definitions=[taskdef(**td_kw)], roles=[role("task", managed=(ADMIN,))])


def public_snapshot(**svc_kw: Any) -> dict:
    return snapshot(
        services=[service(public=True, subnets=("subnet-public",), **svc_kw)],
        security_groups=[sg("sg-app", rule(8080, "0.0.0.0/0"))],
    )


def with_network(network: Any) -> dict:
    svc = service()
    svc["networkConfiguration"] = network
    return snapshot(services=[svc], security_groups=[sg("sg-app", rule(8080, "0.0.0.0/0"))])


def stale_snapshot() -> dict:
    old = taskdef(container(environment=[{"name": "DB_PASSWORD", "value": {"nested": "x"}}]), revision=1)
    return snapshot(services=[service(td="app:2")], task_definitions=[old, taskdef(revision=2)])


@dataclass
class Case:
    id: str
    trait: str
    doc: Any
    reason: str  # in the unknown reason (or the hit's note)
    expect: str = UNKNOWN
    vulns: bool = False


def _trait_roles(trait: str, kw: dict) -> list[Case]:
    return [Case(f"{trait}-role-object", trait, admin_snapshot(**kw), "taskRoleArn: expected a string")]


IAM_TRAITS = [
    "admin-access-role",
    "service-admin-role",
    "impact-full-control",
    "impact-policy-escalation",
    "impact-credential-minting",
    "impact-pass-role-executor",
    "impact-disable-audit",
    "impact-data-destruction",
    "impact-data-access",
]
VULN_TRAITS = ["exploitable-vulnerability", "software-vulnerability", "end-of-life-os", "malicious-package"]

CASES = [
    # ------------------------------------------------------------------ container fields
    Case(
        "privileged-yes",
        "privileged-container",
        td_file(container(privileged="yes")),
        "containerDefinitions[0].privileged: expected a boolean, found a string",
    ),
    Case(
        "privileged-one-of-two",
        "privileged-container",
        td_file(container(privileged="yes"), container(name="b", privileged=True)),
        "containerDefinitions[0].privileged: expected a boolean",
        PRESENT,
    ),
    Case(
        "container-not-an-object",
        "privileged-container",
        td_file(container(), "side"),
        "containerDefinitions[1]: expected an object, found a string",
    ),
    Case(
        "caps-add-string",
        "dangerous-capabilities",
        td_file(container(linuxParameters={"capabilities": {"add": "SYS_ADMIN"}})),
        "linuxParameters.capabilities.add: expected a list, found a string",
    ),
    Case(
        "caps-linux-list",
        "dangerous-capabilities",
        td_file(container(linuxParameters=[{"capabilities": {"add": ["SYS_ADMIN"]}}])),
        "linuxParameters: expected an object, found a list",
    ),
    Case(
        "devices-entry-string",
        "dangerous-capabilities",
        td_file(container(linuxParameters={"devices": ["/dev/sda"]})),
        "linuxParameters.devices[0]: expected an object, found a string",
    ),
    Case(
        "mount-entry-string",
        "host-filesystem-mount",
        td_file(container(mountPoints=["d:/data"]), volumes=[{"name": "d", "host": {"sourcePath": "/etc"}}]),
        "mountPoints[0]: expected an object, found a string",
    ),
    Case(
        "volume-host-list",
        "host-filesystem-mount",
        td_file(
            container(mountPoints=[{"sourceVolume": "d", "containerPath": "/h"}]),
            volumes=[{"name": "d", "host": ["/var/run/docker.sock"]}],
        ),
        "volumes[0].host: expected an object, found a list",
    ),
    Case(
        "mount-readonly-unreadable",
        "host-filesystem-mount",
        td_file(
            container(mountPoints=[{"sourceVolume": "d", "containerPath": "/h", "readOnly": "maybe"}]),
            volumes=[{"name": "d", "host": {"sourcePath": "/srv"}}],
        ),
        "mountPoints[0].readOnly: expected a boolean",
        PRESENT,
    ),
    Case(
        "pid-number", "host-pid-namespace", td_file(pidMode=5), "pidMode: expected a string, found a number"
    ),
    Case(
        "ipc-bool", "host-ipc-namespace", td_file(ipcMode=True), "ipcMode: expected a string, found a boolean"
    ),
    Case(
        "netmode-list", "host-network-mode", td_file(networkMode=["host"]), "networkMode: expected a string"
    ),
    Case(
        "user-object",
        "root-user",
        td_file(container(user={"uid": 0})),
        "containerDefinitions[0].user: expected a string, found an object",
    ),
    Case(
        "readonly-rootfs-yes",
        "writable-root-filesystem",
        td_file(container(readonlyRootFilesystem="yes")),
        "readonlyRootFilesystem: expected a boolean",
    ),
    Case(
        "env-value-object",
        "plaintext-credentials",
        td_file(container(environment=[{"name": "DB_PASSWORD", "value": {"from": "vault"}}])),
        "environment[0].value: expected a string, found an object",
    ),
    Case(
        "env-entry-string",
        "plaintext-credentials",
        td_file(container(environment=["DB_PASSWORD=hunter2"])),
        "environment[0]: expected an object with name and value, found a string",
    ),
    Case(
        "env-not-a-list",
        "plaintext-credentials",
        td_file(container(environment={"DB_PASSWORD": "hunter2"})),
        "environment: expected a list, found an object",
    ),
    Case(
        "command-string",
        "credentials-outside-environment",
        td_file(container(command="app --password=hunter2")),
        "command: expected a list, found a string",
    ),
    Case(
        "label-value-object",
        "credentials-outside-environment",
        td_file(container(dockerLabels={"api.key": {"v": 1}})),
        "dockerLabels.api.key: expected a string, found an object",
    ),
    Case(
        "secrets-entry-string",
        "credentials-outside-environment",
        td_file(container(secrets=["DB_PASSWORD"])),
        "secrets[0]: expected an object, found a string",
    ),
    Case(
        "task-role-object",
        "assumable-task-role",
        td_file(taskRoleArn={"Ref": "TaskRole"}),
        "taskRoleArn: expected a string, found an object",
    ),
    *(c for t in IAM_TRAITS for c in _trait_roles(t, {"taskRoleArn": {"Fn::GetAtt": ["Role", "Arn"]}})),
    *(
        Case(
            f"{t}-image-object",
            t,
            td_file(container(image={"repo": "nginx"})),
            "image: expected a string",
            vulns=True,
        )
        for t in VULN_TRAITS
    ),
    Case(
        "stale-env-object",
        "stale-revision-credentials",
        stale_snapshot(),
        "app:1: containerDefinitions[0].environment[0].value: expected a string",
    ),
    # ------------------------------------------------------------------ service fields
    Case(
        "exec-yes",
        "ecs-exec-enabled",
        snapshot(services=[service(enableExecuteCommand="yes")]),
        "service svc: enableExecuteCommand: expected a boolean",
    ),
    Case(
        "public-ip-bool",
        "public-ip",
        with_network({"awsvpcConfiguration": {"subnets": ["subnet-public"], "assignPublicIp": True}}),
        "awsvpcConfiguration.assignPublicIp: expected a string, found a boolean",
    ),
    Case(
        "public-ip-word",
        "public-ip",
        with_network({"awsvpcConfiguration": {"subnets": ["subnet-public"], "assignPublicIp": "YES"}}),
        "assignPublicIp: expected ENABLED or DISABLED",
    ),
    Case(
        "network-config-string",
        "open-security-group",
        with_network("awsvpc"),
        "networkConfiguration: expected an object, found a string",
    ),
    Case(
        "security-groups-string",
        "open-security-group",
        with_network({"awsvpcConfiguration": {"subnets": ["subnet-private"], "securityGroups": "sg-app"}}),
        "securityGroups: expected a list, found a string",
    ),
    Case(
        "sg-permissions-object",
        "open-security-group",
        snapshot(security_groups=[{"GroupId": "sg-app", "IpPermissions": {"IpProtocol": "-1"}}]),
        "security group sg-app: unreadable input: IpPermissions: expected a list, found an object",
    ),
    Case(
        "sg-range-string",
        "open-security-group",
        snapshot(
            security_groups=[
                {"GroupId": "sg-app", "IpPermissions": [{"IpProtocol": "-1", "IpRanges": ["0.0.0.0/0"]}]}
            ]
        ),
        "IpPermissions[0].IpRanges[0]: expected an object, found a string",
    ),
    Case(
        "load-balancers-string",
        "internet-reachable",
        snapshot(services=[service(loadBalancers="tg-1")]),
        "service svc: loadBalancers: expected a list, found a string",
    ),
    Case(
        "route-table-routes-object",
        "internet-reachable",
        snapshot(
            services=[service(public=True, subnets=("subnet-public",))],
            security_groups=[sg("sg-app", rule(8080, "0.0.0.0/0"))],
            route_tables=[
                {
                    "RouteTableId": "rtb-public",
                    "VpcId": "vpc-1",
                    "Associations": [{"SubnetId": "subnet-public"}],
                    "Routes": {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"},
                }
            ],
        ),
        "route table rtb-public: unreadable input: Routes: expected a list, found an object",
    ),
    Case(
        "deployments-entry-string",
        "privileged-container",
        snapshot(services=[service(deployments=["app:2"])]),
        "service svc: deployments[0]: expected an object, found a string",
    ),
    Case(
        "task-set-network-string",
        "public-ip",
        snapshot(
            services=[
                service(
                    taskSets=[{"taskDefinition": f"{ECS}:task-definition/app:1", "networkConfiguration": 1}]
                )
            ]
        ),
        "taskSets[0].networkConfiguration: expected an object, found a number",
    ),
]


def evaluated(doc: Any, reports: tuple[dict, ...] = ()) -> dict[str, object]:
    """Every trait's outcome for the first resource, through TraitSpec.evaluate (as the engine does)."""
    from ecs_exposure.model import Loc

    inv = load(copy.deepcopy(doc))  # a snapshot is consumed as it is read
    for i, rep in enumerate(reports):
        inv.image_reports.append(trivy_report(rep, Loc(f"report{i}.json"), Reader()))
        inv.vuln_sources.append(f"report{i}.json")
    t = next(iter(targets(inv, [])))
    return {tid: spec.evaluate(t) for tid, spec in registry().items()}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_field(case: Case) -> None:
    out = evaluated(case.doc, (TRIVY,) if case.vulns else ())[case.trait]
    if case.expect == UNKNOWN:
        assert isinstance(out, TraitUnknown), out
        assert case.reason in out.reason, out.reason
    else:
        assert isinstance(out, TraitHit), out
        assert out.note and case.reason in out.note, out.note
    # the global issue stays: the scan is incomplete
    inv = load(copy.deepcopy(case.doc))
    assert inv.issues, "a malformed field must also be a scan issue"


def test_every_trait_reading_resource_fields_has_a_malformed_case() -> None:
    prefixes = ("TaskDefinition.", "Container.", "Service.", "Deployment.")
    covered = {c.trait for c in CASES}
    missing = [
        tid
        for tid, spec in registry().items()
        if (spec.reads is None or any(f.startswith(prefixes) for f in spec.reads)) and tid not in covered
    ]
    assert not missing, f"add a malformed case for {missing}"


def test_well_formed_input_has_no_problems() -> None:
    inv = load(
        snapshot(services=[service(public=True)], task_definitions=[taskdef(container(privileged=True))])
    )
    region = inv.accounts[0].regions[0]
    assert all(td.problems == () for td in region.task_definitions.values())
    assert all(s.problems == () for s in region.services)
    assert all(g.problems == () for g in (region.security_groups or {}).values())


def test_a_problem_in_one_field_leaves_other_traits_decided() -> None:
    out = evaluated(td_file(container(privileged="yes", user="1000", readonlyRootFilesystem=True)))
    assert isinstance(out["privileged-container"], TraitUnknown)
    assert out["root-user"] is None and out["writable-root-filesystem"] is None
    assert out["host-pid-namespace"] is None and out["plaintext-credentials"] is None


def test_engine_reports_unknown_with_reason_in_the_finding(tmp_path: Path) -> None:
    import json

    p = tmp_path / "td.json"
    p.write_text(json.dumps(td_file(container(privileged="yes"), pidMode="host")))
    result = scan(load_paths([p]))
    [finding] = result.findings
    unknown = {u.trait_id: u.reason for u in finding.unknown}
    assert "containerDefinitions[0].privileged: expected a boolean" in unknown["privileged-container"]
    assert "host-pid-namespace" in {h.trait_id for h in finding.hits}
    assert not result.complete


# --------------------------------------------------------------------------- declarations are honest

_IDENTITY = {
    # problems / unresolved: what the input could not give; reading them is how a trait says unknown
    "TaskDefinition": {"family", "revision", "arn", "loc", "label", "problems", "unresolved"},
    "Container": {"name", "loc"},
    "Service": {"arn", "name", "loc", "cluster_arn", "problems", "unresolved"},
    "Deployment": {"kind", "loc", "status"},
}
_DERIVED = {
    "TaskDefinition.is_windows": "TaskDefinition.os_family",
    "TaskDefinition.volume": "TaskDefinition.volumes",
    "Service.running_task_definition_arns": "Service.deployments",
    "Deployment.task_definition_arn": "Service.deployments",
}


class Spy:
    """Records which attributes of the wrapped model object a detector reads."""

    def __init__(self, obj: object, seen: set[str]) -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_seen", seen)

    def __getattr__(self, name: str) -> object:
        obj = object.__getattribute__(self, "_obj")
        seen = object.__getattribute__(self, "_seen")
        cls = type(obj).__name__
        if name not in _IDENTITY.get(cls, ()):
            seen.add(_DERIVED.get(f"{cls}.{name}", f"{cls}.{name}"))
        value = getattr(obj, name)
        if name in ("containers", "deployments"):
            return tuple(Spy(v, seen) for v in value)
        return value


def _rich_targets():
    from ecs_exposure.cli import example_path
    from ecs_exposure.sources.vulns import load_vuln_file

    inv = load_paths([example_path()])
    for f in sorted((example_path().parent / "vulns").glob("*.json")):
        reports, _ = load_vuln_file(f)
        inv.image_reports.extend(reports)
    everything = td_file(
        container(
            privileged=True,
            user="root",
            image="nginx:1.27",
            environment=[{"name": "DB_PASSWORD", "value": "Tr0ub4dor&3"}],
            secrets=[{"name": "X", "valueFrom": "literal-secret-value-123"}],
            command=["app", "--password=hunter2!"],
            entryPoint=["sh"],
            dockerLabels={"k": "v"},
            mountPoints=[{"sourceVolume": "d", "containerPath": "/h"}],
            linuxParameters={"capabilities": {"add": ["SYS_ADMIN"]}, "devices": [{"hostPath": "/dev/sda"}]},
        ),
        volumes=[{"name": "d", "host": {"sourcePath": "/"}}],
        pidMode="host",
        ipcMode="host",
        networkMode="host",
        taskRoleArn=f"{ROLE}/task",
    )
    inv.merge(load(everything))
    return list(targets(inv, []))


def test_detectors_read_only_the_fields_their_trait_declares() -> None:
    """A detector that reads a field its trait does not declare would pass silently on a malformed
    value of that field: this test runs every detector on spied resources and compares."""
    rich = _rich_targets()
    for tid, spec in registry().items():
        seen: set[str] = set()
        for t in rich:
            spied = dataclasses.replace(
                t,
                task_definitions=tuple(Spy(td, seen) for td in t.task_definitions),  # type: ignore[misc]
                service=Spy(t.service, seen) if t.service is not None else None,  # type: ignore[arg-type]
                memo={},
            )
            spec.detect(spied)
        assert spec.reads is not None, f"{tid} declares no reads"
        assert seen <= spec.reads, f"{tid} reads {sorted(seen - spec.reads)} without declaring it"


def _model_field(name: str) -> bool:
    cls_name, _, attr = name.partition(".")
    cls = getattr(model, cls_name, None)
    return (
        cls is not None
        and dataclasses.is_dataclass(cls)
        and attr in {f.name for f in dataclasses.fields(cls)}
    )


def test_every_field_name_is_a_model_field() -> None:
    names = {f for spec in registry().values() for f in spec.reads or ()}
    names |= {f for table in (TASK_FIELDS, CONTAINER_FIELDS, LINUX_FIELDS) for v in table.values() for f in v}
    names |= set(task_fields(("containerDefinitions", 0))) | set(service_fields(("deployments",)))
    for key in ("networkConfiguration", "loadBalancers", "enableExecuteCommand", "launchType"):
        names |= set(service_fields((key,)))
    bad = sorted(n for n in names if not _model_field(n))
    assert not bad, bad


def test_remediation_reread_is_bounded_by_the_same_limit(tmp_path: Path) -> None:
    # the fix command re-reads files through read_json: the limit in force applies there too
    from ecs_exposure.sources.jsonio import SourceError, file_size_limit

    p = tmp_path / "td.json"
    p.write_text('{"family": "x", "containerDefinitions": []}')
    with file_size_limit(10), pytest.raises(SourceError, match="over the limit"):
        read_json(p, "td.json")
