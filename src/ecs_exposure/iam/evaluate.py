"""Effective permissions of a role's identity policies, with IAM's semantics, per action *and* per
resource.

- managed (AWS and customer) and inline policies, default version only (the sources keep that one);
  every document is first checked against AWS's policy grammar (:mod:`.grammar`): an invalid one
  makes the role's permissions undecidable (``Permissions.errors``), never silently empty;
- ``Action`` / ``NotAction`` and wildcards anywhere in an action (``s3:Put*``, ``iam:*Policy*``),
  expanded against the catalogue of real actions, case-insensitively;
- ``Resource`` / ``NotResource`` matched against the ARN formats of the resource types each action
  acts on (:mod:`.arn`): a request is one action on one resource of one of its types, or on ``*``
  for an action without a resource type. The resources are those of the role's own account and
  partition, in every region (plus account-less ARNs such as S3's): resources of other accounts are
  reachable only when their own resource policy says so, which the inputs do not show;
- an explicit ``Deny`` wins over any ``Allow``, but only on the resources its patterns cover: a Deny
  of ``iam:*`` on ``arn:aws:iam::111122223333:role/*`` leaves ``iam:PutUserPolicy`` whole;
- a ``Condition`` on an Allow makes what it grants *conditional*; a Deny under a Condition may or
  may not apply, so what it would remove becomes conditional too;
- a permissions boundary intersects, resources and conditions included: a boundary of ``s3:*`` on
  one bucket leaves ``s3:*`` on that bucket only.

For each action the result says whether it is granted on **every** resource of every one of its
types (``every``), on every resource of at least one of its types (``every_of_a_type``: every
object, whether or not through S3 access points), or on **some** resources (``some``); each with or
without conditions (``…_cond``: granted when the conditions allow, at least). Resource-based
policies, SCPs and session policies are out of scope (they are not in the inputs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..model import PolicyDocument
from .arn import Spec, TooComplex, example, format_tokens, quick_memberships, realizable
from .catalogue import ActionCatalogue, catalogue
from .grammar import document_problems, statement_problems


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
    spec: Spec  # its Resource or NotResource
    conditional: bool
    mask: int  # the catalogue actions it applies to
    boundary: bool = False  # a statement of the permissions boundary

    @property
    def ref(self) -> str:
        return f"policy {self.doc.name} statement {self.sid or self.index}"

    @property
    def broad(self) -> bool:
        """``Resource: "*"``: every resource of every type."""
        return self.spec.everything


def parse_statements(
    docs: Iterable[PolicyDocument], cat: ActionCatalogue, boundary: bool = False
) -> tuple[list[Statement], list[str]]:
    """The statements of ``docs``, and what makes any document invalid."""
    out: list[Statement] = []
    errors: list[str] = []
    for doc in docs:
        what = f"{'permissions boundary' if boundary else 'policy'} {doc.managed_arn or doc.name}"
        if doc.document is not None:
            problems = document_problems(doc.document)
        else:
            problems = [
                f"statement {i}: {p}" for i, s in enumerate(doc.statements) for p in statement_problems(s)
            ]
        if problems:
            errors.extend(f"{what} is not a valid IAM policy: {p}" for p in problems[:3])
            continue
        for i, s in enumerate(doc.statements):
            out.append(_statement(doc, i, s, cat, boundary))
    return out, errors


def _statement(
    doc: PolicyDocument, index: int, s: Mapping[str, object], cat: ActionCatalogue, boundary: bool
) -> Statement:
    not_action = "NotAction" in s
    actions = tuple(as_list(s.get("NotAction" if not_action else "Action")))
    mask = 0
    for a in actions:
        mask |= cat.mask(a)
    if not_action:
        mask = cat.all & ~mask
    negated = "NotResource" in s
    spec = Spec(tuple(dict.fromkeys(as_list(s.get("NotResource" if negated else "Resource")))), negated)
    sid = s.get("Sid")
    return Statement(
        doc,
        index,
        sid if isinstance(sid, str) and sid else None,
        s.get("Effect") == "Allow",
        actions,
        not_action,
        spec,
        bool(s.get("Condition")),
        mask,
        boundary,
    )


# ------------------------------------------------------------------ resources covered, per type


@dataclass
class Coverage:
    """How the resource elements (``specs``) of a role meet every resource type of the catalogue.

    A *vector* is an int whose bit j says "the resource is in spec j". Types whose resources all
    have the same vectors form a group; ``groups`` holds (the actions acting on a type of the
    group, the vectors its resources have)."""

    specs: tuple[Spec, ...]
    groups: list[tuple[int, frozenset[int]]]
    untyped: int  # the vector of the text "*" (actions without a resource type)
    vectors: dict[int, dict[int, str]]  # type id → vector → an ARN having it (types that vary)
    default: dict[int, int]  # type id → its one vector, for the types not in ``vectors``
    base: int = 0  # the vector of every other type
    constant: int | None = None  # the vector of every type, when all specs ignore types


def _classify(cat: ActionCatalogue, spec: Spec, partition: str, account: str) -> dict[int, dict[bool, str]]:
    """For each resource type whose membership in ``spec`` is not simply ``spec.negated``: the
    memberships its resources have, each with an example ARN."""
    cache: dict = cat.__dict__.setdefault("_spec_cache", {})
    key = (spec, partition, account)
    hit = cache.get(key)
    if isinstance(hit, TooComplex):
        raise hit  # decided once per scan, even when it cannot be decided
    if hit is not None:
        return hit
    try:
        cache[key] = out = _classify_types(cat, spec, partition, account)
    except TooComplex as e:
        cache[key] = e
        raise
    return out


def _classify_types(
    cat: ActionCatalogue, spec: Spec, partition: str, account: str
) -> dict[int, dict[bool, str]]:
    table = cat.resources
    services: set[str | None] | None = set()
    for p in spec.patterns:
        parts = p.split(":", 3)
        wild = parts[1] != "*" and any(c in parts[1] for c in "*?$")
        if len(parts) < 4 or parts[0] != "arn" or wild or any(c in parts[2] for c in "*?$"):
            services = None  # cannot tell which services it names: look at every type
            break
        if parts[1].lower() in (partition.lower(), "*"):
            services.add(parts[2].lower())  # type: ignore[union-attr]
    if services is None:
        candidates: Iterable[int] = range(len(table.formats))
    else:
        candidates = [t for svc in (*services, None) for t in table.by_service.get(svc, ())]
    out: dict[int, dict[bool, str]] = {}
    for t in candidates:
        universe = format_tokens(table.formats[t], partition, account)
        quick = quick_memberships(universe, spec)
        if isinstance(quick, dict):
            values = quick
        else:
            values = {vec[0]: w for vec, w in realizable(universe, [quick]).items()}
        if set(values) != {spec.negated}:
            out[t] = values
    return out


def coverage(cat: ActionCatalogue, specs: tuple[Spec, ...], partition: str, account: str) -> Coverage:
    cache: dict = cat.__dict__.setdefault("_coverage_cache", {})
    key = (specs, partition, account)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = _coverage(cat, specs, partition, account)
    return hit


def _coverage(cat: ActionCatalogue, specs: tuple[Spec, ...], partition: str, account: str) -> Coverage:
    untyped = sum(1 << j for j, s in enumerate(specs) if s.contains_star())
    if all(s.everything or s.nothing for s in specs):
        v = sum(1 << j for j, s in enumerate(specs) if s.everything)
        return Coverage(specs, [], untyped, {}, {}, v, constant=v)
    table = cat.resources
    # a type no pattern names: in every Resource "*", in every NotResource but NotResource "*"
    base = sum(1 << j for j, s in enumerate(specs) if s.everything or (s.negated and not s.nothing))
    varying: dict[int, dict[int, dict[bool, str]]] = {}  # type → spec → memberships
    for j, s in enumerate(specs):
        if s.everything or s.nothing:
            continue
        for t, values in _classify(cat, s, partition, account).items():
            varying.setdefault(t, {})[j] = values
    vectors: dict[int, dict[int, str]] = {}
    default: dict[int, int] = {}
    for t, per_spec in varying.items():
        fixed = base
        multi = []
        for j, values in per_spec.items():
            if len(values) == 1:
                fixed = fixed & ~(1 << j) | (int(next(iter(values))) << j)
            else:
                multi.append(j)
        if not multi:
            default[t] = fixed
        elif len(multi) == 1:
            j = multi[0]
            vectors[t] = {(fixed & ~(1 << j)) | (int(b) << j): w for b, w in per_spec[j].items()}
        else:
            found = realizable(format_tokens(table.formats[t], partition, account), [specs[j] for j in multi])
            out = {}
            for vec, w in found.items():
                v = fixed
                for j, b in zip(multi, vec, strict=True):
                    v = (v & ~(1 << j)) | (int(b) << j)
                out[v] = w
            vectors[t] = out
    groups: dict[frozenset[int], int] = {}
    plain = 0  # the actions acting on a type of the base vector: whole services at a time
    touched = {table.services[t] for t in (*vectors, *default)}
    for svc, m in table.service_masks.items():
        if svc not in touched:
            plain |= m
    for svc in touched:
        for t in table.by_service[svc]:
            m = table.type_masks[t]
            if t in vectors:
                k = frozenset(vectors[t])
            elif t in default:
                k = frozenset((default[t],))
            else:
                plain |= m
                continue
            groups[k] = groups.get(k, 0) | m
    if plain:
        groups[frozenset((base,))] = groups.get(frozenset((base,)), 0) | plain
    return Coverage(specs, [(m, k) for k, m in groups.items()], untyped, vectors, default, base)


# ------------------------------------------------------------------ permissions


@dataclass
class Permissions:
    """What a role may do. Each grant field is a set of catalogue actions (a bit mask); each
    ``X`` is contained in ``X_cond`` (granted at least when the conditions allow)."""

    cat: ActionCatalogue
    statements: list[Statement]  # the identity policies' (boundary statements in ``boundary_statements``)
    every: int = 0  # on every resource of every type, unconditionally
    every_cond: int = 0
    every_of_a_type: int = 0  # on every resource of at least one of its types, unconditionally
    every_of_a_type_cond: int = 0
    some: int = 0  # on at least one resource, unconditionally
    some_cond: int = 0
    boundary: str | None = None  # name of the permissions boundary applied
    boundary_statements: list[Statement] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # invalid documents: nothing can be decided
    account: str = ""
    partition: str = "aws"
    notes: list[str] = field(default_factory=list)
    coverage_: Coverage | None = None
    # conclusions drawn from these permissions (admin level, impact rules …): a role is shared by
    # many services and each conclusion is computed once
    derived: dict[str, object] = field(default_factory=dict)

    @property
    def any(self) -> int:
        return self.some_cond

    def coverage(self, mask: int) -> float:
        return mask.bit_count() / len(self.cat) if len(self.cat) else 0.0

    def grant(self, action: str) -> str | None:
        """How the action is granted: 'broad' (every resource), 'scoped' (some resources),
        'conditional-broad', 'conditional' (only under conditions), or None."""
        bit = self.cat.bit(action)
        if not bit:
            return None
        if self.every & bit:
            return "broad"
        if self.some & bit:
            return "scoped"
        if self.every_cond & bit:
            return "conditional-broad"
        if self.some_cond & bit:
            return "conditional"
        return None

    def granting(self, mask: int) -> list[Statement]:
        """The Allow statements of the identity policies that grant any of ``mask``."""
        return [s for s in self.statements if s.allow and s.mask & mask]

    def denying(self, mask: int) -> list[Statement]:
        """The Deny statements (of the policies and the boundary) that apply to any of ``mask``."""
        return [s for s in (*self.statements, *self.boundary_statements) if not s.allow and s.mask & mask]

    def witnesses(self, action: str) -> list[tuple[str, bool, bool]]:
        """For each kind of resource the action acts on: an ARN of it (``*`` for an action without a
        resource type), whether the action is granted on it unconditionally, and under conditions.
        (For tests and explanations: the claims of the evaluator, each checkable on its own.)"""
        bit = self.cat.bit(action)
        cov = self.coverage_
        if not bit or cov is None:
            return []
        table = self.cat.resources
        types = table.action_types[bit.bit_length() - 1]
        if not types:
            d, p = self._masks(cov.untyped if cov.constant is None else cov.constant)
            return [("*", bool(d & bit), bool(p & bit))]
        out = []
        for t in types:
            fmt = table.formats[t]
            if cov.constant is None and t in cov.vectors:
                vecs = cov.vectors[t]
            else:
                v = cov.constant if cov.constant is not None else cov.default.get(t, cov.base)
                vecs = {v: example(fmt, self.partition, self.account)}
            for v, w in vecs.items():
                d, p = self._masks(v)
                out.append((w, bool(d & bit), bool(p & bit)))
        return out

    def _masks(self, v: int) -> tuple[int, int]:
        return _vector_masks(self, v)


def _vector_masks(perms: Permissions, v: int) -> tuple[int, int]:
    """(granted unconditionally, granted under conditions) on a resource of vector ``v``."""
    cache: dict[int, tuple[int, int]] = perms.derived.setdefault("_vector_masks", {})  # type: ignore[assignment]
    hit = cache.get(v)
    if hit is not None:
        return hit
    index = {s: j for j, s in enumerate(perms.coverage_.specs)} if perms.coverage_ else {}
    au = ac = du = dc = 0
    for s in perms.statements:
        if not (v >> index[s.spec]) & 1:
            continue
        if s.allow:
            if s.conditional:
                ac |= s.mask
            else:
                au |= s.mask
        elif s.conditional:
            dc |= s.mask
        else:
            du |= s.mask
    everything = perms.cat.all
    bau, bac = (everything, 0) if perms.boundary is None else (0, 0)
    for s in perms.boundary_statements:
        if not (v >> index[s.spec]) & 1:
            continue
        if s.allow:
            if s.conditional:
                bac |= s.mask
            else:
                bau |= s.mask
        elif s.conditional:
            dc |= s.mask
        else:
            du |= s.mask
    definite = au & bau & ~(du | dc)
    possible = (au | ac) & (bau | bac) & ~du
    cache[v] = (definite, possible)
    return definite, possible


def evaluate(
    docs: Iterable[PolicyDocument],
    boundary: PolicyDocument | None = None,
    *,
    account: str,
    partition: str = "aws",
    cat: ActionCatalogue | None = None,
) -> Permissions:
    """The permissions ``docs`` (and the boundary) give a role of ``account`` in ``partition``. The
    account is required: a grant on another account's resources grants nothing without a resource policy
    the scanner cannot see."""
    cat = cat or catalogue()
    statements, errors = parse_statements(docs, cat)
    bstatements: list[Statement] = []
    if boundary is not None:
        bstatements, berrors = parse_statements([boundary], cat, boundary=True)
        errors += berrors
    perms = Permissions(cat, statements, account=account, partition=partition, errors=errors)
    perms.boundary_statements = bstatements
    if boundary is not None:
        perms.boundary = boundary.name
    if errors:
        return perms
    specs = tuple(dict.fromkeys(s.spec for s in (*statements, *bstatements)))
    try:
        cov = perms.coverage_ = coverage(cat, specs, partition, account)
    except TooComplex as e:
        perms.errors.append(str(e))
        return perms
    everything = cat.all
    if cov.constant is not None:
        d, p = _vector_masks(perms, cov.constant)
        perms.every = perms.every_of_a_type = perms.some = d
        perms.every_cond = perms.every_of_a_type_cond = perms.some_cond = p
        return perms
    table = cat.resources
    every_d = every_p = everything
    one_d = one_p = some_d = some_p = 0
    for members, vecs in cov.groups:
        e_d = e_p = everything
        s_d = s_p = 0
        for v in vecs:
            d, p = _vector_masks(perms, v)
            e_d &= d
            e_p &= p
            s_d |= d
            s_p |= p
        every_d &= e_d | ~members
        every_p &= e_p | ~members
        one_d |= e_d & members
        one_p |= e_p & members
        some_d |= s_d & members
        some_p |= s_p & members
    d, p = _vector_masks(perms, cov.untyped)
    untyped = table.untyped
    typed = everything & ~untyped
    perms.every = every_d & (d | typed) & everything
    perms.every_cond = every_p & (p | typed) & everything
    perms.every_of_a_type = one_d | (d & untyped)
    perms.every_of_a_type_cond = one_p | (p & untyped)
    perms.some = some_d | (d & untyped)
    perms.some_cond = some_p | (p & untyped)
    return perms
