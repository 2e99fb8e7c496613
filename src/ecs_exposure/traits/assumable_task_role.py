from dataclasses import replace

from ..iam.trust import Trust, analyse
from ..model import Category, Evidence, Role, TaskDefinition, TraitHit
from ._iam import role_home
from .base import Target, TraitSpec, over_revisions

ID = "assumable-task-role"
# qualifiers: who besides ECS tasks may assume the role (iam/trust.py); "notable" makes this
# contextual trait contribute to the rating (correlate.py)
OUTSIDE = ("public", "cross-account")


def trust_of(target: Target, role: Role) -> Trust | None:
    account = target.account
    if account is None:
        return None
    return target.remember(
        ("trust", id(account), role.arn), lambda: analyse(role.trust_policy, role_home(role.arn, account)[1])
    )


def _revision(target: Target, td: TaskDefinition) -> tuple[list[Evidence], list[str]]:
    """The evidence of one revision and what about it is unknown (once per scan: revisions and
    roles are shared by many services)."""
    if not td.task_role_arn:
        return [], []
    account = target.account
    notes: list[str] = []
    summary = f"tasks can use the credentials of role {td.task_role_arn}"
    facts: list = [("role", td.task_role_arn)]
    role = account.role(td.task_role_arn) if account is not None else None
    if role is not None:
        names = [a.rsplit("/", 1)[-1] for a in role.attached_policy_arns] + [
            p.name for p in role.inline_policies
        ]
        facts.append(("policies", tuple(names)))
        summary += f" ({', '.join(names) or 'no policies'})"
        trust = trust_of(target, role)
        if trust is None:
            notes.append(
                f"who else may assume role {role.name}: unknown (its trust policy is not in the inputs)"
            )
        elif trust.errors:
            notes.append(f"who else may assume role {role.name}: unknown ({'; '.join(trust.errors)})")
        else:
            facts.append(("trust", trust.level))
            if trust.principals:
                facts.append(("assumableBy", tuple(trust.principals)))
                facts.append(("trustConditions", tuple(trust.conditions)))
                summary += f"; its trust policy also admits {', '.join(trust.principals[:4])}" + (
                    f" (only under {', '.join(trust.conditions[:4])})" if trust.conditions else ""
                )
                if trust.outside:
                    summary += ": anyone who can assume it gets these permissions without the task"
    elif account is not None:
        notes.append(f"who else may assume role {td.task_role_arn}: unknown (the role is not in the inputs)")
    return [Evidence(summary, tuple(facts), td.label, td.loc.child("taskRoleArn"))], notes


def _qualify(evidence: list[Evidence]) -> frozenset[str]:
    outside = [f for f in (dict(e.facts) for e in evidence) if f.get("trust") in OUTSIDE]
    if not outside:
        return frozenset()
    out = {str(f["trust"]) for f in outside} | {"notable"}
    if any(f.get("trustConditions") for f in outside):
        out.add("conditional")
    return frozenset(out)


def detect(target: Target):
    """Services running the same revisions share one outcome."""
    key = (ID, *(id(td) for td in target.task_definitions), *target.missing_task_definitions)
    return target.remember(key, lambda: _detect(target))


def _detect(target: Target):
    notes: list[str] = []

    def check(td: TaskDefinition) -> list[Evidence]:
        evidence, unknown = target.cached(ID, td, lambda td: _revision(target, td))
        notes.extend(unknown)
        return evidence

    outcome = over_revisions(target, ID, check, _qualify, fields=("taskRoleArn",))
    if notes and isinstance(outcome, TraitHit):
        note = "; ".join(dict.fromkeys([*([outcome.note] if outcome.note else []), *notes]))
        outcome = replace(outcome, note=note)
    return outcome


TRAIT = TraitSpec(
    id=ID,
    category=Category.ASSUMABILITY,
    title="Assumable task role",
    phrase="a task role assumable from outside the account",
    contextual=True,
    description=(
        "The task definition has a `taskRoleArn`: code in the task (or an intruder in it) gets that "
        "role's credentials from the container credentials endpoint. Contextual: what the role can "
        "do is reported by `admin-access-role`, `service-admin-role` and the impact traits. The "
        "evidence also says who else the role's trust policy admits besides `ecs-tasks.amazonaws.com` "
        "(`trust`: `service`, `same-account`, `cross-account`, `public`; `assumableBy`, "
        "`trustConditions`). When principals outside the account may assume it (other accounts, "
        "`*`, a web identity provider) the trait is no longer contextual: it is qualified "
        "`cross-account` or `public` (anyone who learns the ARN, no restricting condition) and "
        "raises the likelihood (docs/rating.md)."
    ),
    remediation=(
        "Give each service its own role with only the actions and resources it needs; let only "
        "`ecs-tasks.amazonaws.com` assume a task role (with `aws:SourceAccount` / `aws:SourceArn` "
        "conditions), and move cross-account access to a separate role."
    ),
    detect=detect,
    reads=frozenset({"TaskDefinition.task_role_arn"}),
)
