from ..model import Category, Evidence, TaskDefinition
from ._paths import normalise
from .base import Target, TraitSpec, evidence_fact, field_unreadable, over_revisions

ID = "host-filesystem-mount"

SENSITIVE = (
    "/etc",
    "/root",
    "/home",
    "/proc",
    "/sys",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/kubelet",
    "/boot",
    "/dev",
)
# The container runtime's sockets. Whoever can connect() to one controls every container and the
# host, and a read-only mount does not stop connect() on a Unix socket: a mount of the socket, of a
# directory under which it lives (``/run/containerd``) or of one that holds it (``/``, ``/run``,
# ``/var/run``) is High however it is mounted.
SOCKETS = ("/run/docker.sock", "/run/containerd/containerd.sock")
SOCKET_DIRS = ("/run/containerd",)
# The runtime's state: writable, it rewrites the images and containers of every task on the host.
RUNTIME_STATE = ("/var/lib/docker", "/var/lib/containerd")
_RANK = {None: 0, "sensitive": 1, "runtime": 2, "socket": 3}


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)


def _holds(path: str, targets: tuple[str, ...]) -> bool:
    """``path`` is one of ``targets`` or a directory above one."""
    prefix = path.rstrip("/") + "/"
    return any(t == path or t.startswith(prefix) for t in targets)


def _kind(p: str) -> str | None:
    if _holds(p, SOCKETS) or _under(p, SOCKET_DIRS):
        return "socket"
    if _under(p, RUNTIME_STATE):
        return "runtime"
    if _under(p, SENSITIVE) or _holds(p, SENSITIVE):
        return "sensitive"
    return None


def classify(source_path: str) -> str | None:
    """What a host path exposes: 'socket' (the container runtime's socket: High even read-only),
    'runtime' (its state: High when writable), 'sensitive' (High when writable), or None."""
    return max((_kind(p) for p in normalise(source_path)), key=_RANK.__getitem__, default=None)


_EXPOSES = {"socket": "runtime-socket", "runtime": "runtime-state", "sensitive": "sensitive-path"}
_WHAT = {
    "socket": ", exposes the container runtime's socket",
    "runtime": ", the container runtime's state",
    "sensitive": ", a sensitive host path",
}


def _check(td: TaskDefinition) -> list[Evidence]:
    out = []
    for c in td.containers:
        for m in c.mount_points:
            vol = td.volume(m.source_volume)
            if vol is None or not vol.host_source_path:
                continue
            kind = classify(vol.host_source_path)
            high = kind == "socket" or (kind is not None and not m.read_only)
            mode = "read-only" if m.read_only else "writable"
            if field_unreadable(
                td, "Container.mount_points", c.loc.child("mountPoints", m.index, "readOnly")
            ):
                mode = "readOnly unreadable: taken as writable"
            note = _WHAT.get(kind or "", "")
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
                        ("exposes", _EXPOSES.get(kind or "")),
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
        "any mount of the Docker/containerd socket, or of a directory holding it (`/run`, `/var/run`, "
        "`/`: a read-only mount does not stop connecting to a socket), let the container take over "
        "the host (High impact). Paths are normalised first (`//var/run/./docker.sock/`, `..`)."
    ),
    remediation=(
        "Register a new revision without the host-path volume, or with `readOnly: true` on its "
        "mount points and `readonlyRootFilesystem: true`; never mount the container runtime socket."
    ),
    detect=detect,
    reads=frozenset({"TaskDefinition.containers", "TaskDefinition.volumes", "Container.mount_points"}),
)
