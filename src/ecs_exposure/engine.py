"""Runs a scan: inventory → targets → traits → findings.

The one place that turns a failure into a recorded :class:`ScanIssue` instead of an abort: a
detector that fails on one resource marks the result incomplete and the scan goes on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date

from .correlate import correlate
from .model import (
    AccountInventory,
    Evidence,
    ExposureFinding,
    Inventory,
    Loc,
    OriginMap,
    PositionMap,
    RegionInventory,
    Resource,
    ScanIssue,
    ScanResult,
    Service,
    Severity,
    SuppressionRule,
    TaskDefinition,
    TraitHit,
    TraitUnknown,
)
from .suppress import Suppressor
from .traits import Target, registry
from .traits.base import TraitSettings, unreadable
from .vulnindex import VulnIndex


@dataclass
class ScanOptions:
    include_informational: bool = False
    debug: bool = False  # re-raise detector errors instead of recording them
    traits: tuple[str, ...] = ()  # restrict to these trait ids (all when empty)
    settings: TraitSettings = field(default_factory=TraitSettings)
    # accepted risks from the config file; the inputs' own (inline rules, resource tags) are added
    suppressions: tuple[SuppressionRule, ...] = ()
    today: date | None = None  # for expiry dates (default: today, UTC)


def vuln_index(inv: Inventory) -> VulnIndex:
    """Every image report of the inputs: --vulns files and the snapshots' Inspector / ECR results."""
    reports = list(inv.image_reports)
    sources = list(inv.vuln_sources)
    for account in inv.accounts:
        for region in account.regions:
            if region.image_reports is not None:
                reports.extend(region.image_reports)
                sources.append(f"{account.account_id}/{region.region} Inspector/ECR")
    return VulnIndex(reports, inv.kev, tuple(sources))


@dataclass
class _Index:
    """Task definitions of one region, by ARN, by ``family:revision`` and by family."""

    by_ref: dict[str, TaskDefinition] = field(default_factory=dict)
    by_family: dict[str, list[TaskDefinition]] = field(default_factory=dict)

    @classmethod
    def build(cls, region: RegionInventory) -> _Index:
        idx = cls()
        for td in region.task_definitions.values():
            if td.arn:
                idx.by_ref[td.arn] = td
            idx.by_ref.setdefault(td.label, td)
            idx.by_family.setdefault(td.family, []).append(td)
        return idx

    def find(self, ref: str) -> TaskDefinition | None:
        td = self.by_ref.get(ref)
        if td is None and "task-definition/" in ref:
            td = self.by_ref.get(ref.split("task-definition/", 1)[1])
        return td


def _other_revisions(running: list[TaskDefinition], idx: _Index) -> tuple[TaskDefinition, ...] | None:
    """Revisions of the running families that do not run; None when the inputs cannot tell."""
    if not running:
        return None
    running_ids = {id(td) for td in running}
    others: list[TaskDefinition] = []
    for family in dict.fromkeys(td.family for td in running):
        others.extend(td for td in idx.by_family.get(family, ()) if id(td) not in running_ids)
    if others:
        return tuple(sorted(others, key=lambda td: (td.family, td.revision or 0)))
    if all(td.revision == 1 for td in running):
        return ()  # revision 1 has no older revisions
    return None


def _service_target(
    svc: Service, region: RegionInventory, account: AccountInventory, idx: _Index, shared: dict
) -> Target:
    running: list[TaskDefinition] = []
    missing: list[str] = []
    for ref in svc.running_task_definition_arns:
        td = idx.find(ref)
        if td is None:
            missing.append(ref.rsplit("/", 1)[-1])
        elif td not in running:
            running.append(td)
    resource = Resource(
        type="AWS::ECS::Service",
        uid=svc.arn,
        name=svc.name,
        loc=svc.loc,
        account_id=region.account_id,
        region=region.region,
        partition=region.partition,
        cluster_arn=svc.cluster_arn,
        tags=svc.tags,
    )
    return Target(
        resource,
        tuple(running),
        tuple(missing),
        svc,
        region,
        account,
        _other_revisions(running, idx),
        **shared,
    )


def targets(
    inv: Inventory,
    issues: list[ScanIssue] | None = None,
    settings: TraitSettings | None = None,
    notes: list[str] | None = None,
) -> Iterator[Target]:
    """One target per resource id: per service, per task definition no service runs, and per task
    definition file.

    A service whose running revision is missing from the inputs is recorded in ``issues``: its
    traits are unknown and the result is incomplete. A resource found twice (two snapshots of one
    account, two files holding the same ``taskDefinitionArn``) is one resource, see :func:`_unique`.
    """
    return _unique(_targets(inv, issues, settings), issues, notes)


def _content(value: object) -> object:
    """What a parsed resource says, without where it was read: to compare copies from two files."""
    if isinstance(value, Loc):
        return None
    if isinstance(value, tuple | list):
        return tuple(_content(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, *(_content(getattr(value, f.name)) for f in fields(value)))
    return value


def _same_resource(a: Target, b: Target) -> bool:
    return _content((a.service, a.task_definitions, a.missing_task_definitions)) == _content(
        (b.service, b.task_definitions, b.missing_task_definitions)
    )


def _unique(
    found: Iterator[Target], issues: list[ScanIssue] | None, notes: list[str] | None
) -> Iterator[Target]:
    """Never two findings with one id. A resource seen again with the same content is scanned once
    (a note per pair of files); a task definition *file* with different content keeps its own id
    (its file path, as for a file without an ARN); a service or a snapshot's task definition with
    different content is scanned from the first input only, and the result is incomplete."""
    first: dict[str, Target] = {}
    same: Counter[tuple[str, str]] = Counter()
    for t in found:
        uid = t.resource.uid
        seen = first.get(uid)
        if seen is None:
            first[uid] = t
            yield t
            continue
        here, there = t.resource.loc.file, seen.resource.loc.file
        if _same_resource(seen, t):
            same[(here, there)] += 1
            continue
        if t.region is None:  # a task definition file: both are scanned, under distinct ids
            loc = t.resource.loc
            alt = f"{loc.file}#{loc.pointer}" if loc.parts else loc.file
            if alt not in first:
                t = replace(t, resource=replace(t.resource, uid=alt))
                first[alt] = t
                yield t
                continue
        if issues is not None:
            issues.append(
                ScanIssue(
                    here,
                    t.resource.loc.path,
                    f"{uid} is also in {there} with different content: scanned from {there} only",
                )
            )
    if notes is not None:
        for (here, there), n in same.items():
            what = "resource" if n == 1 else f"{n} resources"
            notes.append(f"{here}: skipped, {what} also in {there} with the same content (scanned once)")


def _targets(
    inv: Inventory, issues: list[ScanIssue] | None, settings: TraitSettings | None
) -> Iterator[Target]:
    memo: dict[object, object] = {}
    shared = {"vulns": vuln_index(inv), "settings": settings or TraitSettings(), "memo": memo}
    for account in inv.accounts:
        for region in account.regions:
            idx = _Index.build(region)
            used_families: set[str] = set()
            for svc in region.services:
                t = _service_target(svc, region, account, idx, shared)
                if t.missing_task_definitions and issues is not None:
                    issues.append(
                        ScanIssue(
                            svc.loc.file,
                            svc.loc.path,
                            f"service {svc.name} runs {', '.join(t.missing_task_definitions)}, "
                            "which is not in the inputs: its task definition traits are unknown"
                            + (
                                ""
                                if region.task_definitions_collected
                                else " (no ecs.taskDefinitions collected)"
                            ),
                        )
                    )
                used_families.update(td.family for td in t.task_definitions)
                yield t
            # task definitions no service runs (RunTask, schedules): the latest revision of each family
            for family, tds in sorted(idx.by_family.items()):
                if family in used_families:
                    continue
                latest = max(tds, key=lambda td: td.revision or 0)
                others = tuple(td for td in tds if td is not latest)
                yield Target(
                    Resource(
                        "AWS::ECS::TaskDefinition",
                        latest.arn or latest.label,
                        latest.label,
                        latest.loc,
                        region.account_id,
                        region.region,
                        region.partition,
                        tags=latest.tags,
                    ),
                    (latest,),
                    (),
                    None,
                    region,
                    account,
                    others if others or latest.revision == 1 else None,
                    **shared,
                )
    for f in inv.task_definition_files:
        td = f.task_definition
        resource = Resource("AWS::ECS::TaskDefinition", f.uid, td.label, td.loc, tags=td.tags)
        yield Target(resource, (td,), **shared)


def _with_origin(ev: Evidence, positions: Mapping[str, PositionMap]) -> Evidence:
    """Say in the evidence what the source knows of the value: the conditions it depends on, and the
    place its literal is written when that is elsewhere (a parameter's default)."""
    origins = positions.get(ev.loc.file) if ev.loc is not None else None
    if ev.loc is None or not isinstance(origins, OriginMap):
        return ev
    origin = origins.origin(ev.loc.parts)
    if origin is None:
        return ev
    summary, facts, loc = ev.summary, ev.facts, ev.loc
    if origin.defined_at is not None:
        summary += f" (value from {origin.via or Loc(loc.file, origin.defined_at).pointer})"
        facts += (("usedAt", loc.pointer),)
        loc = Loc(loc.file, origin.defined_at)
    if origin.conditions:
        summary += f" (only when {' and '.join(origin.conditions)})"
        facts += (("conditions", origin.conditions),)
    return replace(ev, summary=summary, facts=facts, loc=loc)


def evaluate(
    target: Target,
    options: ScanOptions,
    issues: list[ScanIssue],
    suppressor: Suppressor | None = None,
    positions: Mapping[str, PositionMap] | None = None,
) -> tuple[ExposureFinding | None, list[TraitUnknown]]:
    hits: list[TraitHit] = []
    unknown: list[TraitUnknown] = []
    problems = unreadable(target)  # malformed fields of this resource: their traits are unknown
    for trait_id, spec in registry().items():
        if options.traits and trait_id not in options.traits:
            continue
        try:
            outcome = spec.evaluate(target, problems)
        except Exception as e:  # a detector bug must not stop the scan, nor pass silently
            if options.debug:
                raise
            issues.append(
                ScanIssue(
                    target.resource.loc.file,
                    target.resource.loc.path,
                    f"internal error in trait {trait_id} ({e.__class__.__name__}); "
                    "run with --debug for details",
                )
            )
            unknown.append(TraitUnknown(trait_id, "the detector failed"))
            continue
        if isinstance(outcome, TraitHit):
            if positions and any(ev.loc is not None and ev.loc.file in positions for ev in outcome.evidence):
                evidence = tuple(_with_origin(ev, positions) for ev in outcome.evidence)
                outcome = replace(outcome, evidence=evidence)
            hits.append(outcome)
        elif isinstance(outcome, TraitUnknown):
            unknown.append(outcome)
    finding = correlate(target.resource, [td.label for td in target.task_definitions], hits, unknown)
    shown = finding is not None and (options.include_informational or not finding.informational)
    if shown and suppressor is not None:
        finding = suppressor.apply(finding, target, hits, unknown)
    return finding, unknown


def scan(inv: Inventory, options: ScanOptions | None = None) -> ScanResult:
    options = options or ScanOptions()
    issues = list(inv.issues)
    findings: list[ExposureFinding] = []
    scanned = 0
    unknown_counts: Counter[str] = Counter()
    suppressor = Suppressor((*options.suppressions, *inv.suppressions), options.today)
    notes = list(inv.notes)
    resources: list[Resource] = []
    for target in targets(inv, issues, options.settings, notes):
        scanned += 1
        resources.append(target.resource)
        finding, unknown = evaluate(target, options, issues, suppressor, inv.positions)
        unknown_counts.update(u.trait_id for u in unknown)
        if finding is None:
            continue
        if finding.informational and not options.include_informational:
            continue
        findings.append(finding)
    findings.sort(key=lambda f: (-f.severity, f.resource.type, f.resource.uid))
    return ScanResult(
        tuple(findings),
        tuple(issues),
        scanned,
        tuple(notes),
        tuple(sorted(unknown_counts.items())),
        positions=inv.positions,
        suppressions=suppressor.uses(),
        resources=tuple(resources),
    )


def worst(result: ScanResult) -> Severity | None:
    return max((f.severity for f in result.findings), default=None)
