"""What the output formats share: the time they stamp, the status and gating of a finding, the
resources around it, its exposure path, and text made safe for the place it is printed.

Formats read findings as the model gives them: ``status``, ``suppression``, ``suppressed_traits``
and ``new`` are set upstream (suppressions, baseline, history) and only rendered here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..baseline import counts_against
from ..correlate import contributes
from ..model import Evidence, ExposureFinding, Resource, ScanResult, Severity, Status, TraitHit
from ..safetext import escape
from ..traits import registry
from ..traits.base import TraitSpec, evidence_fact

TOOL = "ecs-exposure"

# --------------------------------------------------------------------------- time


def timestamp(options: dict[str, Any], required: bool) -> datetime | None:
    """The time a report is stamped with: the ``now`` option, else ``SOURCE_DATE_EPOCH`` (the
    reproducible-builds convention, used by the golden tests), else — only for formats whose
    contract requires a time (OCSF, ASFF) — the wall clock. Other formats carry no time unless asked,
    so that the same scan gives the same bytes."""
    now = options.get("now")
    if isinstance(now, datetime):
        return now.astimezone(UTC)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC).replace(microsecond=0) if required else None


def iso(t: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as Security Hub and OCSF ``*_dt`` fields expect."""
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- status and gating


def status(f: ExposureFinding) -> str:
    """OCSF status name: a finding suppressed as a whole is Suppressed whatever else was set."""
    return Status.SUPPRESSED if f.suppression is not None else f.status


def suppressed_traits(f: ExposureFinding) -> dict[str, str]:
    """Trait id → the reason it is suppressed (the whole finding's rule applies to every trait)."""
    out = {t: rule.reason for t, rule in f.suppressed_traits}
    if f.suppression is not None:
        out.update({h.trait_id: f.suppression.reason for h in f.hits})
    return out


def gates(f: ExposureFinding, fail_on: Severity | None) -> bool:
    """Whether a finding fails a build at ``fail_on`` (default: low), by the rule the exit code uses
    (:func:`ecs_exposure.baseline.counts_against`)."""
    return counts_against(f, Severity.LOW if fail_on is None else fail_on)


def severity_counts(result: ScanResult) -> dict[Severity, int]:
    counts = {s: 0 for s in sorted(Severity, reverse=True)}
    for f in result.findings:
        counts[f.severity] += 1
    return counts


# --------------------------------------------------------------------------- traits


def specs() -> dict[str, TraitSpec]:
    return registry()


def contributing(f: ExposureFinding) -> list[TraitHit]:
    """The traits that raise this finding's likelihood or impact (a contextual trait can, when
    qualified: an assumable task role trusted by other accounts, see :func:`correlate.contributes`)."""
    return [h for h in f.hits if contributes(h.trait_id, h)]


def contextual(f: ExposureFinding) -> list[TraitHit]:
    return [h for h in f.hits if not contributes(h.trait_id, h)]


def impact_kind(f: ExposureFinding) -> str:
    """``Potential Remote Code Execution`` from the finding's title (spec §6)."""
    head = f.title.split(": ", 1)[0]
    return head if head.startswith("Potential ") else "Potential Exposure"


def plain(markdown: str) -> str:
    """Trait docs are Markdown (backticks, bold): the plain-text reading of them."""
    return markdown.replace("**", "").replace("`", "")


def remediation_lines(f: ExposureFinding) -> list[tuple[str, str]]:
    """(trait id, how to fix it) for each contributing trait, in the finding's order."""
    s = specs()
    return [(h.trait_id, s[h.trait_id].remediation) for h in contributing(f)]


# --------------------------------------------------------------------------- text safety


def printable(text: str, keep_newlines: bool = False) -> str:
    """Control characters (ANSI escapes, bidi overrides …) shown as ``\\x1b``-style escapes
    (:func:`ecs_exposure.safetext.escape`), so that a value read from an input cannot rewrite a
    terminal, a comment or an XML file. ``keep_newlines``: line breaks stay line breaks."""
    if keep_newlines:
        return "\n".join(escape(line) for line in text.split("\n"))
    return escape(text)


# --------------------------------------------------------------------------- resources around a finding


@dataclass(frozen=True, slots=True)
class Related:
    type: str  # CloudFormation resource type: AWS::IAM::Role …
    uid: str  # ARN when known, else the id
    name: str


def _arn(r: Resource, service: str, rest: str, global_service: bool = False) -> str | None:
    if not r.account_id or (not r.region and not global_service):
        return None
    region = "" if global_service else r.region
    return f"arn:{r.partition or 'aws'}:{service}:{region}:{r.account_id}:{rest}"


def related_resources(f: ExposureFinding) -> list[Related]:
    """Task definitions, roles, security groups and load balancers the finding's evidence names."""
    r = f.resource
    found: dict[str, Related] = {}
    if r.type == "AWS::ECS::Service":
        for label in f.task_definitions:
            uid = _arn(r, "ecs", f"task-definition/{label}") or label
            found.setdefault(uid, Related("AWS::ECS::TaskDefinition", uid, label))
    for h in f.hits:
        for ev in h.evidence:
            role = evidence_fact(ev, "role")
            if isinstance(role, str) and role:
                found.setdefault(role, Related("AWS::IAM::Role", role, role.rsplit("/", 1)[-1]))
            sg = evidence_fact(ev, "securityGroup")
            if isinstance(sg, str) and sg:
                uid = _arn(r, "ec2", f"security-group/{sg}") or sg
                found.setdefault(uid, Related("AWS::EC2::SecurityGroup", uid, sg))
            lb = evidence_fact(ev, "loadBalancer")
            if isinstance(lb, str) and lb:
                name = lb.split("/")[-2] if lb.count("/") >= 2 else lb
                found.setdefault(lb, Related("AWS::ElasticLoadBalancingV2::LoadBalancer", lb, name))
    return sorted(found.values(), key=lambda x: (x.type, x.uid))


# --------------------------------------------------------------------------- the exposure path


@dataclass(frozen=True, slots=True)
class Node:
    label: str
    detail: str = ""
    state: str = "present"  # present: seen; possible: a part of a path; unknown: not decided; absent


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    nodes: tuple[Node, ...]


def _first(h: TraitHit | None) -> Evidence | None:
    return h.evidence[0] if h and h.evidence else None


def _lb_name(arn: str) -> str:
    parts = arn.split("/")
    return parts[-2] if len(parts) >= 3 else arn


IMPACT_WORDS = {
    "impact-full-control": "everything in the account",
    "admin-access-role": "administrator of the account",
    "impact-policy-escalation": "rewrite IAM policies",
    "impact-credential-minting": "mint new credentials",
    "impact-pass-role-executor": "pass roles to new workloads",
    "impact-disable-audit": "disable auditing",
    "impact-data-destruction": "destroy data",
    "impact-data-access": "read data stores",
    "service-admin-role": "administer a whole service",
}
ESCAPE = (
    "privileged-container",
    "host-pid-namespace",
    "host-ipc-namespace",
    "host-filesystem-mount",
    "dangerous-capabilities",
    "host-network-mode",
)


def exposure_path(f: ExposureFinding) -> list[Stage]:
    """Internet → entry (load balancer or public IP) → security group → the resource → task role →
    what the role can reach, from the finding's evidence. Parts the inputs could not decide are
    ``unknown``; a link that is missing cuts the path there (``absent``)."""
    hits = {h.trait_id: h for h in f.hits}
    unknown = {u.trait_id: u.reason for u in f.unknown}
    stages: list[Stage] = [Stage("Internet", (Node("Internet"),))]

    entries: list[Node] = []
    groups: dict[str, str] = {}
    reach = hits.get("internet-reachable")
    for ev in reach.evidence if reach else ():
        sg = evidence_fact(ev, "securityGroup")
        if evidence_fact(ev, "path") == "load-balancer":
            lb = str(evidence_fact(ev, "loadBalancer") or "")
            port = evidence_fact(ev, "listenerPort")
            entries.append(Node(f"Load balancer {_lb_name(lb)}", f"listener port {port}" if port else ""))
        else:
            entries.append(Node("Public IP", str(evidence_fact(ev, "route") or "")))
        if isinstance(sg, str):
            groups.setdefault(sg, str(evidence_fact(ev, "ports") or ""))
    if not entries:
        if "public-ip" in hits:
            entries.append(Node("Public IP", "assigned; no route to the internet confirmed", "possible"))
        if "internet-reachable" in unknown:
            entries.append(Node("Reachability unknown", unknown["internet-reachable"], "unknown"))
        if not entries:
            entries.append(Node("No internet path found", "", "absent"))
    stages.append(Stage("Entry", tuple(dict.fromkeys(entries))))

    for ev in hits["open-security-group"].evidence if "open-security-group" in hits else ():
        sg = evidence_fact(ev, "securityGroup")
        if isinstance(sg, str) and sg not in groups:
            groups[sg] = f"{evidence_fact(ev, 'cidr')} on {evidence_fact(ev, 'protocol')}/" + (
                f"{evidence_fact(ev, 'fromPort')}"
            )
    if groups:
        state = "present" if reach else "possible"
        stages.append(
            Stage("Security group", tuple(Node(sg, detail, state) for sg, detail in groups.items()))
        )
    elif "open-security-group" in unknown:
        stages.append(
            Stage(
                "Security group",
                (Node("Security groups unknown", unknown["open-security-group"], "unknown"),),
            )
        )

    kind = "Service" if f.resource.type == "AWS::ECS::Service" else "Task definition"
    badges = [specs()[t].title for t in hits if t in specs() and specs()[t].category.label == "Vulnerability"]
    badges += [
        specs()[t].title for t in ("plaintext-credentials", "credentials-outside-environment") if t in hits
    ]
    stages.append(Stage(kind, (Node(f"{kind} {f.resource.name}", ", ".join(badges)),)))

    escapes = [specs()[t].title for t in ESCAPE if t in hits]
    if escapes:
        stages.append(Stage("Host", (Node("Container instance (host)", ", ".join(escapes)),)))

    role_ev = _first(hits.get("assumable-task-role"))
    role = evidence_fact(role_ev, "role") if role_ev else None
    if isinstance(role, str):
        stages.append(Stage("Task role", (Node(f"Task role {role.rsplit('/', 1)[-1]}", role),)))
        can = [Node(words, specs()[t].title) for t, words in IMPACT_WORDS.items() if t in hits]
        if "admin-access-role" in hits and "impact-full-control" in hits:
            can = [n for n in can if n.label != IMPACT_WORDS["impact-full-control"]]
        if not can:
            reason = next((unknown[t] for t in unknown if t.startswith("impact-")), None)
            can = [Node("Permissions unknown", reason, "unknown") if reason else
                   Node("No high-impact permission found", "", "absent")]  # fmt: skip
        stages.append(Stage("Can reach", tuple(can)))
    elif "assumable-task-role" in unknown:
        stages.append(
            Stage("Task role", (Node("Task role unknown", unknown["assumable-task-role"], "unknown"),))
        )
    return stages


def path_text(stages: list[Stage]) -> str:
    """``Internet → Load balancer shop-public → sg-web → Service web → …`` for text formats."""
    parts = []
    for st in stages:
        labels = [n.label + ("?" if n.state in ("possible", "unknown") else "") for n in st.nodes]
        parts.append(" / ".join(labels))
    return " → ".join(parts)
