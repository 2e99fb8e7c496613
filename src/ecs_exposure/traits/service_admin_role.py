from ..model import Category, Evidence, TraitHit, TraitUnknown
from ._iam import admin_statements, denied, resolve, service_admin_statements, statement_evidence, task_roles
from .base import Target, TraitSpec

ID = "service-admin-role"


def detect(target: Target):
    evidence: list[Evidence] = []
    unknown: list[str] = []
    for arn, kind, revision in task_roles(target):
        rp = resolve(target.account, arn, unknown)
        if rp is None:
            continue
        if admin_statements(rp.documents) and not denied(rp.documents, "*"):
            continue  # full admin: reported by admin-access-role
        boundary = rp.boundary
        for doc, i, s, services in service_admin_statements(rp.documents):
            kept = [
                svc
                for svc in services
                if not denied(rp.documents, svc)
                and (
                    boundary is None
                    or admin_statements([boundary])
                    or any(svc in b for *_, b in service_admin_statements([boundary]))
                )
            ]
            if kept:
                evidence.append(
                    statement_evidence(
                        rp, kind, revision, doc, i, s, f"allows {', '.join(kept)} on Resource *"
                    )
                )
        if rp.missing and not evidence:
            unknown.append(f"{kind} {rp.role.name}: policy {', '.join(rp.missing)} not in the inputs")
    if target.missing_task_definitions and not evidence:
        unknown.append(f"task definition {', '.join(target.missing_task_definitions)} is not in the inputs")
    if evidence:
        return TraitHit(ID, tuple(evidence))
    if unknown:
        return TraitUnknown(ID, "; ".join(unknown))
    return None


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
)
