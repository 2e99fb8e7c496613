from ..model import Category
from ._network import Found, awsvpc_deployments, container_ports, open_rules, rule_evidence, security_groups
from .base import NETWORK_FIELDS, PORT_FIELDS, Target, TraitSpec, conclude

ID = "open-security-group"


def detect(target: Target):
    found = Found()
    group_ids: list[str] = []
    for d in awsvpc_deployments(target, found):
        assert d.network is not None
        group_ids.extend(g for g in d.network.security_groups if g not in group_ids)
    ports = container_ports(target)
    for group in security_groups(target, group_ids, found):
        for rule in open_rules(group):
            found.evidence.append(rule_evidence(group, rule, ports))
    return conclude(ID, found.evidence, found.unknown)


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Security group open to the internet",
    phrase="a security group open to the internet",
    contextual=False,
    description=(
        "A security group of the service's tasks has an ingress rule from `0.0.0.0/0` or `::/0`. "
        "The evidence says which protocol and ports, and whether they cover a container port."
    ),
    remediation=(
        "Replace the `0.0.0.0/0` / `::/0` rule with the load balancer's security group or the "
        "CIDRs that need access."
    ),
    detect=detect,
    reads=NETWORK_FIELDS | PORT_FIELDS,
)
