"""Which roles a resource's tasks use, and their effective permissions (cached per role)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..iam import Permissions, evaluate
from ..iam.managed import builtin
from ..model import AccountInventory, Evidence, PolicyDocument, Role
from .base import Target, failed_api, unresolved_reasons

NEAR_ADMIN = 0.9  # share of all actions on every resource that counts as near-admin


@dataclass
class RoleView:
    role: Role
    kind: str  # "task role" / "execution role"
    revision: str
    permissions: Permissions
    missing: list[str] = field(default_factory=list)  # attached policies whose document is unknown
    boundary_missing: bool = False


def task_roles(
    target: Target, kinds: tuple[str, ...] = ("task role", "execution role")
) -> list[tuple[str, str, str]]:
    """(role ARN, "task role" / "execution role", revision label), each role once."""
    seen: dict[str, tuple[str, str, str]] = {}
    for td in target.task_definitions:
        for arn, kind in ((td.task_role_arn, "task role"), (td.execution_role_arn, "execution role")):
            if arn and kind in kinds and arn not in seen:
                seen[arn] = (arn, kind, td.label)
    return list(seen.values())


def _resolve(
    account: AccountInventory | None, arn: str
) -> tuple[Role, list[PolicyDocument], list[str], PolicyDocument | None, bool] | str:
    if account is None:
        return "no IAM data in the inputs (task definition file)"
    if account.roles is None:
        return failed_api(account.errors, ("iam:",)) or "IAM roles not in the inputs"
    role = account.role(arn)
    if role is None:
        parts = arn.split(":")
        other = len(parts) > 4 and parts[4] and parts[4] != account.account_id
        return f"role {arn} {'is in another account, ' if other else ''}not in the inputs"
    docs: list[PolicyDocument] = []
    missing: list[str] = []
    for parn in role.attached_policy_arns:
        doc = (account.policies or {}).get(parn) or builtin(parn)
        if doc is None:
            missing.append(parn)
        else:
            docs.append(doc)
    docs.extend(role.inline_policies)
    boundary = None
    boundary_missing = False
    if role.permissions_boundary_arn:
        boundary = (account.policies or {}).get(role.permissions_boundary_arn) or builtin(
            role.permissions_boundary_arn
        )
        boundary_missing = boundary is None
    return role, docs, missing, boundary, boundary_missing


def role_home(role_arn: str, account: AccountInventory) -> tuple[str, str]:
    """(partition, account id) of a role: from its ARN, else the account it was read in."""
    parts = role_arn.split(":")
    if len(parts) > 4 and parts[0] == "arn" and parts[1] and parts[4]:
        return parts[1], parts[4]
    return account.partition or "aws", account.account_id


def _evaluated(account: AccountInventory | None, arn: str) -> tuple | str:
    """(role, permissions, missing policies, boundary missing), or why the role cannot be read."""
    r = _resolve(account, arn)
    if isinstance(r, str):
        return r
    role, docs, missing, boundary, boundary_missing = r
    partition, account_id = role_home(role.arn, account)  # type: ignore[arg-type]
    perms = evaluate(docs, boundary, account=account_id, partition=partition)
    if perms.errors:
        return f"role {role.name}: {'; '.join(perms.errors)}; its permissions cannot be decided"
    return role, perms, missing, boundary_missing


def role_views(
    target: Target, unknown: list[str], kinds: tuple[str, ...] = ("task role", "execution role")
) -> list[RoleView]:
    """The roles of the resource's revisions with their permissions; what cannot be read goes to
    ``unknown``. Thousands of services share a few roles: each is evaluated once per scan, and the
    nine IAM traits of one service ask for the same views."""
    key = ("role-views", kinds, *(id(td) for td in target.task_definitions), *target.missing_task_definitions)
    return target.with_reasons(key, lambda reasons: _role_views(target, reasons, kinds), unknown)


def _role_views(target: Target, unknown: list[str], kinds: tuple[str, ...]) -> list[RoleView]:
    out = []
    if target.missing_task_definitions:
        unknown.append(f"task definition {', '.join(target.missing_task_definitions)} is not in the inputs")
    for td in target.task_definitions:  # infrastructure code that leaves a role open
        fields = [
            f for f, k in (("taskRoleArn", "task role"), ("executionRoleArn", "execution role")) if k in kinds
        ]
        unknown.extend(unresolved_reasons(td, fields))
    for arn, kind, revision in task_roles(target, kinds):
        resolved = target.remember(
            ("iam-role", id(target.account), arn), lambda arn=arn: _evaluated(target.account, arn)
        )
        if isinstance(resolved, str):
            unknown.append(f"{kind}: {resolved}")
            continue
        role, perms, missing, boundary_missing = resolved  # type: ignore[misc]
        out.append(RoleView(role, kind, revision, perms, missing, boundary_missing))
    return out


def statement_evidence(
    view: RoleView, mask: int, what: str, limit: int = 4, min_actions: int = 0, conditional: bool = False
) -> list[Evidence]:
    """One evidence per Allow statement granting any of ``mask`` (and at least ``min_actions``
    actions). It points at the policy statement and names the role, not a revision: the same
    evidence serves every service using the role. ``conditional``: the grant holds only under
    conditions (a Condition of the statement, or of a Deny or the boundary that may apply)."""
    key = ("evidence", view.kind, mask, what, limit, min_actions, conditional)
    cached = view.permissions.derived.get(key)
    if cached is None:
        cached = view.permissions.derived[key] = _statement_evidence(
            view, mask, what, limit, min_actions, conditional
        )
    return cached  # type: ignore[return-value]


def limits(view: RoleView, mask: int) -> str:
    """What narrows a grant of ``mask``: the Deny statements that apply to it and the boundary."""
    p = view.permissions
    denies = [f"{s.ref} (Deny on {s.spec.describe()})" for s in p.denying(mask)]
    out = ", ".join(denies[:3]) + (" …" if len(denies) > 3 else "")
    if p.boundary:
        out += ("; " if out else "") + f"permissions boundary {p.boundary}"
    return out


def _statement_evidence(
    view: RoleView, mask: int, what: str, limit: int, min_actions: int, conditional: bool
) -> list[Evidence]:
    out = []
    granting = [s for s in view.permissions.granting(mask) if s.mask.bit_count() >= min_actions]
    for s in granting[:limit]:
        cond = conditional or s.conditional
        why = " (only under its Condition)" if s.conditional else " (only under conditions)" if cond else ""
        out.append(
            Evidence(
                f"{view.kind} {view.role.name}: {s.ref} {what}{why}",
                (
                    ("role", view.role.arn),
                    ("roleKind", view.kind),
                    ("policy", s.doc.managed_arn or s.doc.name),
                    ("statement", s.sid or str(s.index)),
                    ("conditional", cond),
                    ("resources", s.spec.describe()),
                ),
                None,
                s.doc.loc.child("Statement", s.index),
            )
        )
    return out
