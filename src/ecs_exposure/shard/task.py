"""The two tasks a sharded scan runs: :func:`plan_account` once per account, :func:`run_shard` once
per account×region. Plain functions of picklable arguments: Dask runs them on its workers, a test
can call them directly.

``plan_account`` enters the account (``AssumeRole`` in the worker, with the worker's own
credentials), checks which regions are enabled (``DescribeRegions``, opt-in status) and reads IAM
once for the whole account (IAM is global). ``run_shard`` reads one region, builds that part's
snapshot, writes it where asked, scans it *in the worker* and returns the findings: the snapshot,
which may hold credentials from task definitions, is not returned.

A shard that fails for AWS reasons does not raise: the failure is data (collection errors, the
affected traits unknown). A shard raises only on a bug; Dask then retries it (``retries``) and the
client records it as not scanned if it keeps failing.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..engine import scan
from ..sources.aws.collector import (
    AccountCollector,
    CallStats,
    NoCredentials,
    assume,
    base_session,
    failed_account,
    requested_regions,
    role_account,
    select_iam,
    used_roles,
)
from ..sources.snapshot import load_snapshot
from .facts import assumables, grants
from .model import AccountPlan, AccountTarget, ShardOptions, ShardResult
from .store import write_part


def _deadline(options: ShardOptions, start: float) -> float | None:
    budget = options.collect.max_shard_seconds
    return start + budget if budget else None


def _session(target: AccountTarget, options: ShardOptions, stats: CallStats, region: str) -> Any:
    base = base_session(options.collect)
    if target.role_arn is None:
        return base
    return assume(base, target.role_arn, options.collect, stats, region)


def plan_account(target: AccountTarget, options: ShardOptions) -> AccountPlan:
    start = time.monotonic()
    stats = CallStats()
    config = options.collect
    account_id, partition = role_account(target.role_arn) if target.role_arn else (None, "aws")

    def failed(errors: list[dict[str, Any]]) -> AccountPlan:
        return AccountPlan(
            target,
            account_id,
            partition,
            [],
            (None, None),
            errors,
            [],
            stats,
            [],
            time.monotonic() - start,
            True,
        )

    try:
        base = base_session(config)
    except NoCredentials as e:
        return failed(
            [
                {
                    "account_id": account_id,
                    "region": None,
                    "api": "sts:GetCallerIdentity",
                    "error": "NoCredentials",
                    "message": str(e),
                }
            ]
        )
    regions, explicit = requested_regions(config, base)
    try:
        session = _session(target, options, stats, regions[0])
    except (ClientError, BotoCoreError) as e:
        return failed(failed_account(target.role_arn or "", None if config.all_regions else regions, e))
    collector = AccountCollector(session, config, stats, account_id, partition, _deadline(options, start))
    collector.identify(regions[0])
    regions = collector.regions(regions, config.all_regions, explicit)
    iam: tuple[list[Any] | None, list[Any] | None] = (None, None)
    if regions:
        iam = collector.fetch_iam(regions[0])
    account_id = collector.account_id
    trusting = select_iam(iam[0], iam[1], set(), account_id)
    exported = []
    if trusting and trusting.get("roles"):
        exported = assumables(
            {"accounts": [{"account_id": account_id, "partition": collector.partition, "iam": trusting}]}
        )
    return AccountPlan(
        target,
        account_id,
        collector.partition,
        regions,
        iam,
        collector.errors,
        collector.notes,
        stats,
        exported,
        time.monotonic() - start,
    )


def shard_key(account_id: str | None, region: str) -> str:
    return f"{account_id or 'unknown'}/{region}"


def run_shard(target: AccountTarget, region: str, plan: AccountPlan, options: ShardOptions) -> ShardResult:
    start = time.monotonic()
    stats = CallStats()
    config = options.collect
    key = shard_key(plan.account_id, region)
    try:
        session = _session(target, options, stats, region)
    except (ClientError, BotoCoreError, NoCredentials) as e:  # the plan entered it: credentials expired?
        errors = (
            failed_account(target.role_arn or "", [region], e) if not isinstance(e, NoCredentials) else []
        )
        return ShardResult(
            key, plan.account_id, region, errors=errors, stats=stats, seconds=time.monotonic() - start
        )
    collector = AccountCollector(
        session, config, stats, plan.account_id, plan.partition, _deadline(options, start)
    )
    region_doc = collector.collect_region(region)
    account: dict[str, Any] = {"account_id": plan.account_id or "unknown", "partition": plan.partition}
    iam = select_iam(plan.iam[0], plan.iam[1], used_roles([region_doc]), plan.account_id)
    if iam is not None:
        account["iam"] = iam
    account["regions"] = [region_doc]
    # the account's IAM errors (region None) belong to every shard of the account: its traits need IAM
    inherited = [e for e in plan.errors if e.get("region") is None]
    doc: dict[str, Any] = {
        "format": "ecs-exposure/snapshot@1",
        "collected_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accounts": [account],
        "errors": inherited + collector.errors,
    }
    if collector.notes:
        doc["notes"] = collector.notes
    result = ShardResult(
        key,
        plan.account_id,
        region,
        errors=list(collector.errors),
        notes=list(collector.notes),
        stats=stats,
        services=len((region_doc.get("ecs") or {}).get("services") or []),
    )
    if options.save_to:
        try:
            result.snapshot = write_part(doc, options.save_to, plan.account_id or "unknown", region, config)
        except (OSError, ClientError, BotoCoreError) as e:
            result.notes.append(f"{key}: snapshot not written to {options.save_to} ({e.__class__.__name__})")
            result.errors.append(
                {
                    "account_id": plan.account_id,
                    "region": region,
                    "api": "snapshot:write",
                    "error": e.__class__.__name__,
                    "message": "",
                }
            )
    if options.scan is not None:
        _scan(doc, options, result)
    result.seconds = time.monotonic() - start
    return result


def _scan(doc: dict[str, Any], options: ShardOptions, result: ShardResult) -> None:
    assert options.scan is not None
    inv = load_snapshot(doc, "aws")  # frees the raw document as it reads it
    inv.image_reports.extend(options.image_reports)
    inv.vuln_sources.extend(options.vuln_sources)
    inv.kev = options.kev
    found = grants(inv)
    granted = {g.resource_uid for g in found}
    scanned = scan(inv, replace(options.scan, include_informational=True))
    result.findings = tuple(
        f
        for f in scanned.findings
        if not f.informational or options.scan.include_informational or f.resource.uid in granted
    )
    result.issues = scanned.issues
    result.resources_scanned = scanned.resources_scanned
    result.unknown_traits = scanned.unknown_traits
    result.resources = scanned.resources
    result.suppressions = scanned.suppressions
    result.grants = found
