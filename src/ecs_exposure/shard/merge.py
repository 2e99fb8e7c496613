"""Merging shard results into one scan result, and resolving cross-account role chains.

The merge is the only place that sees every account: it joins the :class:`~.facts.AssumeGrant` of
services with the :class:`~.facts.Assumable` roles of *other* accounts, adds the chained impact to
the service's finding and rates it again (:func:`resolve_cross_account`). The in-process scan of a
multi-account snapshot calls the same function, so both give the same findings.

Results are keyed by shard (account×region): a shard Dask ran twice (a worker lost after it
finished, a retry) is merged once, so no finding is duplicated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ..correlate import correlate
from ..model import Evidence, ExposureFinding, ScanIssue, ScanResult, TraitHit
from ..sources.aws.collector import CallStats
from ..suppress import merge_uses
from .facts import Assumable, AssumeGrant, admits, allows
from .model import PlanSummary, ShardResult


def _order(findings: Iterable[ExposureFinding]) -> list[ExposureFinding]:
    return sorted(findings, key=lambda f: (-f.severity, f.resource.type, f.resource.uid))


def resolve_cross_account(
    findings: Iterable[ExposureFinding],
    assumable: Iterable[Assumable],
    grant_list: Iterable[AssumeGrant],
    include_informational: bool,
) -> list[ExposureFinding]:
    """The findings with each cross-account chain added, informational ones dropped unless asked
    for. ``findings`` must hold the informational findings of the granted resources too."""
    by_uid = {f.resource.uid: f for f in findings}
    roles = [a for a in assumable if a.impacts]
    for g in sorted(grant_list, key=lambda g: (g.resource_uid, g.role_arn)):
        finding = by_uid.get(g.resource_uid)
        if finding is None:
            continue
        added: list[TraitHit] = []
        for role in roles:
            if role.account_id == g.account_id:
                continue  # a chain inside one account is not a cross-account fact
            ok, conditional = allows(g, role.role_arn)
            trusted, principal = admits(role, g) if ok else (False, "")
            if not trusted:
                continue
            conditional = conditional or role.conditional
            name = g.role_arn.rsplit("/", 1)[-1]
            for trait_id, what in role.impacts:
                summary = (
                    f"task role {name} can assume {role.role_arn} in account {role.account_id}, whose "
                    f"trust policy admits {principal}: that role grants {what}"
                    + (" (only under a Condition)" if conditional else "")
                )
                ev = Evidence(
                    summary,
                    (
                        ("role", g.role_arn),
                        ("assumes", role.role_arn),
                        ("account", role.account_id),
                        ("trustedPrincipal", principal),
                        ("conditional", conditional),
                    ),
                )
                added.append(TraitHit(trait_id, (ev,), frozenset({"conditional"} if conditional else ())))
        if added:
            by_uid[g.resource_uid] = _amend(finding, added)
    out = [f for f in by_uid.values() if include_informational or not f.informational]
    return _order(out)


def _amend(finding: ExposureFinding, added: list[TraitHit]) -> ExposureFinding:
    hits = {h.trait_id: h for h in finding.hits}
    for new in added:
        old = hits.get(new.trait_id)
        if old is None:
            hits[new.trait_id] = new
        elif new.evidence[0] not in old.evidence:
            qualifiers = (
                old.qualifiers & new.qualifiers if "conditional" in old.qualifiers else old.qualifiers
            )
            hits[new.trait_id] = replace(old, evidence=old.evidence + new.evidence, qualifiers=qualifiers)
    amended = correlate(finding.resource, finding.task_definitions, list(hits.values()), finding.unknown)
    return amended if amended is not None else finding


def error_issue(e: dict) -> ScanIssue:
    """The scan issue of a collection error, worded as ``load_snapshot`` words it."""
    where = "/".join(x for x in (e.get("account_id"), e.get("region")) if x) or "aws"
    return ScanIssue(
        "aws", "errors", f"{where}: {e['api']} failed when collected: {e['error']}", api=e["api"]
    )


class Merger:
    """Shard results as they arrive → one :class:`ScanResult`."""

    def __init__(self, include_informational: bool = False) -> None:
        self.include_informational = include_informational
        self.results: dict[str, ShardResult] = {}
        self.plans: dict[str, PlanSummary] = {}
        self.errors: list[dict] = []  # collection errors outside any shard (an account not entered)
        self.failures: list[ScanIssue] = []  # shards that failed or were lost
        self.stats = CallStats()
        self.duplicates = 0

    def add_plan(self, plan: PlanSummary) -> None:
        if plan.key in self.plans:
            self.duplicates += 1
            return
        self.plans[plan.key] = plan
        self.stats.add(plan.stats)
        self.errors.extend(plan.errors)

    def add(self, result: ShardResult) -> bool:
        """False when this shard was merged already (Dask ran it twice)."""
        if result.key in self.results:
            self.duplicates += 1
            return False
        self.results[result.key] = result
        self.stats.add(result.stats)
        return True

    def fail(self, key: str, reason: str) -> None:
        self.failures.append(ScanIssue("aws", key, f"shard {key} not scanned: {reason}"))

    def errors_all(self) -> list[dict]:
        out = list(self.errors)
        for r in self.results.values():
            out.extend(r.errors)
        return out

    def result(self, extra_notes: Iterable[str] = ()) -> ScanResult:
        shards = [self.results[k] for k in sorted(self.results)]
        findings = [f for r in shards for f in r.findings]
        assumable = [a for p in self.plans.values() for a in p.assumables]
        grant_list = [g for r in shards for g in r.grants]
        merged = resolve_cross_account(findings, assumable, grant_list, self.include_informational)
        issues: list[ScanIssue] = []
        seen: set[tuple[str, str]] = set()
        for issue in [
            *(error_issue(e) for e in self.errors),
            *(i for r in shards for i in r.issues),
            *self.failures,
        ]:
            k = (issue.source, issue.message)
            if k not in seen:  # an account-wide error (IAM) is in every shard of the account
                seen.add(k)
                issues.append(issue)
        unknown: Counter[str] = Counter()
        for r in shards:
            unknown.update(dict(r.unknown_traits))
        return ScanResult(
            tuple(merged),
            tuple(issues),
            sum(r.resources_scanned for r in shards),
            tuple(extra_notes),
            tuple(sorted(unknown.items())),
            suppressions=merge_uses(*(r.suppressions for r in shards)),
            resources=tuple(res for r in shards for res in r.resources),
        )

    def collector_notes(self) -> list[str]:
        """What the collectors left for the reader (Inspector unavailable, cache problems …)."""
        notes = [n for p in self.plans.values() for n in p.notes]
        notes += [n for k in sorted(self.results) for n in self.results[k].notes]
        return list(dict.fromkeys(notes))


def scan_with_chains(inv: Any, options: Any, assumable: list[Assumable]) -> ScanResult:
    """The in-process scan of an inventory, with the cross-account chains ``assumable`` (from
    :func:`~.facts.assumables` on the raw snapshot) resolved as the sharded merge resolves them."""
    from ..engine import scan
    from .facts import grants

    found = grants(inv) if assumable else []
    if not found:
        return scan(inv, options)
    result = scan(inv, replace(options, include_informational=True))
    findings = resolve_cross_account(result.findings, assumable, found, options.include_informational)
    return replace(result, findings=tuple(findings))
