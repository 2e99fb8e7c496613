"""Remediation plans as Markdown, for a pull request: each finding's changes with their safety and
reversibility, before and after, the permissions they need, the manual steps and the AWS calls
``--apply`` makes. Plans name secrets and
variables, never credential values (see :mod:`ecs_exposure.remediation`)."""

from __future__ import annotations

import re
from typing import Any

import orjson
from markupsafe import Markup

from ..remediation import Plan
from ..remediation.commands import manual_commands, step_commands
from ..remediation.plan import shown
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
        orjson.dumps(shown(v), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode(),
        keep_newlines=True,
    )


def _commands(plan: Plan) -> str:
    """The plan's AWS CLI calls as ``fix -f commands`` writes them (values read at run time, never
    printed), each under its label, then the manual steps' commands."""
    lines: list[str] = []
    for step in plan.steps:
        held = f"  (only with {step.requires})" if step.requires else ""
        lines.append(f"# {step.label}{held}")
        lines += step_commands(plan, step)
    for m in plan.manual:
        lines += manual_commands(plan, m)
    return printable("\n".join(lines), keep_newlines=True)


def render(plans: list[Plan], **_: Any) -> str:
    return (
        environment()
        .get_template("plans.md.j2")
        .render(
            plans=plans,
            safe=sum(1 for p in plans for c in p.changes if c.safety == "safe"),
            review=sum(1 for p in plans for c in p.changes if c.safety != "safe"),
            manual=sum(len(p.manual) for p in plans),
            fence=_fence,
            commands=_commands,
            value=_value,
        )
    )
