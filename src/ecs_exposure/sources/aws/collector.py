"""Read an AWS estate into an ``ecs-exposure/snapshot@1`` document.

Every call goes through :meth:`AccountCollector.call`, which counts it, retries with botocore's
adaptive mode, and turns any failure (AccessDenied, throttling that outlasted the retries, a timeout)
into an entry of the snapshot's ``errors``. The key the call would have filled is then left out, so
the traits that need it are *unknown* — a failed call is never reported as a pass.

Calls are as few as the APIs allow: ``DescribeServices`` 10 services at a time, ``DescribeClusters``
100 at a time, EC2 and ELBv2 filtered to what the services reference, IAM in one paginated
``GetAccountAuthorizationDetails``, Inspector findings filtered to the repositories in use, and a
task definition described once however many services run it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ...model.vulns import ImageRef, ecr_host

SERVICE_PREFIX = {"elbv2": "elasticloadbalancing"}  # boto3 client name → IAM action prefix


@dataclass
class CollectConfig:
    profile: str | None = None
    regions: tuple[str, ...] = ()
    all_regions: bool = False
    role_arns: tuple[str, ...] = ()
    endpoint_url: str | None = None
    concurrency: int = 8
    all_revisions: bool = False
    max_attempts: int = 8  # attempts per call, the first included
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


@dataclass
class CallStats:
    calls: Counter[str] = field(default_factory=Counter)  # API calls by "service:Operation"
    requests: Counter[str] = field(default_factory=Counter)  # HTTP requests, retries included
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    on_call: Callable[[str], None] | None = None

    def count(self, counter: Counter[str], api: str) -> None:
        with self._lock:
            counter[api] += 1
        if self.on_call is not None and counter is self.calls:
            self.on_call(api)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


_HTTP_ERRORS = {"401": "Unauthorized", "403": "AccessDenied", "404": "NotFound", "429": "Throttling"}


def error_entry(e: Exception) -> tuple[str, str]:
    """(error code, message) of a failed call; the message of an AWS error names no secret."""
    if isinstance(e, ClientError):
        err = e.response.get("Error", {})
        code = str(err.get("Code") or "ClientError")
        if code.isdigit():  # an error without a body: name it from its HTTP status
            code = _HTTP_ERRORS.get(code, f"HTTP{code}")
        return code, str(err.get("Message") or "")[:300]
    name = e.__class__.__name__
    if "Timeout" in name:
        return "Timeout", str(e)[:300]
    if isinstance(e, BotoCoreError):
        return name, str(e)[:300]
    return name, ""


class AccountCollector:
    """One account's snapshot: its regions in parallel, then IAM for the roles they use."""

    def __init__(self, session: boto3.Session, config: CollectConfig, stats: CallStats) -> None:
        self.session = session
        self.config = config
        self.stats = stats
        self.errors: list[dict[str, str | None]] = []
        self.notes: list[str] = []
        self.account_id: str | None = None
        self.partition = "aws"
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._botocore_config = Config(
            retries={"mode": "adaptive", "total_max_attempts": config.max_attempts},
            max_pool_connections=max(10, config.concurrency * 2),
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
        )

    # ------------------------------------------------------------------ calls

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            c = self._clients.get(key)
            if c is None:
                c = self.session.client(
                    service,
                    region_name=region,
                    endpoint_url=self.config.endpoint_url,
                    config=self._botocore_config,
                )
                prefix = SERVICE_PREFIX.get(service, service)
                c.meta.events.register("before-send", self._count_request(prefix))
                self._clients[key] = c
        return c

    def _count_request(self, prefix: str) -> Callable[..., None]:
        """Count every HTTP request, retries included (the event is ``before-send.<service>.<Op>``)."""

        def handler(event_name: str = "", **_: Any) -> None:
            self.stats.count(self.stats.requests, f"{prefix}:{event_name.rsplit('.', 1)[-1]}")

        return handler

    def _record(self, region: str | None, api: str, e: Exception) -> None:
        code, message = error_entry(e)
        with self._lock:
            self.errors.append(
                {
                    "account_id": self.account_id,
                    "region": region,
                    "api": api,
                    "error": code,
                    "message": message,
                }
            )

    def call(self, service: str, region: str, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        c = self.client(service, region)
        api = self._api(service, region, operation)
        self.stats.count(self.stats.calls, api)
        try:
            return getattr(c, operation)(**kwargs)
        except (ClientError, BotoCoreError) as e:
            self._record(None if service == "iam" else region, api, e)
            return None

    def pages(self, service: str, region: str, operation: str, key: str, **kwargs: Any) -> list[Any] | None:
        """All items of a paginated list; None when any page failed (the list would be partial)."""
        try:
            return self.pages_or_raise(service, region, operation, key, **kwargs)
        except (ClientError, BotoCoreError) as e:
            self._record(None if service == "iam" else region, self._api(service, region, operation), e)
            return None

    def _api(self, service: str, region: str, operation: str) -> str:
        c = self.client(service, region)
        return (
            f"{SERVICE_PREFIX.get(service, service)}:{c.meta.method_to_api_mapping.get(operation, operation)}"
        )

    def pages_or_raise(self, service: str, region: str, operation: str, key: str, **kwargs: Any) -> list[Any]:
        c = self.client(service, region)
        api = self._api(service, region, operation)
        items: list[Any] = []
        if c.can_paginate(operation):
            for page in c.get_paginator(operation).paginate(**kwargs):
                self.stats.count(self.stats.calls, api)
                items.extend(page.get(key) or [])
        else:
            self.stats.count(self.stats.calls, api)
            items.extend(getattr(c, operation)(**kwargs).get(key) or [])
        return items

    def parallel(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        items = list(items)
        if len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            return list(pool.map(fn, items))

    # ------------------------------------------------------------------ the account

    def collect(self, regions: list[str]) -> dict[str, Any]:
        ident = self.call("sts", regions[0], "get_caller_identity")
        if ident is not None:
            self.account_id = ident.get("Account")
            arn = ident.get("Arn", "")
            self.partition = arn.split(":")[1] if arn.count(":") > 2 else "aws"
        workers = max(1, min(len(regions), self.config.concurrency))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            region_docs = list(pool.map(self.collect_region, regions))
        roles = {
            arn
            for doc in region_docs
            for td in doc.get("ecs", {}).get("taskDefinitions", [])
            for arn in (td.get("taskRoleArn"), td.get("executionRoleArn"))
            if arn
        }
        account: dict[str, Any] = {"account_id": self.account_id or "unknown", "partition": self.partition}
        iam = self.collect_iam(roles, regions[0])
        if iam is not None:
            account["iam"] = iam
        account["regions"] = region_docs
        return account

    def collect_iam(self, role_arns: set[str], region: str) -> dict[str, Any] | None:
        """Roles the task definitions use and the managed policies attached to them."""
        roles = self.pages(
            "iam", region, "get_account_authorization_details", "RoleDetailList", Filter=["Role"]
        )
        if roles is None:
            return None
        names = {a.rsplit("/", 1)[-1] for a in role_arns}
        used = [r for r in roles if r.get("Arn") in role_arns or r.get("RoleName") in names]
        wanted = {p["PolicyArn"] for r in used for p in r.get("AttachedManagedPolicies") or []}
        wanted |= {(r.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") for r in used} - {None}
        policies: list[dict[str, Any]] = []
        if wanted:
            found = self.pages(
                "iam",
                region,
                "get_account_authorization_details",
                "Policies",
                Filter=["LocalManagedPolicy", "AWSManagedPolicy"],
            )
            if found is None:
                return {"roles": used}  # policies missing: the traits that need them are unknown
            policies = [p for p in found if p.get("Arn") in wanted]
        return {"roles": used, "policies": policies}

    # ------------------------------------------------------------------ a region

    def collect_region(self, region: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"region": region}
        ecs = self.collect_ecs(region)
        doc["ecs"] = ecs
        services = ecs.get("services") or []
        tgs = {
            lb["targetGroupArn"]
            for s in services
            for holder in (s, *(s.get("taskSets") or []))
            for lb in holder.get("loadBalancers") or []
            if lb.get("targetGroupArn")
        }
        elbv2 = self.collect_elbv2(region, tgs)
        doc["elbv2"] = elbv2
        groups, subnets = set(), set()
        for s in services:
            for holder in (s, *(s.get("taskSets") or []), *(s.get("deployments") or [])):
                aws = (holder.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
                groups.update(aws.get("securityGroups") or [])
                subnets.update(aws.get("subnets") or [])
        for lb in elbv2.get("loadBalancers") or []:
            groups.update(lb.get("SecurityGroups") or [])
        doc["ec2"] = self.collect_ec2(region, sorted(groups), sorted(subnets))
        doc.update(self.collect_vulnerabilities(region, ecs.get("taskDefinitions") or []))
        return doc

    def collect_ecs(self, region: str) -> dict[str, Any]:
        ecs: dict[str, Any] = {}
        arns = self.pages("ecs", region, "list_clusters", "clusterArns")
        if arns is None:
            return ecs  # nothing ECS is known: services and task definitions stay unknown
        clusters: list[Any] = []
        for chunk in _chunks(arns, 100):
            out = self.call("ecs", region, "describe_clusters", clusters=chunk)
            clusters.extend((out or {}).get("clusters") or [])
        ecs["clusters"] = clusters

        def services_of(cluster: str) -> list[Any] | None:
            names = self.pages("ecs", region, "list_services", "serviceArns", cluster=cluster)
            if names is None:
                return None
            found = []
            for chunk in _chunks(names, 10):
                out = self.call(
                    "ecs", region, "describe_services", cluster=cluster, services=chunk, include=["TAGS"]
                )
                if out is None:
                    return None
                found.extend(out.get("services") or [])
            return found

        per_cluster = self.parallel(services_of, arns)
        ecs["services"] = [s for found in per_cluster if found for s in found]

        refs: dict[str, None] = {}
        for s in ecs["services"]:
            for holder in (s, *(s.get("deployments") or []), *(s.get("taskSets") or [])):
                if holder.get("taskDefinition"):
                    refs.setdefault(holder["taskDefinition"], None)
        if self.config.all_revisions:
            families = sorted({r.split("task-definition/", 1)[-1].rsplit(":", 1)[0] for r in refs})
            for arns_of in self.parallel(lambda f: self._revisions(region, f), families):
                for a in arns_of:
                    refs.setdefault(a, None)

        def describe(ref: str) -> dict[str, Any] | None:
            out = self.call("ecs", region, "describe_task_definition", taskDefinition=ref, include=["TAGS"])
            td = (out or {}).get("taskDefinition")
            if td is not None and out.get("tags"):
                # the response has tags beside taskDefinition; the snapshot keeps them inside it, where
                # RegisterTaskDefinition takes them (ecs-exposure:suppress tags are read from there)
                td = {**td, "tags": out["tags"]}
            return td

        ecs["taskDefinitions"] = [td for td in self.parallel(describe, refs) if td]
        return ecs

    def _revisions(self, region: str, family: str) -> list[str]:
        out: list[str] = []
        for status in ("ACTIVE", "INACTIVE"):
            arns = self.pages(
                "ecs",
                region,
                "list_task_definitions",
                "taskDefinitionArns",
                familyPrefix=family,
                status=status,
            )
            # familyPrefix is a prefix: keep this family's revisions only
            out += [a for a in arns or [] if a.split("task-definition/", 1)[-1].rsplit(":", 1)[0] == family]
        return out

    def collect_elbv2(self, region: str, target_groups: set[str]) -> dict[str, Any]:
        if not target_groups:
            return {"loadBalancers": [], "listeners": [], "targetGroups": []}
        elb: dict[str, Any] = {}
        tgs = self.pages("elbv2", region, "describe_target_groups", "TargetGroups")
        if tgs is None:
            return elb
        tgs = [t for t in tgs if t.get("TargetGroupArn") in target_groups]
        elb["targetGroups"] = tgs
        lb_arns = sorted({a for t in tgs for a in t.get("LoadBalancerArns") or []})
        lbs: list[Any] = []
        for chunk in _chunks(lb_arns, 20):
            out = self.call("elbv2", region, "describe_load_balancers", LoadBalancerArns=chunk)
            if out is None:
                return elb
            lbs.extend(out.get("LoadBalancers") or [])
        elb["loadBalancers"] = lbs
        listeners = self.parallel(
            lambda arn: self.pages("elbv2", region, "describe_listeners", "Listeners", LoadBalancerArn=arn),
            lb_arns,
        )
        if all(li is not None for li in listeners):
            elb["listeners"] = [x for li in listeners for x in li]
        return elb

    def collect_ec2(self, region: str, groups: list[str], subnets: list[str]) -> dict[str, Any]:
        ec2: dict[str, Any] = {}

        def filtered(operation: str, key: str, name: str, values: list[str]) -> list[Any] | None:
            items: list[Any] = []
            for chunk in _chunks(values, 200):
                got = self.pages("ec2", region, operation, key, Filters=[{"Name": name, "Values": chunk}])
                if got is None:
                    return None
                items.extend(got)
            return items

        if (sgs := filtered("describe_security_groups", "SecurityGroups", "group-id", groups)) is not None:
            ec2["securityGroups"] = sgs
        # every network interface using those groups: a group is shared when anything else uses it (fix)
        if (
            enis := filtered("describe_network_interfaces", "NetworkInterfaces", "group-id", groups)
        ) is not None:
            ec2["networkInterfaces"] = enis
        found_subnets = filtered("describe_subnets", "Subnets", "subnet-id", subnets)
        if found_subnets is None:
            return ec2
        ec2["subnets"] = found_subnets
        vpcs = sorted({s["VpcId"] for s in found_subnets if s.get("VpcId")})
        if (rts := filtered("describe_route_tables", "RouteTables", "vpc-id", vpcs)) is not None:
            ec2["routeTables"] = rts
        if (
            igws := filtered("describe_internet_gateways", "InternetGateways", "attachment.vpc-id", vpcs)
        ) is not None:
            ec2["internetGateways"] = igws
        return ec2

    def collect_vulnerabilities(self, region: str, task_definitions: list[dict[str, Any]]) -> dict[str, Any]:
        """Inspector findings for the ECR images in use; ECR scan findings when Inspector is unavailable."""
        host = ecr_host(self.account_id, region)
        images: dict[str, ImageRef] = {}
        for td in task_definitions:
            for c in td.get("containerDefinitions") or []:
                image = c.get("image") or ""
                ref = ImageRef.parse(image)
                if ref is not None and ref.registry == host:
                    images[image] = ref
        if not images:
            return {"inspector2": {"findings": []}}
        repos = sorted({r.repository for r in images.values()})
        findings: list[Any] = []
        inspector_api = self._api("inspector2", region, "list_findings")
        try:
            for chunk in _chunks(repos, 10):
                findings += self.pages_or_raise(
                    "inspector2",
                    region,
                    "list_findings",
                    "findings",
                    filterCriteria={
                        "findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}],
                        "findingType": [{"comparison": "EQUALS", "value": "PACKAGE_VULNERABILITY"}],
                        "resourceType": [{"comparison": "EQUALS", "value": "AWS_ECR_CONTAINER_IMAGE"}],
                        "ecrImageRepositoryName": [{"comparison": "EQUALS", "value": r} for r in chunk],
                    },
                )
            return {"inspector2": {"findings": findings}}
        except (ClientError, BotoCoreError) as e:
            inspector_error = e
        # Inspector is off or denied here: fall back to ECR's own scan results
        scans: list[Any] = []
        for _image, ref in sorted(images.items()):
            image_id = {"imageDigest": ref.digest} if ref.digest else {"imageTag": ref.tag or "latest"}
            out = self.call(
                "ecr", region, "describe_image_scan_findings", repositoryName=ref.repository, imageId=image_id
            )
            if out is None:
                self._record(region, inspector_api, inspector_error)  # neither source answered
                return {}
            scans.append(out)
        code, _ = error_entry(inspector_error)
        self.notes.append(
            f"{self.account_id}/{region}: Inspector unavailable ({code}), used ECR scan findings"
        )
        return {"ecr": {"imageScanFindings": scans}}


# ---------------------------------------------------------------------- the estate


class NoCredentials(Exception):
    """No AWS credentials could be found: nothing can be read."""


def _sessions(config: CollectConfig, stats: CallStats) -> list[tuple[str, boto3.Session]]:
    """(label, session) for each account: the caller's own, or each role assumed."""
    try:
        base = boto3.Session(profile_name=config.profile)
    except BotoCoreError as e:  # e.g. the profile does not exist
        raise NoCredentials(str(e)) from None
    if base.get_credentials() is None:
        raise NoCredentials(
            "no AWS credentials found: use --profile, the AWS_* environment variables, or an instance role"
        )
    if not config.role_arns:
        return [("default", base)]
    region = config.regions[0] if config.regions else base.region_name or "us-east-1"
    out = []
    for arn in config.role_arns:
        sts = base.client("sts", region_name=region, endpoint_url=config.endpoint_url)
        stats.count(stats.calls, "sts:AssumeRole")
        creds = sts.assume_role(RoleArn=arn, RoleSessionName="ecs-exposure")["Credentials"]
        out.append(
            (
                arn,
                boto3.Session(
                    aws_access_key_id=creds["AccessKeyId"],
                    aws_secret_access_key=creds["SecretAccessKey"],
                    aws_session_token=creds["SessionToken"],
                ),
            )
        )
    return out


def collect(config: CollectConfig, stats: CallStats | None = None) -> dict[str, Any]:
    """The snapshot of every account and region the configuration names."""
    stats = stats or CallStats()
    errors: list[dict[str, str | None]] = []
    notes: list[str] = []
    accounts = []
    try:
        sessions = _sessions(config, stats)
    except (ClientError, BotoCoreError) as e:
        code, message = error_entry(e)
        return {
            "format": "ecs-exposure/snapshot@1",
            "accounts": [],
            "errors": [
                {
                    "account_id": None,
                    "region": None,
                    "api": "sts:AssumeRole",
                    "error": code,
                    "message": message,
                }
            ],
        }
    for _, session in sessions:
        collector = AccountCollector(session, config, stats)
        regions = list(config.regions) or [session.region_name or "us-east-1"]
        if config.all_regions:
            out = collector.call("ec2", regions[0], "describe_regions")
            if out is not None:
                regions = sorted(r["RegionName"] for r in out.get("Regions") or [])
        accounts.append(collector.collect(regions))
        errors.extend(collector.errors)
        notes.extend(collector.notes)
    doc: dict[str, Any] = {
        "format": "ecs-exposure/snapshot@1",
        "collected_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accounts": accounts,
        "errors": errors,
    }
    if notes:
        doc["notes"] = notes
    return doc
