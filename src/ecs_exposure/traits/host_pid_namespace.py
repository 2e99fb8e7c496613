from ..model import Category, Evidence, TaskDefinition
from .base import Target, TraitSpec, over_revisions

ID = "host-pid-namespace"


def _check(td: TaskDefinition) -> list[Evidence]:
    if (td.pid_mode or "").lower() != "host":
        return []
    return [
        Evidence(
            "task shares the host's process namespace (pidMode: host)",
            (("pidMode", "host"),),
            td.label,
            td.loc.child("pidMode"),
        )
    ]


def detect(target: Target):
    return over_revisions(target, ID, _check, fields=("pidMode",))


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Host PID namespace",
    phrase="the host's process namespace",
    contextual=False,
    description=(
        "With `pidMode: host` the containers see every process of the container instance and can "
        "signal or (with ptrace) inspect them: a step towards escaping to the host."
    ),
    remediation="Register a new revision without `pidMode` (or with `task`), then update the service.",
    detect=detect,
    reads=frozenset({"TaskDefinition.pid_mode"}),
)
