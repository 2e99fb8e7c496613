from ..model import Category, Evidence, TaskDefinition
from .base import Target, TraitSpec, over_revisions

ID = "host-network-mode"


def _check(td: TaskDefinition) -> list[Evidence]:
    if (td.network_mode or "").lower() != "host":
        return []
    return [
        Evidence(
            "task uses the host's network stack (networkMode: host)",
            (("networkMode", "host"),),
            td.label,
            td.loc.child("networkMode"),
        )
    ]


def detect(target: Target):
    return over_revisions(target, ID, _check, fields=("networkMode",))


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Host network mode",
    phrase="the host's network",
    contextual=False,
    description=(
        "With `networkMode: host` the task binds the instance's interfaces directly: it can reach "
        "services bound to localhost on the host, sniff or spoof host traffic, and bypasses task "
        "security groups."
    ),
    remediation=(
        "Register a new revision with `networkMode: awsvpc` (the service then needs a network "
        "configuration with subnets and security groups) or `bridge`, then update the service."
    ),
    detect=detect,
    reads=frozenset({"TaskDefinition.network_mode"}),
)
