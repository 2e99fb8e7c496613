"""Credential evidence shared by the three credential traits. Evidence carries the variable's name,
the rule, whether the value is a guessable default, and a keyed fingerprint of the value with the
id of its key: never the value."""

from __future__ import annotations

from ..credentials import (
    WEAK_DEFAULT,
    Match,
    environment_matches,
    literal_secret_reference,
    text_matches,
)
from ..fingerprint import key_id
from ..model import Evidence, Loc, TaskDefinition, fingerprint
from .base import evidence_fact


def _what(match: Match) -> str:
    """The parenthesised end of a summary: the rule, and the weak-default qualifier."""
    if match.weak_default:
        return f"({match.description}; {WEAK_DEFAULT}: a well-known value anyone can guess)"
    return f"({match.description})"


def _evidence(
    summary: str,
    where: tuple[tuple[str, str | None], ...],
    match: Match,
    print_: str,
    td: TaskDefinition,
    loc: Loc,
) -> Evidence:
    return Evidence(
        summary,
        (
            *where,
            ("rule", match.rule),
            ("fingerprint", print_),
            ("fingerprintKey", key_id()),
            ("cloud", match.cloud),
            ("weakDefault", match.weak_default),
        ),
        td.label,
        loc,
    )


def environment_evidence(td: TaskDefinition) -> list[Evidence]:
    out = []
    for c in td.containers:
        if not c.environment:
            continue
        for env, match in environment_matches(c.environment):
            out.append(
                _evidence(
                    f"container {c.name}: environment variable {env.name} is a plaintext credential "
                    + _what(match),
                    (("container", c.name), ("variable", env.name)),
                    match,
                    env.value.fingerprint,
                    td,
                    c.loc.child("environment", env.index),
                )
            )
    return out


def outside_evidence(td: TaskDefinition) -> list[Evidence]:
    out = []
    for c in td.containers:
        for field, items in (("command", c.command), ("entryPoint", c.entry_point)):
            for i, arg in enumerate(items):
                for name, text, match in text_matches(arg):
                    what = f"{name} in " if name else ""
                    out.append(
                        _evidence(
                            f"container {c.name}: {what}{field}[{i}] holds a credential " + _what(match),
                            (("container", c.name), ("field", f"{field}[{i}]"), ("variable", name)),
                            match,
                            fingerprint(text),
                            td,
                            c.loc.child(field, i),
                        )
                    )
        for key, value in c.docker_labels:
            for name, text, match in text_matches(f"{key}={value}"):
                out.append(
                    _evidence(
                        f"container {c.name}: docker label {key} holds a credential " + _what(match),
                        (("container", c.name), ("field", "dockerLabels"), ("variable", name or key)),
                        match,
                        fingerprint(text),
                        td,
                        c.loc.child("dockerLabels", key),
                    )
                )
        for s in c.secrets:
            found = literal_secret_reference(s.value_from)
            if found is not None:
                out.append(
                    _evidence(
                        f"container {c.name}: secret {s.name} has a literal valueFrom " + _what(found),
                        (("container", c.name), ("field", "secrets"), ("variable", s.name)),
                        found,
                        fingerprint(s.value_from),
                        td,
                        c.loc.child("secrets", s.index, "valueFrom"),
                    )
                )
    return out


def qualify_credentials(evidence: list[Evidence]) -> frozenset[str]:
    """``cloud`` when any credential is an AWS one (raises likelihood), ``weak-default`` when any
    is a guessable default (named in the rating explanation)."""
    out = set()
    if any(evidence_fact(e, "cloud") for e in evidence):
        out.add("cloud")
    if any(evidence_fact(e, "weakDefault") for e in evidence):
        out.add(WEAK_DEFAULT)
    return frozenset(out)
