from ..model import Category, Evidence, TaskDefinition
from .base import Target, TraitSpec, over_revisions

ID = "assumable-task-role"


def detect(target: Target):
    account = target.account

    def check(td: TaskDefinition) -> list[Evidence]:
        if not td.task_role_arn:
            return []
        summary = f"tasks can use the credentials of role {td.task_role_arn}"
        facts: list = [("role", td.task_role_arn)]
        role = account.role(td.task_role_arn) if account is not None else None
        if role is not None:
            names = [a.rsplit("/", 1)[-1] for a in role.attached_policy_arns] + [
                p.name for p in role.inline_policies
            ]
            facts.append(("policies", tuple(names)))
            summary += f" ({', '.join(names) or 'no policies'})"
        return [Evidence(summary, tuple(facts), td.label, td.loc.child("taskRoleArn"))]

    return over_revisions(target, ID, check, fields=("taskRoleArn",))


TRAIT = TraitSpec(
    id=ID,
    category=Category.ASSUMABILITY,
    title="Assumable task role",
    phrase="an assumable task role",
    contextual=True,
    description=(
        "The task definition has a `taskRoleArn`: code in the task (or an intruder in it) gets that "
        "role's credentials from the container credentials endpoint. Contextual: what the role can "
        "do is reported by `admin-access-role` and `service-admin-role`."
    ),
    remediation="Give each service its own role with only the actions and resources it needs.",
    detect=detect,
)
