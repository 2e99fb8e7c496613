from ..model import Category, Deployment, Evidence, TraitUnknown
from ._network import (
    Found,
    awsvpc_deployments,
    container_ports,
    open_rules,
    security_groups,
    subnet_internet_route,
)
from .base import NETWORK_FIELDS, PORT_FIELDS, Target, TraitSpec, conclude, failed_api

ID = "internet-reachable"


def _direct_path(target: Target, d: Deployment, found: Found) -> None:
    """(a) public IP + subnet routed to an internet gateway + a security group admitting the internet."""
    net = d.network
    assert net is not None
    if not net.assign_public_ip:
        svc = target.service
        if svc is not None:
            found.unresolved(f"service {svc.name}", svc.unresolved, "assignPublicIp")
        return
    routes = []
    for subnet in net.subnets:
        route = subnet_internet_route(target, subnet, found)
        if route:
            routes.append((subnet, route))
    if not routes:
        return
    ports = container_ports(target)
    for group in security_groups(target, list(net.security_groups), found):
        for rule in open_rules(group):
            covered = sorted(f"{p}/{proto}" for p, proto in ports if rule.covers(p, proto))
            subnet, route = routes[0]
            target_ports = f" → container port {', '.join(covered)}" if covered else ""
            found.evidence.append(
                Evidence(
                    f"internet → {route} → subnet {subnet} → task public IP → security group "
                    f"{group.group_id} ({rule.cidr} on {rule.ports}){target_ports}",
                    (
                        ("path", "public-ip"),
                        ("subnets", tuple(s for s, _ in routes)),
                        ("route", route),
                        ("securityGroup", group.group_id),
                        ("ports", rule.ports),
                        ("containerPorts", tuple(covered)),
                    ),
                    None,
                    net.loc,
                )
            )


def _load_balancer_path(target: Target, d: Deployment, found: Found) -> None:
    """(b) the service is a target of an internet-facing load balancer admitted from the internet."""
    region = target.region
    for lb_ref in d.load_balancers:
        if not lb_ref.target_group_arn:
            if lb_ref.load_balancer_name:
                found.unknown_once(f"Classic Load Balancer {lb_ref.load_balancer_name} is not in the inputs")
            continue
        if region is None or region.target_groups is None or region.load_balancers is None:
            reason = failed_api(region.errors, ("elasticloadbalancing:",)) if region else None
            found.unknown_once(reason or "load balancers and target groups not in the inputs")
            continue
        tg = region.target_groups.get(lb_ref.target_group_arn)
        if tg is None:
            found.unknown_once(f"target group {lb_ref.target_group_arn} not in the inputs")
            continue
        if tg.problems:
            found.unreadable(f"target group {tg.name or tg.arn}", tg.problems, tg.loc)
        for lb_arn in tg.load_balancer_arns:
            lb = region.load_balancers.get(lb_arn)
            if lb is None:
                found.unknown_once(f"load balancer {lb_arn} not in the inputs")
                continue
            if lb.problems:
                found.unreadable(f"load balancer {lb.name or lb.arn}", lb.problems, lb.loc)
            if not lb.internet_facing:
                found.unresolved(f"load balancer {lb.name or lb.arn}", lb.unresolved, "scheme")
                continue
            if region.listeners is None:
                found.unknown_once("load balancer listeners not in the inputs")
                continue
            listeners = [li for li in region.listeners if li.load_balancer_arn == lb_arn]
            for li in listeners:
                if li.problems:
                    found.unreadable(f"listener {li.arn}", li.problems, li.loc)
            forwarding = [li for li in listeners if tg.arn in li.target_group_arns] or listeners
            groups = security_groups(target, list(lb.security_groups), found) if lb.security_groups else None
            for li in forwarding:
                if groups is None:
                    admitted = f"{lb.lb_type or 'load balancer'} without security groups"
                else:
                    rule = next(
                        (
                            r
                            for g in groups
                            for r in open_rules(g)
                            if li.port is None or r.covers(li.port, "tcp")
                        ),
                        None,
                    )
                    if rule is None:
                        continue
                    admitted = f"{rule.cidr} admitted on {rule.ports}"
                container = lb_ref.container_name or "?"
                port = lb_ref.container_port if lb_ref.container_port is not None else tg.port
                found.evidence.append(
                    Evidence(
                        f"internet → load balancer {lb.name or lb.arn} (internet-facing, {admitted}) → "
                        f"listener {li.protocol or '?'}:{li.port} → target group {tg.name or tg.arn} → "
                        f"container {container}:{port}",
                        (
                            ("path", "load-balancer"),
                            ("loadBalancer", lb.arn),
                            ("listenerPort", li.port),
                            ("targetGroup", tg.arn),
                            ("container", container),
                            ("containerPort", port),
                        ),
                        None,
                        li.loc,
                    )
                )


def detect(target: Target):
    found = Found()
    svc = target.service
    if svc is None:
        return TraitUnknown(ID, "no service: reachability belongs to a service and its network")
    for d in awsvpc_deployments(target, found):
        _direct_path(target, d, found)
    for d in svc.deployments:
        _load_balancer_path(target, d, found)
    return conclude(ID, found.evidence, found.unknown)


TRAIT = TraitSpec(
    id=ID,
    category=Category.REACHABILITY,
    title="Reachable from the internet",
    phrase="internet-reachable",
    contextual=False,
    description=(
        "The tasks can be reached from the internet: (a) a public IP, a subnet whose route table "
        "sends 0.0.0.0/0 or ::/0 to an internet gateway, and a security group admitting the "
        "internet; or (b) the service is a target of an internet-facing load balancer whose "
        "listener the internet may reach. The evidence names the path."
    ),
    remediation=(
        "Keep tasks in private subnets without public IPs; expose only what must be public through "
        "a load balancer (with a WAF where it fits), and restrict its listeners' security groups."
    ),
    detect=detect,
    reads=NETWORK_FIELDS | PORT_FIELDS | {"Deployment.load_balancers"},
)
