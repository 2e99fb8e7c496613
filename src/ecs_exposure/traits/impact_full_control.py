from ..iam import Permissions
from ..model import Category
from ._impact import impact_detect
from .base import ROLE_FIELDS, TraitSpec

ID = "impact-full-control"


def _full(p: Permissions) -> list[str] | None:
    return ["*"] if p.every == p.cat.all else None


TRAIT = TraitSpec(
    id=ID,
    category=Category.IMPACT,
    title="Full control of the account",
    phrase="a task role with full control of the account",
    contextual=False,
    description=(
        "The task role may effectively perform every IAM action on every resource of the account, "
        "unconditionally (after Denies and any permissions boundary, resource by resource: a Deny "
        "on S3's ARNs, or an Allow on S3's ARNs only, is not full control). An intruder in the task "
        "owns the account."
    ),
    remediation="Replace the role's policies with the actions and resources the service needs.",
    detect=impact_detect(ID, _full),
    reads=ROLE_FIELDS,
)
