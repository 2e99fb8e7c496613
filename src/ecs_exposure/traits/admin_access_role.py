from ..model import Category, Evidence
from ._iam import NEAR_ADMIN, RoleView, limits, role_views, statement_evidence
from .base import ROLE_FIELDS, Target, TraitSpec, conclude

ID = "admin-access-role"


def admin_level(view: RoleView) -> str | None:
    """'admin', 'conditional-admin' or 'near-admin' from the effective permissions, or None."""
    p = view.permissions
    if "admin" not in p.derived:
        everything = p.cat.all
        level = None
        if p.every == everything:
            level = "admin"
        elif p.every_cond == everything:
            level = "conditional-admin"
        elif p.coverage(p.every_cond) >= NEAR_ADMIN:
            level = "near-admin"
        p.derived["admin"] = level
    return p.derived["admin"]  # type: ignore[return-value]


def _share(x: float) -> str:
    """99.5 % is not 100 %."""
    return f"{x:.0%}" if round(x, 2) < 1 else f"{min(x, 0.999):.1%}"


def _evidence(view: RoleView, level: str) -> list[Evidence]:
    p = view.permissions
    held = p.every_cond
    if level == "near-admin":
        short = p.cat.all & ~held
        excluded = p.cat.services_fully_in(short & ~p.some_cond)
        partly = [s for s in p.cat.services_touched(short) if s not in excluded]
        parts = []
        if excluded:
            parts.append(
                f"not: {', '.join(s + ':*' for s in excluded[:6])}{' …' if len(excluded) > 6 else ''}"
            )
        if partly:
            more = " …" if len(partly) > 6 else ""
            parts.append(f"on some resources only: {', '.join(s + ':*' for s in partly[:6])}{more}")
        narrowed = limits(view, short)
        what = (
            f"allows {_share(p.coverage(held))} of all actions on every resource (near-admin; "
            + "; ".join(parts)
            + (f"; narrowed by {narrowed}" if narrowed else "")
            + ")"
        )
    else:
        what = "allows every action on every resource"
    # the statements that grant most of it
    half = len(p.cat) // 2
    big = [s for s in p.statements if s.allow and s.mask.bit_count() >= half]
    mask = 0
    for s in big:
        mask |= s.mask
    # conditional: the level holds only when the conditions (of the grants, Denies, boundary) allow
    conditional = level == "conditional-admin" or (level == "near-admin" and p.coverage(p.every) < NEAR_ADMIN)
    return statement_evidence(
        view, mask or held, what, min_actions=half if big else 0, conditional=conditional
    )


def detect(target: Target):
    evidence: list[Evidence] = []
    unknown: list[str] = []
    notes: list[str] = []
    for view in role_views(target, unknown):
        level = admin_level(view)
        if level is None:
            if view.missing:
                unknown.append(
                    f"{view.kind} {view.role.name}: policy {', '.join(view.missing)} not in the inputs"
                )
            elif any(
                s.allow and s.broad and s.mask == view.permissions.cat.all
                for s in view.permissions.statements
            ):
                why = limits(view, view.permissions.cat.all & ~view.permissions.every_cond) or "a Deny"
                notes.append(f"{view.kind} {view.role.name}: its Allow * is limited by {why}")
            continue
        if view.boundary_missing:
            notes.append(f"{view.kind} {view.role.name}: permissions boundary not in the inputs, not applied")
        evidence.extend(_evidence(view, level))
    conditional = bool(evidence) and all(dict(e.facts).get("conditional") for e in evidence)
    return conclude(
        ID, evidence, unknown, notes, qualifiers=frozenset({"conditional"}) if conditional else frozenset()
    )


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Administrative role",
    phrase="an administrative task role",
    contextual=False,
    description=(
        "The task role or execution role may effectively do everything on every resource: "
        "`AdministratorAccess`, an Allow of `*` on `*`, or near-admin (at least 90% of all IAM "
        "actions on every resource of their types, e.g. `NotAction: iam:*`, `PowerUserAccess`, or "
        "`*` with a Deny on `arn:aws:s3:::*`). Decided by the IAM evaluator, action by action and "
        "resource type by resource type: a Deny or a permissions boundary removes only what its "
        "resources cover; an Allow on `arn:aws:s3:::*` or on the account's roles is not admin. A "
        "grant that needs a Condition (of the statement, of a Deny or of the boundary) is reported "
        "and marked conditional. Whoever runs code in the task controls the account."
    ),
    remediation=(
        "Detach `AdministratorAccess` and replace `*` statements with the actions and resources the "
        "service needs (IAM Access Analyzer can generate a policy from CloudTrail activity). This "
        "needs a human decision: the tool suggests, it never removes permissions by itself."
    ),
    detect=detect,
    reads=ROLE_FIELDS,
)
