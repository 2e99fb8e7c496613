"""Credential evidence shared by the three credential traits. Evidence carries the variable's name,
the rule and a fingerprint of the value: never the value."""

from __future__ import annotations

from ..credentials import environment_matches, literal_secret_reference, text_matches
from ..model import Evidence, TaskDefinition, fingerprint
from .base import evidence_fact


def environment_evidence(td: TaskDefinition) -> list[Evidence]:
    out = []
    for c in td.containers:
        if not c.environment:
            continue
        for env, match in environment_matches(c.environment):
            out.append(
                Evidence(
                    f"container {c.name}: environment variable {env.name} is a plaintext credential "
                    f"({match.description})",
                    (
                        ("container", c.name),
                        ("variable", env.name),
                        ("rule", match.rule),
                        ("fingerprint", env.value.fingerprint),
                        ("cloud", match.cloud),
                    ),
                    td.label,
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
                        Evidence(
                            f"container {c.name}: {what}{field}[{i}] holds a credential "
                            f"({match.description})",
                            (
                                ("container", c.name),
                                ("field", f"{field}[{i}]"),
                                ("variable", name),
                                ("rule", match.rule),
                                ("fingerprint", fingerprint(text)),
                                ("cloud", match.cloud),
                            ),
                            td.label,
                            c.loc.child(field, i),
                        )
                    )
        for key, value in c.docker_labels:
            for name, text, match in text_matches(f"{key}={value}"):
                out.append(
                    Evidence(
                        f"container {c.name}: docker label {key} holds a credential ({match.description})",
                        (
                            ("container", c.name),
                            ("field", "dockerLabels"),
                            ("variable", name or key),
                            ("rule", match.rule),
                            ("fingerprint", fingerprint(text)),
                            ("cloud", match.cloud),
                        ),
                        td.label,
                        c.loc.child("dockerLabels", key),
                    )
                )
        for s in c.secrets:
            found = literal_secret_reference(s.value_from)
            if found is not None:
                out.append(
                    Evidence(
                        f"container {c.name}: secret {s.name} has a literal valueFrom ({found.description})",
                        (
                            ("container", c.name),
                            ("field", "secrets"),
                            ("variable", s.name),
                            ("rule", found.rule),
                            ("fingerprint", fingerprint(s.value_from)),
                            ("cloud", found.cloud),
                        ),
                        td.label,
                        c.loc.child("secrets", s.index, "valueFrom"),
                    )
                )
    return out


def qualify_cloud(evidence: list[Evidence]) -> frozenset[str]:
    return frozenset({"cloud"}) if any(evidence_fact(e, "cloud") for e in evidence) else frozenset()
