"""Is a policy document a valid IAM policy? AWS's policy grammar
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html) and the checks
IAM applies when a policy is stored (``MalformedPolicyDocument``).

AWS refuses an invalid document, so one found in the inputs was never evaluated by AWS as written
(a hand-edited snapshot, a template that would not deploy, a collection error): its role's
permissions cannot be decided, and the traits that depend on them are *unknown*, never absent.
"""

from __future__ import annotations

from collections.abc import Mapping

VERSIONS = ("2012-10-17", "2008-10-17")
TOP = frozenset({"Version", "Id", "Statement"})
IDENTITY = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"})
TRUST = frozenset({"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Condition"})
PRINCIPAL_KEYS = frozenset({"AWS", "Federated", "Service", "CanonicalUser"})
PARTITIONS = frozenset(
    {"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}
)
_VENDOR = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")


def document_problems(document: object, kind: str = "identity") -> list[str]:
    """What makes ``document`` (the policy as JSON: an object) invalid; [] when it is valid.
    ``kind`` is ``identity`` (identity policies and permissions boundaries) or ``trust``."""
    if isinstance(document, str):
        return ["the policy document is missing" if not document else "the policy document is not valid JSON"]
    if not isinstance(document, Mapping):
        return ["the policy document is not a JSON object"]
    problems = [f"unknown top-level element {k!r}" for k in document if k not in TOP]
    version = document.get("Version")
    if "Version" in document and version not in VERSIONS:
        problems.append(f"Version must be {' or '.join(VERSIONS)}")
    if "Id" in document and not isinstance(document["Id"], str):
        problems.append("Id must be a string")
    if "Statement" not in document:
        return [*problems, "no Statement"]
    stmts = document["Statement"]
    if isinstance(stmts, Mapping):
        stmts = [stmts]
    if not isinstance(stmts, list):
        return [*problems, "Statement must be an object or a list of objects"]
    for i, s in enumerate(stmts):
        problems.extend(f"statement {i}: {p}" for p in statement_problems(s, kind))
    return problems


def statement_problems(s: object, kind: str = "identity") -> list[str]:
    if not isinstance(s, Mapping):
        return ["a statement must be a JSON object"]
    allowed = TRUST if kind == "trust" else IDENTITY
    problems = []
    for k in s:
        if k not in allowed:
            if kind != "trust" and k in ("Principal", "NotPrincipal"):
                problems.append(f"{k} is not allowed in an identity policy")
            elif kind == "trust" and k in ("Resource", "NotResource"):
                problems.append(f"{k} is not allowed in a trust policy")
            else:
                problems.append(f"unknown element {k!r}")
    if "Sid" in s and not isinstance(s["Sid"], str):
        problems.append("Sid must be a string")
    if "Effect" not in s:
        problems.append("no Effect")
    elif s["Effect"] not in ("Allow", "Deny"):
        problems.append('Effect must be exactly "Allow" or "Deny" (case-sensitive)')
    problems += _exactly_one(s, "Action", "NotAction", _action_problems)
    if kind == "trust":
        problems += _exactly_one(s, "Principal", "NotPrincipal", _principal_problems)
    else:
        problems += _exactly_one(s, "Resource", "NotResource", _resource_problems)
    if "Condition" in s:
        problems += _condition_problems(s["Condition"])
    return problems


def _exactly_one(s: Mapping[str, object], a: str, b: str, check) -> list[str]:  # type: ignore[no-untyped-def]
    if a in s and b in s:
        return [f"both {a} and {b}"]
    if a not in s and b not in s:
        return [f"neither {a} nor {b}"]
    key = a if a in s else b
    return [f"{key}: {p}" for p in check(s[key])]


def _strings(value: object) -> tuple[list[str], list[str]]:
    """The strings of a string-or-list element, and what is wrong with its shape."""
    if isinstance(value, str):
        return [value], []
    if isinstance(value, list):
        if not value:
            return [], ["must not be an empty list"]
        if not all(isinstance(v, str) for v in value):
            return [], ["must hold only strings"]
        return list(value), []
    return [], ["must be a string or a list of strings"]


def _action_problems(value: object) -> list[str]:
    actions, problems = _strings(value)
    for a in actions:
        if a == "*":
            continue
        parts = a.split(":")
        if len(parts) == 1:
            problems.append(f"{a!r} has no service prefix")
        elif len(parts) > 2:
            problems.append(f"{a!r} has more than one colon")
        elif not parts[0] or (parts[0] != "*" and not set(parts[0]) <= _VENDOR) or not parts[1]:
            problems.append(f"{a!r} is not service:action")
    return problems


def _resource_problems(value: object) -> list[str]:
    resources, problems = _strings(value)
    for r in resources:
        if r == "*":
            continue
        parts = r.split(":")
        if parts[0] != "arn" or len(parts) < 3:
            problems.append(f'{r!r} must be in ARN format or "*"')
        elif parts[1] != "*" and parts[1].lower() not in PARTITIONS and "${" not in parts[1]:
            problems.append(f"{r!r}: unknown partition {parts[1]!r}")
        elif not parts[2] or "*" in parts[2] or "?" in parts[2]:
            problems.append(f"{r!r}: the service part must be named exactly, without wildcards")
        elif len(parts) < 6 and not r.endswith("*"):
            problems.append(f"{r!r} has fewer than the six parts of an ARN")
    return problems


def _principal_problems(value: object) -> list[str]:
    if value == "*":
        return []
    if not isinstance(value, Mapping) or not value:
        return ['must be "*" or an object of principal types']
    problems = []
    for k, v in value.items():
        if k not in PRINCIPAL_KEYS:
            problems.append(f"unknown principal type {k!r}")
        else:
            problems += [f"{k}: {p}" for p in _strings(v)[1]]
    return problems


def _condition_problems(value: object) -> list[str]:
    if not isinstance(value, Mapping):
        return ["Condition must be an object"]
    problems = []
    for op, block in value.items():
        if not isinstance(block, Mapping):
            problems.append(f"Condition {op}: must be an object of condition keys")
            continue
        for key, v in block.items():
            values = v if isinstance(v, list) else [v]
            if not all(isinstance(x, str | int | float | bool) for x in values):
                problems.append(f"Condition {op} {key}: values must be strings, numbers or booleans")
    return problems
