"""Accepted risks (suppressions) and the status of a finding over time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class SuppressionRule:
    """An accepted risk: which findings or traits it covers, why, where it was declared, until when.

    Declared in the config file, by an AWS tag on a resource, or inline in infrastructure code. Every
    selector that is set must match (an empty selector matches everything); ``traits`` empty means
    the whole finding. A suppressed finding is kept and reported as suppressed, never dropped.
    """

    reason: str
    source: str  # where it was declared: ".ecs-exposure.yaml: suppressions[2]", "infra/main.tf:12" …
    traits: tuple[str, ...] = ()
    finding_ids: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()  # resource uid (ARN or file uid) globs
    accounts: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()  # (key, value glob) of the resource's AWS tags
    paths: tuple[str, ...] = ()  # globs of the file a resource was read from
    expires: date | None = None  # applies through this day (UTC); reported and ignored after it
    base: str | None = None  # directory that relative ``paths`` globs start from (the config file's)


class Status:
    """OCSF finding status names (``status``) as Security Hub uses them."""

    NEW = "New"
    IN_PROGRESS = "In Progress"
    SUPPRESSED = "Suppressed"
    RESOLVED = "Resolved"


class UseState:
    """What a suppression rule did in a scan."""

    APPLIED = "applied"  # it suppressed a finding or some of its traits
    UNUSED = "unused"  # it matched nothing: the accepted risk is gone, or the rule is wrong
    EXPIRED = "expired"  # past its ``expires`` date: reported, no longer applied
    INVALID = "invalid"  # malformed (an AWS tag that does not parse): reported, not applied


@dataclass(frozen=True, slots=True)
class SuppressionUse:
    """One rule's outcome in a scan, so that expired, unused and malformed rules are seen."""

    rule: SuppressionRule
    state: str  # a UseState
    findings: tuple[str, ...] = ()  # ids of the findings it matched (would have matched, when expired)
    problem: str | None = None  # why an invalid rule was not applied
