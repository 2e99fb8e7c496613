from ..model import Category, Evidence, TaskDefinition
from .base import Target, TraitSpec, evidence_fact, over_revisions

ID = "dangerous-capabilities"

DANGEROUS = {
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "DAC_READ_SEARCH",
    "NET_ADMIN",
    "BPF",
    "PERFMON",
}
ESCAPE = {"ALL", "SYS_ADMIN", "SYS_MODULE"}  # raise impact to High


def normalise(cap: str) -> str:
    """``cap_sys_admin`` → ``SYS_ADMIN``: ECS accepts both spellings."""
    cap = cap.strip().upper()
    return cap[4:] if cap.startswith("CAP_") else cap


def _check(td: TaskDefinition) -> list[Evidence]:
    out = []
    for c in td.containers:
        caps = sorted({normalise(x) for x in c.capabilities_add} & DANGEROUS)
        if caps:
            out.append(
                Evidence(
                    f"container {c.name} adds {', '.join(caps)}",
                    (
                        ("container", c.name),
                        ("capabilities", tuple(caps)),
                        ("escape", bool(ESCAPE & set(caps))),
                    ),
                    td.label,
                    c.loc.child("linuxParameters", "capabilities", "add"),
                )
            )
        for d in c.devices:
            out.append(
                Evidence(
                    f"container {c.name} maps host device {d.host_path}",
                    (("container", c.name), ("hostPath", d.host_path), ("containerPath", d.container_path)),
                    td.label,
                    c.loc.child("linuxParameters", "devices", d.index),
                )
            )
    return out


def _qualify(evidence: list[Evidence]) -> frozenset[str]:
    return frozenset({"escape"}) if any(evidence_fact(e, "escape") for e in evidence) else frozenset()


def detect(target: Target):
    return over_revisions(target, ID, _check, _qualify, fields=("linuxParameters",))


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Dangerous Linux capabilities",
    phrase="dangerous Linux capabilities",
    contextual=False,
    description=(
        "`linuxParameters.capabilities.add` grants ALL, SYS_ADMIN, SYS_MODULE (container escape: "
        "High impact), SYS_PTRACE, SYS_RAWIO, DAC_READ_SEARCH, NET_ADMIN, BPF or PERFMON, or "
        "`linuxParameters.devices` maps host devices into the container."
    ),
    remediation=(
        "Register a new revision that drops these capabilities (add only what the process needs, "
        "e.g. NET_BIND_SERVICE) and maps no host devices, then update the service."
    ),
    detect=detect,
)
