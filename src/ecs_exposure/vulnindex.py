"""All image reports of a scan, looked up by the image a container runs."""

from __future__ import annotations

from collections.abc import Iterable

from .model.vulns import ImageRef, ImageReport


class VulnIndex:
    def __init__(
        self, reports: Iterable[ImageReport], kev: frozenset[str] = frozenset(), sources: tuple[str, ...] = ()
    ) -> None:
        self.kev = kev
        self.sources = sources  # what was read: "trivy report x.json", "inspector2 (111122223333/eu-west-1)"
        self._by_digest: dict[str, list[ImageReport]] = {}
        self._by_tag: dict[tuple[str, str, str], list[ImageReport]] = {}
        for rep in reports:
            for ref in rep.refs:
                if ref.digest:
                    self._by_digest.setdefault(ref.digest, []).append(rep)
                if ref.tag:
                    self._by_tag.setdefault((ref.registry, ref.repository, ref.tag), []).append(rep)

    @property
    def empty(self) -> bool:
        return not self.sources

    def lookup(self, image: str) -> list[ImageReport]:
        """Reports for an image: by digest when the container pins one, else by repository and tag."""
        ref = ImageRef.parse(image)
        if ref is None:
            return []
        found: list[ImageReport] = []
        if ref.digest:
            found = self._by_digest.get(ref.digest, [])
        if not found and ref.tag:
            found = self._by_tag.get((ref.registry, ref.repository, ref.tag), [])
        unique: dict[int, ImageReport] = {}
        for rep in found:  # one report may be reached through several refs; by identity, not by value
            unique.setdefault(id(rep), rep)
        return list(unique.values())
