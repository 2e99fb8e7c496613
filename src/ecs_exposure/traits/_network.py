"""Network facts shared by ``open-security-group``, ``public-ip`` and ``internet-reachable``.

Each function returns evidence for what it found and the reasons it could not decide the rest,
so a trait can say *present*, *absent* or *unknown* truthfully. An object looked up by id (a
security group, a route table, a load balancer …) whose data could not all be read adds its
problems to the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import (
    Deployment,
    Evidence,
    FieldProblem,
    IngressRule,
    Loc,
    RegionInventory,
    SecurityGroup,
    TaskDefinition,
    Unresolved,
)
from .base import Target, describe_unresolved, failed_api


@dataclass
class Found:
    evidence: list[Evidence] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def unknown_once(self, reason: str) -> None:
        if reason not in self.unknown:
            self.unknown.append(reason)

    def unreadable(self, what: str, problems: tuple[FieldProblem, ...], base: Loc) -> None:
        """``what`` (``security group sg-1``) was read with ``problems``: its answer is not sure."""
        for p in problems:
            self.unknown_once(f"{what}: unreadable input: {p.reason(base)}")

    def unresolved(self, owner: str, items: tuple[Unresolved, ...], *fields: str) -> bool:
        """Record the settings ``fields`` that the input leaves open; True when there was one."""
        hit = False
        for u in items:
            if u.field in fields or u.field == "*":
                self.unknown_once(describe_unresolved(owner, u))
                hit = True
        return hit


def awsvpc_deployments(target: Target, found: Found) -> list[Deployment]:
    """The deployments with an awsvpc network configuration; the others are unknowns."""
    svc = target.service
    if svc is None:
        found.unknown_once("no service: network settings belong to a service")
        return []
    out = []
    for d in svc.deployments:
        if d.network is not None:
            out.append(d)
            continue
        td = task_definition_for(target, d.task_definition_arn)
        if td is None:
            continue  # the revision is missing: its traits are already unknown
        mode = td.network_mode or "bridge"
        if mode == "none":
            continue  # no network at all: nothing reaches it
        if mode == "awsvpc":
            if any(o.network is not None for o in svc.deployments):
                continue  # e.g. an EXTERNAL controller: the task sets carry the network configuration
            found.unknown_once(f"{td.label}: the awsvpc network configuration is not in the inputs")
            continue
        found.unknown_once(
            f"{td.label} uses network mode {mode}: its tasks use the container instance's network, "
            "which is not in the inputs"
        )
    return out


def task_definition_for(target: Target, ref: str) -> TaskDefinition | None:
    for td in target.task_definitions:
        if ref in (td.arn, td.label) or (td.arn or "").endswith("/" + ref):
            return td
    return None


def container_ports(target: Target) -> set[tuple[int, str]]:
    return {
        (p.container_port, p.protocol)
        for td in target.task_definitions
        for c in td.containers
        for p in c.port_mappings
        if p.container_port is not None
    }


def _collection_missing(region: RegionInventory | None, what: str, api: tuple[str, ...]) -> str:
    reason = failed_api(region.errors, api) if region is not None else None
    return reason or f"{what} not in the inputs"


def security_groups(target: Target, group_ids: list[str], found: Found) -> list[SecurityGroup]:
    region = target.region
    if region is None or region.security_groups is None:
        found.unknown_once(_collection_missing(region, "security groups", ("ec2:describesecuritygroups",)))
        return []
    out = []
    for gid in group_ids:
        g = region.security_groups.get(gid)
        if g is None:
            found.unknown_once(f"security group {gid} not in the inputs")
        else:
            if g.problems:
                found.unreadable(f"security group {gid}", g.problems, g.loc)
            found.unresolved(f"security group {g.group_name or g.group_id}", g.unresolved, "ingress")
            out.append(g)
    return out


def open_rules(group: SecurityGroup) -> list[IngressRule]:
    return [r for r in group.ingress if r.from_internet]


def rule_evidence(group: SecurityGroup, rule: IngressRule, ports: set[tuple[int, str]]) -> Evidence:
    covered = sorted(f"{p}/{proto}" for p, proto in ports if rule.covers(p, proto))
    covers = f", covers container port {', '.join(covered)}" if covered else ", covers no container port"
    return Evidence(
        f"security group {group.group_id} admits {rule.cidr} on {rule.ports}{covers if ports else ''}",
        (
            ("securityGroup", group.group_id),
            ("cidr", rule.cidr),
            ("protocol", rule.protocol),
            ("fromPort", rule.from_port),
            ("toPort", rule.to_port),
            ("coversContainerPorts", tuple(covered)),
        ),
        None,
        rule.loc,
    )


def subnet_internet_route(target: Target, subnet_id: str, found: Found) -> str | None:
    """``rtb-… → igw-…`` when the subnet routes the internet through a gateway."""
    region = target.region
    if region is None or region.route_tables is None:
        found.unknown_once(_collection_missing(region, "route tables", ("ec2:describeroutetables",)))
        return None
    for t in region.route_tables:  # an unreadable association or route may be the one that matters
        if t.problems:
            found.unreadable(f"route table {t.route_table_id}", t.problems, t.loc)
    table = next((t for t in region.route_tables if subnet_id in t.subnet_ids), None)
    if table is None:
        if region.subnets is None:
            found.unknown_once(_collection_missing(region, "subnets", ("ec2:describesubnets",)))
            return None
        subnet = region.subnets.get(subnet_id)
        if subnet is None:
            found.unknown_once(f"subnet {subnet_id} not in the inputs")
            return None
        table = next((t for t in region.route_tables if t.main and t.vpc_id == subnet.vpc_id), None)
        if table is None:
            found.unknown_once(f"no route table for subnet {subnet_id} in the inputs")
            return None
    route = table.internet_gateway_default_route()
    if route is None:
        found.unresolved(f"route table {table.route_table_id}", table.unresolved, "routes")
        return None
    return f"{table.route_table_id} sends {route.destination} to {route.gateway_id}"
