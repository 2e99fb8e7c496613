"""What the task role lets an attacker do (spec §5): one rule per impact trait, read from the role's
effective permissions. Only the *task* role counts: its credentials are the ones code in the task
gets (the execution role is used by the ECS agent, not handed to containers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..iam import Permissions
from ..model import Evidence, TraitHit, TraitUnknown
from ._iam import RoleView, role_views, statement_evidence
from .base import Target, conclude


@dataclass(frozen=True)
class Need:
    """Any of ``actions``, granted on every resource (``broad``) or on any resource."""

    actions: tuple[str, ...]
    broad: bool = False

    def granted(self, p: Permissions) -> tuple[list[str], str]:
        """The actions of this need the role holds, and the weakest way it holds them."""
        held, levels = [], set()
        for a in self.actions:
            level = p.grant(a)
            if level is None or (self.broad and level == "scoped"):
                continue
            held.append(a)
            levels.add(level)
        if not held:
            return [], ""
        level = "broad" if "broad" in levels else "scoped" if "scoped" in levels else "conditional"
        return held, level


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
                view.permissions.derived[key] = _apply(view, rule)
            found = view.permissions.derived[key]
            if found is None:
                if view.missing:
                    unknown.append(f"{view.role.name}: policy {', '.join(view.missing)} not in the inputs")
                continue
            actions, level = found
            conditional_only &= level == "conditional"
            ekey = f"impact-evidence:{trait_id}:{view.kind}"
            if ekey not in view.permissions.derived:
                view.permissions.derived[ekey] = _evidence(view, actions, level)
            evidence.extend(view.permissions.derived[ekey])  # type: ignore[arg-type]
        qualifiers = frozenset({"conditional"}) if conditional_only else frozenset()
        return conclude(trait_id, evidence, unknown, qualifiers=qualifiers)

    return detect


def _evidence(view: RoleView, actions: list[str], level: str) -> list[Evidence]:
    p = view.permissions
    mask = 0
    for a in actions:
        mask |= p.cat.bit(a)
    scope = {"broad": "on every resource", "scoped": "on some resources", "conditional": "under conditions"}
    shown = ", ".join(actions[:6]) + (" …" if len(actions) > 6 else "")
    what = f"grants {shown} {scope.get(level, '')}".rstrip()
    return [
        Evidence(ev.summary, (*ev.facts, ("actions", tuple(actions)), ("scope", level)), ev.revision, ev.loc)
        for ev in statement_evidence(view, mask or p.cat.all, what)
    ]


def _apply(
    view: RoleView, rule: Rule | Callable[[Permissions], list[str] | None]
) -> tuple[list[str], str] | None:
    p = view.permissions
    if callable(rule):
        actions = rule(p)
        return (actions, "broad") if actions else None
    order = {"broad": 0, "scoped": 1, "conditional": 2}
    for alternative in rule:
        held_all: list[str] = []
        weakest = "broad"
        for need in alternative:
            held, level = need.granted(p)
            if not held:
                break
            held_all.extend(held)
            weakest = max(weakest, level, key=order.__getitem__)
        else:
            return held_all, weakest
    return None
