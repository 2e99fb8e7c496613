"""Trait documentation generated from the registry (``ecs-exposure traits``)."""

from __future__ import annotations

import orjson

from .traits import registry


def traits_markdown() -> str:
    lines = [
        "| id | category | role | what it means | how to fix it |",
        "|---|---|---|---|---|",
    ]
    for spec in registry().values():
        cell = lambda text: text.replace("|", "\\|").replace("\n", " ")  # noqa: E731
        lines.append(
            f"| `{spec.id}` | {spec.category.label} | {'contextual' if spec.contextual else 'contributing'} "
            f"| **{cell(spec.title)}.** {cell(spec.description)} | {cell(spec.remediation)} |"
        )
    return "\n".join(lines) + "\n"


def traits_json() -> str:
    data = [
        {
            "id": s.id,
            "title": s.title,
            "category": s.category.label,
            "contribution": "contextual" if s.contextual else "contributing",
            "description": s.description,
            "remediation": s.remediation,
        }
        for s in registry().values()
    ]
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"


def traits_text() -> str:
    return (
        "\n".join(
            f"{s.id:34} {s.category.label:17} {'contextual' if s.contextual else 'contributing':13} {s.title}"
            for s in registry().values()
        )
        + "\n"
    )
