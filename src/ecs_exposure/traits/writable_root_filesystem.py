from ..model import Category, Evidence, TaskDefinition
from .base import Target, TraitSpec, over_revisions

ID = "writable-root-filesystem"


def _check(td: TaskDefinition) -> list[Evidence]:
    if td.is_windows:
        return []
    return [
        Evidence(
            f"container {c.name} has a writable root filesystem", (("container", c.name),), td.label, c.loc
        )
        for c in td.containers
        if not c.readonly_root_filesystem
    ]


def detect(target: Target):
    return over_revisions(target, ID, _check)


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Writable root filesystem",
    phrase="a writable root filesystem",
    contextual=True,
    description=(
        "A Linux container without `readonlyRootFilesystem: true` lets an intruder drop tools and "
        "persist changes. Contextual: it raises the effect of other traits, never a finding alone."
    ),
    remediation="Set `readonlyRootFilesystem: true` and mount writable volumes only where the app writes.",
    detect=detect,
)
