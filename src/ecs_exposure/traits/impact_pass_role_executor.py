from ..model import Category
from ._impact import Need, impact_detect
from .base import ROLE_FIELDS, TraitSpec

ID = "impact-pass-role-executor"
EXECUTORS = (
    "ecs:RunTask",
    "ecs:StartTask",
    "ecs:RegisterTaskDefinition",
    "lambda:CreateFunction",
    "ec2:RunInstances",
    "glue:CreateJob",
    "glue:CreateDevEndpoint",
    "cloudformation:CreateStack",
    "cloudformation:UpdateStack",
    "codebuild:CreateProject",
    "sagemaker:CreateNotebookInstance",
    "sagemaker:CreateTrainingJob",
    "datapipeline:CreatePipeline",
    "states:CreateStateMachine",
)

TRAIT = TraitSpec(
    id=ID,
    category=Category.IMPACT,
    title="Pass role to a new workload",
    phrase="a task role that can pass roles to new workloads",
    contextual=False,
    description=(
        "The task role has `iam:PassRole` together with an action that starts compute with a role "
        "(`ecs:RunTask`, `ecs:RegisterTaskDefinition`, `lambda:CreateFunction`, `ec2:RunInstances`, "
        "`glue:CreateJob`, `cloudformation:CreateStack` …): an intruder runs code as any role it can "
        "pass."
    ),
    remediation="Scope `iam:PassRole` to the exact roles needed, with an `iam:PassedToService` condition.",
    detect=impact_detect(ID, [[Need(("iam:PassRole",)), Need(EXECUTORS)]]),
    reads=ROLE_FIELDS,
)
