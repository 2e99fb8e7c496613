from ..model import Category, Evidence
from ._iam import role_views, statement_evidence
from .admin_access_role import admin_level
from .base import ROLE_FIELDS, Target, TraitSpec, conclude

ID = "service-admin-role"


def detect(target: Target):
    evidence: list[Evidence] = []
    unknown: list[str] = []
    for view in role_views(target, unknown):
        if admin_level(view) is not None:
            continue  # reported by admin-access-role
        p = view.permissions
        if "services" not in p.derived:
            p.derived["services"] = p.cat.services_fully_in(p.broad | p.conditional)
        services: list[str] = p.derived["services"]  # type: ignore[assignment]
        if services:
            mask = 0
            for svc in services:
                mask |= p.cat.service_mask(svc)
            what = f"allows {', '.join(s + ':*' for s in services)} on every resource"
            evidence.extend(statement_evidence(view, mask, what))
        elif view.missing:
            unknown.append(
                f"{view.kind} {view.role.name}: policy {', '.join(view.missing)} not in the inputs"
            )
    return conclude(ID, evidence, unknown)


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Service-administrator role",
    phrase="a service-administrator task role",
    contextual=False,
    description=(
        "The task role or execution role allows `<service>:*` on Resource `*` (e.g. `s3:*`, "
        "`ecr:*`, `iam:*`) without being a full administrator: every resource of that service in "
        "the account is the intruder's."
    ),
    remediation=(
        "Replace `<service>:*` on `*` with the actions the service uses on the resources it owns. "
        "This needs a human decision: the tool suggests a narrowed policy, it never applies it alone."
    ),
    detect=detect,
    reads=ROLE_FIELDS,
)
