"""Remediation: the fix the reference model recommends for each trait, as a plan (spec §8).

``plans()`` turns a scan's findings into :class:`Plan` objects: every trait of a finding gets a
change the tool makes or a manual step saying what to do and why the tool does not. ``apply`` makes
the changes with a write-ahead journal; ``rollback`` undoes a journal; ``commands`` renders a plan as
an AWS CLI script.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ..engine import targets
from ..model import Inventory, Loc, ScanResult, TaskDefinition
from ..sources.jsonio import SourceError, read_json
from ..traits._secrets import environment_evidence, outside_evidence
from ..traits.base import Target, evidence_fact
from .catalogue import FIXES, manual_step
from .plan import (
    IRREVERSIBLE_FLAG,
    REVIEW,
    SAFE,
    Change,
    FixOptions,
    Manual,
    Plan,
    RevisionContext,
    Step,
    StepIds,
    fix_task_definition,
    holds_ref,
    holds_sensitive,
)
from .service import (
    GroupUsers,
    ServiceContext,
    controller_of,
    deploy,
    evidence_policy,
    iam_changes,
    is_ecs_task_interface,
    primary_task_set,
    security_group_changes,
)

__all__ = ["REVIEW", "SAFE", "Change", "FixOptions", "Manual", "Plan", "Step", "plans"]


class _Documents:
    """The inputs' own JSON, re-read from the files the scan read (one read per file)."""

    def __init__(self, documents: dict[str, Any] | None = None) -> None:
        self._docs: dict[str, Any] = dict(documents or {})

    def at(self, loc: Loc) -> dict[str, Any] | None:
        if loc.file not in self._docs:
            try:
                self._docs[loc.file] = read_json(Path(loc.file), loc.file)
            except SourceError:
                self._docs[loc.file] = None
        node = self._docs[loc.file]
        for part in loc.parts:
            try:
                node = node[part]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                return None
        return node if isinstance(node, dict) else None


def group_users(inv: Inventory, docs: _Documents) -> GroupUsers:
    """Who uses each security group: ECS services, load balancers, and every other network interface
    (DescribeNetworkInterfaces filtered by group id, when the inputs have it). A task's own interface
    belongs to the services that run it, already counted."""
    out = GroupUsers()
    for account in inv.accounts:
        for region in account.regions:
            for svc in region.services:
                for d in svc.deployments:
                    for g in d.network.security_groups if d.network else ():
                        out.add(g, svc.arn, f"service {svc.name}")
            for lb in (region.load_balancers or {}).values():
                for g in lb.security_groups:
                    out.add(g, lb.arn, f"load balancer {lb.name or lb.arn}")
            raw = _region_document(region, docs)
            enis = ((raw or {}).get("ec2") or {}).get("networkInterfaces")
            if not isinstance(enis, list):
                continue
            out.interfaces_known.add((account.account_id, region.region))
            for eni in enis:
                if not isinstance(eni, dict) or is_ecs_task_interface(eni):
                    continue
                what = eni.get("Description") or eni.get("InterfaceType") or "network interface"
                for g in eni.get("Groups") or []:
                    gid = g.get("GroupId") if isinstance(g, dict) else None
                    if gid:
                        out.add(
                            gid,
                            str(eni.get("NetworkInterfaceId")),
                            f"{eni.get('NetworkInterfaceId')} ({what})",
                        )
    return out


def _region_document(region: Any, docs: _Documents) -> dict[str, Any] | None:
    for svc in region.services:
        parts = svc.loc.parts
        if len(parts) >= 4 and parts[0] == "accounts" and parts[2] == "regions":
            return docs.at(Loc(svc.loc.file, parts[:4]))
    return None


def _sensitive_paths(td: TaskDefinition) -> list[tuple[str | int, ...]]:
    """Where the revision holds credentials, relative to the task definition."""
    out = []
    n = len(td.loc.parts)
    for ev in environment_evidence(td):
        if ev.loc and ev.loc.parts[:n] == td.loc.parts:
            out.append((*ev.loc.parts[n:], "value"))
    for ev in outside_evidence(td):
        if ev.loc and ev.loc.parts[:n] == td.loc.parts:
            out.append(tuple(ev.loc.parts[n:]))
    return out


def _primary_revision(target: Target, raw_service: dict[str, Any] | None) -> TaskDefinition | None:
    if not target.task_definitions:
        return None
    wanted = (raw_service or {}).get("taskDefinition")
    if not wanted and raw_service:
        primary = primary_task_set(raw_service)
        wanted = (primary or {}).get("taskDefinition")
    for td in target.task_definitions:
        if wanted and td.arn == wanted:
            return td
    return target.task_definitions[0]


def _role_policies(target: Target, td: TaskDefinition) -> dict[str, dict[str, Any]] | None:
    account = target.account
    if account is None or account.roles is None or not td.execution_role_arn:
        return {} if account is not None and account.roles is not None else None
    role = account.role(td.execution_role_arn)
    if role is None:
        return None
    return {
        p.name: {"Version": "2012-10-17", "Statement": [dict(s) for s in p.statements]}
        for p in role.inline_policies
    }


def plans(
    inv: Inventory,
    result: ScanResult,
    options: FixOptions,
    finding_ids: set[str] | None = None,
    resources: set[str] | None = None,
    traits: set[str] | None = None,
    write_dir: Path | None = None,
    documents: dict[str, Any] | None = None,
    codedeploy: dict[str, tuple[str, str]] | None = None,
) -> list[Plan]:
    """One plan per finding (with the traits asked for). ``documents`` maps a source name to a
    document already in memory (a live collection), read instead of a file; ``codedeploy`` maps a
    service ARN to its CodeDeploy application and deployment group."""
    by_uid: dict[str, Target] = {t.resource.uid: t for t in targets(inv)}
    docs = _Documents(documents)
    users = group_users(inv, docs)
    ids = StepIds()
    out = []
    for finding in result.findings:
        if finding_ids and finding.id not in finding_ids:
            continue
        if resources and finding.resource.uid not in resources and finding.resource.name not in resources:
            continue
        hits = {h.trait_id: h for h in finding.hits if not traits or h.trait_id in traits}
        if not hits:
            continue
        plan = _plan(
            finding, hits, by_uid.get(finding.resource.uid), docs, users, options, ids, codedeploy or {}
        )
        out.append(plan)
    # one file per new revision: several task definitions of one family (files of a repository) must
    # not overwrite each other
    used: set[str] = set()
    for plan in out:
        if plan.new_revision is not None:
            stem = str(plan.new_revision.get("family") or "task-definition").replace("/", "_")
            name, n = f"{stem}.json", 1
            while name in used:
                n += 1
                name = f"{stem}-{n}.json"
            used.add(name)
            plan.revision_file = name
    return out


def _plan(
    finding: Any,
    hits: dict[str, Any],
    target: Target | None,
    docs: _Documents,
    users: GroupUsers,
    options: FixOptions,
    ids: StepIds,
    codedeploy: dict[str, tuple[str, str]],
) -> Plan:
    res = finding.resource
    plan = Plan(
        finding.id,
        res.name,
        res.type,
        traits=tuple(hits),
        resource_uid=res.uid,
        cluster_arn=res.cluster_arn,
        account=res.account_id,
        region=res.region,
        partition=res.partition or "aws",
    )
    svc = target.service if target else None
    raw_service = docs.at(svc.loc) if svc else None
    if svc is not None:
        plan.controller = controller_of(raw_service)
    td = _primary_revision(target, raw_service) if target else None
    fix = None
    if td is not None:
        plan.task_definition_arn = td.arn
        if plan.account is None and td.arn and td.arn.count(":") >= 5:
            plan.account, plan.region = td.arn.split(":")[4], td.arn.split(":")[3]
        described = docs.at(td.loc)
        if described is None:
            plan.notes.append(
                f"the JSON of {td.label} could not be re-read from {td.loc.file}: no new revision"
            )
        else:
            ctx = RevisionContext(
                plan.account,
                plan.region,
                plan.partition,
                td.arn,
                _sensitive_paths(td),
                _role_policies(target, td),  # type: ignore[arg-type]
                can_deploy_awsvpc=svc is None or bool(options.subnets and options.security_groups),
            )
            fix = fix_task_definition(described, hits, options, ctx, ids)
            plan.changes += fix.changes
            plan.manual += fix.manual
            plan.notes += fix.notes
            plan.steps += fix.secrets + fix.role + ([fix.grant] if fix.grant else [])
            plan.new_revision = fix.revision
    register = None
    if fix is not None and fix.revision is not None and plan.account:
        register = Step(
            ids(),
            "register_task_definition",
            "ecs",
            fix.revision,
            f"register a new revision of {fix.revision.get('family')}",
            produces=f"ARN of the new revision of {fix.revision.get('family')}",
        )
        plan.steps.append(register)
    primary = td.label if td else None
    running = {t.label for t in target.task_definitions} if target else set()
    for trait, h in hits.items():
        elsewhere = sorted({e.revision for e in h.evidence if e.revision and e.revision != primary})
        if (
            primary
            and elsewhere
            and set(elsewhere) <= running
            and not any(e.revision in (primary, None) for e in h.evidence)
        ):
            plan.manual.append(
                Manual(
                    trait,
                    f"complete or roll back the deployment still running {', '.join(elsewhere)}",
                    f"{trait} is only in that revision; the service's own revision {primary} does "
                    "not have it",
                )
            )
    if svc is not None:
        ctx_s = ServiceContext(
            res.name,
            res.uid,
            res.cluster_arn,
            raw_service or {},
            plan.account,
            plan.region,
            codedeploy.get(res.uid),
        )
        steps, changes, manual, notes = deploy(
            ctx_s, hits, options, ids, register, bool(fix and fix.network_awsvpc), primary
        )
        if plan.controller == "CODE_DEPLOY":
            # the revision only takes effect with the CodeDeploy deployment, a manual step
            plan.changes = [dataclasses.replace(c, effective=False) for c in plan.changes]
            changes = [dataclasses.replace(c, effective=False) for c in changes]
        plan.steps += steps
        plan.changes += changes
        plan.manual += manual
        plan.notes += notes
        interfaces = (plan.account or "", plan.region or "") in users.interfaces_known
        steps, changes, manual, notes = security_group_changes(hits, res.uid, users, interfaces, options, ids)
        plan.steps += steps
        plan.changes += changes
        plan.manual += manual
        plan.notes += notes
    elif register is None and fix is not None and fix.revision is not None:
        plan.notes.append(
            "a task definition file: register the new revision yourself (--write-dir writes it)"
        )
    steps, changes, manual = iam_changes(hits, lambda ev: evidence_policy(ev, docs), ids, plan.account)
    plan.steps += steps
    plan.changes += changes
    plan.manual += manual
    _hold_back_irreversible(plan)
    _reachability(plan, hits)
    _complete(plan, hits)
    if plan.new_revision is not None and holds_sensitive(plan.new_revision):
        plan.notes.append(
            "the new revision still holds a credential (in a command, label or secret reference): "
            "ecs-exposure "
            "copies it from the current revision at apply time and never writes the revision to a file"
        )
    return plan


def _hold_back_irreversible(plan: Plan) -> None:
    """A group with an irreversible step is applied whole or not at all: its changes need the flag too."""
    for step in plan.steps:
        if step.requires == IRREVERSIBLE_FLAG:
            plan.changes = [
                dataclasses.replace(c, requires=c.requires or IRREVERSIBLE_FLAG)
                if c.group == step.group
                else c
                for c in plan.changes
            ]


def _reachability(plan: Plan, hits: dict[str, Any]) -> None:
    hit = hits.get("internet-reachable")
    if hit is None:
        return
    paths = {str(evidence_fact(e, "path")) for e in hit.evidence}
    closers = [c for c in plan.changes if c.trait in ("public-ip", "open-security-group") and c.effective]
    if paths == {"public-ip"} and closers:
        first = closers[0]
        plan.changes.append(
            Change(
                "internet-reachable",
                first.target,
                "the path from the internet through the task's public IP closes with the change(s) above",
                {"path": "internet → public IP"},
                None,
                first.safety,
                reversible=first.reversible,
                requires=first.requires,
                group=first.group,
                effective=all(c.effective for c in closers),
            )
        )
    elif "load-balancer" in paths:
        plan.manual.append(manual_step("internet-reachable", hit))


def _complete(plan: Plan, hits: dict[str, Any]) -> None:
    """Every trait gets a change or a manual step; credentials get a rotation step too."""
    covered = {c.trait for c in plan.changes} | {m.trait for m in plan.manual}
    for trait, hit in hits.items():
        fix = FIXES.get(trait)
        if trait in covered:
            continue
        if fix is not None and fix.kind == "change":
            plan.manual.append(
                manual_step(
                    trait,
                    hit,
                    fix.what or f"fix {trait} by hand",
                    fix.why or "no automatic change could be planned here (see the notes)",
                )
            )
        else:
            plan.manual.append(manual_step(trait, hit))
    if "plaintext-credentials" in hits:
        plan.manual.append(
            Manual(
                "plaintext-credentials",
                "rotate every credential that was in the environment",
                "anyone with ecs:DescribeTaskDefinition could read it, and the old revisions still "
                "hold it; a new "
                "value must come from the system that issued it",
            )
        )


def revision_complete(plan: Plan) -> bool:
    """The new revision can be written to a file and registered as is: no ARN still to be learned, no
    credential inside."""
    return (
        plan.new_revision is not None
        and not holds_ref(plan.new_revision)
        and not holds_sensitive(plan.new_revision)
    )
