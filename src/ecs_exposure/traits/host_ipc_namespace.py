from ..model import Category, Evidence, TaskDefinition
from .base import Target, TraitSpec, over_revisions

ID = "host-ipc-namespace"


def _check(td: TaskDefinition) -> list[Evidence]:
    if (td.ipc_mode or "").lower() != "host":
        return []
    return [
        Evidence(
            "task shares the host's IPC namespace (ipcMode: host)",
            (("ipcMode", "host"),),
            td.label,
            td.loc.child("ipcMode"),
        )
    ]


def detect(target: Target):
    return over_revisions(target, ID, _check, fields=("ipcMode",))


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Host IPC namespace",
    phrase="the host's IPC namespace",
    contextual=False,
    description=(
        "With `ipcMode: host` the containers share shared memory, semaphores and message queues "
        "with the host and its other processes, which can leak or corrupt their data."
    ),
    remediation=(
        "Register a new revision without `ipcMode` (or with `task` / `none`), then update the service."
    ),
    detect=detect,
    reads=frozenset({"TaskDefinition.ipc_mode"}),
)
