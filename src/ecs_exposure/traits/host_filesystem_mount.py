import posixpath

from ..model import Category, Evidence, TaskDefinition
from .base import Target, TraitSpec, evidence_fact, over_revisions

ID = "host-filesystem-mount"

SENSITIVE = (
    "/etc",
    "/root",
    "/home",
    "/proc",
    "/sys",
    "/var/run/docker.sock",
    "/run/containerd",
    "/var/lib/docker",
    "/var/lib/kubelet",
    "/boot",
    "/dev",
)
SOCKETS = ("/var/run/docker.sock", "/run/docker.sock", "/run/containerd", "/var/run/containerd")


def _norm(path: str) -> str:
    p = posixpath.normpath(path.strip()) if path.strip() else path
    return "/" if p in ("/", "//") else p.rstrip("/")


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)


def classify(source_path: str, read_only: bool) -> str | None:
    """'socket', 'sensitive' or None for an ordinary path."""
    p = _norm(source_path)
    if _under(p, SOCKETS):
        return "socket"
    if p == "/" or _under(p, SENSITIVE):
        return "sensitive"
    return None


def _check(td: TaskDefinition) -> list[Evidence]:
    out = []
    for c in td.containers:
        for m in c.mount_points:
            vol = td.volume(m.source_volume)
            if vol is None or not vol.host_source_path:
                continue
            kind = classify(vol.host_source_path, m.read_only)
            high = kind == "socket" or (kind == "sensitive" and not m.read_only)
            mode = "read-only" if m.read_only else "writable"
            note = {"socket": ", the container runtime's socket", "sensitive": ", a sensitive host path"}.get(
                kind or "", ""
            )
            out.append(
                Evidence(
                    f"container {c.name} mounts host path {vol.host_source_path} at "
                    f"{m.container_path or '?'} ({mode}{note})",
                    (
                        ("container", c.name),
                        ("volume", vol.name),
                        ("sourcePath", vol.host_source_path),
                        ("containerPath", m.container_path),
                        ("readOnly", m.read_only),
                        ("sensitive", high),
                    ),
                    td.label,
                    c.loc.child("mountPoints", m.index),
                )
            )
    return out


def _qualify(evidence: list[Evidence]) -> frozenset[str]:
    return frozenset({"sensitive"}) if any(evidence_fact(e, "sensitive") for e in evidence) else frozenset()


def detect(target: Target):
    return over_revisions(target, ID, _check, _qualify, fields=("mountPoints", "volumes"))


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Host filesystem mount",
    phrase="a host filesystem mount",
    contextual=False,
    description=(
        "A volume with `host.sourcePath` mounted into a container exposes the instance's files. "
        "Writable mounts of sensitive paths (`/`, `/etc`, `/root`, `/proc`, `/var/lib/docker` …) or "
        "any mount of the Docker/containerd socket let the container take over the host (High impact)."
    ),
    remediation=(
        "Register a new revision without the host-path volume, or with `readOnly: true` on its "
        "mount points and `readonlyRootFilesystem: true`; never mount the container runtime socket."
    ),
    detect=detect,
)
