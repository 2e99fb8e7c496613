from ..model import Category
from ._secrets import outside_evidence, qualify_credentials
from .base import Target, TraitSpec, over_revisions

ID = "credentials-outside-environment"


def detect(target: Target):
    return over_revisions(target, ID, lambda td: target.cached(ID, td, outside_evidence), qualify_credentials)


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
