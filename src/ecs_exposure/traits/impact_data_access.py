from ..model import Category
from ._impact import Need, impact_detect
from .base import ROLE_FIELDS, TraitSpec

ID = "impact-data-access"
ACTIONS = (
    "s3:GetObject",
    "dynamodb:Scan",
    "dynamodb:Query",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "kms:Decrypt",
)

TRAIT = TraitSpec(
    id=ID,
    category=Category.IMPACT,
    title="Read access to all data",
    phrase="a task role that can read every data store",
    contextual=False,
    description=(
        "The task role can read data stores on every resource: all S3 objects, DynamoDB tables, "
        "Secrets Manager secrets, SSM parameters, or decrypt with any KMS key."
    ),
    remediation="Scope read actions to the buckets, tables, secrets and keys the service owns.",
    detect=impact_detect(ID, [[Need(ACTIONS, broad=True)]]),
    reads=ROLE_FIELDS,
)
