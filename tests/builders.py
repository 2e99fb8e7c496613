"""Small builders for task definitions and snapshots, in the AWS APIs' own JSON shapes."""

from __future__ import annotations

import copy
from typing import Any

ACCOUNT = "111122223333"
REGION = "eu-west-1"
ECS = f"arn:aws:ecs:{REGION}:{ACCOUNT}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role"


def container(**overrides: Any) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": "app",
        "image": "nginx:1.27",
        "essential": True,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
    }
    c.update(overrides)
    return c


def taskdef(
    *containers: dict[str, Any], family: str = "app", revision: int | None = 1, **overrides: Any
) -> dict:
    td: dict[str, Any] = {
        "family": family,
        "networkMode": "awsvpc",
        "containerDefinitions": list(containers) or [container()],
    }
    if revision is not None:
        td["revision"] = revision
        td["taskDefinitionArn"] = f"{ECS}:task-definition/{family}:{revision}"
    td.update(overrides)
    return td


def service(
    name: str = "svc",
    td: str = "app:1",
    public: bool = False,
    sgs: tuple[str, ...] = ("sg-app",),
    subnets: tuple[str, ...] = ("subnet-private",),
    network: bool = True,
    **overrides: Any,
) -> dict:
    s: dict[str, Any] = {
        "serviceArn": f"{ECS}:service/main/{name}",
        "serviceName": name,
        "clusterArn": f"{ECS}:cluster/main",
        "taskDefinition": f"{ECS}:task-definition/{td}",
        "deployments": [{"status": "PRIMARY", "taskDefinition": f"{ECS}:task-definition/{td}"}],
        "loadBalancers": [],
    }
    if network:
        s["networkConfiguration"] = {
            "awsvpcConfiguration": {
                "subnets": list(subnets),
                "securityGroups": list(sgs),
                "assignPublicIp": "ENABLED" if public else "DISABLED",
            }
        }
    s.update(overrides)
    return s


def sg(group_id: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {"GroupId": group_id, "GroupName": group_id, "VpcId": "vpc-1", "IpPermissions": list(rules)}


def rule(
    port: int | None = 8080,
    cidr: str | None = "0.0.0.0/0",
    v6: str | None = None,
    group: str | None = None,
    proto: str = "tcp",
    to_port: int | None = None,
) -> dict[str, Any]:
    r: dict[str, Any] = {"IpProtocol": proto, "IpRanges": [], "Ipv6Ranges": [], "UserIdGroupPairs": []}
    if port is not None:
        r["FromPort"], r["ToPort"] = port, to_port if to_port is not None else port
    if cidr:
        r["IpRanges"].append({"CidrIp": cidr})
    if v6:
        r["Ipv6Ranges"].append({"CidrIpv6": v6})
    if group:
        r["UserIdGroupPairs"].append({"GroupId": group})
    return r


def role(
    name: str,
    managed: tuple[str, ...] = (),
    inline: tuple[dict[str, Any], ...] = (),
    boundary: str | None = None,
) -> dict[str, Any]:
    r: dict[str, Any] = {
        "RoleName": name,
        "Arn": f"{ROLE}/{name}",
        "AttachedManagedPolicies": [{"PolicyName": m.rsplit("/", 1)[-1], "PolicyArn": m} for m in managed],
        "RolePolicyList": [
            {"PolicyName": f"inline{i}", "PolicyDocument": {"Version": "2012-10-17", "Statement": s}}
            for i, s in enumerate(inline)
        ],
    }
    if boundary:
        r["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return r


def policy(arn: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "PolicyName": arn.rsplit("/", 1)[-1],
        "Arn": arn,
        "DefaultVersionId": "v1",
        "PolicyVersionList": [
            {
                "VersionId": "v1",
                "IsDefaultVersion": True,
                "Document": {"Version": "2012-10-17", "Statement": statements},
            }
        ],
    }


PRIVATE_ROUTES = [
    {
        "RouteTableId": "rtb-main",
        "VpcId": "vpc-1",
        "Associations": [{"Main": True}],
        "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "active"}],
    },
    {
        "RouteTableId": "rtb-public",
        "VpcId": "vpc-1",
        "Associations": [{"SubnetId": "subnet-public"}],
        "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"}],
    },
]


def snapshot(
    services: list[dict] | None = None,
    task_definitions: list[dict] | None = None,
    security_groups: list[dict] | None = None,
    roles: list[dict] | None = None,
    policies: list[dict] | None = None,
    route_tables: list[dict] | None = None,
    load_balancers: list[dict] | None = None,
    listeners: list[dict] | None = None,
    target_groups: list[dict] | None = None,
    errors: list[dict] | None = None,
    drop: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A one-account, one-region snapshot. ``drop`` removes keys ("ec2.securityGroups", "iam") to
    model data that was not collected."""
    region: dict[str, Any] = {
        "region": REGION,
        "ecs": {
            "services": services if services is not None else [service()],
            "taskDefinitions": task_definitions if task_definitions is not None else [taskdef()],
        },
        "ec2": {
            "securityGroups": security_groups
            if security_groups is not None
            else [sg("sg-app", rule(8080, "10.0.0.0/8"))],
            "subnets": [
                {"SubnetId": "subnet-private", "VpcId": "vpc-1"},
                {"SubnetId": "subnet-public", "VpcId": "vpc-1"},
            ],
            "routeTables": route_tables if route_tables is not None else copy.deepcopy(PRIVATE_ROUTES),
            "internetGateways": [
                {"InternetGatewayId": "igw-1", "Attachments": [{"VpcId": "vpc-1", "State": "available"}]}
            ],
        },
        "elbv2": {
            "loadBalancers": load_balancers or [],
            "listeners": listeners or [],
            "targetGroups": target_groups or [],
        },
    }
    account: dict[str, Any] = {
        "account_id": ACCOUNT,
        "partition": "aws",
        "iam": {"roles": roles if roles is not None else [], "policies": policies or []},
        "regions": [region],
    }
    doc = {"format": "ecs-exposure/snapshot@1", "accounts": [account], "errors": errors or []}
    for path in drop:
        parent: Any = account if path == "iam" else region
        *head, last = path.split(".")
        for key in head:
            parent = parent[key]
        del parent[last]
    return doc
