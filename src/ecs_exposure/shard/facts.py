"""Cross-account facts: what the merge needs to see a role chain from one account into another.

A shard sees one account×region, so a path such as *the task role of service S in account B may
``sts:AssumeRole`` into role R of account A, whose trust policy admits B, and R has full control of
A* spans two shards. Each side exports a small, credential-free fact and the merge joins them:

- :class:`Assumable` (exported once per account): a role whose trust policy admits a principal
  outside its account, with the impact traits its own permissions give (evaluated where its
  account's IAM is, with the same detectors as a task role).
- :class:`AssumeGrant` (exported per service): the ``sts:AssumeRole`` statements of the service's
  task role that may reach outside its account (``Resource`` patterns, ``NotResource``, Deny, the
  permissions boundary).

Cross-account access needs both sides (AWS: the caller's identity policy *and* the role's trust
policy must allow it), so the merge adds a chain when the grant's statements allow the role's ARN
and the trust policy admits the grant's account or role. The finding of the service then carries
the target role's impact traits, each with evidence naming the chain. Conditions on either side
make the chain *conditional* (reported, lower confidence); SCPs and session policies are not in
the inputs.
"""

from __future__ import annotations

import fnmatch
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from ..engine import targets
from ..iam.managed import builtin
from ..model import Inventory, Loc, PolicyDocument, Resource, TaskDefinition, TraitHit
from ..traits import Target, registry

IMPACT_PREFIX = "impact-"

# (resource patterns, NotResource?, conditional?)
Entry = tuple[tuple[str, ...], bool, bool]


@dataclass(frozen=True, slots=True)
class Assumable:
    role_arn: str
    account_id: str
    admits: tuple[str, ...]  # trust-policy principals: "*", account ids, root or role ARNs
    conditional: bool  # every admitting statement has a Condition
    denies: tuple[str, ...]  # principals an unconditional Deny of the trust policy names
    impacts: tuple[tuple[str, str], ...]  # (impact trait id, what the role grants)


@dataclass(frozen=True, slots=True)
class AssumeGrant:
    resource_uid: str  # the finding's resource: a service (or task definition) ARN
    account_id: str
    role_arn: str  # the task role
    allow: tuple[Entry, ...]
    deny: tuple[Entry, ...]  # unconditional Denies only (a conditional Deny may not apply)
    boundary: tuple[Entry, ...] | None  # None: no permissions boundary


# --------------------------------------------------------------------------- policy reading


def _doc(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(urllib.parse.unquote(value))
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _statements(doc: Any) -> list[dict[str, Any]]:
    d = _doc(doc) if not isinstance(doc, list | tuple) else {"Statement": list(doc)}
    if d is None:
        return []
    st = d.get("Statement")
    return [
        s
        for s in ([st] if isinstance(st, dict) else st if isinstance(st, list) else [])
        if isinstance(s, dict)
    ]


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _glob(pattern: str, value: str) -> bool:
    """IAM wildcards: ``*`` any run of characters, ``?`` one character, case-sensitive for ARNs."""
    return fnmatch.fnmatchcase(value, pattern)


def _action_matches(st: dict[str, Any], action: str) -> bool:
    a = action.lower()
    if "NotAction" in st and "Action" not in st:
        return not any(_glob(p.lower(), a) for p in _strings(st["NotAction"]))
    return any(_glob(p.lower(), a) for p in _strings(st.get("Action")))


def _entries(statements: list[dict[str, Any]], effect: str, action: str) -> list[Entry]:
    out = []
    for st in statements:
        if st.get("Effect") != effect or not _action_matches(st, action):
            continue
        not_resource = "NotResource" in st and "Resource" not in st
        resources = _strings(st.get("NotResource" if not_resource else "Resource"))
        out.append((resources, not_resource, bool(st.get("Condition"))))
    return out


def _covers(entry: Entry, arn: str) -> bool:
    resources, not_resource, _ = entry
    hit = any(_glob(r, arn) for r in resources)
    return not hit if not_resource else hit


def allows(grant: AssumeGrant, arn: str) -> tuple[bool, bool]:
    """(allowed, conditional) for ``sts:AssumeRole`` on ``arn`` by the grant's role."""
    if any(_covers(d, arn) for d in grant.deny):
        return False, False
    allowed = [a for a in grant.allow if _covers(a, arn)]
    if not allowed:
        return False, False
    conditional = all(a[2] for a in allowed)
    if grant.boundary is not None:
        bounded = [b for b in grant.boundary if _covers(b, arn)]
        if not bounded:
            return False, False
        conditional = conditional or all(b[2] for b in bounded)
    return True, conditional


def admits(role: Assumable, grant: AssumeGrant) -> tuple[bool, str]:
    """Whether the trust policy admits the grant's role: (admitted, the principal that does)."""
    account = grant.account_id
    names = {"*", account, f"arn:aws:iam::{account}:root", grant.role_arn}
    names |= {n.replace("arn:aws:", f"arn:{p}:") for n in names for p in ("aws-us-gov", "aws-cn")}
    if any(p in names for p in role.denies):
        return False, ""
    for p in role.admits:
        if p in names:
            return True, p
    return False, ""


# --------------------------------------------------------------------------- what each shard exports


def _foreign(principal: str, account_id: str) -> bool:
    if principal == "*":
        return True
    other = (
        principal if principal.isdigit() else (principal.split(":")[4] if principal.count(":") >= 5 else "")
    )
    return bool(other) and other != account_id


def _trust(role: dict[str, Any], account_id: str) -> tuple[tuple[str, ...], bool, tuple[str, ...]]:
    admit, conditions, deny = [], [], []
    for st in _statements(role.get("AssumeRolePolicyDocument")):
        if not _action_matches(st, "sts:AssumeRole"):
            continue
        principal = st.get("Principal")
        aws = _strings(principal.get("AWS")) if isinstance(principal, dict) else _strings(principal)
        if st.get("Effect") == "Deny" and not st.get("Condition"):
            deny += aws
        elif st.get("Effect") == "Allow":
            foreign = [p for p in aws if _foreign(p, account_id)]
            admit += foreign
            if foreign:
                conditions.append(bool(st.get("Condition")))
    return tuple(dict.fromkeys(admit)), bool(conditions) and all(conditions), tuple(deny)


def assumables(doc: dict[str, Any]) -> list[Assumable]:
    """The roles of a snapshot document that other accounts may assume, with their impact traits.
    Call it before ``load_snapshot`` (which frees the raw document as it reads it)."""
    from ..sources.snapshot import load_snapshot

    out: list[Assumable] = []
    for acc in doc.get("accounts") or []:
        if not isinstance(acc, dict) or not isinstance(acc.get("iam"), dict):
            continue
        account_id = str(acc.get("account_id") or "")
        trusting = []
        for raw in acc["iam"].get("roles") or []:
            if not isinstance(raw, dict) or not isinstance(raw.get("Arn"), str):
                continue
            admit, conditional, deny = _trust(raw, account_id)
            if admit:
                trusting.append((raw["Arn"], admit, conditional, deny))
        if not trusting:
            continue
        mini = {
            "format": "ecs-exposure/snapshot@1",
            "accounts": [
                {
                    "account_id": account_id,
                    "partition": acc.get("partition") or "aws",
                    "iam": json.loads(json.dumps(acc["iam"], default=str)),
                }
            ],
        }
        account = load_snapshot(mini, "aws").accounts[0]
        for arn, admit, conditional, deny in trusting:
            out.append(Assumable(arn, account_id, admit, conditional, deny, _impacts(account, arn)))
    return sorted(out, key=lambda a: a.role_arn)


def _impacts(account: Any, role_arn: str) -> tuple[tuple[str, str], ...]:
    """The impact traits the role's permissions give, from the same detectors as a task role's."""
    td = TaskDefinition("(assumed role)", None, None, Loc("aws"), (), task_role_arn=role_arn)
    target = Target(Resource("AWS::IAM::Role", role_arn, role_arn, Loc("aws")), (td,), account=account)
    out = []
    for trait_id, spec in registry().items():
        if not trait_id.startswith(IMPACT_PREFIX):
            continue
        outcome = spec.detect(target)
        if isinstance(outcome, TraitHit):
            what = spec.title[0].lower() + spec.title[1:]
            out.append((trait_id, what))
    return tuple(out)


def _role_documents(account: Any, role_arn: str) -> tuple[list[PolicyDocument], PolicyDocument | None, bool]:
    role = account.role(role_arn) if account is not None else None
    if role is None:
        return [], None, False
    docs = list(role.inline_policies)
    for parn in role.attached_policy_arns:
        d = (account.policies or {}).get(parn) or builtin(parn)
        if d is not None:
            docs.append(d)
    boundary = None
    if role.permissions_boundary_arn:
        boundary = (account.policies or {}).get(role.permissions_boundary_arn) or builtin(
            role.permissions_boundary_arn
        )
    return docs, boundary, True


def _reaches_out(entry: Entry, account_id: str) -> bool:
    resources, not_resource, _ = entry
    if not_resource:
        return True
    for r in resources:
        parts = r.split(":")
        if r == "*" or len(parts) < 6 or any(ch in parts[4] for ch in "*?") or parts[4] != account_id:
            return True
    return False


def grants(inv: Inventory) -> list[AssumeGrant]:
    """The services (and unserved task definitions) whose task role may assume a role outside its
    account, with the statements that allow it."""
    out: list[AssumeGrant] = []
    memo: dict[tuple[int, str], AssumeGrant | None] = {}
    for t in targets(inv):
        if t.account is None:
            continue
        for td in t.task_definitions:
            arn = td.task_role_arn
            if not arn:
                continue
            key = (id(t.account), arn)
            if key not in memo:
                memo[key] = _grant(t.account, arn)
            g = memo[key]
            if g is not None:
                out.append(AssumeGrant(t.resource.uid, g.account_id, g.role_arn, g.allow, g.deny, g.boundary))
    return out


def _grant(account: Any, role_arn: str) -> AssumeGrant | None:
    docs, boundary, found = _role_documents(account, role_arn)
    if not found:
        return None
    statements = [dict(s) for d in docs for s in d.statements]
    allow = [
        e for e in _entries(statements, "Allow", "sts:AssumeRole") if _reaches_out(e, account.account_id)
    ]
    if not allow:
        return None
    deny = [e for e in _entries(statements, "Deny", "sts:AssumeRole") if not e[2]]
    bound = None
    if boundary is not None:
        bound = tuple(_entries([dict(s) for s in boundary.statements], "Allow", "sts:AssumeRole"))
    role = account.role(role_arn)
    return AssumeGrant(
        "", account.account_id, role.arn if role else role_arn, tuple(allow), tuple(deny), bound
    )


def assumables_from_files(paths: list[Any]) -> list[Assumable]:
    """:func:`assumables` of every snapshot among the inputs (files and directories), for an
    offline scan of several accounts (e.g. the parts a sharded collection wrote). Unreadable files
    are skipped here: loading them reports the problem."""
    from ..sources.files import iter_files
    from ..sources.jsonio import SourceError, display_path, read_json
    from ..sources.snapshot import is_snapshot

    out: list[Assumable] = []
    for path, _explicit in iter_files(paths):
        try:
            doc = read_json(path, display_path(path))
        except (SourceError, OSError):
            continue
        if is_snapshot(doc):
            out.extend(assumables(doc))
    return sorted({a.role_arn: a for a in out}.values(), key=lambda a: a.role_arn)
