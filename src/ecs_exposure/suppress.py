"""Accepted risks: which findings, or which of their traits, a suppression rule covers.

Rules come from the config file (``suppressions:``), from the inputs themselves
(``Inventory.suppressions``: inline comments in infrastructure code) and from AWS tags on the
resource (``ecs-exposure:suppress`` = ``TRAIT[+TRAIT]: reason``). A rule without ``traits``
suppresses the whole finding; a rule with ``traits`` takes those traits out of the rating and the
finding is rated again without them (:func:`correlate.correlate`). When no contributing trait is
left, the whole finding is suppressed. A suppressed finding is kept: its status is ``Suppressed``,
it keeps the rating of the risk that was accepted, and ``--fail-on`` ignores it.

An expired rule (``expires`` in the past, UTC) no longer applies; like a rule that matches nothing
and a tag that does not parse, it is reported (:meth:`Suppressor.uses`).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

from .correlate import correlate
from .model import (
    ExposureFinding,
    Status,
    SuppressionRule,
    SuppressionUse,
    TraitHit,
    TraitUnknown,
    UseState,
)
from .traits import registry
from .traits.base import Target

TAG_KEY = "ecs-exposure:suppress"  # also "ecs-exposure:suppress:<anything>", one rule per tag
WHOLE_FINDING = "all"  # the trait list of a tag that suppresses the whole finding

# AWS tag values allow letters, digits, spaces and + - = . _ : / @ only (no comma, no '*'): trait ids
# are separated by '+', '/' or spaces there; ',' is accepted too for inputs that allow it.
_TAG_VALUE = re.compile(r"\s*(?P<traits>[^:]*?)\s*:\s*(?P<rest>.*)", re.S)
_TAG_EXPIRES = re.compile(r"(?:^|\s)expires=(?P<date>\S*)\s*\Z", re.I)
_TRAIT_SEP = re.compile(r"[\s,+/]+")


def utc_today() -> date:
    return datetime.now(UTC).date()


def is_suppress_tag(key: str) -> bool:
    k = key.lower()
    return k == TAG_KEY or k.startswith(TAG_KEY + ":")


def parse_tag(key: str, value: str, where: str) -> SuppressionRule | str:
    """The rule an ``ecs-exposure:suppress`` tag declares, or what is wrong with it.

    ``TRAIT[+TRAIT…]: reason [expires=YYYY-MM-DD]``; ``all: reason`` suppresses the whole finding.
    """
    source = f"{where}: tag {key}"
    m = _TAG_VALUE.fullmatch(value)
    if m is None:
        return "expected 'TRAIT[+TRAIT]: reason' (no ':' after the trait ids)"
    rest = m["rest"].strip()
    expires = None
    e = _TAG_EXPIRES.search(rest)
    if e is not None:
        try:
            expires = date.fromisoformat(e["date"])
        except ValueError:
            return f"expires={e['date']!r} is not a date (YYYY-MM-DD)"
        rest = rest[: e.start()].strip()
    if not rest:
        return "no reason after ':' (a suppression must say why)"
    ids = [t for t in _TRAIT_SEP.split(m["traits"].strip()) if t]
    if not ids:
        return "no trait id before ':' (use 'all' for the whole finding)"
    if WHOLE_FINDING in ids:
        if len(ids) > 1:
            return f"'{WHOLE_FINDING}' suppresses the whole finding: name no other trait with it"
        ids = []
    known = registry()
    unknown = [t for t in ids if t not in known]
    if unknown:
        return f"unknown trait {unknown[0]!r} (see 'ecs-exposure traits')"
    return SuppressionRule(reason=rest, source=source, traits=tuple(dict.fromkeys(ids)), expires=expires)


# --------------------------------------------------------------------------- matching


@lru_cache(maxsize=512)
def _path_glob(pattern: str) -> re.Pattern[str]:
    """A path glob: ``*`` and ``?`` stay within one directory, ``**`` crosses them (``**/`` also
    matches no directory at all)."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _posix(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


def path_candidates(file: str, base: str | None) -> tuple[str, ...]:
    """The spellings of a resource's file a ``paths`` glob is tried against: as given on the command
    line, absolute, and relative to the rule's base directory (when the file is under it)."""
    out = [_posix(file)]
    absolute = Path(file).resolve()
    out.append(absolute.as_posix())
    if base is not None:
        with contextlib.suppress(ValueError):  # not under it
            out.append(absolute.relative_to(Path(base).resolve()).as_posix())
    return tuple(dict.fromkeys(out))


def matches(rule: SuppressionRule, finding: ExposureFinding, tags: dict[str, str]) -> bool:
    """Every selector the rule sets matches the finding (its ``traits`` are checked by the caller).

    ``resources`` are globs of the resource uid where ``*`` matches any text, ``/`` and ``:``
    included, as in IAM resource ARNs; ``tags`` all have to match (value globs); ``paths`` are
    path globs (see :func:`_path_glob`)."""
    r = finding.resource
    if rule.finding_ids and finding.id not in rule.finding_ids:
        return False
    if rule.accounts and r.account_id not in rule.accounts:
        return False
    if rule.resources and not any(fnmatchcase(r.uid, g) for g in rule.resources):
        return False
    if rule.tags and not all(k in tags and fnmatchcase(tags[k], v) for k, v in rule.tags):
        return False
    if rule.paths:
        files = path_candidates(r.loc.file, rule.base)
        if not any(_path_glob(g).fullmatch(f) for g in rule.paths for f in files):
            return False
    return True


def merge_uses(*parts: Iterable[SuppressionUse]) -> tuple[SuppressionUse, ...]:
    """The uses of the same rules in several scans (shards of one scan) as one: a rule applied
    anywhere is applied, with every finding it matched; unused only when unused everywhere."""
    merged: dict[SuppressionRule, SuppressionUse] = {}
    rank = {UseState.APPLIED: 3, UseState.EXPIRED: 2, UseState.INVALID: 1, UseState.UNUSED: 0}
    for uses in parts:
        for use in uses:
            seen = merged.get(use.rule)
            if seen is None:
                merged[use.rule] = use
                continue
            state = max(seen.state, use.state, key=lambda s: rank.get(s, 0))
            findings = tuple(dict.fromkeys((*seen.findings, *use.findings)))
            merged[use.rule] = replace(seen, state=state, findings=findings)
    return tuple(merged.values())


class Suppressor:
    """Applies the rules of one scan to its findings and remembers what each rule did."""

    def __init__(self, rules: Iterable[SuppressionRule] = (), today: date | None = None) -> None:
        self.today = today or utc_today()
        self._rules = list(dict.fromkeys(rules))  # declaration order: the first matching rule is named
        self._matched: dict[SuppressionRule, dict[str, None]] = {r: {} for r in self._rules}
        self._invalid: dict[str, SuppressionUse] = {}  # by source
        self._tags: dict[tuple[str, str, str], SuppressionRule | None] = {}  # (where, key, value) → rule

    def expired(self, rule: SuppressionRule) -> bool:
        return rule.expires is not None and rule.expires < self.today

    # -- the rules a resource declares with its own tags

    def _tag_rules(self, target: Target) -> list[SuppressionRule]:
        holders: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        if target.service is not None:
            holders.append((target.service.arn, target.service.tags))
        for td in target.task_definitions:
            holders.append((td.arn or target.resource.uid, td.tags))
        out: list[SuppressionRule] = []
        for where, tags in holders:
            for key, value in tags:
                if not is_suppress_tag(key):
                    continue
                memo = (where, key, value)
                if memo not in self._tags:
                    parsed = parse_tag(key, value, where)
                    if isinstance(parsed, str):
                        source = f"{where}: tag {key}"
                        self._invalid[source] = SuppressionUse(
                            SuppressionRule(reason="", source=source), UseState.INVALID, problem=parsed
                        )
                        parsed = None
                    else:
                        self._matched.setdefault(parsed, {})
                    self._tags[memo] = parsed
                rule = self._tags[memo]
                if rule is not None:
                    out.append(rule)
        return out

    @staticmethod
    def _resource_tags(target: Target) -> dict[str, str]:
        tags: dict[str, str] = {}
        for td in target.task_definitions:
            tags.update(td.tags)
        if target.service is not None:
            tags.update(target.service.tags)  # the service's own tag wins over its task definition's
        tags.update(target.resource.tags)
        return tags

    # -- one finding

    def apply(
        self,
        finding: ExposureFinding,
        target: Target,
        hits: Sequence[TraitHit],
        unknown: Sequence[TraitUnknown],
    ) -> ExposureFinding:
        """The finding with the rules applied: as it was, re-rated without some traits, or suppressed.

        ``hits`` and ``unknown`` are the detectors' outcomes the finding was correlated from."""
        rules = self._rules + self._tag_rules(target)
        if not rules:
            return finding
        tags = self._resource_tags(target)
        present = {h.trait_id for h in hits}
        whole: SuppressionRule | None = None
        by_trait: dict[str, SuppressionRule] = {}
        for rule in rules:
            covered = [t for t in rule.traits if t in present]
            if (rule.traits and not covered) or not matches(rule, finding, tags):
                continue
            self._matched[rule][finding.id] = None  # an expired rule is reported with what it would match
            if self.expired(rule):
                continue
            if not rule.traits:
                whole = whole or rule
            for t in covered:
                by_trait.setdefault(t, rule)
        if whole is not None:
            return replace(finding, status=Status.SUPPRESSED, suppression=whole)
        if not by_trait:
            return finding
        order = [h.trait_id for h in finding.hits] + [h.trait_id for h in hits]
        suppressed = tuple((t, by_trait[t]) for t in dict.fromkeys(order) if t in by_trait)
        remaining = [h for h in hits if h.trait_id not in by_trait]
        rerated = correlate(finding.resource, finding.task_definitions, remaining, unknown)
        if rerated is None or rerated.informational:
            # nothing that contributes is left: the whole finding is accepted, with the rating it has
            return replace(
                finding,
                status=Status.SUPPRESSED,
                suppression=suppressed[0][1],
                suppressed_traits=suppressed,
            )
        return replace(rerated, suppressed_traits=suppressed)

    # -- the report

    def uses(self) -> tuple[SuppressionUse, ...]:
        """Every rule seen in the scan and what it did, in declaration order, tags after."""
        out = []
        for rule, ids in self._matched.items():
            applied = UseState.APPLIED if ids else UseState.UNUSED
            state = UseState.EXPIRED if self.expired(rule) else applied
            out.append(SuppressionUse(rule, state, tuple(sorted(ids))))
        out.extend(self._invalid[k] for k in sorted(self._invalid))
        return tuple(out)


def warnings(uses: Iterable[SuppressionUse]) -> list[str]:
    """One line per rule that needs a person: expired (no longer applied) or invalid (never applied)."""
    out = []
    for use in uses:
        rule = use.rule
        if use.state == UseState.EXPIRED:
            n = len(use.findings)
            would = f"; it would match {n} finding{'s' if n != 1 else ''}" if n else ""
            out.append(f"{rule.source}: suppression expired on {rule.expires}, no longer applied{would}")
        elif use.state == UseState.INVALID:
            out.append(f"{rule.source}: {use.problem}; not applied")
    return out
