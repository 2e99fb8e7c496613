from ..model import Category
from ._secrets import environment_evidence, qualify_cloud
from .base import Target, TraitSpec, over_revisions

ID = "plaintext-credentials"


def detect(target: Target):
    return over_revisions(target, ID, lambda td: target.cached(ID, td, environment_evidence), qualify_cloud)


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Plaintext credentials in environment",
    phrase="plaintext credentials",
    contextual=False,
    description=(
        "A container `environment` entry holds a credential (AWS keys, private keys, tokens, "
        "passwords, URLs with passwords). Anyone with `ecs:DescribeTaskDefinition` reads it, and it "
        "stays in every revision forever. AWS access keys raise likelihood to High. Evidence shows the "
        "variable's name, the rule and a SHA-256 fingerprint of the value, never the value."
    ),
    remediation=(
        "Store the value in Secrets Manager or SSM Parameter Store, replace the `environment` entry "
        "with a `secrets` entry whose `valueFrom` is the secret's ARN, grant the execution role "
        "`secretsmanager:GetSecretValue` on it, register a new revision, and rotate the credential."
    ),
    detect=detect,
    reads=frozenset({"TaskDefinition.containers", "Container.environment"}),
)
