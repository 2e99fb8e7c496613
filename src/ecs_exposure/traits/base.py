"""What a trait detector is, and what it is given.

A detector is a pure function of a :class:`Target` (one service, or one task definition file)
returning a :class:`TraitHit`, a :class:`TraitUnknown` (the inputs cannot decide: never a pass), or
``None`` (decided: not present). Detectors never import boto3 and never reveal a secret except
through :mod:`ecs_exposure.credentials`.

Unreadable input: a field present in the input but malformed (``privileged: "yes"``) is kept by the
parsed resource as a :class:`FieldProblem`. A trait declares the model fields it reads
(``TraitSpec.reads``); :meth:`TraitSpec.evaluate` turns a problem on one of them into *unknown*
(nothing else seen) or a note on the hit, so a detector never has to think about it and a new trait
gets it for free. A trait that declares nothing is taken to read every field.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from ..model import (
    AccountInventory,
    Category,
    Evidence,
    FieldProblem,
    Loc,
    Outcome,
    RegionInventory,
    Resource,
    Service,
    TaskDefinition,
    TraitHit,
    TraitUnknown,
    Unresolved,
)
from ..vulnindex import VulnIndex

T = TypeVar("T")
_MISSING = object()


def _with_reasons(compute: Callable[[list[str]], T]) -> tuple[T, list[str]]:
    reasons: list[str] = []
    return compute(reasons), reasons


@dataclass(frozen=True, slots=True)
class TraitSettings:
    epss_threshold: float = 0.1  # EPSS at or above this makes a network vulnerability exploitable
    min_vuln_severity: str = "MEDIUM"  # software-vulnerability reports this severity and above


@dataclass(frozen=True, slots=True)
class Target:
    resource: Resource
    task_definitions: tuple[TaskDefinition, ...]  # the revisions the resource runs, as read
    missing_task_definitions: tuple[str, ...] = ()  # revisions it runs that the inputs lack
    service: Service | None = None
    region: RegionInventory | None = None
    account: AccountInventory | None = None
    # other revisions of the running families (None: the inputs cannot tell)
    other_revisions: tuple[TaskDefinition, ...] | None = None
    vulns: VulnIndex | None = None  # image reports of the scan (None: no vulnerability data at all)
    settings: TraitSettings = field(default_factory=TraitSettings)
    # per-scan memo shared by all targets: services that share a task definition scan it once
    memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)

    def remember(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per scan for ``key`` (a result of None is remembered too). Keys built
        from ``id()`` are safe: the inventory keeps every object alive for the whole scan."""
        hit = self.memo.get(key, _MISSING)
        if hit is _MISSING:
            hit = self.memo[key] = compute()
        return hit  # type: ignore[return-value]

    def cached(self, key: str, td: TaskDefinition, compute: Callable[[TaskDefinition], T]) -> T:
        return self.remember((key, id(td)), lambda: compute(td))

    def with_reasons(self, key: Hashable, compute: Callable[[list[str]], T], unknown: list[str]) -> T:
        """:meth:`remember` for a computation that also explains what it could not decide: the
        reasons are remembered with the result and added to ``unknown`` on every call."""
        result, reasons = self.remember(key, lambda: _with_reasons(compute))
        unknown.extend(reasons)
        return result


# The model fields traits read, as ``Class.attribute`` (the names a parser gives a FieldProblem).
ROLE_FIELDS = frozenset({"TaskDefinition.task_role_arn", "TaskDefinition.execution_role_arn"})
IMAGE_FIELDS = frozenset({"TaskDefinition.containers", "Container.image"})
PORT_FIELDS = frozenset({"TaskDefinition.containers", "Container.port_mappings"})
NETWORK_FIELDS = frozenset({"Service.deployments", "Deployment.network", "TaskDefinition.network_mode"})
# a problem in which revisions a service runs concerns every trait that reads a revision
_REVISION_PREFIXES = ("TaskDefinition.", "Container.")
_RUNNING_REVISIONS = "Service.deployments"


@dataclass(frozen=True, slots=True)
class TraitSpec:
    id: str
    category: Category
    title: str  # "Privileged container"
    phrase: str  # words for a finding title: "a privileged container"
    contextual: bool  # shown for understanding; never creates a finding alone
    description: str  # what it means and why it matters
    remediation: str  # how to fix it
    detect: Callable[[Target], Outcome]
    # the model fields the detector reads (``Container.privileged``); None: every field
    reads: frozenset[str] | None = None

    def evaluate(self, target: Target, problems: list[tuple[tuple[str, ...], str]] | None = None) -> Outcome:
        """The detector's outcome, made unknown (or noted) by unreadable fields it reads.
        ``problems`` is :func:`unreadable` of the target when the caller already has it."""
        outcome = self.detect(target)
        if problems is None:
            problems = unreadable(target)
        return with_unreadable(self, outcome, problems) if problems else outcome

    def concerned_by(self, fields: tuple[str, ...]) -> bool:
        """Whether a problem on ``fields`` can change this trait's outcome."""
        reads = self.reads
        if reads is None:
            return True
        for f in fields:
            if f in reads:
                return True
            if f == _RUNNING_REVISIONS and any(r.startswith(_REVISION_PREFIXES) for r in reads):
                return True
        return False


def problem_reasons(
    problems: Iterable[FieldProblem], base_loc: Loc, label: str
) -> list[tuple[tuple[str, ...], str]]:
    """(fields, "label: path: message") for each problem, the path relative to the resource."""
    return [(p.fields, f"{label}: {p.reason(base_loc)}") for p in problems]


def field_unreadable(td: TaskDefinition, name: str, within: Loc | None = None) -> bool:
    """Whether model field ``name`` of ``td`` (of its container at ``within``) could not be read.
    For a detector whose trait fires on a field's *absence* (``user`` unset → root): a value it
    could not read is not an absent one."""
    if not td.problems:
        return False
    n = len(within.parts) if within is not None else 0
    return any(name in p.fields and (within is None or p.loc.parts[:n] == within.parts) for p in td.problems)


def unreadable(target: Target) -> list[tuple[tuple[str, ...], str]]:
    """(fields, reason) of every unreadable field of the resource: its running revisions (their
    containers included) and its service. Empty, and cheap, when the input was well formed."""
    out: list[tuple[tuple[str, ...], str]] = []
    for td in target.task_definitions:
        if td.problems:
            out.extend(problem_reasons(td.problems, td.loc, td.label))
    svc = target.service
    if svc is not None and svc.problems:
        out.extend(problem_reasons(svc.problems, svc.loc, f"service {svc.name}"))
    return out


def with_unreadable(
    spec: TraitSpec, outcome: Outcome, problems: list[tuple[tuple[str, ...], str]]
) -> Outcome:
    """Nothing seen → unknown with the parse errors as reason; seen → a hit noting what could not
    be read; already unknown → both reasons."""
    reasons = list(dict.fromkeys(reason for fields, reason in problems if spec.concerned_by(fields)))
    if not reasons:
        return outcome
    text = "; ".join(reasons)
    if outcome is None:
        return TraitUnknown(spec.id, f"unreadable input: {text}")
    if isinstance(outcome, TraitUnknown):
        return TraitUnknown(spec.id, f"{outcome.reason}; unreadable input: {text}")
    note = f"not decided: unreadable input: {text}"
    return replace(outcome, note=f"{outcome.note}; {note}" if outcome.note else note)


def evidence_fact(ev: Evidence, key: str) -> object:
    for k, v in ev.facts:
        if k == key:
            return v
    return None


def describe_unresolved(owner: str, u: Unresolved) -> str:
    """``app:3: environment DB_PASSWORD of container web is not fixed by the input (parameter …)``."""
    what = u.field + (f" {u.key}" if u.key else "") + (f" of container {u.container}" if u.container else "")
    return f"{owner}: {what} is not fixed by the input ({u.reason})"


def unresolved_reasons(
    td: TaskDefinition, fields: Collection[str], keep: Callable[[Unresolved], bool] | None = None
) -> list[str]:
    """Why the settings ``fields`` of a revision are unknown (infrastructure code leaving them open)."""
    return [
        describe_unresolved(td.label, u)
        for u in td.unresolved
        if (u.field in fields or u.field == "*") and (keep is None or keep(u))
    ]


def over_revisions(
    target: Target,
    trait_id: str,
    check: Callable[[TaskDefinition], Iterable[Evidence]],
    qualify: Callable[[list[Evidence]], frozenset[str]] | None = None,
    fields: Collection[str] | Callable[[TaskDefinition], list[str]] = (),
) -> Outcome:
    """Run ``check`` on every revision the resource runs and fold the results.

    Nothing found while a running revision could not be read, or while one of the settings
    ``fields`` that decide the trait is left open by the input, is *unknown*, not absent (``fields``
    may instead be a function giving those reasons for a revision).
    """
    evidence = [ev for td in target.task_definitions for ev in check(td)]
    missing = target.missing_task_definitions
    reasons: list[str] = []
    if fields:
        for td in target.task_definitions:
            reasons += fields(td) if callable(fields) else unresolved_reasons(td, fields)
    if not evidence:
        if missing:
            return TraitUnknown(
                trait_id,
                "; ".join([f"task definition {', '.join(missing)} is not in the inputs", *reasons]),
            )
        if reasons:
            return TraitUnknown(trait_id, "; ".join(dict.fromkeys(reasons)))
        return None
    notes = [f"not evaluated: {', '.join(missing)} (not in the inputs)"] if missing else []
    notes += [f"not decided: {r}" for r in dict.fromkeys(reasons)]
    return TraitHit(
        trait_id, tuple(evidence), qualify(evidence) if qualify else frozenset(), "; ".join(notes) or None
    )


def conclude(
    trait_id: str,
    evidence: Iterable[Evidence],
    unknown: Iterable[str],
    notes: Iterable[str] = (),
    qualifiers: frozenset[str] = frozenset(),
) -> Outcome:
    """Present when anything was seen (noting what could not be decided), unknown when nothing was
    seen but something could not be read, absent otherwise. Every detector ends here."""
    evidence = tuple(dict.fromkeys(evidence))
    reasons = list(dict.fromkeys(unknown))
    if evidence:
        note = "; ".join([*notes, *(f"not decided: {r}" for r in reasons)]) or None
        return TraitHit(trait_id, evidence, qualifiers, note)
    if reasons:
        return TraitUnknown(trait_id, "; ".join(reasons))
    return None


def failed_api(errors: Iterable[object], prefixes: tuple[str, ...]) -> str | None:
    """The reason a collection is missing, when a recorded API error explains it."""
    for e in errors:
        api = getattr(e, "api", "")
        if api.lower().startswith(prefixes):
            return f"{api} failed when collected ({getattr(e, 'error', 'error')})"
    return None
