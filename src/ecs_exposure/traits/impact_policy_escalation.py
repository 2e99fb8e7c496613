from ..model import Category
from ._impact import Need, impact_detect
from .base import ROLE_FIELDS, TraitSpec

ID = "impact-policy-escalation"
ACTIONS = (
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:PutUserPolicy",
    "iam:AttachUserPolicy",
    "iam:PutGroupPolicy",
    "iam:AttachGroupPolicy",
    "iam:AddUserToGroup",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
)

TRAIT = TraitSpec(
    id=ID,
    category=Category.IMPACT,
    title="IAM policy escalation",
    phrase="a task role that can rewrite IAM policies",
    contextual=False,
    description=(
        "The task role can change IAM permissions (`iam:PutRolePolicy`, `iam:AttachRolePolicy`, "
        "`iam:CreatePolicyVersion`, `iam:UpdateAssumeRolePolicy` …): an intruder grants itself "
        "administrator access. High impact."
    ),
    remediation="Remove IAM write actions from the task role; manage IAM from a pipeline, not from tasks.",
    detect=impact_detect(ID, [[Need(ACTIONS)]]),
    reads=ROLE_FIELDS,
)
