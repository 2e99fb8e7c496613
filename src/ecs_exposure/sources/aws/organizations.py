"""The accounts of an AWS Organization, read from the management or a delegated administrator account.

``ListAccounts`` lists every account of the organization; ``--include-ou`` narrows it to the accounts
under some organizational units (or roots), found with ``ListChildren`` (child OUs, recursively)
and ``ListAccountsForParent`` (each parent's own accounts, not its children's). Only ``ACTIVE``
accounts are read: ``SUSPENDED``, ``PENDING_CLOSURE`` and ``CLOSED`` ones cannot be (the ``State``
field is used when present: ``Status`` is being retired by AWS, botocore says so).

Organizations' List* operations may answer an empty page with a ``NextToken``: the paginators keep
going until the token is null, as the API reference asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class OrgAccount:
    account_id: str
    name: str
    state: str  # ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED, PENDING_ACTIVATION
    partition: str = "aws"  # from the account's ARN: aws, aws-us-gov, aws-cn


def _state(a: dict[str, Any]) -> str:
    return str(a.get("State") or a.get("Status") or "UNKNOWN")


def _accounts(items: Iterable[dict[str, Any]]) -> list[OrgAccount]:
    return [
        OrgAccount(str(a.get("Id")), str(a.get("Name") or ""), _state(a), _partition(a))
        for a in items
        if a.get("Id")
    ]


def _partition(a: dict[str, Any]) -> str:
    arn = str(a.get("Arn") or "")
    return arn.split(":")[1] if arn.startswith("arn:") and arn.count(":") >= 2 else "aws"


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    out: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        out.extend(page.get(key) or [])
    return out


def list_accounts(client: Any, include_ous: Iterable[str] = ()) -> list[OrgAccount]:
    """Every account of the organization, or of the given OUs / roots and the OUs below them.
    AWS errors (AccessDenied when not run from the management or a delegated administrator
    account, AWSOrganizationsNotInUseException) propagate: there is nothing to scan without them."""
    ous = list(dict.fromkeys(include_ous))
    if not ous:
        found = _accounts(_pages(client, "list_accounts", "Accounts"))
    else:
        found = []
        seen: set[str] = set()
        todo = list(ous)
        while todo:
            parent = todo.pop(0)
            if parent in seen:
                continue
            seen.add(parent)
            found += _accounts(_pages(client, "list_accounts_for_parent", "Accounts", ParentId=parent))
            todo += [
                c["Id"]
                for c in _pages(
                    client, "list_children", "Children", ParentId=parent, ChildType="ORGANIZATIONAL_UNIT"
                )
                if c.get("Id")
            ]
    unique = {a.account_id: a for a in found}
    return sorted(unique.values(), key=lambda a: a.account_id)


def select(accounts: Iterable[OrgAccount], exclude: Iterable[str] = ()) -> tuple[list[str], list[OrgAccount]]:
    """(account ids to read, accounts skipped because they are not ACTIVE); excluded ids are dropped."""
    active, inactive = select_accounts(accounts, exclude)
    return [a.account_id for a in active], inactive


def select_accounts(
    accounts: Iterable[OrgAccount], exclude: Iterable[str] = ()
) -> tuple[list[OrgAccount], list[OrgAccount]]:
    excluded = set(exclude)
    active, inactive = [], []
    for a in accounts:
        if a.account_id in excluded:
            continue
        (active if a.state == "ACTIVE" else inactive).append(a)
    return active, inactive
