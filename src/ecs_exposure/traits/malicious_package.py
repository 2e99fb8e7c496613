from ..model import Category
from ._vulns import ImageUse, vuln_detect
from .base import IMAGE_FIELDS, Target, TraitSpec

ID = "malicious-package"


def _select(target: Target, use: ImageUse):
    found = [v for v in use.vulnerabilities() if v.malicious]
    return (found, "malicious packages") if found else None


TRAIT = TraitSpec(
    id=ID,
    category=Category.VULNERABILITY,
    title="Malicious package",
    phrase="a malicious package",
    contextual=False,
    description=(
        "The scanner reports a package known to be malicious (an OSV `MAL-` advisory, directly or as an "
        "alias): the image runs an attacker's code already."
    ),
    remediation=(
        "Treat the task as compromised: stop it, rotate every credential it could read (task role, "
        "secrets, environment), remove the package and rebuild from a clean dependency lock."
    ),
    detect=vuln_detect(ID, _select),
    reads=IMAGE_FIELDS,
)
