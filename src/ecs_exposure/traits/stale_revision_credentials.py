from ..model import Category, TraitUnknown
from ._secrets import environment_evidence, outside_evidence, qualify_credentials
from .base import Target, TraitSpec, conclude, problem_reasons

ID = "stale-revision-credentials"

# what the two credential traits read, here in the revisions that do not run
_CREDENTIAL_FIELDS = frozenset(
    {
        "TaskDefinition.containers",
        "Container.environment",
        "Container.command",
        "Container.entry_point",
        "Container.docker_labels",
        "Container.secrets",
    }
)


def detect(target: Target):
    if target.region is None:
        return TraitUnknown(ID, "a task definition file: there are no running or old revisions to compare")
    if target.other_revisions is None:
        return TraitUnknown(
            ID, "older revisions of the running families are not in the inputs (collect all revisions)"
        )
    evidence = [
        ev
        for td in target.other_revisions
        for ev in (
            *target.cached("plaintext-credentials", td, environment_evidence),
            *target.cached("credentials-outside-environment", td, outside_evidence),
        )
    ]
    unreadable = [
        f"unreadable input: {reason}"
        for td in target.other_revisions
        if td.problems
        for fields, reason in problem_reasons(td.problems, td.loc, td.label)
        if _CREDENTIAL_FIELDS.intersection(fields)
    ]
    return conclude(ID, evidence, unreadable, qualifiers=qualify_credentials(evidence))


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Credentials in old revisions",
    phrase="credentials left in old task definition revisions",
    contextual=False,
    description=(
        "A revision of a family the service runs, but not a running one, holds plaintext "
        "credentials. Task definitions cannot be fully deleted: anyone with "
        "`ecs:DescribeTaskDefinition` can still read them, even after the running revision was fixed."
    ),
    remediation=(
        "Rotate the credential (removing it from new revisions does not remove it from old ones), "
        "then deregister and delete the old revisions."
    ),
    detect=detect,
    reads=frozenset({"Service.deployments"}),
)
