"""Host paths as Docker would bind them, for the traits that match them against lists."""

from __future__ import annotations

import posixpath
import re

_SLASHES = re.compile(r"/{2,}")


def _run(path: str) -> str:
    """``/var/run`` is a symbolic link to ``/run`` on every current distribution (and Docker
    resolves a bind source's links on the host)."""
    return "/run" + path[8:] if path == "/var/run" or path.startswith("/var/run/") else path


def normalise(path: str) -> tuple[str, ...]:
    """The host paths Docker may bind for ``path``, lexically: ``//var/run/./docker.sock/`` is
    ``/run/docker.sock``. ``..`` after ``/var/run`` is read both ways (as the link to ``/run`` and as
    a directory of ``/var``) and the worse reading counts. A relative path is read from ``/`` (ECS
    rejects it; that is no reason to pass it)."""
    p = path.strip()
    if not p:
        return ()
    p = _SLASHES.sub("/", "/" + p)  # normpath keeps a leading "//"
    readings = {_run(posixpath.normpath(p)), _run(posixpath.normpath(_run(p)))}
    return tuple(sorted(readings))
