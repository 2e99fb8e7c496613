"""Traits of one resource → one exposure finding (spec §6).

Likelihood and impact are each the highest level whose rule applies; severity is read from the
reference table. The finding records which traits set each, and says so in words.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from .model import (
    ExposureFinding,
    Impact,
    Likelihood,
    Resource,
    Severity,
    TraitHit,
    TraitUnknown,
)
from .traits import registry

L, Im, S = Likelihood, Impact, Severity
SEVERITY_TABLE: dict[tuple[Likelihood, Impact], Severity] = {
    (L.VERY_HIGH, Im.LOW): S.HIGH, (L.VERY_HIGH, Im.MEDIUM): S.CRITICAL, (L.VERY_HIGH, Im.HIGH): S.CRITICAL,
    (L.HIGH, Im.LOW): S.MEDIUM, (L.HIGH, Im.MEDIUM): S.HIGH, (L.HIGH, Im.HIGH): S.CRITICAL,
    (L.MODERATE, Im.LOW): S.LOW, (L.MODERATE, Im.MEDIUM): S.MEDIUM, (L.MODERATE, Im.HIGH): S.HIGH,
    (L.LOW, Im.LOW): S.LOW, (L.LOW, Im.MEDIUM): S.LOW, (L.LOW, Im.HIGH): S.MEDIUM,
}  # fmt: skip

CREDENTIAL_TRAITS = ("plaintext-credentials", "credentials-outside-environment", "stale-revision-credentials")
ESCAPE_TRAITS = (
    "privileged-container",
    "host-pid-namespace",
    "host-filesystem-mount",
    "dangerous-capabilities",
    "host-ipc-namespace",
    "host-network-mode",
)
HIGH_IMPACT_ROLE_TRAITS = (
    "admin-access-role",
    "impact-full-control",
    "impact-policy-escalation",
    "impact-credential-minting",
)
VULNERABILITY_TRAITS = (
    "exploitable-vulnerability",
    "software-vulnerability",
    "malicious-package",
    "end-of-life-os",
)


def finding_id(partition: str | None, account: str | None, region: str | None, uid: str) -> str:
    """Stable across scans for the same resource: a hash of partition, account, region and ARN."""
    key = "|".join((partition or "", account or "", region or "", uid))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def contributes(trait_id: str, hit: TraitHit) -> bool:
    """A contributing trait, or a contextual one its detector found notable (a task role that
    principals outside the account may assume)."""
    spec = registry().get(trait_id)
    return spec is not None and (not spec.contextual or "notable" in hit.qualifiers)


def rate_likelihood(hits: dict[str, TraitHit], unknown: set[str]) -> tuple[Likelihood, list[str]]:
    reach: list[str] = []
    if "internet-reachable" in hits:
        reach = ["internet-reachable"]
    elif "internet-reachable" in unknown and "public-ip" in hits and "open-security-group" in hits:
        reach = ["public-ip", "open-security-group"]
    exploitable = [t for t in ("exploitable-vulnerability",) if t in hits]
    other_vulns = [t for t in ("software-vulnerability", "malicious-package", "end-of-life-os") if t in hits]
    cloud_creds = [t for t in CREDENTIAL_TRAITS if t in hits and "cloud" in hits[t].qualifiers]
    # a task role anyone may assume is as good as its credentials published; other accounts: Moderate
    assumable = hits.get("assumable-task-role")
    public_role = ["assumable-task-role"] if assumable and "public" in assumable.qualifiers else []
    foreign_role = ["assumable-task-role"] if assumable and "notable" in assumable.qualifiers else []

    if reach and exploitable:
        return L.VERY_HIGH, reach + exploitable
    high = (reach + other_vulns if reach and other_vulns else []) + exploitable + cloud_creds + public_role
    if high:
        return L.HIGH, list(dict.fromkeys(high))
    moderate = (
        reach
        + [t for t in ("public-ip", "open-security-group") if t in hits]
        + [t for t in ("software-vulnerability", "end-of-life-os", "malicious-package") if t in hits]
        + [t for t in CREDENTIAL_TRAITS if t in hits]
        + foreign_role
    )
    if moderate:
        return L.MODERATE, list(dict.fromkeys(moderate))
    return L.LOW, []


def rate_impact(hits: dict[str, TraitHit]) -> tuple[Impact, list[str]]:
    high = [t for t in HIGH_IMPACT_ROLE_TRAITS if t in hits]
    high += [t for t in ("privileged-container", "host-pid-namespace") if t in hits]
    if "host-filesystem-mount" in hits and "sensitive" in hits["host-filesystem-mount"].qualifiers:
        high.append("host-filesystem-mount")
    if "dangerous-capabilities" in hits and "escape" in hits["dangerous-capabilities"].qualifiers:
        high.append("dangerous-capabilities")
    if high:
        return Im.HIGH, high
    medium = [t for t in hits if t.startswith("impact-")]
    medium += [
        t
        for t in (
            "service-admin-role",
            "host-network-mode",
            "host-ipc-namespace",
            "host-filesystem-mount",
            "dangerous-capabilities",
            *CREDENTIAL_TRAITS,
        )
        if t in hits
    ]
    if medium:
        return Im.MEDIUM, list(dict.fromkeys(medium))
    return Im.LOW, []


def _impact_kind(hits: dict[str, TraitHit], likelihood_traits: list[str], impact_traits: list[str]) -> str:
    reachable = any(
        t in likelihood_traits for t in ("internet-reachable", "public-ip", "open-security-group")
    )
    if reachable and "exploitable-vulnerability" in hits:
        return "Remote Code Execution"
    if any(t in impact_traits for t in ESCAPE_TRAITS):
        return "Container Escape"
    if any(t in impact_traits for t in (*HIGH_IMPACT_ROLE_TRAITS, "service-admin-role")) or any(
        t.startswith("impact-") for t in impact_traits
    ):
        return "Privilege Escalation"
    if any(t in hits for t in CREDENTIAL_TRAITS):
        return "Credential Exposure"
    if any(t in hits for t in VULNERABILITY_TRAITS):
        return "Software Exploitation"
    if (
        reachable
        or "public-ip" in hits
        or "open-security-group" in hits
        or "assumable-task-role" in likelihood_traits
    ):
        return "Unauthorized Access"
    if any(t in hits for t in ESCAPE_TRAITS):
        return "Container Escape"
    return "Exposure"


def _words(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


_ROLE_CAN = "a task role that can "


def _title(resource: Resource, hits: dict[str, TraitHit], kind: str, order: list[str]) -> str:
    specs = registry()
    kind_word = "ECS service" if resource.type == "AWS::ECS::Service" else "ECS task definition"
    reachable = "internet-reachable" in hits
    skip = {"internet-reachable"} | ({"impact-full-control"} if "admin-access-role" in hits else set())
    phrases = [specs[t].phrase for t in order if t in hits and contributes(t, hits[t]) and t not in skip]
    # "a task role that can A", "a task role that can B" → "a task role that can A and B"
    can = [p.removeprefix(_ROLE_CAN) for p in phrases if p.startswith(_ROLE_CAN)]
    if len(can) > 1:
        first = next(i for i, p in enumerate(phrases) if p.startswith(_ROLE_CAN))
        phrases = [p for p in phrases if not p.startswith(_ROLE_CAN)]
        phrases.insert(first, _ROLE_CAN + _words(can))
    if len(phrases) > 4:
        extra = len(phrases) - 4
        phrases = [*phrases[:4], f"{extra} more issue{'s' if extra > 1 else ''}"]
    subject = f"{'internet-reachable ' if reachable else ''}{kind_word}"
    if not phrases:
        return f"Potential {kind}: {subject}" + ("" if reachable else " has only contextual traits")
    return f"Potential {kind}: {subject} has {_words(phrases)}"


def _explained(trait_ids: Sequence[str], hits: dict[str, TraitHit]) -> str:
    """Trait ids for the explanation; a credential that is a guessable default says so (it does
    not change the rating, but it changes what to do: anyone can try it without reading anything)."""
    return ", ".join(
        f"{t} (weak-default)" if t in CREDENTIAL_TRAITS and "weak-default" in hits[t].qualifiers else t
        for t in trait_ids
    )


def correlate(
    resource: Resource,
    task_definitions: Sequence[str],
    hits: Sequence[TraitHit],
    unknown: Sequence[TraitUnknown],
) -> ExposureFinding | None:
    """The finding for a resource, or None when no trait was seen at all."""
    if not hits:
        return None
    specs = registry()
    by_id = {h.trait_id: h for h in hits}
    if "impact-full-control" in by_id:
        # full control implies every other impact: one trait says it, the rest would be noise
        implied = sorted(t for t in by_id if t.startswith("impact-") and t != "impact-full-control")
        for t in implied:
            del by_id[t]
        if implied:
            full = by_id["impact-full-control"]
            by_id["impact-full-control"] = replace(full, note=f"implies {', '.join(implied)}")
    unknown_ids = {u.trait_id for u in unknown}
    contributing = [t for t in by_id if contributes(t, by_id[t])]
    likelihood, l_traits = rate_likelihood(by_id, unknown_ids)
    impact, i_traits = rate_impact(by_id)
    severity = SEVERITY_TABLE[(likelihood, impact)]
    informational = not contributing
    if informational:
        severity = S.INFORMATIONAL
    # the traits that set the rating first, then the rest in registry order
    order = list(dict.fromkeys([*i_traits, *l_traits, *(t for t in specs if t in by_id)]))
    kind = _impact_kind(by_id, l_traits, i_traits)
    title = _title(resource, by_id, kind, order)
    explanation = (
        f"Likelihood {likelihood.label} ({_explained(l_traits, by_id) or 'no likelihood trait'}) × impact "
        f"{impact.label} ({_explained(i_traits, by_id) or 'no impact trait'}) → {severity.name} by the "
        "reference table."
        if not informational
        else "Only contextual traits: no exposure on their own."
    )
    return ExposureFinding(
        id=finding_id(resource.partition, resource.account_id, resource.region, resource.uid),
        resource=resource,
        task_definitions=tuple(task_definitions),
        hits=tuple(by_id[t] for t in order),
        unknown=tuple(sorted(unknown, key=lambda u: u.trait_id)),
        likelihood=likelihood,
        impact=impact,
        severity=severity,
        title=title,
        likelihood_traits=tuple(l_traits),
        impact_traits=tuple(i_traits),
        explanation=explanation,
        informational=informational,
    )
