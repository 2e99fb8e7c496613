from ..model import Category, Evidence
from ._iam import NEAR_ADMIN, RoleView, role_views, statement_evidence
from .base import ROLE_FIELDS, Target, TraitSpec, conclude

ID = "admin-access-role"


def admin_level(view: RoleView) -> str | None:
    """'admin', 'conditional-admin' or 'near-admin' from the effective permissions, or None."""
    p = view.permissions
    if "admin" not in p.derived:
        everything = p.cat.all
        level = None
        if p.broad == everything:
            level = "admin"
        elif (p.broad | p.conditional) == everything:
            level = "conditional-admin"
        elif p.coverage(p.broad | p.conditional) >= NEAR_ADMIN:
            level = "near-admin"
        p.derived["admin"] = level
    return p.derived["admin"]  # type: ignore[return-value]


def _evidence(view: RoleView, level: str) -> list[Evidence]:
    p = view.permissions
    held = p.broad | p.conditional
    if level == "near-admin":
        excluded = p.cat.services_fully_in(p.cat.all & ~held)
        what = (
            f"allows {p.coverage(held):.0%} of all actions on every resource (near-admin; not: "
            f"{', '.join(s + ':*' for s in excluded[:6])}{' …' if len(excluded) > 6 else ''})"
        )
    else:
        what = "allows every action on every resource" + (
            ", under conditions" if level == "conditional-admin" else ""
        )
    # the statements that grant most of it
    half = len(p.cat) // 2
    big = [s for s in p.statements if s.allow and s.broad and s.mask.bit_count() >= half]
    mask = 0
    for s in big:
        mask |= s.mask
    return statement_evidence(view, mask or held, what, min_actions=half if big else 0)


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
                why = (
                    f"permissions boundary {view.permissions.boundary}"
                    if view.permissions.boundary
                    else "a Deny"
                )
                notes.append(f"{view.kind} {view.role.name}: its Allow * is limited by {why}")
            continue
        if view.boundary_missing:
            notes.append(f"{view.kind} {view.role.name}: permissions boundary not in the inputs, not applied")
        evidence.extend(_evidence(view, level))
    return conclude(ID, evidence, unknown, notes)


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Administrative role",
    phrase="an administrative task role",
    contextual=False,
    description=(
        "The task role or execution role may effectively do everything on every resource: "
        "`AdministratorAccess`, an Allow of `*` on `*`, or near-admin (at least 90% of all IAM "
        "actions on every resource, e.g. `NotAction: iam:*` or `PowerUserAccess`). Decided by the "
        "IAM evaluator: an unconditional Deny or a permissions boundary cancels it; a grant under a "
        "Condition is reported and marked so. Whoever runs code in the task controls the account."
    ),
    remediation=(
        "Detach `AdministratorAccess` and replace `*` statements with the actions and resources the "
        "service needs (IAM Access Analyzer can generate a policy from CloudTrail activity). This "
        "needs a human decision: the tool suggests, it never removes permissions by itself."
    ),
    detect=detect,
    reads=ROLE_FIELDS,
)
