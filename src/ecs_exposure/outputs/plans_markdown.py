"""Remediation plans as Markdown, for a pull request: each finding's changes with their safety,
before and after, the permissions they need and the AWS CLI commands. Plans name secrets and
variables, never credential values (see :mod:`ecs_exposure.remediation`)."""

from __future__ import annotations

import re
from typing import Any

import orjson
from markupsafe import Markup

from ..remediation import Plan
from ._common import printable
from ._templates import environment


def _fence(text: str, info: str = "") -> Markup:
    """A fenced code block, its fence longer than any backtick run inside ``text``: nothing inside
    can close it, and GitHub renders no HTML or Markdown in it, so it is not escaped."""
    longest = max((len(m.group()) for m in re.finditer(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markup(f"{fence}{info}\n{text}\n{fence}")


def _value(v: Any) -> str:
    if v is None:
        return "(none)"
    return printable(
        orjson.dumps(v, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode(), keep_newlines=True
    )


def render(plans: list[Plan], **_: Any) -> str:
    return (
        environment()
        .get_template("plans.md.j2")
        .render(
            plans=plans,
            safe=sum(1 for p in plans for c in p.changes if c.safety == "safe"),
            review=sum(1 for p in plans for c in p.changes if c.safety != "safe"),
            fence=_fence,
            value=_value,
        )
    )
