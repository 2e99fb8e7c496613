"""Remediation plans as text (a readable diff of each change) or JSON. No credential value ever
appears: a plan names variables and secrets, never values."""

from __future__ import annotations

from typing import Any

import orjson

from ..remediation import Plan

MARK = {"safe": "safe        ", "needs-review": "needs-review"}


def _value(v: Any) -> str:
    if v is None:
        return "(none)"
    return orjson.dumps(v).decode()


def render_text(plans: list[Plan]) -> str:
    if not plans:
        return "Nothing to fix.\n"
    out = []
    for p in plans:
        out.append(f"== {p.resource_type.split('::')[-1]} {p.resource} (finding {p.finding_id})")
        for ch in p.changes:
            out.append(f"  [{MARK.get(ch.safety, ch.safety)}] {ch.trait}: {ch.target}: {ch.action}")
            if ch.before is not None or ch.after is not None:
                out.append(f"      - {_value(ch.before)}")
                out.append(f"      + {_value(ch.after)}")
            if ch.permissions:
                out.append(f"      needs: {', '.join(ch.permissions)}")
            for effect in ch.side_effects:
                out.append(f"      check: {effect}")
        for note in p.notes:
            out.append(f"  note: {note}")
        if p.commands:
            out.append("  commands:")
            out.extend(f"    {c}" for c in p.commands)
        out.append("")
    return "\n".join(out)


def render_json(plans: list[Plan]) -> bytes:
    data = [
        {
            "finding_id": p.finding_id,
            "resource": p.resource,
            "resource_type": p.resource_type,
            "new_revision": p.new_revision is not None,
            "changes": [
                {
                    "trait": c.trait,
                    "target": c.target,
                    "action": c.action,
                    "before": c.before,
                    "after": c.after,
                    "safety": c.safety,
                    "permissions": list(c.permissions),
                    "side_effects": list(c.side_effects),
                }
                for c in p.changes
            ],
            "notes": p.notes,
            "commands": p.commands,
        }
        for p in plans
    ]
    return orjson.dumps(
        {"schema": "ecs-exposure/plans@1", "plans": data},
        option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE,
    )
