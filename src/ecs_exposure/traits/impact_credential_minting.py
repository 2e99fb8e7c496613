from ..model import Category
from ._impact import Need, impact_detect
from .base import ROLE_FIELDS, TraitSpec

ID = "impact-credential-minting"

TRAIT = TraitSpec(
    id=ID,
    category=Category.IMPACT,
    title="Credential minting",
    phrase="a task role that can mint credentials",
    contextual=False,
    description=(
        "The task role can create long-lived credentials for other principals "
        "(`iam:CreateAccessKey`, `iam:CreateLoginProfile`, `iam:UpdateLoginProfile`) or assume any "
        "role (`sts:AssumeRole` on every resource): access that survives the task. High impact."
    ),
    remediation="Remove these actions, or scope `sts:AssumeRole` to the roles the service must assume.",
    detect=impact_detect(
        ID,
        [
            [Need(("iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"))],
            [Need(("sts:AssumeRole",), broad=True)],
        ],
    ),
    reads=ROLE_FIELDS,
)
