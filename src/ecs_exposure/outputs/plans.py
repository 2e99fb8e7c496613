"""Remediation plans as text (a readable diff of each change) or JSON. No credential value ever
appears: a plan names variables and secrets, never values."""

from __future__ import annotations

from typing import Any

import orjson

from ..remediation import Plan
from ..remediation.plan import shown

SCHEMA = "ecs-exposure/plans@2"


def _value(v: Any) -> str:
    if v is None:
        return "(none)"
    return orjson.dumps(shown(v)).decode()


def _mark(c: Any) -> str:
    parts = ["change", c.safety, "reversible" if c.reversible else "IRREVERSIBLE"]
    if c.requires:
        parts.append(f"only with {c.requires}")
    return " · ".join(parts)


def render_text(plans: list[Plan], traits: set[str] | None = None) -> str:
    if not plans:
        if traits:
            return f"Nothing to fix: no finding has {', '.join(sorted(traits))}.\n"
        return "Nothing to fix: no findings.\n"
    out = []
    for p in plans:
        where = f" [{p.controller} deployment controller]" if p.controller and p.controller != "ECS" else ""
        out.append(f"== {p.resource_type.split('::')[-1]} {p.resource}{where} (finding {p.finding_id})")
        for ch in p.changes:
            out.append(f"  [{_mark(ch)}] {ch.trait}: {ch.target}: {ch.action}")
            if ch.before is not None or ch.after is not None:
                out.append(f"      - {_value(ch.before)}")
                out.append(f"      + {_value(ch.after)}")
            if not ch.reversible and ch.why_irreversible:
                out.append(f"      irreversible: {ch.why_irreversible}")
            if ch.permissions:
                out.append(f"      needs: {', '.join(ch.permissions)}")
            for effect in ch.side_effects:
                out.append(f"      check: {effect}")
        for m in p.manual:
            out.append(f"  [manual] {m.trait}: {m.what}")
            out.append(f"      why not automatic: {m.why}")
            out.extend(f"      $ {c}" for c in m.commands)
        for note in p.notes:
            out.append(f"  note: {note}")
        if p.steps:
            out.append(f"  {len(p.steps)} AWS call(s) with --apply (see them with -f commands)")
        out.append("")
    return "\n".join(out)


def render_json(plans: list[Plan]) -> bytes:
    data = [
        {
            "finding_id": p.finding_id,
            "resource": p.resource,
            "resource_type": p.resource_type,
            "account": p.account,
            "region": p.region,
            "deployment_controller": p.controller,
            "traits": list(p.traits),
            "new_revision": p.new_revision is not None,
            "changes": [
                {
                    "trait": c.trait,
                    "target": c.target,
                    "action": c.action,
                    "before": shown(c.before),
                    "after": shown(c.after),
                    "safety": c.safety,
                    "reversible": c.reversible,
                    "why_irreversible": c.why_irreversible or None,
                    "requires": c.requires,
                    "effective": c.effective,
                    "permissions": list(c.permissions),
                    "side_effects": list(c.side_effects),
                }
                for c in p.changes
            ],
            "manual": [
                {"trait": m.trait, "what": m.what, "why": m.why, "commands": list(m.commands)}
                for m in p.manual
            ],
            "steps": [
                {
                    "id": s.id,
                    "call": f"{s.service}:{s.op}",
                    "what": s.label,
                    "reversible": s.reversible,
                    "requires": s.requires,
                }
                for s in p.steps
            ],
            "notes": p.notes,
        }
        for p in plans
    ]
    return orjson.dumps(
        {"schema": SCHEMA, "plans": data}, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    )
