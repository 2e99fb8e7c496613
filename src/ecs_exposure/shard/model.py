"""What travels between the client and the workers: small, picklable, and free of credential values.

- :class:`ShardOptions` goes to every task: the collection and scan settings (a profile *name*, an
  endpoint, rates — never keys: each worker finds its own credentials, as boto3 does, and assumes
  the roles itself).
- :class:`AccountPlan` stays on the workers: one account's IAM as read once, handed to the region
  shards of that account (Dask moves it worker to worker). Policies, not secrets.
- :class:`PlanSummary` and :class:`ShardResult` come back to the client: findings (evidence holds
  names and fingerprints only), scan issues, collection errors, call statistics and the small
  cross-account facts. The partial snapshot — task definitions with their environment, credentials
  included — never does: the worker writes it to a path or an ``s3://`` URL when asked to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine import ScanOptions
from ..model import ExposureFinding, Resource, ScanIssue, SuppressionUse
from ..model.vulns import ImageReport
from ..sources.aws.collector import CallStats, CollectConfig, role_account
from .facts import Assumable, AssumeGrant


@dataclass(frozen=True, slots=True)
class AccountTarget:
    role_arn: str | None  # None: the caller's own credentials

    @property
    def key(self) -> str:
        if self.role_arn is None:
            return "default"
        account, _ = role_account(self.role_arn)
        return account or self.role_arn


@dataclass
class ShardOptions:
    collect: CollectConfig
    scan: ScanOptions | None  # None: collect only (``collect --workers``)
    save_to: str | None = None  # directory or s3://bucket/prefix for each shard's snapshot
    image_reports: tuple[ImageReport, ...] = ()  # --vulns, parsed by the client
    vuln_sources: tuple[str, ...] = ()
    kev: frozenset[str] = frozenset()


@dataclass
class PlanSummary:
    key: str  # the account target's key
    account_id: str | None
    regions: list[str]
    errors: list[dict[str, Any]]
    notes: list[str]
    stats: CallStats
    assumables: list[Assumable]
    seconds: float
    failed: bool  # the account could not be entered: no region shard is run


@dataclass
class AccountPlan:
    target: AccountTarget
    account_id: str | None
    partition: str
    regions: list[str]
    iam: tuple[list[Any] | None, list[Any] | None]  # (roles, policies) as GetAccountAuthorizationDetails gave
    errors: list[dict[str, Any]]  # account-wide (IAM) or per region (a region not enabled)
    notes: list[str]
    stats: CallStats
    assumables: list[Assumable]
    seconds: float
    failed: bool = False

    def summary(self) -> PlanSummary:
        return PlanSummary(
            self.target.key,
            self.account_id,
            list(self.regions),
            list(self.errors),
            list(self.notes),
            self.stats,
            list(self.assumables),
            self.seconds,
            self.failed,
        )


@dataclass
class ShardResult:
    key: str  # "<account>/<region>"
    account_id: str | None
    region: str
    findings: tuple[ExposureFinding, ...] = ()
    issues: tuple[ScanIssue, ...] = ()
    resources_scanned: int = 0
    unknown_traits: tuple[tuple[str, int], ...] = ()
    errors: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stats: CallStats = field(default_factory=CallStats)
    grants: list[AssumeGrant] = field(default_factory=list)
    seconds: float = 0.0
    snapshot: str | None = None  # where the worker wrote the shard's snapshot
    services: int = 0
    resources: tuple[Resource, ...] = ()  # every resource scanned (JUnit, Security Hub scope)
    suppressions: tuple[SuppressionUse, ...] = ()  # what each suppression rule did in this shard
