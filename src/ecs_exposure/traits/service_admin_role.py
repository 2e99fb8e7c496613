from ..model import Category, Evidence
from ._iam import role_views, statement_evidence
from .admin_access_role import admin_level
from .base import ROLE_FIELDS, Target, TraitSpec, conclude

ID = "service-admin-role"


def admin_services(p) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """(services all of whose actions the role holds on every resource, those of them it holds only
    under conditions)."""
    if "services" not in p.derived:
        held = p.cat.services_fully_in(p.every_cond)
        p.derived["services"] = (held, [s for s in held if s not in p.cat.services_fully_in(p.every)])
    return p.derived["services"]  # type: ignore[return-value]


def detect(target: Target):
    evidence: list[Evidence] = []
    unknown: list[str] = []
    for view in role_views(target, unknown):
        if admin_level(view) is not None:
            continue  # reported by admin-access-role
        p = view.permissions
        services, conditional = admin_services(p)
        if services:
            mask = 0
            for svc in services:
                mask |= p.cat.service_mask(svc)
            what = f"allows {', '.join(s + ':*' for s in services)} on every resource"
            evidence.extend(
                statement_evidence(view, mask, what, conditional=len(conditional) == len(services))
            )
        elif view.missing:
            unknown.append(
                f"{view.kind} {view.role.name}: policy {', '.join(view.missing)} not in the inputs"
            )
    conditional = bool(evidence) and all(dict(e.facts).get("conditional") for e in evidence)
    return conclude(
        ID, evidence, unknown, qualifiers=frozenset({"conditional"}) if conditional else frozenset()
    )


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Service-administrator role",
    phrase="a service-administrator task role",
    contextual=False,
    description=(
        "The task role or execution role allows `<service>:*` on every resource (e.g. `s3:*`, "
        "`ecr:*`, `iam:*` on `*`) without being a full administrator: every action of that service "
        "on every resource of the account is the intruder's. `s3:*` on `arn:aws:s3:::*` is not "
        "service admin (access points, batch jobs and the account-level actions stay out of it); "
        "what it does allow is reported by the impact traits (delete every bucket, read every object)."
    ),
    remediation=(
        "Replace `<service>:*` on `*` with the actions the service uses on the resources it owns. "
        "This needs a human decision: the tool suggests a narrowed policy, it never applies it alone."
    ),
    detect=detect,
    reads=ROLE_FIELDS,
)
