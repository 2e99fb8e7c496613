from ..model import Category, Evidence, TaskDefinition
from ._secrets import outside_evidence, qualify_credentials
from .base import Target, TraitSpec, over_revisions

ID = "credentials-outside-environment"
_FIELDS = ("command", "entryPoint", "dockerLabels")


def secret_inputs(td: TaskDefinition) -> list[Evidence]:
    """A value the input declares secret (a NoEcho parameter, a secret reference) written into a
    command, entry point or label: the deployed task definition holds it in plaintext."""
    return [
        Evidence(
            f"container {u.container}: {u.field} holds a secret input ({u.reason}): the deployed task "
            "definition holds it in plaintext",
            (("container", u.container), ("field", u.field), ("rule", "secret-input"), ("cloud", False)),
            td.label,
            u.loc,
        )
        for u in td.unresolved
        if u.sensitive and u.field in _FIELDS
    ]


def _check(target: Target, td: TaskDefinition) -> list[Evidence]:
    found = target.cached(ID, td, outside_evidence)
    return found + secret_inputs(td) if td.unresolved else found


def detect(target: Target):
    return over_revisions(target, ID, lambda td: _check(target, td), qualify_credentials)


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Credentials outside the environment",
    phrase="credentials in its command, labels or secret references",
    contextual=False,
    description=(
        "A credential in `command`, `entryPoint` (`--password=…`, `TOKEN=… ./run`, a key or token "
        "shape), `dockerLabels`, or a `secrets[].valueFrom` that is a literal value instead of an "
        "ARN or parameter name. Peers that look only at `environment` miss these."
    ),
    remediation=(
        "Move the value to Secrets Manager or SSM Parameter Store and pass it with `secrets`; read it "
        "from the environment in the command instead of writing it there; rotate it."
    ),
    detect=detect,
    reads=frozenset(
        {
            "TaskDefinition.containers",
            "Container.command",
            "Container.entry_point",
            "Container.docker_labels",
            "Container.secrets",
        }
    ),
)
