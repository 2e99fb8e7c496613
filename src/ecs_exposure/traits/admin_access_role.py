from ..model import Category, Evidence, TraitHit, TraitUnknown
from ._iam import admin_statements, denied, resolve, statement_evidence, task_roles
from .base import Target, TraitSpec

ID = "admin-access-role"


def detect(target: Target):
    evidence: list[Evidence] = []
    unknown: list[str] = []
    notes: list[str] = []
    for arn, kind, revision in task_roles(target):
        rp = resolve(target.account, arn, unknown)
        if rp is None:
            continue
        found = admin_statements(rp.documents)
        if not found:
            if rp.missing:
                unknown.append(f"{kind} {rp.role.name}: policy {', '.join(rp.missing)} not in the inputs")
            continue
        if denied(rp.documents, "*"):
            notes.append(f"{kind} {rp.role.name}: an unconditional Deny * cancels its Allow *")
            continue
        if rp.boundary is not None and not admin_statements([rp.boundary]):
            notes.append(f"{kind} {rp.role.name}: permissions boundary {rp.boundary.name} limits it")
            continue
        if rp.boundary_missing:
            notes.append(f"{kind} {rp.role.name}: permissions boundary not in the inputs, not applied")
        evidence.extend(statement_evidence(rp, kind, revision, d, i, s, what) for d, i, s, what in found)
    if target.missing_task_definitions and not evidence:
        unknown.append(f"task definition {', '.join(target.missing_task_definitions)} is not in the inputs")
    if evidence:
        return TraitHit(ID, tuple(evidence), note="; ".join(notes + unknown) or None)
    if unknown:
        return TraitUnknown(ID, "; ".join(unknown))
    return None


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Administrative role",
    phrase="an administrative task role",
    contextual=False,
    description=(
        "The task role or execution role has `AdministratorAccess`, or a policy statement that "
        "allows `*` (or `*:*`) on Resource `*`, or `NotAction` on Resource `*` (near-admin). An "
        "unconditional Deny `*` cancels it; a conditional grant is reported and marked so. Whoever "
        "runs code in the task controls the account."
    ),
    remediation=(
        "Detach `AdministratorAccess` and replace `*` statements with the actions and resources the "
        "service needs (IAM Access Analyzer can generate a policy from CloudTrail activity). This "
        "needs a human decision: the tool suggests, it never removes permissions by itself."
    ),
    detect=detect,
)
