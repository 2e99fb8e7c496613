"""Effective permissions of a role's identity policies, with IAM's semantics.

- managed (AWS and customer) and inline policies, default version only (the sources keep that one);
- ``Action`` / ``NotAction`` and wildcards anywhere in an action (``s3:Put*``, ``iam:*Policy*``),
  expanded against the catalogue of real actions, case-insensitively;
- ``Resource`` / ``NotResource``: a grant is *broad* when it covers every resource of its kind
  (``*``, ``arn:aws:s3:::*``, ``arn:aws:iam::123456789012:role/*``, or a ``NotResource``), *scoped*
  otherwise;
- an explicit ``Deny`` wins over any ``Allow``; a Deny that is scoped or under a ``Condition`` does
  not remove a broad grant but makes it *conditional*;
- a ``Condition`` on an Allow makes the grant *conditional*: reported, with lower confidence;
- a permissions boundary intersects: an action the boundary does not allow is not granted.

Resource-based policies, SCPs and session policies are out of scope (they are not in the inputs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..model import PolicyDocument
from .catalogue import ActionCatalogue, catalogue

_BROAD_TAIL = re.compile(r"^(?:[A-Za-z0-9-]+[/:])?\*$")


def broad_resource(resource: str) -> bool:
    """Every resource of its kind: ``*``, ``arn:aws:s3:::*``, ``arn:aws:iam::123456789012:role/*``.
    (S3 ARNs have no resource type: ``arn:aws:s3:::bucket/*`` is one bucket's objects.)"""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return False
    if parts[2] == "s3":
        return parts[5] in ("*", "*/*")
    return bool(_BROAD_TAIL.match(parts[5]))


def as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


@dataclass(frozen=True, slots=True)
class Statement:
    doc: PolicyDocument
    index: int
    sid: str | None
    allow: bool
    actions: tuple[str, ...]  # as written (Action or NotAction)
    not_action: bool
    broad: bool  # covers every resource of its kind
    conditional: bool
    mask: int  # the catalogue actions it applies to

    @property
    def ref(self) -> str:
        return f"policy {self.doc.name} statement {self.sid or self.index}"


def parse_statements(docs: Iterable[PolicyDocument], cat: ActionCatalogue) -> list[Statement]:
    out = []
    for doc in docs:
        for i, s in enumerate(doc.statements):
            out.append(_statement(doc, i, s, cat))
    return out


def _statement(doc: PolicyDocument, index: int, s: Mapping[str, object], cat: ActionCatalogue) -> Statement:
    not_action = "NotAction" in s and "Action" not in s
    actions = tuple(as_list(s.get("NotAction" if not_action else "Action")))
    mask = 0
    for a in actions:
        mask |= cat.mask(a)
    if not_action:
        mask = cat.all & ~mask
    # NotResource: everything but the listed resources
    broad = "NotResource" in s or any(broad_resource(r) for r in as_list(s.get("Resource")))
    sid = s.get("Sid")
    return Statement(
        doc,
        index,
        sid if isinstance(sid, str) and sid else None,
        s.get("Effect") == "Allow",
        actions,
        not_action,
        broad,
        bool(s.get("Condition")),
        mask,
    )


@dataclass
class Permissions:
    """What a role may do. Each field is a set of catalogue actions (a bit mask)."""

    cat: ActionCatalogue
    statements: list[Statement]
    broad: int = 0  # on every resource, unconditionally
    scoped: int = 0  # on some resources only, unconditionally
    conditional: int = 0  # only under a Condition (or a conditional/scoped Deny may apply)
    boundary: str | None = None  # name of the permissions boundary applied
    notes: list[str] = field(default_factory=list)
    # conclusions drawn from these permissions (admin level, impact rules …): a role is shared by
    # many services and each conclusion is computed once
    derived: dict[str, object] = field(default_factory=dict)

    @property
    def any(self) -> int:
        return self.broad | self.scoped | self.conditional

    def coverage(self, mask: int) -> float:
        return mask.bit_count() / len(self.cat) if len(self.cat) else 0.0

    def grant(self, action: str) -> str | None:
        """'broad', 'scoped', 'conditional' or None."""
        bit = self.cat.bit(action)
        if not bit:
            return None
        if self.broad & bit:
            return "broad"
        if self.scoped & bit:
            return "scoped"
        if self.conditional & bit:
            return "conditional"
        return None

    def granting(self, mask: int) -> list[Statement]:
        """The Allow statements that grant any of ``mask``."""
        return [s for s in self.statements if s.allow and s.mask & mask]


def evaluate(docs: Iterable[PolicyDocument], boundary: PolicyDocument | None = None) -> Permissions:
    cat = catalogue()
    statements = parse_statements(docs, cat)
    allow_broad = allow_scoped = allow_cond = 0
    deny_hard = deny_soft = 0
    for s in statements:
        if s.allow:
            if s.conditional:
                allow_cond |= s.mask
            elif s.broad:
                allow_broad |= s.mask
            else:
                allow_scoped |= s.mask
        elif s.broad and not s.conditional:
            deny_hard |= s.mask
        else:
            deny_soft |= s.mask
    perms = Permissions(cat, statements)
    limit = cat.all
    if boundary is not None:
        b = parse_statements([boundary], cat)
        limit = 0
        for s in b:
            if s.allow:
                limit |= s.mask
        for s in b:
            if not s.allow and s.broad and not s.conditional:
                limit &= ~s.mask
        perms.boundary = boundary.name
    keep = limit & ~deny_hard
    broad = allow_broad & keep
    perms.broad = broad & ~deny_soft
    perms.scoped = allow_scoped & keep & ~deny_soft & ~perms.broad
    perms.conditional = ((allow_cond & keep) | ((allow_broad | allow_scoped) & keep & deny_soft)) & ~(
        perms.broad | perms.scoped
    )
    return perms
