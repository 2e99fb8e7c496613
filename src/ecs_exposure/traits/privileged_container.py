from ..model import Category, Evidence, TaskDefinition
from .base import Target, TraitSpec, over_revisions

ID = "privileged-container"


def _check(td: TaskDefinition) -> list[Evidence]:
    return [
        Evidence(
            f"container {c.name} runs privileged",
            (("container", c.name),),
            td.label,
            c.loc.child("privileged"),
        )
        for c in td.containers
        if c.privileged
    ]


def detect(target: Target):
    return over_revisions(target, ID, _check, fields=("privileged",))


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Privileged container",
    phrase="a privileged container",
    contextual=False,
    description=(
        "A container with `privileged: true` has every Linux capability and access to all host "
        "devices: code running in it can take over the container instance (EC2 launch type)."
    ),
    remediation=(
        "Register a new revision without `privileged` (grant only the specific capability the "
        "container needs in `linuxParameters.capabilities.add`), then update the service."
    ),
    detect=detect,
    reads=frozenset({"TaskDefinition.containers", "Container.privileged"}),
)
