from ..model import Category, Evidence, TaskDefinition
from .base import Target, TraitSpec, field_unreadable, over_revisions

ID = "writable-root-filesystem"


def _check(td: TaskDefinition) -> list[Evidence]:
    if td.is_windows:
        return []
    open_ = {u.container for u in td.unresolved if u.field in ("readonlyRootFilesystem", "*")}
    names = tuple(
        c.name
        for c in td.containers
        if not c.readonly_root_filesystem
        and c.name not in open_
        and not field_unreadable(td, "Container.readonly_root_filesystem", c.loc)  # unknown, not false
    )
    if not names:
        return []
    plural = "s" if len(names) > 1 else ""
    return [
        Evidence(
            f"container{plural} {', '.join(names)} ha{'ve' if plural else 's'} a writable root filesystem",
            (("containers", names),),
            td.label,
            td.loc.child("containerDefinitions"),
        )
    ]


def detect(target: Target):
    return over_revisions(target, ID, _check, fields=("readonlyRootFilesystem",))


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
    reads=frozenset(
        {"TaskDefinition.containers", "TaskDefinition.os_family", "Container.readonly_root_filesystem"}
    ),
)
