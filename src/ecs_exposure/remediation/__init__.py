"""Remediation: the fix the reference model recommends for each trait, as a plan (spec §8).

``plans()`` turns a scan's findings into :class:`Plan` objects. Applying them to AWS, with a
journal and rollback, is not built yet (issue #5): the plans, the new revisions and the AWS CLI
commands are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..engine import targets
from ..model import Inventory, Loc, ScanResult
from ..sources.jsonio import SourceError, read_json
from ..traits.base import Target
from .plan import (
    REVIEW,
    SAFE,
    Change,
    FixOptions,
    Plan,
    aws_cli_commands,
    fix_task_definition,
    service_changes,
)

__all__ = ["REVIEW", "SAFE", "Change", "FixOptions", "Plan", "plans"]


class _Documents:
    """The task definitions' own JSON, re-read from the files the scan read (one read per file)."""

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


def _shared_groups(inv: Inventory) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    for account in inv.accounts:
        for region in account.regions:
            for svc in region.services:
                for d in svc.deployments:
                    for g in d.network.security_groups if d.network else ():
                        if svc.arn not in users.setdefault(g, []):
                            users[g].append(svc.arn)
    return users


def plans(
    inv: Inventory,
    result: ScanResult,
    options: FixOptions,
    finding_ids: set[str] | None = None,
    resources: set[str] | None = None,
    traits: set[str] | None = None,
    write_dir: Path | None = None,
    documents: dict[str, Any] | None = None,
) -> list[Plan]:
    """One plan per finding with something to fix. ``documents`` maps a source name to a document
    already in memory (a live collection), read instead of a file."""
    by_uid: dict[str, Target] = {t.resource.uid: t for t in targets(inv)}
    docs = _Documents(documents)
    shared = _shared_groups(inv)
    out = []
    for finding in result.findings:
        if finding_ids and finding.id not in finding_ids:
            continue
        if resources and finding.resource.uid not in resources and finding.resource.name not in resources:
            continue
        target = by_uid.get(finding.resource.uid)
        hits = {h.trait_id: h for h in finding.hits if not traits or h.trait_id in traits}
        plan = Plan(
            finding.id,
            finding.resource.name,
            finding.resource.type,
            resource_uid=finding.resource.uid,
            cluster_arn=finding.resource.cluster_arn,
        )
        new_td = None
        if target is not None and target.task_definitions:
            td = target.task_definitions[0]
            plan.task_definition_arn = td.arn
            described = docs.at(td.loc)
            if described is None:
                plan.notes.append(
                    f"the JSON of {td.label} could not be re-read from {td.loc.file}: no new revision"
                )
            else:
                new_td, changes, notes = fix_task_definition(
                    described, hits, options, finding.resource.account_id, finding.resource.region
                )
                plan.changes += changes
                plan.notes += notes
        primary = target.task_definitions[0].label if target and target.task_definitions else None
        for h in hits.values():
            elsewhere = sorted({e.revision for e in h.evidence if e.revision and e.revision != primary})
            if primary and elsewhere and not any(e.revision == primary for e in h.evidence):
                plan.notes.append(
                    f"{h.trait_id} is in {', '.join(elsewhere)}, which a deployment or task set still runs, "
                    f"not in {primary}: complete or roll back that deployment so the service runs one fixed "
                    "revision"
                )
        more, notes = service_changes(
            finding,
            hits,
            new_td is not None and finding.resource.type == "AWS::ECS::Service",
            shared,
            options,
            lambda ev: (
                docs.at(Loc(ev.loc.file, ev.loc.parts[:-2])) if ev.loc and len(ev.loc.parts) > 2 else None
            ),
        )
        plan.changes += more
        plan.notes += notes
        plan.new_revision = new_td
        if new_td is not None and "credentials-outside-environment" in hits:
            plan.notes.append(
                "the command, labels or secret references still hold a credential "
                "(credentials-outside-environment): fix it by hand before registering"
            )
        if "stale-revision-credentials" in hits or "plaintext-credentials" in hits:
            plan.notes.append(
                "rotate every credential the task definitions held: old revisions keep it readable"
            )
        if plan.changes:
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
        cluster = plan.cluster_arn.rsplit("/", 1)[-1] if plan.cluster_arn else None
        plan.commands = aws_cli_commands(plan, cluster, str(write_dir) if write_dir else None)
    return out
