"""Every trait's fix, in one table: the change ecs-exposure makes, or the step a person must take.

``FIXES`` maps each trait id to how it is fixed. ``change`` traits get changes from
:mod:`.plan` (task definition) or :mod:`.service` (service, security groups, IAM); when the tool
cannot make the change in a given case, or when it makes only part of it, the ``manual`` text says
what is left and why. ``manual`` traits are never changed by the tool: the plan carries the step for
a person. A test fails when a registered trait has no entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..model import TraitHit
from ..traits.base import evidence_fact
from .plan import Manual


@dataclass(frozen=True)
class Fix:
    kind: str  # "change" (ecs-exposure changes it) or "manual"
    what: str  # what a person does (manual), or what is left when no change could be made
    why: str  # why the tool does not do it
    detail: Callable[[TraitHit], str] | None = None  # evidence-specific addition to ``what``


def _images(hit: TraitHit) -> str:
    parts = []
    for ev in hit.evidence:
        image = evidence_fact(ev, "image")
        fixed = evidence_fact(ev, "fixedVersions") or ()
        packages = evidence_fact(ev, "vulnerabilities") or ()
        what = f"{image}"
        if fixed:
            what += f" (fixed versions: {', '.join(fixed)})"
        elif packages:
            what += f" ({', '.join(packages)})"
        parts.append(what)
    return ": " + "; ".join(parts) if parts else ""


def _places(hit: TraitHit) -> str:
    parts = []
    for ev in hit.evidence:
        container = evidence_fact(ev, "container")
        field = evidence_fact(ev, "field")
        variable = evidence_fact(ev, "variable")
        many = evidence_fact(ev, "containers")
        if many and not container:
            container = ", ".join(many)
        where = " ".join(
            str(x) for x in (f"container {container}" if container else None, field, variable) if x
        )
        if ev.revision:
            where = f"{ev.revision} {where}"
        if where and where not in parts:
            parts.append(where)
    return ": " + "; ".join(parts) if parts else ""


def _roles(hit: TraitHit) -> str:
    parts = []
    for ev in hit.evidence:
        role = str(evidence_fact(ev, "role") or "").rsplit("/", 1)[-1]
        policy = str(evidence_fact(ev, "policy") or "").rsplit("/", 1)[-1]
        actions = evidence_fact(ev, "actions") or ()
        what = f"role {role}"
        if policy:
            what += f" policy {policy} statement {evidence_fact(ev, 'statement')}"
        if actions:
            what += f" ({', '.join(actions[:6])}{' …' if len(actions) > 6 else ''})"
        if what not in parts:
            parts.append(what)
    return ": " + "; ".join(parts) if parts else ""


def _impact(action: str) -> Fix:
    return Fix(
        "manual",
        f"remove {action} from the task role, or scope it to the resources the application uses",
        "which actions and resources the application needs is not in the inputs (IAM Access Analyzer can "
        "generate a least-privilege policy from CloudTrail); removing permissions can break the service",
        _roles,
    )


FIXES: dict[str, Fix] = {
    "privileged-container": Fix("change", "", ""),
    "host-filesystem-mount": Fix("change", "", ""),
    "host-pid-namespace": Fix("change", "", ""),
    "host-ipc-namespace": Fix("change", "", ""),
    "host-network-mode": Fix("change", "", ""),
    "dangerous-capabilities": Fix("change", "", ""),
    "plaintext-credentials": Fix("change", "", ""),
    "public-ip": Fix("change", "", ""),
    "open-security-group": Fix("change", "", ""),
    "ecs-exec-enabled": Fix("change", "", ""),
    "admin-access-role": Fix("change", "", ""),
    "service-admin-role": Fix("change", "", ""),
    "internet-reachable": Fix(
        "change",
        "stop the path from the internet: make the load balancer internal, or admit only known sources "
        "to its listener's security group",
        "the load balancer serves other targets too; who must reach it is not in the inputs",
    ),
    "credentials-outside-environment": Fix(
        "manual",
        "move the credential out of the command, entry point, label or secret reference: put it in Secrets "
        "Manager, pass it with `secrets`, and have the application read the environment variable; then "
        "rotate it",
        "the application reads the value from that argument or label: changing where it comes from changes "
        "the application",
        _places,
    ),
    "stale-revision-credentials": Fix(
        "manual",
        "rotate the credential, then deregister and delete the old revisions that hold it "
        "(`aws ecs deregister-task-definition`, then `aws ecs delete-task-definitions`)",
        "rotating needs the system that issued the credential; deregistering is irreversible (an INACTIVE "
        "revision cannot be made ACTIVE again, nor can a service be rolled back to it)",
        _places,
    ),
    "exploitable-vulnerability": Fix(
        "manual",
        "rebuild the image with the fixed package versions, push it, and register a revision that uses it",
        "ecs-exposure does not build images",
        _images,
    ),
    "software-vulnerability": Fix(
        "manual",
        "rebuild the image with the fixed package versions, push it, and register a revision that uses it",
        "ecs-exposure does not build images",
        _images,
    ),
    "end-of-life-os": Fix(
        "manual",
        "rebuild the image on a supported base image, push it, and register a revision that uses it",
        "ecs-exposure does not build images",
        _images,
    ),
    "malicious-package": Fix(
        "manual",
        "remove the malicious package and rebuild the image from a clean base; treat the tasks that ran it "
        "as compromised: rotate the credentials they could read (task role sessions, secrets) and review "
        "what the task role did in CloudTrail",
        "ecs-exposure does not build images, and an incident needs a person",
        _images,
    ),
    "assumable-task-role": Fix(
        "manual",
        "keep the task role to what the application uses",
        "which permissions the application needs is not in the inputs",
        _roles,
    ),
    "writable-root-filesystem": Fix(
        "manual",
        "set `readonlyRootFilesystem: true` once the application writes only to volumes (give it a volume "
        "for /tmp or its cache)",
        "where the application writes is not in the inputs: a read-only root file system can stop it",
        _places,
    ),
    "root-user": Fix(
        "manual",
        "set `user` to a non-root UID the image supports (or build the image with a USER)",
        "which user the image's files belong to is not in the inputs: another user can break the application",
        _places,
    ),
    "impact-full-control": _impact("the wildcard grant"),
    "impact-policy-escalation": _impact("the IAM policy-writing actions"),
    "impact-credential-minting": _impact(
        "the credential-minting actions (iam:CreateAccessKey, sts:AssumeRole *)"
    ),
    "impact-pass-role-executor": _impact("iam:PassRole (or the compute-creating actions next to it)"),
    "impact-disable-audit": _impact("the audit-disabling actions"),
    "impact-data-destruction": _impact("the delete actions"),
    "impact-data-access": _impact("the read-everything grants"),
}


def manual_step(trait: str, hit: TraitHit, what: str | None = None, why: str | None = None) -> Manual:
    """The step a person takes for ``trait`` (the table's text, or the given one)."""
    fix = FIXES.get(trait) or Fix("manual", "fix it by hand", "ecs-exposure has no automatic fix for it")
    detail = fix.detail(hit) if fix.detail else ""
    return Manual(trait, (what or fix.what) + detail, why or fix.why)
