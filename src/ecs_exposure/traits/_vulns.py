"""Vulnerability evidence shared by the four vulnerability traits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..model import Container, Evidence, TraitHit, TraitUnknown
from ..model.vulns import SEVERITY_RANK, ImageReport, Vulnerability
from .base import Target, conclude

NO_SOURCE = (
    "no vulnerability data: give Trivy or Grype reports with --vulns, or a snapshot with Amazon Inspector "
    "or ECR scan findings"
)


@dataclass
class ImageUse:
    image: str
    containers: list[tuple[Container, str]]  # (container, revision label)
    reports: list[ImageReport]

    def vulnerabilities(self) -> list[Vulnerability]:
        """The vulnerabilities of all reports on the image, once each (by id and package)."""
        seen: dict[tuple[str, str | None], Vulnerability] = {}
        for rep in self.reports:
            for v in rep.vulnerabilities:
                seen.setdefault((v.id, v.package), v)
        return list(seen.values())


def images(target: Target, unknown: list[str]) -> list[ImageUse]:
    """The images the resource runs that have a report; the others go to ``unknown``. The four
    vulnerability traits ask the same question: answered once per set of revisions."""
    key = ("vuln-images", *(id(td) for td in target.task_definitions), *target.missing_task_definitions)
    return target.with_reasons(key, lambda reasons: _images(target, reasons), unknown)


def _images(target: Target, unknown: list[str]) -> list[ImageUse]:
    index = target.vulns
    if target.missing_task_definitions:
        unknown.append(f"task definition {', '.join(target.missing_task_definitions)} is not in the inputs")
    if index is None or index.empty:
        unknown.append(NO_SOURCE)
        return []
    uses: dict[str, ImageUse] = {}
    for td in target.task_definitions:
        for c in td.containers:
            if not c.image:
                unknown.append(f"container {c.name} names no image")
                continue
            use = uses.get(c.image)
            if use is None:
                reports = target.remember(
                    ("vuln-reports", c.image), lambda image=c.image: index.lookup(image)
                )
                use = uses[c.image] = ImageUse(c.image, [], reports)
                if not use.reports:
                    unknown.append(f"no vulnerability report for image {c.image}")
            use.containers.append((c, td.label))
    return [u for u in uses.values() if u.reports]


def exploitable_because(v: Vulnerability, target: Target) -> list[str]:
    """Why a vulnerability is likely to be exploited; empty when it is not network-exploitable."""
    if not v.network:
        return []
    kev = target.vulns.kev if target.vulns is not None else frozenset()
    why = []
    if v.known_exploited or v.id.upper() in kev or any(a.upper() in kev for a in v.aliases):
        why.append("known exploited")
    if v.exploit_available:
        why.append("exploit available")
    if v.epss is not None and v.epss >= target.settings.epss_threshold:
        why.append(f"EPSS {v.epss:.2f}")
    return why


def _order(v: Vulnerability) -> tuple:
    return (-SEVERITY_RANK.get(v.severity, 0), -(v.epss or 0), -(v.cvss_score or 0), v.id)


def describe(v: Vulnerability, why: list[str] | None = None) -> str:
    pkg = ""
    if v.package:
        pkg = f" in {v.package} {v.installed or ''}".rstrip()
        pkg += f" (fixed in {v.fixed})" if v.fixed else " (no fix yet)"
    extra = f" [{', '.join(why)}]" if why else ""
    return f"{v.id} {v.severity}{pkg}{extra}"


@dataclass(frozen=True)
class Listing:
    """What an image's evidence says for one trait, computed once per image and trait per scan."""

    count: int
    count_text: str
    worst: str  # the first of ``listed``, for the one-line summary
    listed: tuple[str, ...]
    fixed: tuple[str, ...]
    sources: str


def _listing(
    use: ImageUse, vulns: list[Vulnerability], target: Target, with_why: bool, top: int = 5
) -> Listing:
    vulns = sorted(vulns, key=_order)
    counts: dict[str, int] = {}
    for v in vulns:
        counts[v.severity] = counts.get(v.severity, 0) + 1
    ordered = sorted(counts.items(), key=lambda x: -SEVERITY_RANK.get(x[0], 0))
    listed = tuple(describe(v, exploitable_because(v, target) if with_why else None) for v in vulns[:top])
    return Listing(
        len(vulns),
        ", ".join(f"{n} {s}" for s, n in ordered),
        listed[0] if listed else "",
        listed,
        tuple(sorted({f"{v.package} {v.fixed}" for v in vulns if v.package and v.fixed}))[:10],
        ", ".join(sorted({r.source for r in use.reports})),
    )


def image_evidence(use: ImageUse, listing: Listing, what: str) -> Evidence:
    container, revision = use.containers[0]
    names = ", ".join(sorted({c.name for c, _ in use.containers}))
    if listing.count == 1:
        what = what.replace("vulnerabilities", "vulnerability").replace("packages", "package")
    return Evidence(
        f"image {use.image} (container {names}): {listing.count} {what} ({listing.count_text}), "
        f"worst {listing.worst}",
        (
            ("image", use.image),
            ("container", names),
            ("count", listing.count),
            ("vulnerabilities", listing.listed),
            ("fixedVersions", listing.fixed),
            ("source", listing.sources),
        ),
        revision,
        container.loc.child("image"),
    )


def vuln_detect(
    trait_id: str, select: Callable[[Target, ImageUse], tuple[list[Vulnerability], str] | str | None]
) -> Callable[[Target], TraitHit | TraitUnknown | None]:
    """``select`` returns the vulnerabilities that make the trait and a word for them, None when the
    image has none, or a string when the report cannot decide it (the reason)."""

    def choose(target: Target, use: ImageUse) -> tuple[Listing, str] | str | None:
        chosen = select(target, use)
        if isinstance(chosen, tuple):
            vulns, what = chosen
            return _listing(use, vulns, target, trait_id.startswith("exploit")), what
        return chosen

    def detect(target: Target) -> TraitHit | TraitUnknown | None:
        unknown: list[str] = []
        evidence = []
        for use in images(target, unknown):
            # images with many tags share one report: conclusions are per set of reports
            key = ("vuln-listing", trait_id, *(id(r) for r in use.reports))
            cached = target.remember(key, lambda use=use: choose(target, use))
            if isinstance(cached, str):
                unknown.append(cached)
            elif cached:
                listing, what = cached  # type: ignore[misc]
                evidence.append(image_evidence(use, listing, what))
        return conclude(trait_id, evidence, unknown)

    return detect
