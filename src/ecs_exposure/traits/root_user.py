from ..model import Category, Evidence, TaskDefinition
from .base import Target, TraitSpec, field_unreadable, over_revisions

ID = "root-user"


def runs_as_root(user: str | None) -> bool:
    if user is None or not user.strip():
        return True
    u = user.strip().lower()
    return u in ("root", "0") or u.startswith(("0:", "root:"))


def _check(td: TaskDefinition) -> list[Evidence]:
    if td.is_windows:
        return []
    # a user that could not be read is not an unset one, nor one the input leaves open: those
    # containers are left to the unknown
    open_ = {u.container for u in td.unresolved if u.field in ("user", "*")}
    root = [
        c
        for c in td.containers
        if runs_as_root(c.user) and c.name not in open_ and not field_unreadable(td, "Container.user", c.loc)
    ]
    if not root:
        return []
    described = ", ".join(f"{c.name} ({'user not set' if not c.user else repr(c.user)})" for c in root)
    return [
        Evidence(
            f"container{'s' if len(root) > 1 else ''} {described} run{'' if len(root) > 1 else 's'} as root",
            (("containers", tuple(c.name for c in root)), ("users", tuple(c.user or "" for c in root))),
            td.label,
            td.loc.child("containerDefinitions"),
        )
    ]


def detect(target: Target):
    return over_revisions(target, ID, _check, fields=("user",))


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Container runs as root",
    phrase="a container running as root",
    contextual=True,
    description=(
        "A Linux container whose `user` is unset, `root`, `0`, or starts with `0:` / `root:` runs "
        "as root (unless the image sets another user, which the task definition cannot show). "
        "Contextual: it makes escapes and host mounts worse."
    ),
    remediation="Set `user` to a non-root uid:gid that the image supports.",
    detect=detect,
    reads=frozenset({"TaskDefinition.containers", "TaskDefinition.os_family", "Container.user"}),
)
