from ..credentials import is_credential_name
from ..model import Category, Evidence, TaskDefinition
from ._secrets import environment_evidence, qualify_credentials
from .base import Target, TraitSpec, describe_unresolved, over_revisions

ID = "plaintext-credentials"


def secret_inputs(td: TaskDefinition) -> list[Evidence]:
    """Environment values the input declares secret but leaves open (a ``NoEcho`` parameter without
    default, a Secrets Manager dynamic reference): whatever they are, the deployed task definition
    holds them in plaintext."""
    return [
        Evidence(
            f"container {u.container}: environment variable {u.key} is set from a secret input "
            f"({u.reason}): the deployed task definition holds it in plaintext",
            (("container", u.container), ("variable", u.key), ("rule", "secret-input"), ("cloud", False)),
            td.label,
            u.loc,
        )
        for u in td.unresolved
        if u.field == "environment" and u.sensitive
    ]


def open_credentials(td: TaskDefinition) -> list[str]:
    """Credential-named variables whose value the input leaves open: unknown, not absent."""
    return [
        describe_unresolved(td.label, u)
        for u in td.unresolved
        if u.field == "environment" and not u.sensitive and u.key and is_credential_name(u.key)
    ]


def _check(target: Target, td: TaskDefinition) -> list[Evidence]:
    found = target.cached(ID, td, environment_evidence)
    return found + secret_inputs(td) if td.unresolved else found


def detect(target: Target):
    return over_revisions(
        target, ID, lambda td: _check(target, td), qualify_credentials, fields=open_credentials
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
