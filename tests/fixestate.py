"""An ECS estate on a moto server holding every trait ``fix`` changes, and a dump of AWS state.

``build_fix_estate`` makes, in cluster ``shop``:

- ``web``: ECS controller; privileged, a plaintext password, a public IP in a public subnet, its own
  group open to the internet, ECS Exec on, a task role with an inline ``*`` policy; execution role
  ``shared-exec`` (shared with api, edge, blue and a third of the fillers);
- ``api``: plaintext token, behind an internet-facing ALB whose security group it shares (the
  ALB's network interface uses it too);
- ``worker``: no execution role (one is created), a Stripe key in a docker label, AdministratorAccess;
- ``agent``: EC2 daemon with host network, PID and IPC namespaces, the Docker socket, SYS_ADMIN;
- ``edge``: EXTERNAL deployment controller, public IP on its primary task set, a plaintext password;
- ``blue``: CODE_DEPLOY deployment controller (with its CodeDeploy application and group), plaintext;
- ``fillers`` services ``svc-N``, each with a plaintext password, spread over three execution
  roles, every third with a public IP.

Names are fixed, so two builds on fresh moto servers differ only in generated ids; ``dump`` reads
the state back through the API with ids replaced by names, for before/after comparisons.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from awsfake import ACCOUNT, ADMIN_DOC, REGION, TRUST

EXEC_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
PASSWORD = "Pl41ntext-Passw0rd!"
TOKEN = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
STRIPE = "sk_live_" + "51HqLyjWDarjtT1zdp7dcXyZ"
LABEL_STRIPE = "sk_live_" + "99ZZqLyjWDarjtT1zdp7dcQQ"
VALUES = (PASSWORD, TOKEN, STRIPE, LABEL_STRIPE)


MANAGED = ("service-role/AmazonECSTaskExecutionRolePolicy", "AdministratorAccess")


def few_managed_policies(monkeypatch: Any) -> None:
    """AWS managed policies exist in AWS; moto loads them only when asked, all ~1,300 of them, and
    then every GetAccountAuthorizationDetails of a collection pages through them. The tests load
    the two the estate and the fix use (moto's own copies), which keeps a collection under a second."""
    import moto.iam.models as iam_models

    every = json.loads(iam_models.aws_managed_policies_data)
    wanted = {k: v for k, v in every.items() if any(v.get("Path", "/") + k == "/" + m for m in MANAGED)}
    assert len(wanted) == len(MANAGED), sorted(wanted)
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    monkeypatch.setattr(iam_models, "aws_managed_policies_data", json.dumps(wanted))


def clients(url: str) -> dict[str, Any]:
    kw = {"region_name": REGION, "endpoint_url": url}
    names = ("ec2", "ecs", "iam", "elbv2", "secretsmanager", "ssm", "codedeploy", "sts")
    return {n: boto3.client(n, **kw) for n in names}


def build_fix_estate(url: str, fillers: int = 34, hostnet: bool = False) -> dict[str, str]:
    c = clients(url)
    ec2, ecs, iam, elb = c["ec2"], c["ecs"], c["iam"], c["elbv2"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def subnet(cidr: str, az: str) -> str:
        return ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"{REGION}{az}")["Subnet"][
            "SubnetId"
        ]

    public, public_b, private = (
        subnet("10.0.1.0/24", "a"),
        subnet("10.0.3.0/24", "b"),
        subnet("10.0.2.0/24", "a"),
    )
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for s in (public, public_b):
        ec2.associate_route_table(RouteTableId=rt, SubnetId=s)

    def group(name: str, port: int, cidr: str | None = "0.0.0.0/0") -> str:
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        if cidr:
            ec2.authorize_security_group_ingress(
                GroupId=gid,
                IpPermissions=[
                    {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}
                ],
            )
        return gid

    sg_web = group("web", 8080)
    sg_front = group("front", 443)  # the ALB's group, also used by api: shared
    sg_fill = group("fill", 8080, "10.0.0.0/16")
    sg_edge = group("edge", 8080, "10.0.0.0/16")

    role = f"arn:aws:iam::{ACCOUNT}:role"
    for name in ("shared-exec", "exec-b", "exec-c"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.attach_role_policy(RoleName=name, PolicyArn=EXEC_POLICY)
    iam.put_role_policy(
        RoleName="shared-exec",
        PolicyName="logs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
            }
        ),
    )
    iam.create_role(RoleName="web-task", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="web-task", PolicyName="admin", PolicyDocument=json.dumps(ADMIN_DOC))
    iam.create_role(RoleName="worker-task", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="worker-task", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")

    ecs.create_cluster(clusterName="shop")

    def register(family: str, env: list[dict[str, str]], **kw: Any) -> str:
        container = {
            "name": family,
            "image": "nginx:1.27",
            "memory": 256,
            "environment": env,
            "portMappings": [{"containerPort": kw.pop("port", 8080)}],
            **kw.pop("extra", {}),
        }
        return ecs.register_task_definition(
            family=family,
            networkMode=kw.pop("networkMode", "awsvpc"),
            requiresCompatibilities=kw.pop("compat", ["FARGATE"]),
            cpu="256",
            memory="512",
            containerDefinitions=[container],
            **kw,
        )["taskDefinition"]["taskDefinitionArn"]

    def network(sub: str, gid: str, public_ip: bool) -> dict:
        return {
            "awsvpcConfiguration": {
                "subnets": [sub],
                "securityGroups": [gid],
                "assignPublicIp": "ENABLED" if public_ip else "DISABLED",
            }
        }

    def service(name: str, td: str | None, **kw: Any) -> None:
        ecs.create_service(
            cluster="shop", serviceName=name, desiredCount=1, **({"taskDefinition": td} if td else {}), **kw
        )

    # web
    web = register(
        "web",
        [{"name": "DB_PASSWORD", "value": PASSWORD}, {"name": "LOG_LEVEL", "value": "info"}],
        executionRoleArn=f"{role}/shared-exec",
        taskRoleArn=f"{role}/web-task",
        extra={"privileged": True},
    )
    service(
        "web",
        web,
        launchType="FARGATE",
        networkConfiguration=network(public, sg_web, True),
        enableExecuteCommand=True,
    )

    # api behind an internet-facing ALB sharing its group
    lb = elb.create_load_balancer(
        Name="shop",
        Subnets=[public, public_b],
        SecurityGroups=[sg_front],
        Scheme="internet-facing",
        Type="application",
    )["LoadBalancers"][0]
    tg = elb.create_target_group(Name="api", Protocol="HTTP", Port=443, VpcId=vpc, TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=443,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    # moto's ELBv2 makes no network interface; AWS gives each ALB subnet one ("ELB app/<name>/<id>")
    lb_id = lb["LoadBalancerArn"].split("loadbalancer/", 1)[1]
    ec2.create_network_interface(SubnetId=public, Groups=[sg_front], Description=f"ELB {lb_id}")
    api = register(
        "api", [{"name": "API_TOKEN", "value": TOKEN}], executionRoleArn=f"{role}/shared-exec", port=443
    )
    service(
        "api",
        api,
        launchType="FARGATE",
        networkConfiguration=network(private, sg_front, False),
        loadBalancers=[{"targetGroupArn": tg, "containerName": "api", "containerPort": 443}],
    )

    # worker: no execution role, a credential in a label, AdministratorAccess
    worker = register(
        "worker",
        [{"name": "STRIPE_SECRET_KEY", "value": STRIPE}],
        taskRoleArn=f"{role}/worker-task",
        extra={"dockerLabels": {"com.example.billing-key": LABEL_STRIPE}},
    )
    service("worker", worker, launchType="FARGATE", networkConfiguration=network(private, sg_fill, False))

    # agent: host level, on EC2
    agent = ecs.register_task_definition(
        family="agent",
        networkMode="host",
        pidMode="host",
        ipcMode="host",
        requiresCompatibilities=["EC2"],
        volumes=[{"name": "sock", "host": {"sourcePath": "/var/run/docker.sock"}}],
        containerDefinitions=[
            {
                "name": "agent",
                "image": "public.ecr.aws/example/agent:3",
                "memory": 128,
                "privileged": True,
                "mountPoints": [{"sourceVolume": "sock", "containerPath": "/var/run/docker.sock"}],
                "linuxParameters": {"capabilities": {"add": ["SYS_ADMIN"]}},
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="shop",
        serviceName="agent",
        taskDefinition=agent,
        launchType="EC2",
        schedulingStrategy="DAEMON",
    )

    # edge: EXTERNAL controller, public IP on its task set
    edge = register(
        "edge", [{"name": "EDGE_PASSWORD", "value": PASSWORD}], executionRoleArn=f"{role}/shared-exec"
    )
    # desiredCount 0: moto crashes starting awsvpc tasks for a task set (no private_dns_name on its ENI)
    ecs.create_service(
        cluster="shop", serviceName="edge", desiredCount=0, deploymentController={"type": "EXTERNAL"}
    )
    ts = ecs.create_task_set(
        cluster="shop",
        service="edge",
        taskDefinition=edge,
        launchType="FARGATE",
        networkConfiguration=network(public, sg_edge, True),
        scale={"unit": "PERCENT", "value": 100.0},
    )["taskSet"]["taskSetArn"]
    ecs.update_service_primary_task_set(cluster="shop", service="edge", primaryTaskSet=ts)

    # blue: CODE_DEPLOY controller (the initial task set is CodeDeploy's; moto needs it made by hand)
    blue = register(
        "blue", [{"name": "BLUE_PASSWORD", "value": PASSWORD}], executionRoleArn=f"{role}/shared-exec"
    )
    tg_blue = elb.create_target_group(Name="blue", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    service(
        "blue",
        blue,
        launchType="FARGATE",
        deploymentController={"type": "CODE_DEPLOY"},
        networkConfiguration=network(private, sg_fill, False),
        loadBalancers=[{"targetGroupArn": tg_blue, "containerName": "blue", "containerPort": 8080}],
    )
    iam.create_role(RoleName="codedeploy", AssumeRolePolicyDocument=json.dumps(TRUST))
    cd = c["codedeploy"]
    cd.create_application(applicationName="shop-blue", computePlatform="ECS")
    cd.create_deployment_group(
        applicationName="shop-blue",
        deploymentGroupName="blue-dg",
        serviceRoleArn=f"{role}/codedeploy",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        ecsServices=[{"serviceName": "blue", "clusterName": "shop"}],
    )

    if hostnet:  # a host-mode service to move to awsvpc (irreversible)
        hn = register("hostnet", [], networkMode="host", compat=["EC2"])
        ecs.create_service(cluster="shop", serviceName="hostnet", taskDefinition=hn, launchType="EC2")

    execs = ("shared-exec", "exec-b", "exec-c")
    for i in range(fillers):
        family = f"svc-{i}"
        td = register(
            family,
            [{"name": "SVC_PASSWORD", "value": f"{PASSWORD}-{i}"}],
            executionRoleArn=f"{role}/{execs[i % 3]}",
        )
        service(
            family,
            td,
            launchType="FARGATE",
            networkConfiguration=network(public if i % 3 == 0 else private, sg_fill, i % 3 == 0),
        )
    return {
        "vpc": vpc,
        "public": public,
        "private": private,
        "sg_web": sg_web,
        "sg_front": sg_front,
        "sg_fill": sg_fill,
    }


# --------------------------------------------------------------------------- state through the API


def dump(url: str) -> dict[str, Any]:
    """Everything fix or rollback may touch, read through the API, ids replaced by names."""
    c = clients(url)
    ec2, ecs, iam = c["ec2"], c["ecs"], c["iam"]
    groups = ec2.describe_security_groups()["SecurityGroups"]
    names = {g["GroupId"]: g["GroupName"] for g in groups}
    subnets = {s["SubnetId"]: s["CidrBlock"] for s in ec2.describe_subnets()["Subnets"]}

    def net(n: Any) -> Any:
        aws = (n or {}).get("awsvpcConfiguration")
        if not aws:
            return None
        return {
            "subnets": sorted(subnets.get(s, s) for s in aws.get("subnets") or []),
            "securityGroups": sorted(names.get(g, g) for g in aws.get("securityGroups") or []),
            "assignPublicIp": aws.get("assignPublicIp"),
        }

    def td_name(arn: str | None) -> str | None:
        return arn.rsplit("/", 1)[-1] if arn else None

    out: dict[str, Any] = {
        "services": {},
        "revisions": {},
        "groups": {},
        "secrets": {},
        "parameters": {},
        "roles": {},
    }
    arns = [
        a for page in ecs.get_paginator("list_services").paginate(cluster="shop") for a in page["serviceArns"]
    ]
    for i in range(0, len(arns), 10):
        for s in ecs.describe_services(cluster="shop", services=arns[i : i + 10])["services"]:
            out["services"][s["serviceName"]] = {
                "taskDefinition": td_name(s.get("taskDefinition")),
                "network": net(s.get("networkConfiguration")),
                "exec": bool(s.get("enableExecuteCommand")),
                "status": s.get("status"),
                "taskSets": sorted(
                    json.dumps(
                        {
                            "taskDefinition": td_name(t.get("taskDefinition")),
                            "network": net(t.get("networkConfiguration")),
                            "status": t.get("status"),
                            "scale": t.get("scale"),
                            "launchType": t.get("launchType"),
                        },
                        sort_keys=True,
                    )
                    for t in s.get("taskSets") or []
                ),
            }
    for status in ("ACTIVE", "INACTIVE"):
        for page in ecs.get_paginator("list_task_definitions").paginate(status=status):
            for a in page["taskDefinitionArns"]:
                out["revisions"][td_name(a)] = status
    for g in groups:
        rules = []
        for p in g.get("IpPermissions") or []:
            for r in p.get("IpRanges") or []:
                rules.append(f"{p.get('IpProtocol')} {p.get('FromPort')}-{p.get('ToPort')} {r['CidrIp']}")
            for r in p.get("Ipv6Ranges") or []:
                rules.append(f"{p.get('IpProtocol')} {p.get('FromPort')}-{p.get('ToPort')} {r['CidrIpv6']}")
            for r in p.get("UserIdGroupPairs") or []:
                rules.append(
                    f"{p.get('IpProtocol')} {p.get('FromPort')}-{p.get('ToPort')} {names.get(r['GroupId'])}"
                )
        out["groups"][g["GroupName"]] = sorted(rules)
    for s in c["secretsmanager"].list_secrets()["SecretList"]:
        out["secrets"][s["Name"]] = sorted(t["Key"] for t in s.get("Tags") or [])
    for p in c["ssm"].describe_parameters().get("Parameters") or []:
        out["parameters"][p["Name"]] = p.get("Type")
    for r in iam.list_roles()["Roles"]:
        name = r["RoleName"]
        inline = {}
        for pname in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"]
            inline[pname] = _strip_suffixes(json.loads(doc) if isinstance(doc, str) else doc)
        out["roles"][name] = {
            "attached": sorted(
                p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
            ),
            "inline": inline,
        }
    return out


def _strip_suffixes(doc: Any) -> Any:
    """Secret ARNs end with 6 random characters: compare them by name."""
    text = json.dumps(doc, sort_keys=True)
    import re

    return json.loads(re.sub(r"(:secret:[^\"]+?)-[A-Za-z0-9]{6}\"", r'\1"', text))


def same_as_before(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What differs, read as a rollback must leave it: the same, except that revisions registered
    since (the apply's) may exist, INACTIVE — ECS never deletes a revision outright."""
    problems = []
    for key in ("services", "groups", "secrets", "parameters", "roles"):
        for name in sorted(set(before[key]) | set(after[key])):
            if before[key].get(name) != after[key].get(name):
                problems.append(f"{key} {name}: {before[key].get(name)!r} → {after[key].get(name)!r}")
    for rev in sorted(set(before["revisions"]) | set(after["revisions"])):
        was, now = before["revisions"].get(rev), after["revisions"].get(rev)
        if was != now and not (was is None and now == "INACTIVE"):
            problems.append(f"revision {rev}: {was} → {now}")
    return problems
