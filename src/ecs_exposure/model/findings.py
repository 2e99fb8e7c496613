"""Traits, evidence and exposure findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from .inventory import ScanIssue
from .location import Loc, PositionMap
from .secret import Secret
from .suppression import Status, SuppressionRule, SuppressionUse


class Likelihood(IntEnum):
    LOW = 1
    MODERATE = 2
    HIGH = 3
    VERY_HIGH = 4

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").title()


class Impact(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.title()


class Severity(IntEnum):
    INFORMATIONAL = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r} (one of {', '.join(s.name.lower() for s in cls)})"
            ) from None


class Category(IntEnum):
    MISCONFIGURATION = 1
    REACHABILITY = 2
    ASSUMABILITY = 3
    VULNERABILITY = 4
    IMPACT = 5

    @property
    def label(self) -> str:
        return self.name.title()


FactValue = str | int | bool | None | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One place a trait was seen. ``facts`` are printable by construction: no :class:`Secret`."""

    summary: str
    facts: tuple[tuple[str, FactValue], ...] = ()
    revision: str | None = None
    loc: Loc | None = None

    def __post_init__(self) -> None:
        for key, value in self.facts:
            kind = type(value)
            if kind is str or kind is bool or kind is int or value is None:
                continue
            if isinstance(value, Secret) or (
                isinstance(value, tuple) and any(isinstance(v, Secret) for v in value)
            ):
                raise TypeError(f"evidence fact {key!r} may not hold a secret value")


@dataclass(frozen=True, slots=True)
class TraitHit:
    """A trait observed on a resource."""

    trait_id: str
    evidence: tuple[Evidence, ...]
    qualifiers: frozenset[str] = frozenset()  # e.g. "sensitive", "cloud": read by correlation
    note: str | None = None  # e.g. "2 of 3 revisions could not be read"


@dataclass(frozen=True, slots=True)
class TraitUnknown:
    """A trait the inputs cannot decide for a resource. Never a pass."""

    trait_id: str
    reason: str


Outcome = TraitHit | TraitUnknown | None


@dataclass(frozen=True, slots=True)
class Resource:
    type: str  # AWS::ECS::Service or AWS::ECS::TaskDefinition
    uid: str  # ARN, or file path for a file
    name: str
    loc: Loc
    account_id: str | None = None
    region: str | None = None
    partition: str | None = None
    cluster_arn: str | None = None
    tags: tuple[tuple[str, str], ...] = ()  # the resource's own AWS tags (key, value), as read


@dataclass(frozen=True, slots=True)
class ExposureFinding:
    id: str
    resource: Resource
    task_definitions: tuple[str, ...]  # family:revision evaluated
    hits: tuple[TraitHit, ...]
    unknown: tuple[TraitUnknown, ...]
    likelihood: Likelihood
    impact: Impact
    severity: Severity
    title: str
    likelihood_traits: tuple[str, ...]  # the trait ids that set the likelihood
    impact_traits: tuple[str, ...]
    explanation: str
    informational: bool = False  # only contextual traits: shown with --include-informational
    # set after correlation, by suppressions, a baseline and the findings history
    status: str = Status.NEW
    suppression: SuppressionRule | None = None  # the rule that suppresses the whole finding
    suppressed_traits: tuple[tuple[str, SuppressionRule], ...] = ()  # traits taken out of the rating
    new: bool | None = None  # not in the baseline, or more severe than there (None: no baseline given)
    baseline_severity: Severity | None = None  # its severity in the baseline, when it is there


@dataclass(frozen=True, slots=True)
class ScanResult:
    findings: tuple[ExposureFinding, ...]
    issues: tuple[ScanIssue, ...]
    resources_scanned: int
    notes: tuple[str, ...] = ()
    unknown_traits: tuple[tuple[str, int], ...] = ()  # trait id → resources it could not be decided for
    positions: Mapping[str, PositionMap] = field(default_factory=dict)  # file → where its values are
    suppressions: tuple[SuppressionUse, ...] = ()  # every rule in force and what it did
    baseline: str | None = None  # the baseline report the findings were compared with (--baseline)
    resources: tuple[Resource, ...] = ()  # every resource scanned, with or without a finding (JUnit)

    @property
    def complete(self) -> bool:
        return not self.issues
