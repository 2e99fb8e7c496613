import re

from ..model import Category, Evidence, TaskDefinition
from ._paths import normalise as host_paths
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
# Host devices that give the host away as surely as SYS_ADMIN: its memory, its I/O ports, its
# disks (read and write every file of the instance) and the whole /dev. Matched on the normalised
# path (``/dev//./sda``, ``/dev/../dev/mem``).
ESCAPE_DEVICES = re.compile(
    r"/dev|/dev/(mem|kmem|port|(sd|hd|vd|xvd)[a-z]+\d*|nvme\d+(n\d+(p\d+)?)?|dm-\d+|mapper/.+|disk/.+"
    r"|loop\d+|md\d+)"
)


def escape_device(host_path: str) -> bool:
    return any(ESCAPE_DEVICES.fullmatch(p) for p in host_paths(host_path))


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
            escape = escape_device(d.host_path)
            out.append(
                Evidence(
                    f"container {c.name} maps host device {d.host_path}"
                    + (" (the host's memory or disks: container escape)" if escape else ""),
                    (
                        ("container", c.name),
                        ("hostPath", d.host_path),
                        ("containerPath", d.container_path),
                        ("escape", escape),
                    ),
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
        "`linuxParameters.devices` maps host devices into the container (the host's memory, I/O "
        "ports or disks, e.g. `/dev/mem`, `/dev/sda`, `/dev/nvme0n1`, or all of `/dev`: container "
        "escape, High impact)."
    ),
    remediation=(
        "Register a new revision that drops these capabilities (add only what the process needs, "
        "e.g. NET_BIND_SERVICE) and maps no host devices, then update the service."
    ),
    detect=detect,
    reads=frozenset({"TaskDefinition.containers", "Container.capabilities_add", "Container.devices"}),
)
