"""A small estate in two versions, for suppression, baseline and history tests.

Version 1 → version 2: ``fixed`` loses its privileged container (its finding is resolved), ``raised``
gains one (MEDIUM → HIGH), ``added`` is a new service (MEDIUM), ``stable`` and ``accepted`` do not
change (``accepted`` is the one a test suppresses). The network is private, so only the task
definitions rate the findings:

| service  | v1                         | v2                                 |
|----------|----------------------------|------------------------------------|
| stable   | AWS key + privileged: CRITICAL | same                            |
| accepted | AWS key: HIGH              | same                               |
| raised   | DB password: MEDIUM        | DB password + privileged: HIGH     |
| fixed    | privileged: MEDIUM         | nothing but contextual traits      |
| added    | —                          | privileged: MEDIUM                 |
"""

from __future__ import annotations

from typing import Any

from builders import ECS, container, service, snapshot, taskdef

AWS_KEY = [
    {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
    {"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
]
DB_PASSWORD = [{"name": "DB_PASSWORD", "value": "Str0ng-but-plaintext!"}]
SECRETS = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "Str0ng-but-plaintext!")


def arn(name: str) -> str:
    return f"{ECS}:service/main/{name}"


def estate(version: int, service_tags: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """The snapshot of version 1 or 2; ``service_tags``: service name → AWS tags."""
    tds: list[dict[str, Any]] = []
    svcs: list[dict[str, Any]] = []

    def add(name: str, revision: int, **c: Any) -> None:
        tds.append(taskdef(container(**c), family=name, revision=revision))
        svc = service(name, td=f"{name}:{revision}")
        tags = (service_tags or {}).get(name)
        if tags:
            svc["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        svcs.append(svc)

    add("stable", 1, environment=AWS_KEY, privileged=True)
    add("accepted", 1, environment=AWS_KEY)
    if version == 1:
        add("raised", 1, environment=DB_PASSWORD)
        add("fixed", 1, privileged=True)
    else:
        add("raised", 2, environment=DB_PASSWORD, privileged=True)
        add("fixed", 2)
        add("added", 1, privileged=True)
    return snapshot(services=svcs, task_definitions=tds)
