"""Several AWS accounts on one moto server, and a proxy that tells them apart.

moto keeps separate state per account id; a request is in the account whose role the caller
assumed (``sts:AssumeRole`` into ``arn:aws:iam::<id>:role/…``). :class:`OrgProxy` sits between the
scanner and moto, learns which access key belongs to which account from the ``AssumeRole`` answers,
and then, per account: denies ``AssumeRole``, answers an operation with silence for a while,
throttles (always, or with token buckets like AWS's per-account ones), and adds latency. The
benchmark uses the same proxy.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import boto3

MANAGEMENT = "123456789012"  # moto's default account: the caller's own
ROLE = "ecs-exposure-readonly"
TASK_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def role_arn(account: str, name: str = ROLE) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def account_clients(url: str, account: str, region: str, services=("ec2", "ecs", "iam", "sts")) -> dict:
    """boto3 clients acting in ``account`` (through AssumeRole unless it is the caller's own)."""
    kw: dict[str, Any] = {"region_name": region, "endpoint_url": url}
    if account != MANAGEMENT:
        sts = boto3.client("sts", **kw)
        c = sts.assume_role(RoleArn=role_arn(account, "seed"), RoleSessionName="seed")["Credentials"]
        kw.update(
            aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretAccessKey"],
            aws_session_token=c["SessionToken"],
        )
    return {n: boto3.client(n, **kw) for n in services}


def organization(url: str, members: int, ou_members: int = 0) -> dict[str, Any]:
    """An organization run from MANAGEMENT with ``members`` accounts, the first ``ou_members`` of
    them in an OU ``prod`` (and a child OU ``prod/eu`` holding the first one)."""
    org = boto3.client("organizations", endpoint_url=url, region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ids = []
    for i in range(members):
        status = org.create_account(AccountName=f"member-{i}", Email=f"m{i}@example.test")
        ids.append(status["CreateAccountStatus"]["AccountId"])
    prod = org.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    eu = org.create_organizational_unit(ParentId=prod, Name="eu")["OrganizationalUnit"]["Id"]
    for i, a in enumerate(ids[:ou_members]):
        org.move_account(AccountId=a, SourceParentId=root, DestinationParentId=eu if i == 0 else prod)
    return {"root": root, "prod": prod, "eu": eu, "members": ids}


def seed_account(
    url: str,
    account: str,
    region: str,
    services: int,
    tag: str = "svc",
    public: bool = True,
    task_policy: dict | None = None,
    families: int | None = None,
) -> dict[str, Any]:
    """A VPC with a public subnet behind an internet gateway, an open and a closed security group,
    ``services`` Fargate services (every third one public and open; one privileged with a plaintext
    password) in one cluster, on ``families`` task definition families (default: one per service)."""
    c = account_clients(url, account, region)
    ec2, ecs, iam = c["ec2"], c["ecs"], c["iam"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=subnet)
    open_sg = ec2.create_security_group(GroupName="open", Description="open", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=open_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    closed_sg = ec2.create_security_group(GroupName="closed", Description="closed", VpcId=vpc)["GroupId"]
    task_role = f"{tag}-task"
    try:
        iam.create_role(RoleName=task_role, AssumeRolePolicyDocument=json.dumps(TASK_TRUST))
        if task_policy is not None:
            iam.put_role_policy(RoleName=task_role, PolicyName="p", PolicyDocument=json.dumps(task_policy))
    except iam.exceptions.EntityAlreadyExistsException:
        pass  # IAM is global: the second region reuses the role
    role = f"arn:aws:iam::{account}:role/{task_role}"
    ecs.create_cluster(clusterName=f"{tag}-cluster")
    n_families = families or services
    tds = []
    for f in range(n_families):
        env = [{"name": "LOG_LEVEL", "value": "info"}]
        if f == 0:
            env.append({"name": "DB_PASSWORD", "value": f"Pw-{account[-4:]}-{region}-x9!"})
        tds.append(
            ecs.register_task_definition(
                family=f"{tag}-{f}",
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                taskRoleArn=role,
                containerDefinitions=[
                    {
                        "name": "app",
                        "image": "nginx:1.27",
                        "memory": 256,
                        "environment": env,
                        "privileged": f == 0,
                        "portMappings": [{"containerPort": 80}],
                    }
                ],
            )["taskDefinition"]["taskDefinitionArn"]
        )
    for i in range(services):
        exposed = public and i % 3 == 0
        ecs.create_service(
            cluster=f"{tag}-cluster",
            serviceName=f"{tag}-{i}",
            taskDefinition=tds[i % n_families],
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": [subnet],
                    "securityGroups": [open_sg if exposed else closed_sg],
                    "assignPublicIp": "ENABLED" if exposed else "DISABLED",
                }
            },
        )
    return {"task_role": role, "task_definitions": tds, "cluster": f"{tag}-cluster"}


def trusting_admin_role(url: str, account: str, region: str, name: str, trusted: str) -> str:
    """A role with full control of ``account`` whose trust policy admits ``trusted`` (an account id
    or a role ARN): the cross-account half of a role chain."""
    iam = account_clients(url, account, region, ("iam",))["iam"]
    principal = f"arn:aws:iam::{trusted}:root" if trusted.isdigit() else trusted
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=name, PolicyName="admin", PolicyDocument=json.dumps(ADMIN))
    return f"arn:aws:iam::{account}:role/{name}"


# --------------------------------------------------------------------------- the proxy


_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d+/([^/]+)/([^/]+)/")
_KEY = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")


class Bucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.last = rate, burst, burst, time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


@dataclass
class AccountFaults:
    deny_assume: set[str] = field(default_factory=set)  # accounts whose AssumeRole is denied
    silence: dict[tuple[str, str], float] = field(default_factory=dict)  # (account, op) → seconds
    silence_once: bool = True  # only the first such request is silent
    throttle: set[tuple[str, str]] = field(default_factory=set)  # (account, op) always throttled
    on_silence: Callable[[str, str], None] | None = None


def _error(handler: BaseHTTPRequestHandler, body: bytes, code: str, status: int) -> tuple[int, dict, bytes]:
    if handler.headers.get("X-Amz-Target"):
        return (
            status,
            {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code},
            json.dumps({"__type": code, "message": f"injected {code}"}).encode(),
        )
    if b"Version=2016-11-15" in body:  # EC2
        error = f"<Error><Code>{code}</Code><Message>{code}</Message></Error>"
        xml = f"<Response><Errors>{error}</Errors></Response>"
    else:
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{code}</Message></Error>"
            "<RequestId>1</RequestId></ErrorResponse>"
        )
    return status, {"Content-Type": "text/xml"}, xml.encode()


class OrgProxy:
    """Forwards to moto; per account: faults, token buckets (``limits``: service → (rate, burst)),
    latency; counts requests by (account, service, operation) and throttling answers."""

    def __init__(
        self,
        upstream: str,
        latency: float = 0.0,
        limits: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        self.upstream = upstream
        self.latency = latency
        self.limits = limits or {}
        self.faults = AccountFaults()
        self.accounts: dict[str, str] = {}  # access key → account
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.throttled: Counter[tuple[str, str, str]] = Counter()
        self._buckets: dict[tuple[str, ...], Bucket] = {}
        self._lock = threading.Lock()
        self._silenced: set[tuple[str, str]] = set()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = proxy.handle(self, body)
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
                    pass

            do_POST = do_GET = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OrgProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ one request

    def _operation(self, handler: BaseHTTPRequestHandler, body: bytes) -> str:
        target = handler.headers.get("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1]
        if handler.path.startswith("/findings/list"):
            return "ListFindings"
        return (parse_qs(body.decode("utf-8", "replace")).get("Action") or [handler.path.split("?")[0]])[0]

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict, bytes]:
        m = _CREDENTIAL.search(handler.headers.get("Authorization", ""))
        key, region, service = (m.group(1), m.group(2), m.group(3)) if m else ("", "", "")
        account = self.accounts.get(key, MANAGEMENT)
        op = self._operation(handler, body)
        with self._lock:
            self.counts[(account, service, op)] += 1
        if self.latency:
            time.sleep(self.latency)
        if op == "AssumeRole":
            target = (parse_qs(body.decode()).get("RoleArn") or [""])[0]
            target_account = target.split(":")[4] if target.count(":") >= 5 else ""
            if target_account in self.faults.deny_assume:
                return _error(handler, body, "AccessDenied", 403)
        silent = self.faults.silence.get((account, op))
        if silent is not None and (not self.faults.silence_once or (account, op) not in self._silenced):
            self._silenced.add((account, op))
            if self.faults.on_silence is not None:
                self.faults.on_silence(account, op)
            time.sleep(silent)
        if (account, op) in self.faults.throttle or not self._allowed(account, region, service, op):
            with self._lock:
                self.throttled[(account, service, op)] += 1
            code, status = ("RequestLimitExceeded", 503) if service == "ec2" else ("ThrottlingException", 400)
            if service == "iam":
                code = "Throttling"
            return _error(handler, body, code, status)
        status, headers, payload = self._upstream(handler, body)
        if op == "AssumeRole" and status == 200:
            target = (parse_qs(body.decode()).get("RoleArn") or [""])[0]
            found = _KEY.search(payload)
            if found and target.count(":") >= 5:
                self.accounts[found.group(1).decode()] = target.split(":")[4]
        return status, headers, payload

    def _allowed(self, account: str, region: str, service: str, op: str) -> bool:
        limit = self.limits.get(service)
        if limit is None:
            return True
        bucket_key: tuple[str, ...] = (account, service) if service == "iam" else (account, region, service)
        if service == "ec2":
            bucket_key += (op,)  # EC2 throttles each API separately
        with self._lock:
            b = self._buckets.get(bucket_key)
            if b is None:
                b = self._buckets[bucket_key] = Bucket(*limit)
        return b.take()

    def _upstream(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict, bytes]:
        req = urllib.request.Request(self.upstream + handler.path, data=body or None, method=handler.command)
        for k, v in handler.headers.items():
            if k.lower() not in ("host", "content-length", "connection"):
                req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def requests(self, account: str | None = None, op: str | None = None) -> int:
        return sum(
            n
            for (a, _s, o), n in self.counts.items()
            if (account is None or a == account) and (op is None or o == op)
        )
