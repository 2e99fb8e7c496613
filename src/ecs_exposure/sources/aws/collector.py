"""Read an AWS estate into an ``ecs-exposure/snapshot@1`` document.

Every call goes through :meth:`AccountCollector.call`, which counts it, retries with botocore's
adaptive mode, and turns any failure (AccessDenied, throttling that outlasted the retries, a timeout)
into an entry of the snapshot's ``errors``. The key the call would have filled is then left out, so
the traits that need it are *unknown* — a failed call is never reported as a pass.

Calls are as few as the APIs allow: ``DescribeServices`` 10 services at a time, ``DescribeClusters``
100 at a time, EC2 and ELBv2 filtered to what the services reference, IAM in one paginated
``GetAccountAuthorizationDetails``, Inspector findings filtered to the repositories in use, and a
task definition described once however many services run it (and, with the revision cache, not
at all when an earlier scan described it: revisions are immutable).

Every request first takes a token from the account×region's bucket (:mod:`.pacing`), and a shard's
time budget (``max_shard_seconds``) stops it sending more once spent: what was not read is recorded
as failed, never silently absent.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ...model.vulns import ImageRef, ecr_host
from .pacing import THROTTLING_CODES, Pacer, ShardDeadline
from .revcache import RevisionCache, default_dir

SERVICE_PREFIX = {"elbv2": "elasticloadbalancing"}  # boto3 client name → IAM action prefix

# Regions introduced before 20 March 2019 are enabled in every account and cannot be disabled
# (EC2 DescribeRegions reports them "opt-in-not-required"); any other region may be opted out.
ENABLED_BY_DEFAULT = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
        "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-southeast-1", "ap-southeast-2",
    }
)  # fmt: skip


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
    rates: tuple[tuple[str, float, float], ...] = ()  # (service, sustained/s, burst) overrides
    use_cache: bool = False  # the revision cache (the CLI turns it on unless --no-cache)
    cache_dir: str | None = None  # None: the user cache directory
    max_shard_seconds: float | None = None  # time budget of one account×region (None: no limit)

    def cache_root(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else default_dir()


@dataclass
class CallStats:
    calls: Counter[str] = field(default_factory=Counter)  # API calls by "service:Operation"
    requests: Counter[str] = field(default_factory=Counter)  # HTTP requests, retries included
    throttled: Counter[str] = field(default_factory=Counter)  # throttling answers received
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    on_call: Callable[[str], None] | None = None

    def count(self, counter: Counter[str], api: str) -> None:
        with self._lock:
            counter[api] += 1
        if self.on_call is not None and counter is self.calls:
            self.on_call(api)

    def add(self, other: CallStats) -> None:
        with self._lock:
            self.calls.update(other.calls)
            self.requests.update(other.requests)
            self.throttled.update(other.throttled)

    def __getstate__(self) -> dict[str, Any]:  # shipped back from a Dask worker: counters only
        return {"calls": self.calls, "requests": self.requests, "throttled": self.throttled}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["calls"], state["requests"], state["throttled"])  # type: ignore[misc]


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _family(ref: str) -> str:
    """``family`` of a task definition ARN or ``family:revision``."""
    return ref.split("task-definition/", 1)[-1].rsplit(":", 1)[0]


def used_roles(region_docs: list[dict[str, Any]]) -> set[str]:
    return {
        arn
        for doc in region_docs
        for td in (doc.get("ecs") or {}).get("taskDefinitions") or []
        for arn in (td.get("taskRoleArn"), td.get("executionRoleArn"))
        if arn
    }


def _trusts_other_account(role: dict[str, Any], account_id: str | None) -> bool:
    """Whether the role's trust policy names an AWS principal outside its account (or ``*``)."""
    doc = role.get("AssumeRolePolicyDocument")
    if isinstance(doc, str):
        import json
        import urllib.parse

        try:
            doc = json.loads(urllib.parse.unquote(doc))
        except ValueError:
            return False
    if not isinstance(doc, dict):
        return False
    statements = doc.get("Statement")
    for st in statements if isinstance(statements, list) else [statements]:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, dict) else principal
        for p in [aws] if isinstance(aws, str) else aws if isinstance(aws, list) else []:
            if not isinstance(p, str):
                continue
            if p == "*":
                return True
            other = p if p.isdigit() else (p.split(":")[4] if p.count(":") >= 5 else "")
            if other and other != account_id:
                return True
    return False


def select_iam(
    roles: list[Any] | None, policies: list[Any] | None, role_arns: set[str], account_id: str | None
) -> dict[str, Any] | None:
    """The snapshot's ``iam``: the roles the task definitions use, the roles other accounts may assume
    (their trust policy names a principal outside the account: the merge resolves chains across
    accounts with them), and the managed policies attached to those. None when the roles could not
    be read; without ``policies`` when those could not."""
    if roles is None:
        return None
    names = {a.rsplit("/", 1)[-1] for a in role_arns}
    used = [
        r
        for r in roles
        if r.get("Arn") in role_arns or r.get("RoleName") in names or _trusts_other_account(r, account_id)
    ]
    if policies is None:
        return {"roles": used}  # policies missing: the traits that need them are unknown
    wanted = {p["PolicyArn"] for r in used for p in r.get("AttachedManagedPolicies") or []}
    wanted |= {(r.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") for r in used} - {None}
    return {"roles": used, "policies": [p for p in policies if p.get("Arn") in wanted]}


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
    if isinstance(e, ShardDeadline):
        return "MaxShardSecondsExceeded", str(e)[:300]
    if "Timeout" in name:
        return "Timeout", str(e)[:300]
    if isinstance(e, BotoCoreError):
        return name, str(e)[:300]
    return name, ""


class AccountCollector:
    """One account's snapshot: its regions in parallel, then IAM for the roles they use."""

    def __init__(
        self,
        session: boto3.Session,
        config: CollectConfig,
        stats: CallStats,
        account_id: str | None = None,
        partition: str = "aws",
        deadline: float | None = None,
    ) -> None:
        self.session = session
        self.config = config
        self.stats = stats
        self.errors: list[dict[str, str | None]] = []
        self.notes: list[str] = []
        self.account_id: str | None = account_id
        self.partition = partition
        self.pacer = Pacer({s: (r, b) for s, r, b in config.rates}, deadline)
        self._caches: dict[str, RevisionCache] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        read_timeout = config.read_timeout
        if config.max_shard_seconds:
            read_timeout = min(read_timeout, max(1.0, config.max_shard_seconds))
        self._botocore_config = Config(
            retries={"mode": "adaptive", "total_max_attempts": config.max_attempts},
            max_pool_connections=max(10, config.concurrency * 2),
            connect_timeout=config.connect_timeout,
            read_timeout=read_timeout,
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
                c.meta.events.register("before-send", self._before_send(prefix, region))
                c.meta.events.register("needs-retry", self._after_answer(prefix, region))
                self._clients[key] = c
        return c

    def _before_send(self, prefix: str, region: str) -> Callable[..., None]:
        """Every HTTP request, retries included (the event is ``before-send.<service>.<Op>``):
        count it, stop when the shard's time is spent, and wait for a token of the account's bucket."""

        def handler(event_name: str = "", **_: Any) -> None:
            operation = event_name.rsplit(".", 1)[-1]
            deadline = self.pacer.deadline
            if deadline is not None and time.monotonic() >= deadline:
                raise ShardDeadline(seconds=self.config.max_shard_seconds or 0)
            if not self.pacer.bucket(prefix, region, operation).acquire(deadline):
                raise ShardDeadline(seconds=self.config.max_shard_seconds or 0)
            self.stats.count(self.stats.requests, f"{prefix}:{operation}")

        return handler

    def _after_answer(self, prefix: str, region: str) -> Callable[..., None]:
        """Each answer: a throttling one slows the bucket down, any other lets it speed up again.
        Returns None, so botocore's own retry handler still decides whether to retry."""

        def handler(event_name: str = "", response: Any = None, **_: Any) -> None:
            operation = event_name.rsplit(".", 1)[-1]
            bucket = self.pacer.bucket(prefix, region, operation)
            code = None
            if response is not None and len(response) > 1 and isinstance(response[1], dict):
                code = (response[1].get("Error") or {}).get("Code")
            if code in THROTTLING_CODES:
                self.stats.count(self.stats.throttled, f"{prefix}:{operation}")
                bucket.throttled()
            elif response is not None:
                bucket.succeeded()

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

    def pages_or_raise(
        self, service: str, region: str, operation: str, key: str, page_size: int | None = None, **kwargs: Any
    ) -> list[Any]:
        c = self.client(service, region)
        api = self._api(service, region, operation)
        items: list[Any] = []
        if c.can_paginate(operation):
            if page_size:
                kwargs["PaginationConfig"] = {"PageSize": page_size}
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

    def identify(self, region: str) -> None:
        """The account id and partition, when no role ARN told them (the caller's own credentials)."""
        if self.account_id is not None:
            return
        ident = self.call("sts", region, "get_caller_identity")
        if ident is not None:
            self.account_id = ident.get("Account")
            arn = ident.get("Arn", "")
            self.partition = arn.split(":")[1] if arn.count(":") > 2 else "aws"

    def regions(self, requested: list[str], all_regions: bool, explicit: bool) -> list[str]:
        """The regions to read. ``DescribeRegions`` with ``AllRegions`` tells each region's
        ``OptInStatus``: with ``all_regions`` the enabled ones are read (``opt-in-not-required`` or
        ``opted-in``); a region asked for by name that the account has not enabled is recorded as an
        error of that account×region (it cannot be read: its traits are unknown) and skipped."""
        if not all_regions and (not explicit or set(requested) <= ENABLED_BY_DEFAULT):
            return requested  # regions that cannot be disabled need no check
        out = self.call("ec2", requested[0], "describe_regions", AllRegions=True)
        if out is None:
            if all_regions:
                return requested  # the failure is recorded: read what was asked for
            self.errors.pop()  # a failed check is not a failed read: read the regions asked for
            self.notes.append(
                f"{self.account_id}: ec2:DescribeRegions failed, the opt-in status of "
                f"{', '.join(requested)} was not checked"
            )
            return requested
        status = {r.get("RegionName"): r.get("OptInStatus") for r in out.get("Regions") or []}
        enabled = sorted(r for r, s in status.items() if r and s in ("opt-in-not-required", "opted-in", None))
        if all_regions:
            return enabled
        keep = []
        for region in requested:
            s = status.get(region, "unknown")
            if region in enabled:
                keep.append(region)
                continue
            with self._lock:
                self.errors.append(
                    {
                        "account_id": self.account_id,
                        "region": region,
                        "api": "ec2:DescribeRegions",
                        "error": "RegionNotEnabled" if s == "not-opted-in" else "RegionUnknown",
                        "message": f"region {region} is not enabled for this account (OptInStatus {s})",
                    }
                )
        return keep

    def collect(
        self, regions: list[str], iam: tuple[list | None, list | None] | None = None
    ) -> dict[str, Any]:
        """The account's document; ``iam`` is the account's IAM when already read (once per account)."""
        self.identify(regions[0] if regions else "us-east-1")
        account: dict[str, Any] = {"account_id": self.account_id or "unknown", "partition": self.partition}
        if not regions:
            account["regions"] = []
            return account
        workers = max(1, min(len(regions), self.config.concurrency))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            region_docs = list(pool.map(self.collect_region, regions))
        roles, policies = iam if iam is not None else self.fetch_iam(regions[0])
        selected = select_iam(roles, policies, used_roles(region_docs), self.account_id)
        if selected is not None:
            account["iam"] = selected
        account["regions"] = region_docs
        return account

    def fetch_iam(self, region: str) -> tuple[list[Any] | None, list[Any] | None]:
        """Every role of the account, and the managed policies when any role has one attached: one
        paginated ``GetAccountAuthorizationDetails`` per filter, once per account (IAM is global)."""
        roles = self.pages(
            "iam",
            region,
            "get_account_authorization_details",
            "RoleDetailList",
            page_size=1000,  # MaxItems' upper bound: most accounts in one request
            Filter=["Role"],
        )
        if roles is None:
            return None, None
        wanted = {p["PolicyArn"] for r in roles for p in r.get("AttachedManagedPolicies") or []}
        wanted |= {(r.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") for r in roles} - {None}
        if not wanted:
            return roles, []
        found = self.pages(
            "iam",
            region,
            "get_account_authorization_details",
            "Policies",
            page_size=1000,
            Filter=["LocalManagedPolicy", "AWSManagedPolicy"],
        )
        if found is None:
            return roles, None
        return roles, [p for p in found if p.get("Arn") in wanted]

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
        cache = self._caches.get(region)
        if cache is not None:
            cache.save()
            if cache.problem:
                self.notes.append(f"{self.account_id}/{region}: {cache.problem}")
        return doc

    def revision_cache(self, region: str) -> RevisionCache | None:
        if not self.config.use_cache or not self.account_id:
            return None
        with self._lock:
            cache = self._caches.get(region)
            if cache is None:
                cache = self._caches[region] = RevisionCache(
                    self.config.cache_root(), self.account_id, region
                )
        return cache

    def collect_ecs(self, region: str) -> dict[str, Any]:
        ecs: dict[str, Any] = {}
        arns = self.pages("ecs", region, "list_clusters", "clusterArns", page_size=100)
        if arns is None:
            return ecs  # nothing ECS is known: services and task definitions stay unknown
        clusters: list[Any] = []
        for chunk in _chunks(arns, 100):
            out = self.call("ecs", region, "describe_clusters", clusters=chunk)
            clusters.extend((out or {}).get("clusters") or [])
        ecs["clusters"] = clusters

        def services_of(cluster: str) -> list[Any] | None:
            names = self.pages("ecs", region, "list_services", "serviceArns", page_size=100, cluster=cluster)
            if names is None:
                return None
            found = []
            for chunk in _chunks(names, 10):
                out = self.call(
                    "ecs", region, "describe_services", cluster=cluster, services=chunk, include=["TAGS"]
                )
                if out is None:
                    return None
                # a deleted service stays INACTIVE for a while and runs nothing: not scanned
                found.extend(s for s in out.get("services") or [] if s.get("status") != "INACTIVE")
            return found

        per_cluster = self.parallel(services_of, arns)
        ecs["services"] = [s for found in per_cluster if found for s in found]

        # ARN → its status when a listing gave it now (None: referenced by a service, status unknown)
        refs: dict[str, str | None] = {}
        for s in ecs["services"]:
            for holder in (s, *(s.get("deployments") or []), *(s.get("taskSets") or [])):
                if holder.get("taskDefinition"):
                    refs.setdefault(holder["taskDefinition"], None)
        cache = self.revision_cache(region)
        if self.config.all_revisions:
            families = sorted({_family(r) for r in refs})
            listed = self._revisions(region, families, cache)
            if listed is not None:
                for arn, status in listed.items():
                    refs[arn] = refs.get(arn) or status
                if cache is not None:  # cached revisions of these families that are gone now
                    listed_families = set(families)
                    cache.forget(
                        {
                            a
                            for a in cache.entries
                            if _family(a) in listed_families and a not in listed and a not in refs
                        }
                    )

        def describe(ref: str) -> dict[str, Any] | None:
            if cache is not None and ref.startswith("arn:"):
                cached = cache.get(ref, refs[ref])
                if cached is not None:
                    return cached
            out = self.call("ecs", region, "describe_task_definition", taskDefinition=ref, include=["TAGS"])
            td = (out or {}).get("taskDefinition")
            if td is not None and out.get("tags"):
                # the response has tags beside taskDefinition; the snapshot keeps them inside it, where
                # RegisterTaskDefinition takes them (ecs-exposure:suppress tags are read from there)
                td = {**td, "tags": out["tags"]}
            if td is not None and cache is not None:
                cache.put(td)
            return td

        ecs["taskDefinitions"] = [td for td in self.parallel(describe, refs) if td]
        return ecs

    STATUSES = ("ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS")

    def _revisions(
        self, region: str, families: list[str], cache: RevisionCache | None
    ) -> dict[str, str] | None:
        """Every revision of ``families`` with its status, from ``ListTaskDefinitions``, with at most
        one paginated listing per family and status (100 revisions a page):

        - ``ACTIVE``: one listing per family (``familyPrefix``);
        - ``INACTIVE`` (deregistered, still readable) and ``DELETE_IN_PROGRESS`` (deleted, still
          readable while a task uses it): one region-wide listing per status, kept to these families
          here — a family with no such revision costs nothing — unless the previous scan of the
          region (remembered by the revision cache) counted so many that a listing per family
          takes fewer pages.

        All three statuses hold what the containers were given: credentials in any of them are
        readable. None when a listing failed (the failure is recorded)."""
        if not families:
            return {}
        wanted = set(families)
        out: dict[str, str] = {}
        failed = False
        for status in self.STATUSES:
            remembered = cache.listing.get(status) if cache is not None else None
            per_family = (
                status == "ACTIVE"
                or len(families) == 1
                or (remembered is not None and -(-remembered // 100) >= len(families))
            )
            if not per_family:
                arns = self.pages(
                    "ecs", region, "list_task_definitions", "taskDefinitionArns", page_size=100, status=status
                )
                if arns is None:
                    failed = True
                    continue
                if cache is not None:
                    cache.listing[status] = len(arns)
                out.update({a: status for a in arns if _family(a) in wanted})
                continue

            def of_family(family: str, status: str = status) -> list[str] | None:
                return self.pages(
                    "ecs",
                    region,
                    "list_task_definitions",
                    "taskDefinitionArns",
                    page_size=100,
                    familyPrefix=family,
                    status=status,
                )

            for family, arns in zip(families, self.parallel(of_family, families), strict=True):
                if arns is None:
                    failed = True
                    continue
                # familyPrefix should be the full family name; keep exactly this family's revisions
                out.update({a: status for a in arns if _family(a) == family})
        return None if failed else out

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


def base_session(config: CollectConfig) -> boto3.Session:
    """The caller's own session (``--profile``, the ``AWS_*`` variables, an instance or task role)."""
    try:
        base = boto3.Session(profile_name=config.profile)
    except BotoCoreError as e:  # e.g. the profile does not exist
        raise NoCredentials(str(e)) from None
    if base.get_credentials() is None:
        raise NoCredentials(
            "no AWS credentials found: use --profile, the AWS_* environment variables, or an instance role"
        )
    return base


def role_account(role_arn: str) -> tuple[str | None, str]:
    """(account id, partition) named by a role ARN."""
    parts = role_arn.split(":")
    if len(parts) >= 6 and parts[0] == "arn":
        return (parts[4] or None), (parts[1] or "aws")
    return None, "aws"


_assumed: dict[tuple[str, str | None, str | None], tuple[boto3.Session, float]] = {}
_assumed_lock = threading.Lock()


def assume(
    base: boto3.Session, role_arn: str, config: CollectConfig, stats: CallStats, region: str
) -> boto3.Session:
    """A session in the role's account. Credentials are reused for as long as they are valid (AWS
    asks callers to cache ``AssumeRole`` results), per process: a Dask worker assumes each role once,
    not once per shard. Raises ``ClientError`` (AccessDenied …) for the caller to record."""
    key = (role_arn, config.profile, config.endpoint_url)
    with _assumed_lock:
        hit = _assumed.get(key)
        if hit is not None and hit[1] - time.time() > 300:
            return hit[0]
    sts = base.client(
        "sts",
        region_name=region,
        endpoint_url=config.endpoint_url,
        config=Config(retries={"mode": "adaptive", "total_max_attempts": config.max_attempts}),
    )
    stats.count(stats.calls, "sts:AssumeRole")
    stats.count(stats.requests, "sts:AssumeRole")
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="ecs-exposure")["Credentials"]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    expiry = creds.get("Expiration")
    expires = expiry.timestamp() if isinstance(expiry, datetime) else time.time() + 900
    with _assumed_lock:
        _assumed[key] = (session, expires)
    return session


def failed_account(
    role_arn: str, regions: list[str] | None, e: Exception, api: str = "sts:AssumeRole"
) -> list[dict[str, str | None]]:
    """The errors of an account that could not be entered: one per account×region asked for (one
    for the account when its regions are not known, as with ``--all-regions``)."""
    account, _ = role_account(role_arn)
    code, message = error_entry(e)
    return [
        {"account_id": account, "region": r, "api": api, "error": code, "message": f"{role_arn}: {message}"}
        for r in (regions or [None])
    ]


def requested_regions(config: CollectConfig, session: boto3.Session) -> tuple[list[str], bool]:
    """(regions asked for, whether they were named on the command line)."""
    if config.regions:
        return list(config.regions), True
    return [session.region_name or "us-east-1"], False


def collect(config: CollectConfig, stats: CallStats | None = None) -> dict[str, Any]:
    """The snapshot of every account and region the configuration names, one account after the
    other (``shard`` runs them in parallel on Dask). An account that cannot be entered
    (AccessDenied on ``AssumeRole``) is recorded per account×region and the others are still read."""
    stats = stats or CallStats()
    base = base_session(config)
    errors: list[dict[str, str | None]] = []
    notes: list[str] = []
    accounts = []
    targets: list[str | None] = list(config.role_arns) or [None]
    for role_arn in targets:
        regions, explicit = requested_regions(config, base)
        if role_arn is None:
            session, account_id, partition = base, None, "aws"
        else:
            account_id, partition = role_account(role_arn)
            try:
                session = assume(base, role_arn, config, stats, regions[0])
            except (ClientError, BotoCoreError) as e:
                errors.extend(failed_account(role_arn, None if config.all_regions else regions, e))
                continue
        deadline = time.monotonic() + config.max_shard_seconds if config.max_shard_seconds else None
        collector = AccountCollector(session, config, stats, account_id, partition, deadline)
        collector.identify(regions[0])
        regions = collector.regions(regions, config.all_regions, explicit)
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
