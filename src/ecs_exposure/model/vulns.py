"""Container images and what a vulnerability scanner reported about them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .location import Loc

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNKNOWN")
SEVERITY_RANK = {s: len(SEVERITIES) - i for i, s in enumerate(SEVERITIES)}  # CRITICAL highest

_DIGEST = re.compile(r"^[a-z0-9]+:[0-9a-f]{32,}$")
_DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


def ecr_host(account: str | None, region: str | None) -> str | None:
    """The registry host of an account's private ECR in a region."""
    if not account or not region:
        return None
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image reference, normalised: ``nginx:1.25`` = ``docker.io/library/nginx:1.25``."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> ImageRef | None:
        s = text.strip()
        if not s or any(c.isspace() for c in s):
            return None
        digest = None
        if "@" in s:
            s, digest = s.split("@", 1)
            digest = digest.lower()
            if not _DIGEST.match(digest):
                return None
        if not s:
            return None
        first, _, rest = s.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            registry, path = first.lower(), rest
        else:
            registry, path = "docker.io", s
        tag = None
        last = path.rsplit("/", 1)[-1]
        if ":" in last:
            path, tag = path.rsplit(":", 1)
        if registry in _DOCKER_HUB:
            registry = "docker.io"
            if "/" not in path:
                path = "library/" + path
        if tag is None and digest is None:
            tag = "latest"
        return cls(registry, path.lower(), tag, digest)

    def __str__(self) -> str:
        out = f"{self.registry}/{self.repository}"
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


@dataclass(frozen=True, slots=True)
class Vulnerability:
    id: str  # CVE-…, GHSA-…, MAL-…
    severity: str  # one of SEVERITIES
    package: str | None = None
    installed: str | None = None
    fixed: str | None = None
    cvss_vector: str | None = None
    cvss_score: float | None = None
    epss: float | None = None
    exploit_available: bool | None = None
    known_exploited: bool = False  # from the report itself (Grype) or a KEV list
    aliases: tuple[str, ...] = ()

    @property
    def network(self) -> bool:
        """CVSS attack vector Network (v2 and v3 both write ``AV:N``)."""
        return bool(self.cvss_vector) and "AV:N" in self.cvss_vector.split("/")  # type: ignore[union-attr]

    @property
    def malicious(self) -> bool:
        return self.id.upper().startswith("MAL-") or any(a.upper().startswith("MAL-") for a in self.aliases)


@dataclass(frozen=True, slots=True)
class ImageReport:
    """One scanner's report on one image."""

    refs: tuple[ImageRef, ...]  # every name the report knows the image by
    vulnerabilities: tuple[Vulnerability, ...]
    source: str  # "trivy", "grype", "inspector", "ecr"
    loc: Loc
    os_name: str | None = None
    os_eol: bool | None = None  # None: the report does not say

    @property
    def name(self) -> str:
        return str(self.refs[0]) if self.refs else "(unnamed image)"
