from ..model import Category, Evidence, TraitHit, TraitUnknown
from .base import Target, TraitSpec, describe_unresolved

ID = "ecs-exec-enabled"
ID_FIELD = "enableExecuteCommand"


def detect(target: Target):
    svc = target.service
    if svc is None:
        return TraitUnknown(ID, "no service: enableExecuteCommand is a service setting")
    if not svc.enable_execute_command:
        open_ = [describe_unresolved(f"service {svc.name}", u) for u in svc.unresolved if u.field == ID_FIELD]
        return TraitUnknown(ID, "; ".join(open_)) if open_ else None
    return TraitHit(
        ID,
        (
            Evidence(
                "ECS Exec is enabled on the service",
                (("enableExecuteCommand", True),),
                None,
                svc.loc.child("enableExecuteCommand"),
            ),
        ),
    )


TRAIT = TraitSpec(
    id=ID,
    category=Category.REACHABILITY,
    title="ECS Exec enabled",
    phrase="ECS Exec enabled",
    contextual=True,
    description=(
        "`enableExecuteCommand` is true: anyone allowed `ecs:ExecuteCommand` on the cluster gets an "
        "interactive shell in the task, with the task role's credentials."
    ),
    remediation=(
        "Disable it (`update-service --disable-execute-command`) outside debugging sessions, and "
        "restrict `ecs:ExecuteCommand` with conditions on cluster and container."
    ),
    detect=detect,
    reads=frozenset({"Service.enable_execute_command"}),
)
