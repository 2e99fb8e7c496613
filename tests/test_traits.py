"""One table of cases per trait: positives, the tricky negatives, and what the inputs cannot decide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from builders import (
    ECS,
    ROLE,
    container,
    policy,
    role,
    rule,
    service,
    sg,
    snapshot,
    taskdef,
)
from conftest import outcomes
from ecs_exposure.model import TraitHit, TraitUnknown

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
PRESENT, ABSENT, UNKNOWN = "present", "absent", "unknown"


@dataclass
class Case:
    id: str
    trait: str
    doc: Any
    expect: str
    contains: str | None = None  # in an evidence summary (present) or the reason (unknown)
    qualifier: str | None = None  # must be among the hit's qualifiers
    not_qualifier: str | None = None
    resource: str | None = None
    reports: tuple[dict, ...] = ()  # Trivy / Grype reports, as with --vulns


def td_file(*containers: dict, **kw: Any) -> dict:
    """A task definition file, register shape (no ARN)."""
    return taskdef(*containers, revision=None, **kw)


def with_role(*roles: dict, td_kw: dict | None = None, policies: list | None = None, **kw: Any) -> dict:
    td = taskdef(taskRoleArn=f"{ROLE}/task", **(td_kw or {}))
    return snapshot(task_definitions=[td], roles=list(roles), policies=policies, **kw)


def public_service(**kw: Any) -> dict:
    return service(public=True, subnets=("subnet-public",), **kw)


def alb(
    scheme: str = "internet-facing", lb_sgs: tuple[str, ...] = ("sg-alb",), listener_port: int = 443
) -> dict:
    lb_arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/lb/1"
    tg_arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tg/1"
    return {
        "services": [
            service(loadBalancers=[{"targetGroupArn": tg_arn, "containerName": "app", "containerPort": 8080}])
        ],
        "load_balancers": [
            {
                "LoadBalancerArn": lb_arn,
                "LoadBalancerName": "lb",
                "Scheme": scheme,
                "Type": "application",
                "SecurityGroups": list(lb_sgs),
            }
        ],
        "listeners": [
            {
                "ListenerArn": lb_arn + "/l",
                "LoadBalancerArn": lb_arn,
                "Port": listener_port,
                "Protocol": "HTTPS",
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": tg_arn}],
            }
        ],
        "target_groups": [
            {"TargetGroupArn": tg_arn, "TargetGroupName": "tg", "Port": 8080, "LoadBalancerArns": [lb_arn]}
        ],
    }


def trivy(*vulns: tuple[str, str, str | None], eosl: bool | None = False, image: str = "nginx:1.27") -> dict:
    os_info: dict[str, Any] = {"Family": "debian", "Name": "11"}
    if eosl is not None:
        os_info["EOSL"] = eosl
    return {
        "SchemaVersion": 2,
        "ArtifactName": image,
        "Metadata": {"OS": os_info},
        "Results": [
            {
                "Target": image,
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": vid,
                        "PkgName": "pkg",
                        "InstalledVersion": "1",
                        "FixedVersion": "2",
                        "Severity": sev,
                        "CVSS": {"nvd": {"V3Vector": vec}} if vec else {},
                    }
                    for vid, sev, vec in vulns
                ],
            }
        ],
    }


def inspector_snapshot(
    vid: str,
    severity: str = "HIGH",
    vector: str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    epss: float = 0.0,
    exploit: bool = False,
) -> dict:
    image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:1"
    doc = snapshot(task_definitions=[taskdef(container(image=image))])
    doc["accounts"][0]["regions"][0]["inspector2"] = {
        "findings": [
            {
                "type": "PACKAGE_VULNERABILITY",
                "status": "ACTIVE",
                "severity": severity,
                "epss": {"score": epss},
                "exploitAvailable": "YES" if exploit else "NO",
                "packageVulnerabilityDetails": {
                    "vulnerabilityId": vid,
                    "cvss": [{"scoringVector": vector, "baseScore": 7.0}],
                    "vulnerablePackages": [{"name": "pkg", "version": "1"}],
                },
                "resources": [
                    {
                        "type": "AWS_ECR_CONTAINER_IMAGE",
                        "region": "eu-west-1",
                        "details": {
                            "awsEcrContainerImage": {
                                "registry": "111122223333",
                                "repositoryName": "app",
                                "imageTags": ["1"],
                                "imageHash": "sha256:" + "a" * 64,
                            }
                        },
                    }
                ],
            }
        ]
    }
    return doc


NET = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
LOCAL = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"
NGINX = td_file(container(image="nginx:1.27"))

CASES = [
    # ---------------------------------------------------------------- vulnerabilities
    Case(
        "vuln-exploit-available",
        "exploitable-vulnerability",
        inspector_snapshot("CVE-1", exploit=True),
        PRESENT,
        "exploit available",
    ),
    Case(
        "vuln-epss", "exploitable-vulnerability", inspector_snapshot("CVE-1", epss=0.3), PRESENT, "EPSS 0.30"
    ),
    Case(
        "vuln-local-exploit",
        "exploitable-vulnerability",
        inspector_snapshot("CVE-1", vector=LOCAL, exploit=True),
        ABSENT,
    ),
    Case("vuln-low-epss", "exploitable-vulnerability", inspector_snapshot("CVE-1", epss=0.01), ABSENT),
    Case("vuln-no-source", "exploitable-vulnerability", NGINX, UNKNOWN, "no vulnerability data"),
    Case(
        "vuln-no-report",
        "exploitable-vulnerability",
        td_file(container(image="redis:7")),
        UNKNOWN,
        "no vulnerability report for image redis:7",
        reports=(trivy(("CVE-1", "HIGH", NET)),),
    ),
    Case(
        "soft-high",
        "software-vulnerability",
        NGINX,
        PRESENT,
        "CVE-9 HIGH",
        reports=(trivy(("CVE-9", "HIGH", LOCAL)),),
    ),
    Case("soft-low-only", "software-vulnerability", NGINX, ABSENT, reports=(trivy(("CVE-9", "LOW", LOCAL)),)),
    Case(
        "soft-inspector-medium",
        "software-vulnerability",
        inspector_snapshot("CVE-5", "MEDIUM", epss=0.01),
        PRESENT,
    ),
    Case("soft-no-source", "software-vulnerability", NGINX, UNKNOWN),
    Case("eol-trivy", "end-of-life-os", NGINX, PRESENT, "debian 11", reports=(trivy(eosl=True),)),
    Case("eol-supported", "end-of-life-os", NGINX, ABSENT, reports=(trivy(eosl=False),)),
    Case("eol-inspector-silent", "end-of-life-os", inspector_snapshot("CVE-1"), UNKNOWN, "does not say"),
    Case(
        "mal-package",
        "malicious-package",
        NGINX,
        PRESENT,
        "MAL-2025-7",
        reports=(trivy(("MAL-2025-7", "CRITICAL", None)),),
    ),
    Case("mal-none", "malicious-package", NGINX, ABSENT, reports=(trivy(("CVE-1", "CRITICAL", NET)),)),
    Case("mal-no-source", "malicious-package", NGINX, UNKNOWN),
    # ---------------------------------------------------------------- privileged-container
    Case("priv", "privileged-container", td_file(container(privileged=True)), PRESENT, "container app"),
    Case("priv-false", "privileged-container", td_file(container(privileged=False)), ABSENT),
    Case("priv-unset", "privileged-container", td_file(container()), ABSENT),
    Case(
        "priv-second",
        "privileged-container",
        td_file(container(), container(name="side", privileged=True)),
        PRESENT,
        "container side",
    ),
    Case("priv-string", "privileged-container", td_file(container(privileged="true")), PRESENT),
    Case(
        "priv-old-deployment",
        "privileged-container",
        snapshot(
            services=[
                service(
                    td="app:2",
                    deployments=[
                        {"status": "PRIMARY", "taskDefinition": f"{ECS}:task-definition/app:2"},
                        {"status": "ACTIVE", "taskDefinition": f"{ECS}:task-definition/app:1"},
                    ],
                )
            ],
            task_definitions=[taskdef(container(privileged=True), revision=1), taskdef(revision=2)],
        ),
        PRESENT,
    ),
    Case(
        "priv-task-set",
        "privileged-container",
        snapshot(
            services=[service(td="app:2", taskSets=[{"taskDefinition": f"{ECS}:task-definition/app:1"}])],
            task_definitions=[taskdef(container(privileged=True), revision=1), taskdef(revision=2)],
        ),
        PRESENT,
    ),
    Case(
        "priv-missing-revision",
        "privileged-container",
        snapshot(services=[service(td="app:7")], task_definitions=[taskdef(revision=1)]),
        UNKNOWN,
        "app:7",
    ),
    # ---------------------------------------------------------------- namespaces and network mode
    Case("pid-host", "host-pid-namespace", td_file(pidMode="host"), PRESENT),
    Case("pid-task", "host-pid-namespace", td_file(pidMode="task"), ABSENT),
    Case("pid-unset", "host-pid-namespace", td_file(), ABSENT),
    Case("ipc-host", "host-ipc-namespace", td_file(ipcMode="host"), PRESENT),
    Case("ipc-none", "host-ipc-namespace", td_file(ipcMode="none"), ABSENT),
    Case("net-host", "host-network-mode", td_file(networkMode="host"), PRESENT),
    Case("net-bridge", "host-network-mode", td_file(networkMode="bridge"), ABSENT),
    Case("net-awsvpc", "host-network-mode", td_file(), ABSENT),
    # ---------------------------------------------------------------- host-filesystem-mount
    Case(
        "mount-plain",
        "host-filesystem-mount",
        td_file(
            container(mountPoints=[{"sourceVolume": "d", "containerPath": "/data"}]),
            volumes=[{"name": "d", "host": {"sourcePath": "/srv/data"}}],
        ),
        PRESENT,
        "/srv/data",
        not_qualifier="sensitive",
    ),
    Case(
        "mount-etc-writable",
        "host-filesystem-mount",
        td_file(
            container(mountPoints=[{"sourceVolume": "d", "containerPath": "/h"}]),
            volumes=[{"name": "d", "host": {"sourcePath": "/etc/"}}],
        ),
        PRESENT,
        qualifier="sensitive",
    ),
    Case(
        "mount-root-writable",
        "host-filesystem-mount",
        td_file(
            container(mountPoints=[{"sourceVolume": "d", "containerPath": "/host"}]),
            volumes=[{"name": "d", "host": {"sourcePath": "/"}}],
        ),
        PRESENT,
        qualifier="sensitive",
    ),
    Case(
        "mount-etc-readonly",
        "host-filesystem-mount",
        td_file(
            container(mountPoints=[{"sourceVolume": "d", "containerPath": "/h", "readOnly": True}]),
            volumes=[{"name": "d", "host": {"sourcePath": "/etc"}}],
        ),
        PRESENT,
        not_qualifier="sensitive",
    ),
    Case(
        "mount-docker-sock-readonly",
        "host-filesystem-mount",
        td_file(
            container(
                mountPoints=[{"sourceVolume": "s", "containerPath": "/var/run/docker.sock", "readOnly": True}]
            ),
            volumes=[{"name": "s", "host": {"sourcePath": "/var/run/docker.sock"}}],
        ),
        PRESENT,
        qualifier="sensitive",
    ),
    Case(
        "mount-docker-volume",
        "host-filesystem-mount",
        td_file(
            container(mountPoints=[{"sourceVolume": "s", "containerPath": "/cache"}]),
            volumes=[{"name": "s", "host": {}}],
        ),
        ABSENT,
    ),
    Case(
        "mount-efs",
        "host-filesystem-mount",
        td_file(
            container(mountPoints=[{"sourceVolume": "e", "containerPath": "/efs"}]),
            volumes=[{"name": "e", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}],
        ),
        ABSENT,
    ),
    Case(
        "mount-unmounted",
        "host-filesystem-mount",
        td_file(container(), volumes=[{"name": "d", "host": {"sourcePath": "/etc"}}]),
        ABSENT,
    ),
    # ---------------------------------------------------------------- dangerous-capabilities
    Case(
        "cap-sys-admin",
        "dangerous-capabilities",
        td_file(container(linuxParameters={"capabilities": {"add": ["SYS_ADMIN"]}})),
        PRESENT,
        "SYS_ADMIN",
        qualifier="escape",
    ),
    Case(
        "cap-net-admin",
        "dangerous-capabilities",
        td_file(container(linuxParameters={"capabilities": {"add": ["NET_ADMIN"]}})),
        PRESENT,
        not_qualifier="escape",
    ),
    Case(
        "cap-prefixed-lower",
        "dangerous-capabilities",
        td_file(container(linuxParameters={"capabilities": {"add": ["cap_sys_ptrace"]}})),
        PRESENT,
        "SYS_PTRACE",
    ),
    Case(
        "cap-benign",
        "dangerous-capabilities",
        td_file(container(linuxParameters={"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}})),
        ABSENT,
    ),
    Case(
        "cap-device",
        "dangerous-capabilities",
        td_file(container(linuxParameters={"devices": [{"hostPath": "/dev/fuse"}]})),
        PRESENT,
        "/dev/fuse",
    ),
    # ---------------------------------------------------------------- contextual container traits
    Case("rootfs-writable", "writable-root-filesystem", td_file(container()), PRESENT),
    Case(
        "rootfs-readonly", "writable-root-filesystem", td_file(container(readonlyRootFilesystem=True)), ABSENT
    ),
    Case(
        "rootfs-windows",
        "writable-root-filesystem",
        td_file(container(), runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"}),
        ABSENT,
    ),
    Case("root-unset", "root-user", td_file(container()), PRESENT),
    Case("root-name", "root-user", td_file(container(user="root")), PRESENT),
    Case("root-uid-gid", "root-user", td_file(container(user="0:0")), PRESENT),
    Case("root-root-group", "root-user", td_file(container(user="root:wheel")), PRESENT),
    Case("root-nonroot-uid", "root-user", td_file(container(user="1000")), ABSENT),
    Case("root-uid-starting-0", "root-user", td_file(container(user="01000")), ABSENT),
    Case("root-named-user", "root-user", td_file(container(user="app")), ABSENT),
    Case(
        "root-windows",
        "root-user",
        td_file(container(), runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2019_FULL"}),
        ABSENT,
    ),
    Case("role-present", "assumable-task-role", td_file(taskRoleArn=f"{ROLE}/task"), PRESENT, "role/task"),
    Case("role-absent", "assumable-task-role", td_file(), ABSENT),
    # ---------------------------------------------------------------- plaintext-credentials
    Case(
        "cred-password",
        "plaintext-credentials",
        td_file(container(environment=[{"name": "DB_PASSWORD", "value": "Tr0ub4dor&3"}])),
        PRESENT,
        "DB_PASSWORD",
    ),
    Case(
        "cred-lowercase",
        "plaintext-credentials",
        td_file(container(environment=[{"name": "db_password", "value": "Tr0ub4dor&3"}])),
        PRESENT,
    ),
    Case(
        "cred-first-of-three",
        "plaintext-credentials",
        td_file(
            container(
                environment=[
                    {"name": "DB_PASSWORD", "value": "x-Y-z-1"},
                    {"name": "A", "value": "1"},
                    {"name": "B", "value": "2"},
                ]
            )
        ),
        PRESENT,
        "DB_PASSWORD",
    ),
    Case(
        "cred-aws-key",
        "plaintext-credentials",
        td_file(container(environment=[{"name": "K", "value": "AKIAIOSFODNN7EXAMPLE"}])),
        PRESENT,
        qualifier="cloud",
    ),
    Case(
        "cred-url",
        "plaintext-credentials",
        td_file(container(environment=[{"name": "DATABASE_URL", "value": "mysql://u:p4ss@db/x"}])),
        PRESENT,
        not_qualifier="cloud",
    ),
    Case(
        "cred-allow-empty",
        "plaintext-credentials",
        td_file(container(environment=[{"name": "MYSQL_ALLOW_EMPTY_PASSWORD", "value": "yes"}])),
        ABSENT,
    ),
    Case(
        "cred-arn",
        "plaintext-credentials",
        td_file(
            container(
                environment=[{"name": "SECRET_ARN", "value": "arn:aws:secretsmanager:eu-west-1:1:secret:x"}]
            )
        ),
        ABSENT,
    ),
    Case(
        "cred-token-url",
        "plaintext-credentials",
        td_file(container(environment=[{"name": "TOKEN_URL", "value": "https://idp.example.com/token"}])),
        ABSENT,
    ),
    Case(
        "cred-placeholder",
        "plaintext-credentials",
        td_file(container(environment=[{"name": "DB_PASSWORD", "value": "${DB_PASSWORD}"}])),
        ABSENT,
    ),
    Case(
        "cred-null-value",
        "plaintext-credentials",
        td_file(container(environment=[{"name": "DB_PASSWORD", "value": None}])),
        ABSENT,
    ),
    Case(
        "cred-in-secrets-is-fine",
        "plaintext-credentials",
        td_file(
            container(secrets=[{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/db"}])
        ),
        ABSENT,
    ),
    # ---------------------------------------------------------------- credentials-outside-environment
    Case(
        "outside-command",
        "credentials-outside-environment",
        td_file(container(command=["app", "--password=hunter2!"])),
        PRESENT,
        "command[1]",
    ),
    Case(
        "outside-entrypoint",
        "credentials-outside-environment",
        td_file(container(entryPoint=["sh", "-c", "export API_TOKEN=abc123xyz && exec app"])),
        PRESENT,
        "entryPoint[2]",
    ),
    Case(
        "outside-label",
        "credentials-outside-environment",
        td_file(container(dockerLabels={"billing.key": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"})),
        PRESENT,
        "billing.key",
    ),
    Case(
        "outside-literal-valuefrom",
        "credentials-outside-environment",
        td_file(container(secrets=[{"name": "DB_PASSWORD", "valueFrom": "p@ss w0rd!"}])),
        PRESENT,
        "DB_PASSWORD",
    ),
    Case(
        "outside-arn-valuefrom",
        "credentials-outside-environment",
        td_file(
            container(secrets=[{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/db"}])
        ),
        ABSENT,
    ),
    Case(
        "outside-clean-command",
        "credentials-outside-environment",
        td_file(container(command=["app", "--port=8080", "--password-file=/run/secrets/pw"])),
        ABSENT,
    ),
    # ---------------------------------------------------------------- stale-revision-credentials
    Case(
        "stale-old-revision",
        "stale-revision-credentials",
        snapshot(
            services=[service(td="app:2")],
            task_definitions=[
                taskdef(container(environment=[{"name": "API_TOKEN", "value": "old-token-123"}]), revision=1),
                taskdef(revision=2),
            ],
        ),
        PRESENT,
        "API_TOKEN",
    ),
    Case(
        "stale-clean-old",
        "stale-revision-credentials",
        snapshot(services=[service(td="app:2")], task_definitions=[taskdef(revision=1), taskdef(revision=2)]),
        ABSENT,
    ),
    Case("stale-first-revision", "stale-revision-credentials", snapshot(), ABSENT),
    Case(
        "stale-not-collected",
        "stale-revision-credentials",
        snapshot(services=[service(td="app:3")], task_definitions=[taskdef(revision=3)]),
        UNKNOWN,
        "collect all",
    ),
    Case("stale-file", "stale-revision-credentials", td_file(), UNKNOWN, "file"),
    # ---------------------------------------------------------------- ecs-exec-enabled
    Case("exec-on", "ecs-exec-enabled", snapshot(services=[service(enableExecuteCommand=True)]), PRESENT),
    Case("exec-off", "ecs-exec-enabled", snapshot(services=[service(enableExecuteCommand=False)]), ABSENT),
    Case("exec-file", "ecs-exec-enabled", td_file(), UNKNOWN),
    # ---------------------------------------------------------------- open-security-group
    Case(
        "sg-open-v4",
        "open-security-group",
        snapshot(security_groups=[sg("sg-app", rule(8080))]),
        PRESENT,
        "covers container port 8080/tcp",
    ),
    Case(
        "sg-open-v6",
        "open-security-group",
        snapshot(security_groups=[sg("sg-app", rule(22, None, v6="::/0"))]),
        PRESENT,
        "covers no container port",
    ),
    Case(
        "sg-open-all-traffic",
        "open-security-group",
        snapshot(security_groups=[sg("sg-app", rule(None, proto="-1"))]),
        PRESENT,
        "all traffic",
    ),
    Case(
        "sg-private-cidr",
        "open-security-group",
        snapshot(security_groups=[sg("sg-app", rule(8080, "10.0.0.0/8"))]),
        ABSENT,
    ),
    Case(
        "sg-group-source",
        "open-security-group",
        snapshot(security_groups=[sg("sg-app", rule(8080, None, group="sg-alb"))]),
        ABSENT,
    ),
    Case("sg-not-in-snapshot", "open-security-group", snapshot(security_groups=[]), UNKNOWN, "sg-app"),
    Case(
        "sg-not-collected",
        "open-security-group",
        snapshot(drop=("ec2.securityGroups",)),
        UNKNOWN,
        "not in the inputs",
    ),
    Case(
        "sg-api-failed",
        "open-security-group",
        snapshot(
            drop=("ec2.securityGroups",),
            errors=[
                {
                    "account_id": "111122223333",
                    "region": "eu-west-1",
                    "api": "ec2:DescribeSecurityGroups",
                    "error": "AccessDenied",
                }
            ],
        ),
        UNKNOWN,
        "AccessDenied",
    ),
    Case(
        "sg-bridge-mode",
        "open-security-group",
        snapshot(services=[service(network=False)], task_definitions=[taskdef(networkMode="bridge")]),
        UNKNOWN,
        "container instance",
    ),
    Case("sg-file", "open-security-group", td_file(), UNKNOWN, "no service"),
    # ---------------------------------------------------------------- public-ip
    Case("pip-enabled", "public-ip", snapshot(services=[service(public=True)]), PRESENT, "the service"),
    Case("pip-disabled", "public-ip", snapshot(), ABSENT),
    Case(
        "pip-task-set",
        "public-ip",
        snapshot(
            services=[
                service(
                    network=False,
                    taskSets=[
                        {
                            "taskDefinition": f"{ECS}:task-definition/app:1",
                            "networkConfiguration": {
                                "awsvpcConfiguration": {
                                    "subnets": ["subnet-public"],
                                    "securityGroups": ["sg-app"],
                                    "assignPublicIp": "ENABLED",
                                }
                            },
                        }
                    ],
                )
            ]
        ),
        PRESENT,
        "taskSet",
    ),
    Case(
        "pip-host-mode",
        "public-ip",
        snapshot(services=[service(network=False)], task_definitions=[taskdef(networkMode="host")]),
        UNKNOWN,
    ),
    Case("pip-file", "public-ip", td_file(), UNKNOWN),
    # ---------------------------------------------------------------- internet-reachable
    Case(
        "reach-direct",
        "internet-reachable",
        snapshot(services=[public_service()], security_groups=[sg("sg-app", rule(8080))]),
        PRESENT,
        "igw-1",
    ),
    Case(
        "reach-main-table-igw",
        "internet-reachable",
        snapshot(
            services=[service(public=True, subnets=("subnet-private",))],
            security_groups=[sg("sg-app", rule(8080))],
            route_tables=[
                {
                    "RouteTableId": "rtb-main",
                    "VpcId": "vpc-1",
                    "Associations": [{"Main": True}],
                    "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"}],
                }
            ],
        ),
        PRESENT,
        "rtb-main",
    ),
    Case(
        "reach-nat-only",
        "internet-reachable",
        snapshot(services=[service(public=True)], security_groups=[sg("sg-app", rule(8080))]),
        ABSENT,
    ),
    Case(
        "reach-blackhole",
        "internet-reachable",
        snapshot(
            services=[public_service()],
            security_groups=[sg("sg-app", rule(8080))],
            route_tables=[
                {
                    "RouteTableId": "rtb-x",
                    "VpcId": "vpc-1",
                    "Associations": [{"SubnetId": "subnet-public"}],
                    "Routes": [
                        {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "blackhole"}
                    ],
                }
            ],
        ),
        ABSENT,
    ),
    Case("reach-closed-sg", "internet-reachable", snapshot(services=[public_service()]), ABSENT),
    Case(
        "reach-no-public-ip",
        "internet-reachable",
        snapshot(services=[service(subnets=("subnet-public",))], security_groups=[sg("sg-app", rule(8080))]),
        ABSENT,
    ),
    Case(
        "reach-routes-not-collected",
        "internet-reachable",
        snapshot(
            services=[public_service()], security_groups=[sg("sg-app", rule(8080))], drop=("ec2.routeTables",)
        ),
        UNKNOWN,
        "route tables",
    ),
    Case(
        "reach-alb",
        "internet-reachable",
        snapshot(
            security_groups=[sg("sg-app", rule(8080, group="sg-alb")), sg("sg-alb", rule(443))], **alb()
        ),
        PRESENT,
        "listener HTTPS:443",
    ),
    Case(
        "reach-alb-internal",
        "internet-reachable",
        snapshot(security_groups=[sg("sg-app"), sg("sg-alb", rule(443))], **alb(scheme="internal")),
        ABSENT,
    ),
    Case(
        "reach-alb-closed",
        "internet-reachable",
        snapshot(security_groups=[sg("sg-app"), sg("sg-alb", rule(443, "10.0.0.0/8"))], **alb()),
        ABSENT,
    ),
    Case(
        "reach-alb-other-port",
        "internet-reachable",
        snapshot(security_groups=[sg("sg-app"), sg("sg-alb", rule(80))], **alb()),
        ABSENT,
    ),
    Case(
        "reach-nlb-no-sg",
        "internet-reachable",
        snapshot(security_groups=[sg("sg-app")], **alb(lb_sgs=())),
        PRESENT,
        "without security groups",
    ),
    Case(
        "reach-lb-not-collected",
        "internet-reachable",
        snapshot(
            security_groups=[sg("sg-app")],
            drop=("elbv2.targetGroups",),
            **{k: v for k, v in alb().items() if k != "target_groups"},
        ),
        UNKNOWN,
        "load balancers",
    ),
    Case("reach-file", "internet-reachable", td_file(), UNKNOWN),
    # ---------------------------------------------------------------- admin-access-role
    Case(
        "admin-managed",
        "admin-access-role",
        with_role(role("task", managed=(ADMIN,))),
        PRESENT,
        "AdministratorAccess",
    ),
    Case(
        "admin-inline-star",
        "admin-access-role",
        with_role(
            role("task", inline=([{"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}],))
        ),
        PRESENT,
        "statement All",
    ),
    Case(
        "admin-star-colon-star",
        "admin-access-role",
        with_role(
            role(
                "task", inline=([{"Effect": "Allow", "Action": ["s3:GetObject", "*:*"], "Resource": ["*"]}],)
            )
        ),
        PRESENT,
    ),
    Case(
        "admin-customer-managed",
        "admin-access-role",
        with_role(
            role("task", managed=("arn:aws:iam::111122223333:policy/ops",)),
            policies=[
                policy(
                    "arn:aws:iam::111122223333:policy/ops",
                    [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                )
            ],
        ),
        PRESENT,
        "policy ops",
    ),
    Case(
        "admin-execution-role",
        "admin-access-role",
        snapshot(
            task_definitions=[taskdef(executionRoleArn=f"{ROLE}/exec")],
            roles=[role("exec", managed=(ADMIN,))],
        ),
        PRESENT,
        "execution role",
    ),
    Case(
        "admin-notaction",
        "admin-access-role",
        with_role(role("task", inline=([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],))),
        PRESENT,
        "near-admin",
    ),
    Case(
        "admin-conditional",
        "admin-access-role",
        with_role(
            role(
                "task",
                inline=(
                    [
                        {
                            "Effect": "Allow",
                            "Action": "*",
                            "Resource": "*",
                            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                        }
                    ],
                ),
            )
        ),
        PRESENT,
        "Condition",
    ),
    Case(
        "admin-denied",
        "admin-access-role",
        with_role(
            role(
                "task",
                inline=(
                    [
                        {"Effect": "Allow", "Action": "*", "Resource": "*"},
                        {"Effect": "Deny", "Action": "*", "Resource": "*"},
                    ],
                ),
            )
        ),
        ABSENT,
    ),
    Case(
        "admin-resource-scoped",
        "admin-access-role",
        with_role(
            role("task", inline=([{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}],))
        ),
        ABSENT,
    ),
    Case(
        "admin-service-wildcard-only",
        "admin-access-role",
        with_role(role("task", inline=([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],))),
        ABSENT,
    ),
    Case(
        "admin-boundary-limits",
        "admin-access-role",
        with_role(
            role("task", managed=(ADMIN,), boundary="arn:aws:iam::111122223333:policy/boundary"),
            policies=[
                policy(
                    "arn:aws:iam::111122223333:policy/boundary",
                    [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
                )
            ],
        ),
        ABSENT,
    ),
    Case("admin-role-not-in-snapshot", "admin-access-role", with_role(), UNKNOWN, "not in the inputs"),
    Case(
        "admin-other-account",
        "admin-access-role",
        snapshot(task_definitions=[taskdef(taskRoleArn="arn:aws:iam::999988887777:role/x")]),
        UNKNOWN,
        "another account",
    ),
    Case("admin-iam-not-collected", "admin-access-role", with_role(drop=("iam",)), UNKNOWN, "IAM"),
    Case(
        "admin-policy-not-collected",
        "admin-access-role",
        with_role(role("task", managed=("arn:aws:iam::111122223333:policy/unknown",))),
        UNKNOWN,
        "policy/unknown",
    ),
    Case("admin-file", "admin-access-role", td_file(taskRoleArn=f"{ROLE}/task"), UNKNOWN, "file"),
    Case("admin-no-roles", "admin-access-role", snapshot(), ABSENT),
    # ---------------------------------------------------------------- service-admin-role
    Case(
        "svcadmin-s3",
        "service-admin-role",
        with_role(
            role(
                "task",
                inline=([{"Effect": "Allow", "Action": ["s3:*", "sqs:SendMessage"], "Resource": "*"}],),
            )
        ),
        PRESENT,
        "s3:*",
    ),
    Case(
        "svcadmin-builtin-managed",
        "service-admin-role",
        with_role(role("task", managed=("arn:aws:iam::aws:policy/AmazonS3FullAccess",))),
        PRESENT,
        "s3:*",
    ),
    Case(
        "svcadmin-prefix-wildcard",
        "service-admin-role",
        with_role(role("task", inline=([{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],))),
        ABSENT,
    ),
    Case(
        "svcadmin-scoped",
        "service-admin-role",
        with_role(
            role("task", inline=([{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}],))
        ),
        ABSENT,
    ),
    Case(
        "svcadmin-denied",
        "service-admin-role",
        with_role(
            role(
                "task",
                inline=(
                    [
                        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
                    ],
                ),
            )
        ),
        ABSENT,
    ),
    Case(
        "svcadmin-full-admin-instead",
        "service-admin-role",
        with_role(role("task", inline=([{"Effect": "Allow", "Action": ["*", "s3:*"], "Resource": "*"}],))),
        ABSENT,
    ),
    Case(
        "svcadmin-exec-role-builtin",
        "service-admin-role",
        snapshot(
            task_definitions=[taskdef(executionRoleArn=f"{ROLE}/exec")],
            roles=[
                role(
                    "exec", managed=("arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",)
                )
            ],
        ),
        ABSENT,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_trait(case: Case) -> None:
    got = outcomes(case.doc, case.resource, list(case.reports)).get(case.trait)
    if case.expect == ABSENT:
        assert got is None, f"expected absent, got {got}"
        return
    if case.expect == UNKNOWN:
        assert isinstance(got, TraitUnknown), f"expected unknown, got {got}"
        if case.contains:
            assert case.contains in got.reason
        return
    assert isinstance(got, TraitHit), f"expected present, got {got}"
    if case.contains:
        assert any(case.contains in e.summary for e in got.evidence), [e.summary for e in got.evidence]
    if case.qualifier:
        assert case.qualifier in got.qualifiers
    if case.not_qualifier:
        assert case.not_qualifier not in got.qualifiers


def test_every_trait_has_cases() -> None:
    from ecs_exposure.traits import registry
    from test_iam import TRAIT_CASES

    covered: dict[str, set[str]] = {}
    for c in CASES:
        covered.setdefault(c.trait, set()).add(c.expect)
    for _, _, trait, expected in TRAIT_CASES:  # the traits the IAM evaluator decides
        covered.setdefault(trait, set()).add(
            PRESENT if expected is True else ABSENT if expected is False else UNKNOWN
        )
    for trait_id in registry():
        assert PRESENT in covered.get(trait_id, set()), f"{trait_id} has no positive case"
        assert ABSENT in covered.get(trait_id, set()), f"{trait_id} has no negative case"


def test_evidence_names_the_revision_it_came_from() -> None:
    doc = snapshot(
        services=[
            service(
                td="app:2",
                deployments=[
                    {"status": "PRIMARY", "taskDefinition": f"{ECS}:task-definition/app:2"},
                    {"status": "ACTIVE", "taskDefinition": f"{ECS}:task-definition/app:1"},
                ],
            )
        ],
        task_definitions=[taskdef(container(privileged=True), revision=1), taskdef(revision=2)],
    )
    hit = outcomes(doc)["privileged-container"]
    assert isinstance(hit, TraitHit)
    assert [e.revision for e in hit.evidence] == ["app:1"]
    assert hit.evidence[0].loc is not None
    assert hit.evidence[0].loc.pointer.endswith("/containerDefinitions/0/privileged")
