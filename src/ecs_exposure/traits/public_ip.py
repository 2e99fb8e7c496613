from ..model import Category, Evidence
from ._network import Found, awsvpc_deployments
from .base import NETWORK_FIELDS, Target, TraitSpec, conclude

ID = "public-ip"


def detect(target: Target):
    found = Found()
    if target.service is not None:
        found.unresolved(f"service {target.service.name}", target.service.unresolved, "assignPublicIp")
    for d in awsvpc_deployments(target, found):
        assert d.network is not None
        if d.network.assign_public_ip:
            where = (
                "the service"
                if d.kind == "service"
                else f"{d.kind} running {d.task_definition_arn.rsplit('/', 1)[-1]}"
            )
            found.evidence.append(
                Evidence(
                    f"assignPublicIp is ENABLED on {where}",
                    (("setOn", d.kind), ("subnets", d.network.subnets)),
                    None,
                    d.network.loc.child("assignPublicIp"),
                )
            )
    return conclude(ID, found.evidence, found.unknown)


TRAIT = TraitSpec(
    id=ID,
    category=Category.MISCONFIGURATION,
    title="Public IP assigned",
    phrase="a public IP",
    contextual=False,
    description=(
        "`networkConfiguration.awsvpcConfiguration.assignPublicIp` is `ENABLED` on the service or a "
        "task set: each task gets a public address, reachable wherever its subnet routes to an "
        "internet gateway and its security groups allow."
    ),
    remediation=(
        "Set `assignPublicIp: DISABLED`; give the tasks egress through a NAT gateway or VPC "
        "endpoints, and ingress through a load balancer."
    ),
    detect=detect,
    reads=NETWORK_FIELDS,
)
