"""The value model every input language resolves to: plain JSON-like values, with :class:`Unknown`
where the input does not fix a value, and :data:`NO_VALUE` where it removes one.

A language module (CloudFormation, Terraform …) resolves its references into these values; the
shared mapping (:mod:`.mapping`) turns them into the inventory and each :class:`Unknown` into an
``Unresolved`` record the detectors read, so that what cannot be resolved is *unknown*, never absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Value = Any  # str | int | float | bool | None | list | dict | Unknown


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value set only at deploy time: a parameter without default, a cross-stack import, an SSM
    parameter, a module input, a template placeholder … ``text`` stands in for it where a string is
    needed (an ARN, an image name) and is never a credential: it is ``<…>`` or ``${…}`` shaped."""

    reason: str  # "parameter DbPassword has no default"
    text: str  # "<parameter DbPassword>"
    sensitive: bool = False  # the input declares it secret (NoEcho, sensitive = true, a secret reference)

    def __str__(self) -> str:
        return self.text


class _NoValue:
    """CloudFormation's ``AWS::NoValue`` (or Terraform's ``null``): the property is removed."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()


def is_unknown(value: Value) -> bool:
    return type(value) is Unknown


def text_of(value: Value) -> str | None:
    """A string for an identifier-like field: the value, the placeholder of an unknown, None otherwise."""
    if isinstance(value, str):
        return value
    if type(value) is Unknown:
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def concat(parts: Iterable[Value], sep: str = "") -> str | Unknown:
    """Join string parts; one unknown part makes the whole an :class:`Unknown` whose text keeps the
    known parts (``arn:aws:iam::<AWS::AccountId>:role/app`` still names the role)."""
    texts: list[str] = []
    reasons: list[str] = []
    sensitive = False
    for p in parts:
        if type(p) is Unknown:
            texts.append(p.text)
            if p.reason not in reasons:
                reasons.append(p.reason)
            sensitive |= p.sensitive
        else:
            t = text_of(p)
            texts.append("" if t is None else t)
    joined = sep.join(texts)
    if reasons:
        return Unknown("; ".join(reasons), joined, sensitive)
    return joined


def first_unknown(value: Value) -> Unknown | None:
    """The first unknown anywhere inside a value (for a whole object that must be known)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is Unknown:
            return v
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return None


def plain(value: Value) -> Any:
    """JSON-ready copy: unknowns become their placeholder text, removed values disappear (for IAM
    policy documents, which the evaluator reads as JSON)."""
    if type(value) is Unknown:
        return value.text
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not NO_VALUE}
    if isinstance(value, list):
        return [plain(v) for v in value if v is not NO_VALUE]
    return value
