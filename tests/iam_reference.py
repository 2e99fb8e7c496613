"""A brute-force reference for the IAM evaluator: AWS's documented evaluation logic applied
literally to concrete requests (one action on one resource ARN), and the trait decisions read
from the answers. Slow and simple on purpose; shares no matching code with ``ecs_exposure.iam``.

Evaluation (IAM User Guide, "Policy evaluation logic", identity-based policies and a permissions
boundary, same account): a request is denied if any statement of the policies or the boundary
with ``Effect: Deny`` matches it; otherwise it is allowed if a statement of the policies with
``Effect: Allow`` matches it and, when there is a boundary, a statement of the boundary with
``Effect: Allow`` matches it too. A statement matches when its action element (``Action``: any
pattern matches; ``NotAction``: none does), its resource element (``Resource`` / ``NotResource``
alike) and its ``Condition`` (decided by the request context) all match.

Conditions are decided by two contexts: *worst* (every Allow's condition fails, every Deny's
holds: allowed there means allowed unconditionally) and *best* (the reverse: allowed there means
allowed at least under some conditions).

Patterns (IAM User Guide, "IAM JSON policy elements: Resource"): ``*`` any run of characters, ``?``
one character, within one colon-separated part for the first five parts of an ARN, except that a
``*`` ending a part "can expand to match beyond the colon boundaries"; no part boundaries after the
fifth colon. The partition and service parts compare without regard to case. A ``*`` partition
matches the partition part only (AWS allows only ``*`` or a partition name there). Policy
variables take their value from the request context: here one character per variable (the one
``variable_symbol`` names), which may appear in any name; ``${*}``, ``${?}``, ``${$}`` are the
literal characters. Actions match case-insensitively.

The resources of a request: for an action with resource types, the ARNs of those types in the
role's account and partition, any region (``[a-z0-9-]+``), bucket names ``[a-z0-9.-]+``, S3 object
keys of any characters and other names without a colon; for an action without one, ``*``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ecs_exposure.iam.arn import variable_symbol

VAR = r"\U000f0000-\U000fffff"  # the characters standing for policy variables' values


def substitute(pattern: str) -> list[tuple[str, bool]]:
    """(character, is-a-wildcard) after variables are replaced by their request values."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("${", i) and "}" in pattern[i:]:
            end = pattern.index("}", i)
            name = pattern[i + 2 : end]
            out.append((name if name in ("*", "?", "$") else variable_symbol(name), False))
            i = end + 1
        else:
            out.append((pattern[i], pattern[i] in "*?"))
            i += 1
    return out


@cache
def resource_regex(pattern: str) -> re.Pattern[str]:
    chars = substitute(_fold(pattern) if pattern.startswith("arn:") else pattern)
    rx = []
    part = 0
    for k, (ch, wild) in enumerate(chars):
        if not wild:
            rx.append(re.escape(ch))
            if ch == ":":
                part += 1
            continue
        if part >= 5:
            rx.append(".*" if ch == "*" else ".")
        elif ch == "?":
            rx.append("[^:]")
        else:
            ends_part = k + 1 == len(chars) or chars[k + 1] == (":", False)
            rx.append(".*" if ends_part and part != 1 else "[^:]*")
    return re.compile("".join(rx), re.S)


def _fold(arn: str) -> str:
    """Lower-case the partition and service parts."""
    parts = arn.split(":", 3)
    if len(parts) < 4:
        return arn
    return ":".join([parts[0], parts[1].lower(), parts[2].lower(), parts[3]])


def resource_matches(pattern: str, folded_arn: str) -> bool:
    """``folded_arn``: the request's ARN with its partition and service parts in lower case."""
    return resource_regex(pattern).fullmatch(folded_arn) is not None


@cache
def action_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    )


def _list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def statement_matches(s: Mapping[str, Any], action: str, arn: str, condition_holds: bool) -> bool:
    """``action`` in lower case, ``arn`` folded (:func:`resource_matches`)."""
    if "Action" in s:
        act = any(action_regex(p).fullmatch(action) for p in _list(s["Action"]))
    else:
        act = not any(action_regex(p).fullmatch(action) for p in _list(s["NotAction"]))
    if not act:
        return False
    if "Resource" in s:
        res = any(resource_matches(p, arn) for p in _list(s["Resource"]))
    else:
        res = not any(resource_matches(p, arn) for p in _list(s["NotResource"]))
    return res and (condition_holds if s.get("Condition") else True)


def allowed(
    policies: list[dict[str, Any]], boundary: list[dict[str, Any]] | None, action: str, arn: str, best: bool
) -> bool:
    """The decision for one request, in the best or the worst context."""

    def holds(s: Mapping[str, Any]) -> bool:  # the context: does this statement's Condition hold?
        return best if s["Effect"] == "Allow" else not best

    action, arn = action.lower(), _fold(arn)
    everything = [*policies, *(boundary or [])]
    if any(s["Effect"] == "Deny" and statement_matches(s, action, arn, holds(s)) for s in everything):
        return False
    if not any(s["Effect"] == "Allow" and statement_matches(s, action, arn, holds(s)) for s in policies):
        return False
    return boundary is None or any(
        s["Effect"] == "Allow" and statement_matches(s, action, arn, holds(s)) for s in boundary
    )


# ------------------------------------------------------------------ the resources of a type


NAMES = ("app", "prod", "x", "app/prod", "a")
OBJECTS = ("app", "a/b", "x:y", "prod/app")
BUCKETS = ("app", "prod", "x", "a.b")
REGIONS = ("us-east-1", "eu-west-1", "ap-x")


def _class(name: str) -> str:
    if name == "Region":
        return f"[a-z0-9{VAR}-]+"
    if name.endswith("BucketName"):
        return f"[a-z0-9.{VAR}-]+"
    if name == "ObjectName":
        return ".+"
    return "[^:]+"


@cache
def universe_regex(fmt: str, partition: str, account: str) -> re.Pattern[str]:
    out = []
    for m in re.finditer(r"\$\{([^}]*)\}|(.)", fmt, re.S):
        name, ch = m.group(1), m.group(2)
        if name is None:
            out.append("[^:]*" if ch == "*" else re.escape(ch))
        elif name == "Partition":
            out.append(re.escape(partition))
        elif "Account" in name:
            out.append(re.escape(account))
        else:
            out.append(_class(name))
    return re.compile("".join(out), re.S)


def probes(fmt: str, partition: str, account: str, extra_names: Iterable[str]) -> list[str]:
    """Resources of the type: every placeholder from a vocabulary, one at a time and all together."""
    holes = re.findall(r"\$\{([^}]*)\}", fmt)
    free = [h for h in dict.fromkeys(holes) if h != "Partition" and "Account" not in h]
    extra = tuple(extra_names)

    def values(name: str) -> tuple[str, ...]:
        if name == "Region":
            return REGIONS + extra
        if name.endswith("BucketName"):
            return BUCKETS + extra
        if name == "ObjectName":
            return OBJECTS + extra
        return NAMES + extra

    def fill(choice: Mapping[str, str]) -> str:
        def one(m: re.Match[str]) -> str:
            n = m.group(1)
            if n == "Partition":
                return partition
            if "Account" in n:
                return account
            return choice[n]

        return re.sub(r"\$\{([^}]*)\}", one, fmt).replace("*", "x")

    out = set()
    for i in range(max(len(v) for v in (values(h) for h in free)) if free else 1):
        out.add(fill({h: values(h)[i % len(values(h))] for h in free}))
    base = {h: values(h)[0] for h in free}
    for h in free:
        for v in values(h):
            out.add(fill({**base, h: v}))
    if len(free) <= 2:
        for combo in itertools.product(*(values(h) for h in free)):
            out.add(fill(dict(zip(free, combo, strict=True))))
    return sorted(out)


# ------------------------------------------------------------------ grants and trait decisions


@dataclass
class Grants:
    """Per action: granted on every resource of every type / of some type / on some resource, in
    the worst (unconditional) and the best (conditional) context."""

    every: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    one_type: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    some: dict[str, tuple[bool, bool]] = field(default_factory=dict)


def grants(
    actions: dict[str, list[str]],
    policies: list[dict[str, Any]],
    boundary: list[dict[str, Any]] | None,
    account: str,
    partition: str,
    claimed: Callable[[str], list[str]] = lambda a: [],
) -> Grants:
    """``actions``: action → ARN formats of its types. ``claimed(action)``: resources the fast
    evaluator names as examples; each is checked to be a resource of the action, then evaluated
    like any other request (a claim is checked, never trusted)."""
    names = sorted(
        {
            variable_symbol(m)
            for s in [*policies, *(boundary or [])]
            for p in _resources(s)
            for m in re.findall(r"\$\{([^}*?$][^}]*)\}", p)
        }
    )
    out = Grants()
    for action, formats in actions.items():
        extra = claimed(action)
        if not formats:
            requests = [["*"]]
        else:
            requests = []
            for fmt in formats:
                rx = universe_regex(fmt, partition, account)
                mine = [w for w in extra if rx.fullmatch(w)]
                requests.append(probes(fmt, partition, account, names) + mine)
        per_type = [
            [
                (
                    allowed(policies, boundary, action, arn, False),
                    allowed(policies, boundary, action, arn, True),
                )
                for arn in reqs
            ]
            for reqs in requests
        ]
        every_type = [(all(d for d, _ in t), all(p for _, p in t)) for t in per_type]
        out.every[action] = (all(d for d, _ in every_type), all(p for _, p in every_type))
        out.one_type[action] = (any(d for d, _ in every_type), any(p for _, p in every_type))
        out.some[action] = (any(d for t in per_type for d, _ in t), any(p for t in per_type for _, p in t))
    return out


def _resources(s: Mapping[str, Any]) -> list[str]:
    return _list(s.get("Resource", s.get("NotResource", [])))


def admin_level(g: Grants, near: float) -> str | None:
    if all(d for d, _ in g.every.values()):
        return "admin"
    if all(p for _, p in g.every.values()):
        return "conditional-admin"
    if sum(p for _, p in g.every.values()) / len(g.every) >= near:
        return "near-admin"
    return None


def full_control(g: Grants) -> bool:
    return all(d for d, _ in g.every.values())


def admin_services(g: Grants) -> list[str]:
    services: dict[str, list[bool]] = {}
    for action, (_, p) in g.every.items():
        services.setdefault(action.split(":")[0].lower(), []).append(p)
    return sorted(s for s, flags in services.items() if all(flags))


def rule_holds(g: Grants, rule: list[list[tuple[tuple[str, ...], bool]]]) -> tuple[bool, bool]:
    """(holds under some conditions, holds unconditionally) for an impact rule: alternatives of
    needs, a need being (actions, on every resource of a type)."""

    def need(actions: tuple[str, ...], broad: bool, i: int) -> bool:
        table = g.one_type if broad else g.some
        return any(table.get(a.lower(), (False, False))[i] for a in actions)

    return tuple(  # type: ignore[return-value]
        any(all(need(a, b, i) for a, b in alternative) for alternative in rule) for i in (1, 0)
    )
