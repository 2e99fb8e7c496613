"""Shared mapping: resolved values in the AWS API's shape → the inventory the live scan uses.

Every input language resolves its resources to the shape the AWS APIs use (ECS camelCase,
``{"containerDefinitions": [...], "pidMode": ...}``; EC2 / ELB / IAM as below) with
:class:`~.values.Unknown` where a value is set only at deploy. These helpers build the model objects,
turn each unknown into an :class:`~ecs_exposure.model.Unresolved` record naming the API field the
detectors read, and place every resource under a synthetic account and region whose collections are
*collected* (what the template declares) so that anything referenced but not declared is unknown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...model import (
    AccountInventory,
    Deployment,
    IngressRule,
    InternetGateway,
    Listener,
    LoadBalancer,
    Loc,
    NetworkConfig,
    PolicyDocument,
    RegionInventory,
    Role,
    Route,
    RouteTable,
    SecurityGroup,
    Service,
    ServiceLoadBalancer,
    Subnet,
    TargetGroup,
    TaskDefinition,
    Unresolved,
)
from ..reader import Reader
from ..taskdef import parse_task_definition
from .values import NO_VALUE, Unknown, plain, text_of

ACCOUNT = "${AWS::AccountId}"  # infrastructure code is not deployed yet: account and region are open
REGION = "${AWS::Region}"
PARTITION = "aws"

# API fields whose unknown value cannot stand as a placeholder text: left unset, and recorded
_FLAGS = frozenset(
    {
        "privileged",
        "readonlyRootFilesystem",
        "readOnly",
        "essential",
        "initProcessEnabled",
        "disableNetworking",
        "interactive",
        "pseudoTerminal",
        "enableExecuteCommand",
    }
)
_STRUCTS = frozenset(
    {
        "containerDefinitions",
        "environment",
        "secrets",
        "mountPoints",
        "portMappings",
        "volumes",
        "host",
        "linuxParameters",
        "capabilities",
        "add",
        "drop",
        "devices",
        "dockerLabels",
        "command",
        "entryPoint",
        "runtimePlatform",
        "requiresCompatibilities",
        "ulimits",
        "logConfiguration",
        "healthCheck",
        "volumesFrom",
        "dependsOn",
        "extraHosts",
        "systemControls",
        "efsVolumeConfiguration",
        "dockerVolumeConfiguration",
    }
)

# the API fields that decide a trait: an unknown elsewhere (an image tag, a log group, a role ARN
# built with the account id) is only shown as its placeholder text; a role or group named by a
# placeholder is "not in the inputs" already
DECIDING = frozenset(
    {
        "privileged",
        "readonlyRootFilesystem",
        "user",
        "environment",
        "mountPoints",
        "volumes",
        "linuxParameters",
        "networkMode",
        "pidMode",
        "ipcMode",
        "command",
        "entryPoint",
        "dockerLabels",
        "secrets",
        "*",
    }
)

MEMBERS = "\x01members"  # a key standing for members the input leaves open (a template placeholder)


def new_inventory(source: str) -> tuple[AccountInventory, RegionInventory]:
    """The synthetic account and region of one template or module: every collection *collected*."""
    account = AccountInventory(ACCOUNT, PARTITION, source, roles={}, policies={})
    region = RegionInventory(
        ACCOUNT,
        REGION,
        PARTITION,
        source,
        security_groups={},
        subnets={},
        route_tables=[],
        internet_gateways={},
        load_balancers={},
        listeners=[],
        target_groups={},
        task_definitions_collected=True,
    )
    account.regions.append(region)
    return account, region


# --------------------------------------------------------------------------- task definitions


@dataclass
class _Open:
    """Collects what a resource leaves open while its values are cleaned for the parser."""

    loc: Loc
    records: list[Unresolved] = field(default_factory=list)

    def add(
        self, field_: str, u: Unknown, parts: tuple, container: str | None = None, key: str | None = None
    ):
        self.records.append(Unresolved(field_, u.reason, self.loc.child(*parts), container, key, u.sensitive))


def _container_name(cd: Any, i: int) -> str:
    name = cd.get("name") if isinstance(cd, dict) else None
    return text_of(name) or f"(container {i})"


def _clean(value: Any, parts: tuple, where: _Open, field_: str | None, container: str | None) -> Any:
    """Unknowns → placeholder text (or unset for flags and structures), recorded under ``field_``."""
    if type(value) is Unknown:
        key = parts[-1] if parts else None
        name = field_ or str(key)
        if name in DECIDING or value.sensitive:
            where.add(name, value, parts, container)
        return (
            None
            if key in _FLAGS or key in _STRUCTS or (isinstance(key, int) and field_ in _STRUCTS)
            else value.text
        )
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if v is NO_VALUE:
                continue
            if k == MEMBERS:
                where.add(
                    field_ or "*",
                    v if type(v) is Unknown else Unknown("members left open", "<…>"),
                    parts,
                    container,
                )
                continue
            out[k] = _clean(v, (*parts, k), where, field_ or k, container)
        return out
    if isinstance(value, list):
        return [
            _clean(v, (*parts, i), where, field_, container) for i, v in enumerate(value) if v is not NO_VALUE
        ]
    return value


def _clean_environment(items: list, parts: tuple, where: _Open, container: str) -> list:
    out = []
    for i, e in enumerate(items):
        if type(e) is Unknown:
            where.add("environment", e, (*parts, i), container)
            continue
        if not isinstance(e, dict):
            out.append(e)
            continue
        name = text_of(e.get("name")) if e.get("name") is not None else None
        value = e.get("value")
        entry = dict(e)
        if type(value) is Unknown:
            where.add("environment", value, (*parts, i), container, key=name)
            entry["value"] = value.text
        elif type(e.get("name")) is Unknown:
            where.add("environment", e["name"], (*parts, i), container)
            entry["name"] = e["name"].text
        if MEMBERS in entry:
            where.add(
                "environment",
                Unknown("entry left open by a template placeholder", "<…>"),
                (*parts, i),
                container,
                key=name,
            )
            del entry[MEMBERS]
        out.append(entry)
    return out


def clean_task_definition(api: Mapping[str, Any], loc: Loc) -> tuple[dict, list[Unresolved]]:
    """A task definition in the API shape, its unknowns replaced, and the records of them."""
    where = _Open(loc)
    out: dict[str, Any] = {}
    for k, v in api.items():
        if v is NO_VALUE:
            continue
        if k == "containerDefinitions" and isinstance(v, list):
            defs = []
            for i, cd in enumerate(v):
                if cd is NO_VALUE:
                    continue
                name = _container_name(cd, i)
                if isinstance(cd, dict):
                    clean = {}
                    for ck, cv in cd.items():
                        if cv is NO_VALUE:
                            continue
                        parts = ("containerDefinitions", i, ck)
                        if ck == MEMBERS:
                            where.add(
                                "*",
                                cv if type(cv) is Unknown else Unknown("members left open", "<…>"),
                                parts[:2],
                                name,
                            )
                        elif ck == "environment" and isinstance(cv, list):
                            clean[ck] = _clean_environment(cv, parts, where, name)
                        else:
                            clean[ck] = _clean(cv, parts, where, ck, name)
                    defs.append(clean)
                else:
                    defs.append(_clean(cd, ("containerDefinitions", i), where, "*", name))
            out[k] = defs
        elif k == MEMBERS:
            where.add("*", v if type(v) is Unknown else Unknown("members left open", "<…>"), ())
        else:
            out[k] = _clean(v, (k,), where, k, None)
    return out, where.records


def build_task_definition(
    api: Mapping[str, Any], loc: Loc, uid: str, family: str, r: Reader
) -> TaskDefinition | None:
    """A task definition resource: ``uid`` is its identity (what references to it resolve to)."""
    clean, records = clean_task_definition(api, loc)
    td = parse_task_definition(clean, loc, r)
    if td is None:
        return None
    return dataclasses.replace(
        td, arn=uid, family=text_of(api.get("family")) or family, revision=None, unresolved=tuple(records)
    )


# --------------------------------------------------------------------------- services


def _texts(value: Any) -> tuple[str, ...]:
    if type(value) is Unknown:
        return (value.text,)  # an unknown list of ids: one placeholder id, "not in the inputs"
    if not isinstance(value, list):
        return ()
    return tuple(t for v in value if v is not NO_VALUE and (t := text_of(v)) is not None)


def _flag(value: Any, on: str = "ENABLED") -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().upper() in (on, "TRUE")
    return False


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def build_network(api: Any, loc: Loc, where: list[Unresolved]) -> NetworkConfig | None:
    """``networkConfiguration`` in the API shape → NetworkConfig (None when not awsvpc)."""
    if not isinstance(api, dict):
        if type(api) is Unknown:
            where.append(Unresolved("networkConfiguration", api.reason, loc))
        return None
    aws = api.get("awsvpcConfiguration")
    if not isinstance(aws, dict):
        if type(aws) is Unknown:
            where.append(Unresolved("networkConfiguration", aws.reason, loc))
        return None
    aloc = loc.child("awsvpcConfiguration")
    public = aws.get("assignPublicIp")
    if type(public) is Unknown:
        where.append(
            Unresolved("assignPublicIp", public.reason, aloc.child("assignPublicIp"), sensitive=False)
        )
    return NetworkConfig(_texts(aws.get("subnets")), _texts(aws.get("securityGroups")), _flag(public), aloc)


def build_load_balancers(items: Any) -> tuple[ServiceLoadBalancer, ...]:
    out = []
    for lb in items if isinstance(items, list) else ():
        if not isinstance(lb, dict):
            continue
        out.append(
            ServiceLoadBalancer(
                text_of(lb.get("targetGroupArn")),
                text_of(lb.get("loadBalancerName")),
                text_of(lb.get("containerName")),
                _int(lb.get("containerPort")),
            )
        )
    return tuple(out)


@dataclass
class TaskSetInput:
    """An ECS task set of a service with an EXTERNAL deployment controller."""

    task_definition: Any
    network: Any
    load_balancers: Any
    loc: Loc


def build_service(
    api: Mapping[str, Any], loc: Loc, uid: str, name: str, task_sets: list[TaskSetInput] = ()
) -> Service:
    """A service in the API shape (``taskDefinition``, ``networkConfiguration``, ``loadBalancers``,
    ``enableExecuteCommand``, ``launchType``, ``cluster``). ``uid`` is its identity."""
    records: list[Unresolved] = []
    network = build_network(api.get("networkConfiguration"), loc.child("networkConfiguration"), records)
    lbs = build_load_balancers(api.get("loadBalancers"))
    td = text_of(api.get("taskDefinition"))
    deployments = []
    if td:
        deployments.append(Deployment("service", td, network, lbs, loc.child("taskDefinition")))
    for ts in task_sets:
        ttd = text_of(ts.task_definition)
        if ttd:
            tnet = build_network(ts.network, ts.loc.child("networkConfiguration"), records)
            deployments.append(
                Deployment("taskSet", ttd, tnet, build_load_balancers(ts.load_balancers), ts.loc)
            )
    exec_ = api.get("enableExecuteCommand")
    if type(exec_) is Unknown:
        records.append(Unresolved("enableExecuteCommand", exec_.reason, loc.child("enableExecuteCommand")))
    return Service(
        arn=uid,
        name=name,
        cluster_arn=text_of(api.get("cluster")),
        loc=loc,
        task_definition_arn=td,
        deployments=tuple(deployments),
        launch_type=text_of(api.get("launchType")),
        enable_execute_command=_flag(exec_, "TRUE"),
        unresolved=tuple(records),
    )


# --------------------------------------------------------------------------- EC2


@dataclass
class RuleInput:
    """One ingress rule in the EC2 API's words; ``cidr`` is one IPv4 or IPv6 range."""

    protocol: Any
    from_port: Any
    to_port: Any
    cidr: Any
    source_group: Any
    loc: Loc


def _protocol(value: Any) -> str:
    t = text_of(value)
    if t is None:
        return "-1"
    return {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}.get(t.strip(), t.strip().lower())


def build_security_group(
    group_id: str, name: str | None, vpc_id: Any, rules: list[RuleInput], loc: Loc
) -> SecurityGroup:
    out = []
    records: list[Unresolved] = []
    for r in rules:
        cidr = r.cidr
        if type(cidr) is Unknown:
            records.append(Unresolved("ingress", f"the source range is open: {cidr.reason}", r.loc))
        for port in (r.from_port, r.to_port):
            if type(port) is Unknown:
                records.append(Unresolved("ingress", f"a port is open: {port.reason}", r.loc))
        out.append(
            IngressRule(
                _protocol(r.protocol),
                _int(r.from_port),
                _int(r.to_port),
                text_of(cidr) if cidr is not None and r.source_group is None else None,
                text_of(r.source_group),
                r.loc,
            )
        )
    return SecurityGroup(group_id, name, text_of(vpc_id), tuple(out), loc, unresolved=tuple(records))


def build_route_table(
    table_id: str, vpc_id: Any, subnet_ids: list[str], routes: list[tuple[Any, Any, Loc]], loc: Loc
) -> RouteTable:
    """``routes``: (destination CIDR, gateway id, where) each."""
    records = []
    out = []
    for dest, gateway, rloc in routes:
        for v in (dest, gateway):
            if type(v) is Unknown:
                records.append(Unresolved("routes", v.reason, rloc))
        out.append(Route(text_of(dest), text_of(gateway), None))
    return RouteTable(
        table_id, text_of(vpc_id), tuple(subnet_ids), False, tuple(out), loc, unresolved=tuple(records)
    )


def build_subnet(subnet_id: str, vpc_id: Any, public: Any, loc: Loc) -> Subnet:
    return Subnet(subnet_id, text_of(vpc_id), _flag(public, "TRUE"), loc)


def build_internet_gateway(gateway_id: str, vpc_ids: list[Any]) -> InternetGateway:
    return InternetGateway(gateway_id, tuple(t for v in vpc_ids if (t := text_of(v))))


# --------------------------------------------------------------------------- ELBv2


def build_load_balancer(
    arn: str, name: str, scheme: Any, lb_type: Any, security_groups: Any, loc: Loc
) -> LoadBalancer:
    """``scheme``: as written (None: the default, internet-facing)."""
    records = []
    if type(scheme) is Unknown:
        records.append(Unresolved("scheme", scheme.reason, loc.child("scheme")))
    return LoadBalancer(
        arn,
        name,
        "internet-facing" if scheme is None or scheme is NO_VALUE else text_of(scheme),
        (text_of(lb_type) or "application").lower(),
        _texts(security_groups),
        loc,
        unresolved=tuple(records),
    )


def forward_targets(actions: Any) -> list[str]:
    """Target groups that listener actions (API shape: ``Type``, ``TargetGroupArn``, ``ForwardConfig``)
    send traffic to."""
    out: list[str] = []
    for a in actions if isinstance(actions, list) else ():
        if not isinstance(a, dict):
            continue
        if (t := text_of(a.get("TargetGroupArn"))) is not None:
            out.append(t)
        fwd = a.get("ForwardConfig")
        if isinstance(fwd, dict) and isinstance(fwd.get("TargetGroups"), list):
            for tg in fwd["TargetGroups"]:
                if isinstance(tg, dict) and (t := text_of(tg.get("TargetGroupArn"))) is not None:
                    out.append(t)
    return list(dict.fromkeys(out))


def build_listener(arn: str, lb_arn: Any, port: Any, protocol: Any, targets: list[str], loc: Loc) -> Listener:
    return Listener(arn, text_of(lb_arn) or "", _int(port), text_of(protocol), loc, tuple(targets))


def build_target_group(
    arn: str, name: str, lb_arns: list[str], port: Any, protocol: Any, loc: Loc
) -> TargetGroup:
    return TargetGroup(arn, name, tuple(lb_arns), _int(port), text_of(protocol), loc)


# --------------------------------------------------------------------------- IAM


def policy_document(name: str, document: Any, loc: Loc, managed_arn: str | None = None) -> PolicyDocument:
    """A policy document (resolved; unknowns as their text) → PolicyDocument. One that is not a
    policy (not JSON, no ``Statement``) is kept with what was read: the IAM evaluator checks it
    against the policy grammar and makes its role's traits unknown, never drops it silently."""
    doc = plain(document)
    if isinstance(doc, str):
        import json

        try:
            doc = json.loads(doc)
        except ValueError:
            return PolicyDocument(name, (), loc, managed_arn, document="(not JSON)")
    stmts = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(stmts, dict):
        stmts = [stmts]
    if not isinstance(stmts, list):
        return PolicyDocument(name, (), loc, managed_arn, document=doc)
    return PolicyDocument(
        name, tuple(s for s in stmts if isinstance(s, dict)), loc, managed_arn, document=doc
    )


def build_role(
    arn: str,
    name: str,
    loc: Loc,
    managed_policy_arns: Any = (),
    inline: list[PolicyDocument] = (),
    boundary: Any = None,
    trust: PolicyDocument | None = None,
) -> Role:
    """Keyword construction on purpose: the Role model grows without breaking this. ``trust``: the
    role's AssumeRolePolicyDocument (who besides ECS tasks may assume it)."""
    return Role(
        arn=arn,
        name=name,
        loc=loc,
        attached_policy_arns=_texts(managed_policy_arns)
        if isinstance(managed_policy_arns, list | Unknown)
        else (),
        inline_policies=tuple(inline),
        permissions_boundary_arn=text_of(boundary)
        if boundary is not None and boundary is not NO_VALUE
        else None,
        trust_policy=trust,
    )


def add_to_role(role: Role, attached: tuple[str, ...] = (), inline: tuple[PolicyDocument, ...] = ()) -> Role:
    return dataclasses.replace(
        role,
        attached_policy_arns=tuple(dict.fromkeys(role.attached_policy_arns + attached)),
        inline_policies=role.inline_policies + inline,
    )
