"""Host mounts and host devices (issue #9 §4): what a host path exposes, after normalisation.

The container runtime's socket gives control of every container and of the host, and a read-only
mount does not stop connect() on a Unix socket: a mount of the socket or of a directory holding it
(``/``, ``/run``, ``/var/run``) is High however it is mounted. Paths are normalised before matching.
"""

from __future__ import annotations

import pytest

from builders import container, taskdef
from conftest import outcomes, scan_doc
from ecs_exposure.model import Impact, TraitHit
from ecs_exposure.traits.base import evidence_fact
from ecs_exposure.traits.dangerous_capabilities import escape_device
from ecs_exposure.traits.host_filesystem_mount import classify

SOCKET, RUNTIME, SENSITIVE = "socket", "runtime", "sensitive"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/var/run/docker.sock", SOCKET),
        ("/run/docker.sock", SOCKET),
        ("//var/run/docker.sock", SOCKET),
        ("///var//run///docker.sock", SOCKET),
        ("/var/run/docker.sock/", SOCKET),
        ("/var/./run/./docker.sock", SOCKET),
        ("/var/run/../run/docker.sock", SOCKET),
        ("/var/lib/../run/docker.sock", SOCKET),
        ("/tmp/../var/run/docker.sock", SOCKET),
        (" /var/run/docker.sock ", SOCKET),
        ("var/run/docker.sock", SOCKET),  # relative: ECS rejects it, it is not a pass
        ("/var/run", SOCKET),
        ("/var/run/", SOCKET),
        ("/run", SOCKET),
        ("/run/", SOCKET),
        ("//run", SOCKET),
        ("/", SOCKET),
        ("//", SOCKET),
        ("/run/containerd", SOCKET),
        ("/run/containerd/containerd.sock", SOCKET),
        ("/var/run/containerd/containerd.sock", SOCKET),
        ("/var/lib/docker", RUNTIME),
        ("/var/lib/docker/", RUNTIME),
        ("/var/lib/docker/volumes/x/_data", RUNTIME),
        ("/var/lib/containerd", RUNTIME),
        ("/var/run/../lib/docker", RUNTIME),  # read as /var/lib/docker (a real /var/run) or /lib/docker
        ("/var/lib/docker/../../../etc", SENSITIVE),
        ("/etc", SENSITIVE),
        ("/etc/", SENSITIVE),
        ("/etc/ssl/certs", SENSITIVE),
        ("/home/ec2-user", SENSITIVE),
        ("/proc", SENSITIVE),
        ("/var", SENSITIVE),  # holds /var/lib/docker; /var/run in it is a link to /run
        ("/var/lib", SENSITIVE),
        ("/srv/data", None),
        ("/etcetera", None),
        ("/run/docker", None),  # the daemon's netns and plugins, not its socket
        ("/var/log/app", None),
        ("/home/../srv", None),
        ("", None),
    ],
)
def test_classify(path: str, kind: str | None) -> None:
    assert classify(path) == kind


def mount_doc(source: str, read_only: bool | None) -> dict:
    mp: dict = {"sourceVolume": "h", "containerPath": "/host"}
    if read_only is not None:
        mp["readOnly"] = read_only
    return taskdef(
        container(mountPoints=[mp]), revision=None, volumes=[{"name": "h", "host": {"sourcePath": source}}]
    )


@pytest.mark.parametrize(
    ("source", "read_only", "high", "exposes"),
    [
        ("/var/run", False, True, "runtime-socket"),
        ("/var/run", True, True, "runtime-socket"),
        ("/run", None, True, "runtime-socket"),
        ("/run/", True, True, "runtime-socket"),
        ("//var/run/docker.sock", True, True, "runtime-socket"),
        ("/var/run/../run/docker.sock", False, True, "runtime-socket"),
        ("/", True, True, "runtime-socket"),
        ("/var/lib/docker", False, True, "runtime-state"),
        ("/var/lib/docker/", None, True, "runtime-state"),
        ("/var/lib/docker", True, False, "runtime-state"),
        ("/etc/", False, True, "sensitive-path"),
        ("/etc", True, False, "sensitive-path"),
        ("/srv/data", False, False, None),
    ],
)
def test_host_mount_rating(source: str, read_only: bool | None, high: bool, exposes: str | None) -> None:
    hit = outcomes(mount_doc(source, read_only))["host-filesystem-mount"]
    assert isinstance(hit, TraitHit)
    [ev] = hit.evidence
    assert evidence_fact(ev, "exposes") == exposes
    assert evidence_fact(ev, "sensitive") is high
    assert ("sensitive" in hit.qualifiers) is high
    if exposes == "runtime-socket":
        assert "exposes the container runtime's socket" in ev.summary


@pytest.mark.parametrize("source", ["/var/run", "/run", "/var/lib/docker"])
def test_writable_runtime_mounts_rate_high_impact(source: str) -> None:
    [f] = scan_doc(mount_doc(source, False), include_informational=True).findings
    assert f.impact == Impact.HIGH and "host-filesystem-mount" in f.impact_traits


@pytest.mark.parametrize(
    ("host_path", "escape"),
    [
        ("/dev/fuse", False),
        ("/dev/net/tun", False),
        ("/dev/snd", False),
        ("/dev/tty", False),
        ("/dev/sda", True),
        ("/dev/sda1", True),
        ("/dev/xvda", True),
        ("/dev/nvme0n1", True),
        ("/dev/nvme0n1p1", True),
        ("/dev/mem", True),
        ("/dev/kmem", True),
        ("/dev/port", True),
        ("/dev/mapper/root", True),
        ("/dev/dm-0", True),
        ("/dev", True),
        ("/dev/", True),
        ("//dev//./mem", True),
        ("/dev/../dev/sda", True),
        ("/dev/snd/../mem", True),
    ],
)
def test_device_escape(host_path: str, escape: bool) -> None:
    assert escape_device(host_path) is escape
    hit = outcomes(taskdef(container(linuxParameters={"devices": [{"hostPath": host_path}]}), revision=None))[
        "dangerous-capabilities"
    ]
    assert isinstance(hit, TraitHit) and ("escape" in hit.qualifiers) is escape
