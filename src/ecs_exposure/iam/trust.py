"""Who may assume a role: its trust policy (``AssumeRolePolicyDocument``), the resource-based policy
that decides the role's reachability.

A task role is meant to be assumed by ``ecs-tasks.amazonaws.com`` alone. Anyone else its trust
policy admits gets the role's permissions without going through the task:

- ``public``: any AWS principal (``"Principal": "*"``, ``{"AWS": "*"}``, ``NotPrincipal``) or a web
  identity provider (OIDC, Cognito, Google, Facebook, Amazon) with no condition that restricts
  *which* principals or identities (``aws:PrincipalOrgID``, ``aws:PrincipalAccount``,
  ``aws:PrincipalArn``, ``aws:SourceAccount``/``aws:SourceArn``, ``sts:ExternalId``, an OIDC
  ``…:sub``, Cognito's ``…:aud`` …): anyone who learns the role's ARN;
- ``cross-account``: named other accounts or principals in them, a SAML identity provider, or a
  ``public`` grant narrowed by such a condition;
- ``same-account``: principals of the role's own account (they still need ``sts:AssumeRole``);
- ``service``: AWS services other than ECS tasks.

A ``Deny`` statement that applies to the assume actions for every principal without a condition
takes every grant away; any other ``Deny`` is reported as a condition on the grants.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..model import PolicyDocument
from .grammar import document_problems, statement_problems

ECS_TASKS = "ecs-tasks.amazonaws.com"
ASSUME = ("sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml")
RESTRICTING = (
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalservicename",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourceidentity",
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:userid",
    "aws:username",
    "sts:externalid",
    "sts:rolesessionname",
)
# levels, worst last
LEVELS = ("ecs-tasks", "service", "same-account", "cross-account", "public")
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass
class Trust:
    level: str = "ecs-tasks"  # the widest who-can-assume (LEVELS)
    principals: list[str] = field(default_factory=list)  # who may assume, beyond ecs-tasks
    external: list[str] = field(default_factory=list)  # of them, those outside the account
    conditions: list[str] = field(default_factory=list)  # condition keys of the grants beyond ecs-tasks
    errors: list[str] = field(default_factory=list)  # the trust policy is invalid

    @property
    def outside(self) -> bool:
        """Someone outside the role's account may assume it."""
        return self.level in ("cross-account", "public")


def _acts(s: Mapping[str, object]) -> bool:
    """Whether the statement applies to an assume action."""
    key = "NotAction" if "NotAction" in s else "Action"
    raw = s.get(key)
    actions = [raw] if isinstance(raw, str) else [a for a in raw or [] if isinstance(a, str)]  # type: ignore[union-attr]
    hit = any(_glob(a.lower(), x) for a in actions for x in ASSUME)
    return hit != (key == "NotAction")


def _glob(pattern: str, text: str) -> bool:
    """IAM's action wildcards (``*``, ``?``), in time linear in the pattern for our short texts."""
    states = {0}
    for ch in text:
        nxt = set()
        for i in _star_closure(pattern, states):
            if i < len(pattern):
                if pattern[i] == "*":
                    nxt.add(i)
                elif pattern[i] in ("?", ch):
                    nxt.add(i + 1)
        states = nxt
        if not states:
            return False
    return len(pattern) in _star_closure(pattern, states)


def _star_closure(pattern: str, states: set[int]) -> set[int]:
    out = set(states)
    todo = list(states)
    while todo:
        i = todo.pop()
        if i < len(pattern) and pattern[i] == "*" and i + 1 not in out:
            out.add(i + 1)
            todo.append(i + 1)
    return out


def _condition_keys(s: Mapping[str, object]) -> list[str]:
    cond = s.get("Condition")
    if not isinstance(cond, Mapping):
        return []
    return sorted({k for block in cond.values() if isinstance(block, Mapping) for k in block})


def _restricted(keys: list[str], provider: str | None = None) -> bool:
    low = [k.lower() for k in keys]
    if any(k in RESTRICTING for k in low):
        return True
    if provider is not None:
        return any(
            k.endswith(":sub") or (k.startswith("cognito-identity") and k.endswith(":aud")) for k in low
        )
    return False


def analyse(doc: PolicyDocument | None, account: str) -> Trust | None:
    """The trust of a role of ``account``; None when the trust policy is not in the inputs."""
    if doc is None:
        return None
    trust = Trust()
    problems = (
        document_problems(doc.document, "trust")
        if doc.document is not None
        else [
            f"statement {i}: {p}"
            for i, s in enumerate(doc.statements)
            for p in statement_problems(s, "trust")
        ]
    )
    if problems:
        trust.errors = [f"trust policy is not a valid policy: {p}" for p in problems[:3]]
        return trust
    stmts = [s for s in doc.statements if _acts(s)]
    if any(
        s.get("Effect") == "Deny" and s.get("Principal") in ("*", {"AWS": "*"}) and not s.get("Condition")
        for s in stmts
    ):
        return trust  # nobody
    denies = [k for s in stmts if s.get("Effect") == "Deny" for k in (_condition_keys(s) or ["Deny"])]
    rank = 0
    for s in stmts:
        if s.get("Effect") != "Allow":
            continue
        keys = _condition_keys(s)
        for who, level in _principals(s, account, keys):
            if who == ECS_TASKS:
                continue
            trust.principals.append(who)
            if level in ("cross-account", "public"):
                trust.external.append(who)
            trust.conditions.extend(keys)
            rank = max(rank, LEVELS.index(level))
    trust.level = LEVELS[rank]
    if trust.principals:
        trust.conditions.extend(denies)
    trust.principals = list(dict.fromkeys(trust.principals))
    trust.external = list(dict.fromkeys(trust.external))
    trust.conditions = list(dict.fromkeys(trust.conditions))
    return trust


def _principals(s: Mapping[str, object], account: str, keys: list[str]) -> list[tuple[str, str]]:
    if "NotPrincipal" in s:
        return [
            ("everyone but " + _shown(s["NotPrincipal"]), "cross-account" if _restricted(keys) else "public")
        ]
    p = s.get("Principal")
    if p == "*":
        return [("*", "cross-account" if _restricted(keys) else "public")]
    if not isinstance(p, Mapping):
        return []
    out: list[tuple[str, str]] = []
    for kind, raw in p.items():
        values = [raw] if isinstance(raw, str) else [v for v in raw if isinstance(v, str)]  # type: ignore[union-attr]
        for v in values:
            if kind == "Service":
                out.append((v, "ecs-tasks" if v == ECS_TASKS else "service"))
            elif kind == "AWS":
                if v == "*":
                    out.append(("*", "cross-account" if _restricted(keys) else "public"))
                    continue
                acct = (
                    v
                    if _ACCOUNT.match(v)
                    else (v.split(":")[4] if v.startswith("arn:") and v.count(":") >= 5 else "")
                )
                if not acct:
                    out.append((v, "same-account"))  # a unique id: a principal since deleted
                else:
                    out.append((v, "same-account" if acct == account else "cross-account"))
            elif kind == "Federated":
                saml = ":saml-provider/" in v
                public = not saml and not _restricted(keys, provider=v)
                out.append((v, "public" if public else "cross-account"))
    return out


def _shown(value: object) -> str:
    if isinstance(value, Mapping):
        return ", ".join(str(x) for v in value.values() for x in (v if isinstance(v, list) else [v]))
    return str(value)
