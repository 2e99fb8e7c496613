"""A real moto server on loopback, a fault-injecting proxy in front of it, and an ECS estate builder.

boto3 talks HTTP to these: nothing patches boto3. The proxy stands between the collector and moto
and answers chosen operations itself — AccessDenied, throttling, or silence until the client times
out — because moto cannot be told to fail one API.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import boto3

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account


def moto_post(url: str, path: str, body: bytes | str = b"") -> None:
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(
        url + path, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(req, timeout=10).read()


# --------------------------------------------------------------------------- fault proxy


def _operation(handler: BaseHTTPRequestHandler, body: bytes) -> str:
    target = handler.headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    if handler.path.startswith("/findings/list"):
        return "ListFindings"
    form = parse_qs(body.decode("utf-8", "replace"))
    return (form.get("Action") or [""])[0]


def _error(handler: BaseHTTPRequestHandler, body: bytes, code: str, status: int) -> tuple[int, dict, bytes]:
    if handler.headers.get("X-Amz-Target") or handler.path.startswith("/findings"):
        return (
            status,
            {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code},
            json.dumps({"__type": code, "message": f"injected {code}"}).encode(),
        )
    if b"Version=2016-11-15" in body:  # EC2's query dialect
        xml = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>injected {code}</Message></Error></Errors>"
            "<RequestID>1</RequestID></Response>"
        )
    else:
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected {code}</Message>"
            "</Error><RequestId>1</RequestId></ErrorResponse>"
        )
    return status, {"Content-Type": "text/xml"}, xml.encode()


def _completed_rollout(payload: bytes) -> bytes:
    doc = json.loads(payload)
    for svc in doc.get("services", []):
        svc["deployments"] = [
            {
                "id": "ecs-svc/rolled",
                "status": "PRIMARY",
                "taskDefinition": svc["taskDefinition"],
                "rolloutState": "COMPLETED",
            }
        ]
    return json.dumps(doc).encode()


WRITE_PREFIXES = (
    "Create",
    "Put",
    "Update",
    "Register",
    "Deregister",
    "Delete",
    "Attach",
    "Detach",
    "Authorize",
    "Revoke",
    "Tag",
    "Untag",
)


def is_write(op: str) -> bool:
    return op.startswith(WRITE_PREFIXES)


@dataclass
class Faults:
    deny: set[str] = field(default_factory=set)  # operations answered AccessDenied
    throttle: set[str] = field(default_factory=set)  # answered Throttling, every time
    hang: dict[str, float] = field(default_factory=dict)  # answered after this many seconds
    seen: list[str] = field(default_factory=list)
    # the Nth write (1-based) fails: "refused" (never reaches moto, answered 503), "lost" (moto makes
    # it, the client gets a 500: the change happened but nobody was told) or "denied" (403)
    fail_write: int | None = None
    write_mode: str = "lost"
    writes: list[str] = field(default_factory=list)  # the writes seen, in order


class FaultProxy:
    def __init__(self, upstream: str, complete_rollouts: bool = False) -> None:
        self.upstream = upstream
        self.faults = Faults()
        # moto's UpdateService changes taskDefinition but never the deployments, as if no rollout
        # ever finished; with this the proxy answers DescribeServices as AWS does once it has
        self.complete_rollouts = complete_rollouts
        # called with each operation before it is forwarded: a test can change AWS "meanwhile"
        self.on_request: Callable[[str], None] | None = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                op = _operation(self, body)
                proxy.faults.seen.append(op)
                if proxy.on_request is not None:
                    proxy.on_request(op)
                failing = False
                if is_write(op):
                    proxy.faults.writes.append(op)
                    failing = len(proxy.faults.writes) == proxy.faults.fail_write
                if failing and proxy.faults.write_mode == "refused":
                    return self._reply(*_error(self, body, "ServiceUnavailable", 503))
                if failing and proxy.faults.write_mode == "denied":
                    code = "UnauthorizedOperation" if b"Version=2016-11-15" in body else "AccessDenied"
                    if self.headers.get("X-Amz-Target"):
                        code = "AccessDeniedException"
                    return self._reply(*_error(self, body, code, 403))
                if op in proxy.faults.hang:
                    time.sleep(proxy.faults.hang[op])
                if op in proxy.faults.deny:
                    code = (
                        "UnauthorizedOperation"
                        if b"Version=2016-11-15" in body
                        else (
                            "AccessDeniedException"
                            if self.headers.get("X-Amz-Target") or self.path.startswith("/findings")
                            else "AccessDenied"
                        )
                    )
                    return self._reply(*_error(self, body, code, 403))
                if op in proxy.faults.throttle:
                    code = "RequestLimitExceeded" if b"Version=2016-11-15" in body else "ThrottlingException"
                    return self._reply(*_error(self, body, code, 400))
                req = urllib.request.Request(
                    proxy.upstream + self.path, data=body or None, method=self.command
                )
                for k, v in self.headers.items():
                    if k.lower() not in ("host", "content-length", "connection"):
                        req.add_header(k, v)
                try:
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        payload = resp.read()
                        if failing:  # "lost": made upstream, reported as failed
                            return self._reply(*_error(self, body, "InternalFailure", 500))
                        if op == "DescribeServices" and proxy.complete_rollouts:
                            payload = _completed_rollout(payload)
                        self._reply(resp.status, dict(resp.headers), payload)
                except urllib.error.HTTPError as e:
                    self._reply(e.code, dict(e.headers), e.read())

            def _reply(self, status: int, headers: dict, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        if k.lower() not in (
                            "content-length",
                            "transfer-encoding",
                            "connection",
                            "server",
                            "date",
                        ):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_POST = do_GET = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- the estate


def clients(url: str, **creds: str) -> dict[str, Any]:
    kw = {"region_name": REGION, "endpoint_url": url, **creds}
    return {n: boto3.client(n, **kw) for n in ("ec2", "ecs", "iam", "elbv2", "sts", "ecr")}


ADMIN_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
S3_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
OLD_TOKEN = "ghp_" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8"
DB_PASSWORD = "Str0ng-but-plaintext!"


def build_estate(url: str, services: int = 0) -> dict[str, str]:
    """web: public IP in a public subnet, open group, admin role, privileged, a plaintext password,
    and an old revision with a token; api: private, behind an internet-facing ALB, s3:* role;
    plus ``services`` plain services for scale tests."""
    c = clients(url)
    ec2, ecs, iam, elb = c["ec2"], c["ecs"], c["iam"], c["elbv2"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"][
        "SubnetId"
    ]
    public_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.3.0/24", AvailabilityZone=f"{REGION}b")["Subnet"][
        "SubnetId"
    ]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone=f"{REGION}a")["Subnet"][
        "SubnetId"
    ]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=public)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=public_b)

    def group(name: str, port: int, cidr: str | None = None, source: str | None = None) -> str:
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        perm: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
        if cidr:
            perm["IpRanges"] = [{"CidrIp": cidr}]
        if source:
            perm["UserIdGroupPairs"] = [{"GroupId": source}]
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[perm])
        return gid

    sg_web = group("web", 8080, "0.0.0.0/0")
    sg_alb = group("alb", 443, "0.0.0.0/0")
    sg_api = group("api", 3000, source=sg_alb)

    iam.create_role(RoleName="web-task", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="web-task", PolicyName="admin", PolicyDocument=json.dumps(ADMIN_DOC))
    iam.create_role(RoleName="api-task", AssumeRolePolicyDocument=json.dumps(TRUST))
    pol = iam.create_policy(PolicyName="api-data", PolicyDocument=json.dumps(S3_DOC))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="api-task", PolicyArn=pol)
    role = f"arn:aws:iam::{ACCOUNT}:role"

    ecs.create_cluster(clusterName="shop")
    ecr_web = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web:7"

    def register(family: str, env: list[dict[str, str]], **kw: Any) -> str:
        return ecs.register_task_definition(
            family=family,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[
                {
                    "name": family,
                    "image": kw.pop("image", "nginx:1.27"),
                    "memory": 256,
                    "environment": env,
                    "portMappings": [{"containerPort": kw.pop("port", 8080)}],
                    **kw.pop("extra", {}),
                }
            ],
            **kw,
        )["taskDefinition"]["taskDefinitionArn"]

    register("web", [{"name": "GITHUB_TOKEN", "value": OLD_TOKEN}], taskRoleArn=f"{role}/web-task")
    web_td = register(
        "web",
        [{"name": "DB_PASSWORD", "value": DB_PASSWORD}, {"name": "LOG_LEVEL", "value": "info"}],
        taskRoleArn=f"{role}/web-task",
        image=ecr_web,
        extra={"privileged": True},
    )
    api_td = register(
        "api",
        [{"name": "NODE_ENV", "value": "production"}],
        taskRoleArn=f"{role}/api-task",
        port=3000,
        extra={"readonlyRootFilesystem": True, "user": "1000"},
    )

    agent_td = ecs.register_task_definition(
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
                "command": ["agent", "--api-key=Zx81-not-a-real-key"],
                "mountPoints": [
                    {"sourceVolume": "sock", "containerPath": "/var/run/docker.sock", "readOnly": True}
                ],
                "linuxParameters": {"capabilities": {"add": ["SYS_ADMIN"]}},
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]

    lb = elb.create_load_balancer(
        Name="shop",
        Subnets=[public, public_b],
        SecurityGroups=[sg_alb],
        Scheme="internet-facing",
        Type="application",
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="api", Protocol="HTTP", Port=3000, VpcId=vpc, TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=443,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )

    def network(subnet: str, group_id: str, public_ip: bool) -> dict:
        return {
            "awsvpcConfiguration": {
                "subnets": [subnet],
                "securityGroups": [group_id],
                "assignPublicIp": "ENABLED" if public_ip else "DISABLED",
            }
        }

    ecs.create_service(
        cluster="shop",
        serviceName="web",
        taskDefinition=web_td,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=network(public, sg_web, True),
    )
    ecs.create_service(
        cluster="shop",
        serviceName="api",
        taskDefinition=api_td,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=network(private, sg_api, False),
        loadBalancers=[{"targetGroupArn": tg, "containerName": "api", "containerPort": 3000}],
    )
    ecs.create_service(
        cluster="shop",
        serviceName="agent",
        taskDefinition=agent_td,
        launchType="EC2",
        schedulingStrategy="DAEMON",
    )
    for i in range(services):
        ecs.create_service(
            cluster="shop",
            serviceName=f"plain-{i}",
            taskDefinition=api_td,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration=network(private, sg_api, False),
        )

    # an Inspector finding for the web image, through moto's own queue of ListFindings results
    finding = {
        "awsAccountId": ACCOUNT,
        "type": "PACKAGE_VULNERABILITY",
        "status": "ACTIVE",
        "severity": "HIGH",
        "exploitAvailable": "YES",
        "epss": {"score": 0.7},
        "findingArn": "arn:aws:inspector2:x:finding/1",
        "description": "d",
        "title": "t",
        "firstObservedAt": "2026-01-01T00:00:00Z",
        "lastObservedAt": "2026-01-01T00:00:00Z",
        "remediation": {},
        "packageVulnerabilityDetails": {
            "vulnerabilityId": "CVE-2023-44487",
            "source": "NVD",
            "cvss": [
                {
                    "baseScore": 7.5,
                    "scoringVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
                    "source": "NVD",
                    "version": "3.1",
                }
            ],
            "vulnerablePackages": [{"name": "nghttp2", "version": "1.52.0", "fixedInVersion": "1.57.0"}],
        },
        "resources": [
            {
                "type": "AWS_ECR_CONTAINER_IMAGE",
                "id": "i",
                "region": REGION,
                "details": {
                    "awsEcrContainerImage": {
                        "registry": ACCOUNT,
                        "repositoryName": "web",
                        "imageTags": ["7"],
                        "imageHash": "sha256:" + "7a" * 32,
                    }
                },
            }
        ],
    }
    moto_post(
        url,
        "/moto-api/static/inspector2/findings-results",
        json.dumps({"account_id": ACCOUNT, "region": REGION, "results": [[finding]]}),
    )
    return {"vpc": vpc, "public": public, "private": private, "sg_web": sg_web, "lb": lb, "tg": tg}


@contextmanager
def enforce_iam(url: str) -> Iterator[None]:
    """Make moto check IAM permissions for every request, as AWS does."""
    moto_post(url, "/moto-api/reset-auth", "0")
    try:
        yield
    finally:
        moto_post(url, "/moto-api/reset-auth", "inf")


def user_with_policy(url: str, name: str, document: dict) -> dict[str, str]:
    iam = clients(url)["iam"]
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
