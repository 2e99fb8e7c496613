"""What the task role lets an attacker do (spec §5): one rule per impact trait, read from the role's
effective permissions. Only the *task* role counts: its credentials are the ones code in the task
gets (the execution role is used by the ECS agent, not handed to containers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..iam import Permissions
from ..model import Evidence, TraitHit, TraitUnknown
from ._iam import RoleView, limits, role_views, statement_evidence
from .base import Target, conclude


@dataclass(frozen=True)
class Need:
    """Any of ``actions``, granted on every resource (``broad``) or on any resource.

    "Every resource" is every resource of at least one of the action's resource types in the role's
    account: ``s3:GetObject`` on ``arn:aws:s3:::*/*`` reads every object, even though S3 access
    points (another resource type of the action) are not covered."""

    actions: tuple[str, ...]
    broad: bool = False

    def granted(self, p: Permissions) -> tuple[list[str], str]:
        """The actions of this need the role holds, and the strongest way any of them is held
        (:func:`level`)."""
        held, best = [], (True, True)
        for a in self.actions:
            bit = p.cat.bit(a)
            ways = [  # (conditional, scoped): every resource of a type, or some resource
                (False, False) if p.every_of_a_type & bit else None,
                (True, False) if p.every_of_a_type_cond & bit else None,
                (False, True) if not self.broad and p.some & bit else None,
                (True, True) if not self.broad and p.some_cond & bit else None,
            ]
            found = [w for w in ways if w is not None]
            if found:
                held.append(a)
                best = min(best, *found)
        return (held, level(best)) if held else ([], "")


def level(how: tuple[bool, bool]) -> str:
    """(conditional, scoped) as a word: 'broad', 'scoped', 'conditional-broad', 'conditional-scoped'."""
    conditional, scoped = how
    return ("conditional-" if conditional else "") + ("scoped" if scoped else "broad")


def _how(word: str) -> tuple[bool, bool]:
    return word.startswith("conditional-"), word.endswith("scoped")


# a rule is a list of alternatives; an alternative is a list of needs that must all hold
Rule = list[list[Need]]


def impact_detect(trait_id: str, rule: Rule | Callable[[Permissions], list[str] | None]) -> Callable:
    def detect(target: Target) -> TraitHit | TraitUnknown | None:
        unknown: list[str] = []
        evidence: list[Evidence] = []
        conditional_only = True
        for view in role_views(target, unknown, kinds=("task role",)):
            key = f"impact:{trait_id}"
            if key not in view.permissions.derived:
                view.permissions.derived[key] = _apply(view.permissions, rule)
            found = view.permissions.derived[key]
            if found is None:
                if view.missing:
                    unknown.append(f"{view.role.name}: policy {', '.join(view.missing)} not in the inputs")
                continue
            actions, level = found
            conditional_only &= level.startswith("conditional")
            ekey = f"impact-evidence:{trait_id}:{view.kind}"
            if ekey not in view.permissions.derived:
                view.permissions.derived[ekey] = _evidence(view, actions, level)
            evidence.extend(view.permissions.derived[ekey])  # type: ignore[arg-type]
        qualifiers = frozenset({"conditional"}) if conditional_only else frozenset()
        return conclude(trait_id, evidence, unknown, qualifiers=qualifiers)

    detect.rule = rule  # type: ignore[attr-defined]  # the rule as data, for tests and docs
    detect.apply = lambda p: _apply(p, rule)  # type: ignore[attr-defined]
    return detect


def _evidence(view: RoleView, actions: list[str], level: str) -> list[Evidence]:
    p = view.permissions
    mask = 0
    for a in actions:
        mask |= p.cat.bit(a)
    conditional = level.startswith("conditional-")
    scope = level.removeprefix("conditional-")
    shown = ", ".join(actions[:6]) + (" …" if len(actions) > 6 else "")
    where = "on every resource" if scope == "broad" else "on some resources"
    if scope == "scoped" or (mask & ~p.every_cond):
        narrowed = limits(view, mask)
        if narrowed:
            where += f", narrowed by {narrowed}"
    what = f"grants {shown} {where}"
    return [
        Evidence(ev.summary, (*ev.facts, ("actions", tuple(actions)), ("scope", scope)), ev.revision, ev.loc)
        for ev in statement_evidence(view, mask or p.cat.all, what, conditional=conditional)
    ]


def _apply(
    p: Permissions, rule: Rule | Callable[[Permissions], list[str] | None]
) -> tuple[list[str], str] | None:
    if callable(rule):
        actions = rule(p)
        return (actions, "broad") if actions else None
    best: tuple[list[str], tuple[bool, bool]] | None = None
    for alternative in rule:  # the strongest alternative that holds
        held_all: list[str] = []
        weakest = (False, False)  # an alternative holds as weakly as its weakest need
        for need in alternative:
            held, word = need.granted(p)
            if not held:
                break
            held_all.extend(held)
            how = _how(word)
            weakest = (weakest[0] or how[0], weakest[1] or how[1])
        else:
            if best is None or weakest < best[1]:
                best = (held_all, weakest)
    return (best[0], level(best[1])) if best else None
