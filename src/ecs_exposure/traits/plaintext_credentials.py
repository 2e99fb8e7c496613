from ..model import Category
from ._secrets import environment_evidence, qualify_credentials
from .base import Target, TraitSpec, over_revisions

ID = "plaintext-credentials"


def detect(target: Target):
    return over_revisions(
        target, ID, lambda td: target.cached(ID, td, environment_evidence), qualify_credentials
    )


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Plaintext credentials in environment",
    phrase="plaintext credentials",
    contextual=False,
    description=(
        "A container `environment` entry holds a credential (AWS keys, private keys, tokens, "
        "passwords, URLs and connection strings with passwords). Anyone with "
        "`ecs:DescribeTaskDefinition` reads it, and it stays in every revision forever. AWS access "
        "keys raise likelihood to High; a well-known default password (listed in docs/credentials.md) "
        "is qualified `weak-default`: anyone can guess it without reading the task definition. "
        "Evidence shows the variable's name, the rule and a keyed fingerprint (HMAC-SHA-256) of the "
        "value, never the value."
    ),
    remediation=(
        "Store the value in Secrets Manager or SSM Parameter Store, replace the `environment` entry "
        "with a `secrets` entry whose `valueFrom` is the secret's ARN, grant the execution role "
        "`secretsmanager:GetSecretValue` on it, register a new revision, and rotate the credential "
        "(a `weak-default` one to a strong random value: moving a guessable value does not protect it)."
    ),
    detect=detect,
    reads=frozenset({"TaskDefinition.containers", "Container.environment"}),
)
