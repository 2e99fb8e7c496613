"""Snapshot (``ecs-exposure/snapshot@1``) → inventory.

The snapshot holds AWS API responses as the APIs return them (see
``shared/spec/snapshot-format.md``). A missing key means *not collected*; an empty list means
*collected, none found*. Items are freed from the parsed document as soon as they are modelled,
so a large snapshot is not held twice in memory.

A present but unreadable field of a service, security group, route table or load balancer is a scan
issue and a :class:`FieldProblem` kept on that object: the traits that read it are unknown for the
services it concerns, never absent.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping

from ..iam.grammar import document_problems
from ..model import (
    AccountInventory,
    CollectError,
    Deployment,
    IngressRule,
    InternetGateway,
    Inventory,
    Listener,
    LoadBalancer,
    Loc,
    NetworkConfig,
    PolicyDocument,
    RegionInventory,
    Role,
    Route,
    RouteTable,
    ScanIssue,
    SecurityGroup,
    Service,
    ServiceLoadBalancer,
    Subnet,
    TargetGroup,
)
from ..model.location import Part
from .reader import JSON, Reader
from .taskdef import parse_tags, parse_task_definition
from .vulns import ecr_reports, inspector_reports

FORMAT = "ecs-exposure/snapshot@1"

# JSON key of a service (or of one of its deployments / task sets) → the model fields it feeds
_DEPLOYMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "networkConfiguration": ("Deployment.network",),
    "loadBalancers": ("Deployment.load_balancers",),
    "taskDefinition": ("Service.deployments",),
}
_SERVICE_FIELDS: dict[str, tuple[str, ...]] = {
    **_DEPLOYMENT_FIELDS,
    "enableExecuteCommand": ("Service.enable_execute_command",),
    "launchType": ("Service.launch_type",),
}


def service_fields(rel: tuple[Part, ...]) -> tuple[str, ...]:
    """The model fields fed by the value at ``rel``, a JSON path inside a service."""
    if not rel:
        return ()
    if rel[0] in ("deployments", "taskSets"):
        if len(rel) <= 2:  # the list, or an item that is not an object: a running revision may be lost
            return ("Service.deployments",)
        return _DEPLOYMENT_FIELDS.get(rel[2], ())
    return _SERVICE_FIELDS.get(rel[0], ())


def _fields_except(what: str, identity: frozenset[str]) -> Callable[[tuple[Part, ...]], tuple[str, ...]]:
    """For the EC2 / ELBv2 objects traits look up by id: any problem but in a name or tag."""

    def fields(rel: tuple[Part, ...]) -> tuple[str, ...]:
        return () if rel and rel[0] in identity else (what,)

    return fields


_NAMES = frozenset({"GroupName", "Description", "Tags", "OwnerId", "LoadBalancerName", "TargetGroupName"})
_SG_FIELDS = _fields_except("SecurityGroup.ingress", _NAMES)
_ROUTE_TABLE_FIELDS = _fields_except("RouteTable.routes", _NAMES)
_LB_FIELDS = _fields_except("LoadBalancer.scheme", _NAMES)
_LISTENER_FIELDS = _fields_except("Listener.target_group_arns", _NAMES)
_TG_FIELDS = _fields_except("TargetGroup.load_balancer_arns", _NAMES)


def is_snapshot(doc: JSON) -> bool:
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("format"), str)
        and doc["format"].startswith("ecs-exposure/snapshot@")
    )


def load_snapshot(doc: dict[str, JSON], source: str) -> Inventory:
    inv = Inventory()
    r = Reader()
    root = Loc(source)
    if doc.get("format") != FORMAT:
        inv.issues.append(
            ScanIssue(
                source, "format", f"unsupported snapshot format {doc.get('format')!r} (expected {FORMAT})"
            )
        )
        return inv

    errors_by_account: dict[str | None, list[CollectError]] = {}
    for i, e in r.objects(r.lst(doc, "errors", root), root.child("errors")):
        eloc = root.child("errors", i)
        err = CollectError(
            account_id=r.text(e, "account_id", eloc),
            region=r.text(e, "region", eloc),
            api=r.text(e, "api", eloc) or "(unknown API)",
            error=r.text(e, "error", eloc) or "error",
            message=r.text(e, "message", eloc) or "",
        )
        errors_by_account.setdefault(err.account_id, []).append(err)
        where = "/".join(x for x in (err.account_id, err.region) if x) or "snapshot"
        inv.issues.append(
            ScanIssue(
                source, eloc.path, f"{where}: {err.api} failed when collected: {err.error}", api=err.api
            )
        )

    if doc.get("accounts") is None:
        inv.issues.append(
            ScanIssue(source, "accounts", "snapshot has no accounts: nothing in it can be scanned")
        )
    accounts = r.lst(doc, "accounts", root)
    for ai, acc in r.objects(accounts, root.child("accounts")):
        aloc = root.child("accounts", ai)
        account_id = r.text(acc, "account_id", aloc) or "unknown"
        partition = r.text(acc, "partition", aloc) or "aws"
        account = AccountInventory(account_id, partition, source)
        account.errors = errors_by_account.get(account_id, []) + errors_by_account.get(None, [])
        iam = r.obj(acc, "iam", aloc)
        if iam is not None:
            _iam(iam, aloc.child("iam"), account, r)
        for ri, reg in r.objects(r.lst(acc, "regions", aloc), aloc.child("regions")):
            account.regions.append(_region(reg, aloc.child("regions", ri), account, r))
        accounts[ai] = None  # free the raw JSON
        inv.accounts.append(account)
    inv.issues.extend(r.issues)
    return inv


# --------------------------------------------------------------------------- regions


def _region(reg: dict[str, JSON], loc: Loc, account: AccountInventory, r: Reader) -> RegionInventory:
    name = r.text(reg, "region", loc) or "unknown"
    region = RegionInventory(account.account_id, name, account.partition, account.source)
    region.errors = [e for e in account.errors if e.region in (None, name)]

    ecs = r.obj(reg, "ecs", loc) or {}
    eloc = loc.child("ecs")
    tds = r.opt_list(ecs, "taskDefinitions", eloc)
    if tds is not None:
        region.task_definitions_collected = True
        for i, raw in r.objects(tds, eloc.child("taskDefinitions")):
            td = parse_task_definition(raw, eloc.child("taskDefinitions", i), r)
            tds[i] = None
            if td is None:
                continue
            key = td.arn or td.label
            region.task_definitions[key] = td
    for i, raw in r.objects(r.lst(ecs, "services", eloc), eloc.child("services")):
        svc = _service(raw, eloc.child("services", i), r)
        if svc is not None:
            region.services.append(svc)

    inspector = r.obj(reg, "inspector2", loc) or {}
    ecr = r.obj(reg, "ecr", loc) or {}
    findings = r.opt_list(inspector, "findings", loc.child("inspector2"))
    scans = r.opt_list(ecr, "imageScanFindings", loc.child("ecr"))
    if findings is not None or scans is not None:
        region.image_reports = []
        if findings is not None:
            region.image_reports += inspector_reports(findings, loc.child("inspector2", "findings"), name, r)
        if scans is not None:
            region.image_reports += ecr_reports(
                scans, loc.child("ecr", "imageScanFindings"), account.account_id, name, r
            )

    ec2 = r.obj(reg, "ec2", loc) or {}
    c2 = loc.child("ec2")
    if (items := r.opt_list(ec2, "securityGroups", c2)) is not None:
        region.security_groups = {}
        for i, sg in r.objects(items, c2.child("securityGroups")):
            g = _security_group(sg, c2.child("securityGroups", i), r)
            if g:
                region.security_groups[g.group_id] = g
    if (items := r.opt_list(ec2, "subnets", c2)) is not None:
        region.subnets = {}
        for i, s in r.objects(items, c2.child("subnets")):
            sloc = c2.child("subnets", i)
            sid = r.text(s, "SubnetId", sloc)
            if sid:
                region.subnets[sid] = Subnet(
                    sid, r.text(s, "VpcId", sloc), r.flag(s, "MapPublicIpOnLaunch", sloc), sloc
                )
    if (items := r.opt_list(ec2, "routeTables", c2)) is not None:
        region.route_tables = [
            _route_table(t, c2.child("routeTables", i), r)
            for i, t in r.objects(items, c2.child("routeTables"))
        ]
    if (items := r.opt_list(ec2, "internetGateways", c2)) is not None:
        region.internet_gateways = {}
        for i, g in r.objects(items, c2.child("internetGateways")):
            gloc = c2.child("internetGateways", i)
            gid = r.text(g, "InternetGatewayId", gloc)
            if gid:
                vpcs = tuple(
                    v
                    for _, a in r.objects(r.lst(g, "Attachments", gloc), gloc.child("Attachments"))
                    if (v := r.text(a, "VpcId", gloc))
                    and a.get("State", "available") in ("available", "attached")
                )
                region.internet_gateways[gid] = InternetGateway(gid, vpcs)

    elb = r.obj(reg, "elbv2", loc) or {}
    bloc = loc.child("elbv2")
    if (items := r.opt_list(elb, "loadBalancers", bloc)) is not None:
        region.load_balancers = {}
        for i, lb in r.objects(items, bloc.child("loadBalancers")):
            lloc = bloc.child("loadBalancers", i)
            mark = r.mark()
            arn = r.text(lb, "LoadBalancerArn", lloc)
            if arn:
                region.load_balancers[arn] = LoadBalancer(
                    arn,
                    r.text(lb, "LoadBalancerName", lloc),
                    r.word(lb, "Scheme", lloc),
                    r.word(lb, "Type", lloc),
                    r.texts(lb, "SecurityGroups", lloc),
                    lloc,
                    r.problems_since(mark, lloc, _LB_FIELDS),
                )
    if (items := r.opt_list(elb, "listeners", bloc)) is not None:
        region.listeners = []
        for i, li in r.objects(items, bloc.child("listeners")):
            lloc = bloc.child("listeners", i)
            mark = r.mark()
            arn = r.text(li, "ListenerArn", lloc)
            lb_arn = r.text(li, "LoadBalancerArn", lloc)
            if arn and lb_arn:
                port = r.integer(li, "Port", lloc)
                protocol = r.text(li, "Protocol", lloc)
                forwards = _forward_targets(
                    r.lst(li, "DefaultActions", lloc), lloc.child("DefaultActions"), r
                )
                region.listeners.append(
                    Listener(
                        arn,
                        lb_arn,
                        port,
                        protocol,
                        lloc,
                        forwards,
                        r.problems_since(mark, lloc, _LISTENER_FIELDS),
                    )
                )
    if (items := r.opt_list(elb, "targetGroups", bloc)) is not None:
        region.target_groups = {}
        for i, tg in r.objects(items, bloc.child("targetGroups")):
            tloc = bloc.child("targetGroups", i)
            mark = r.mark()
            arn = r.text(tg, "TargetGroupArn", tloc)
            if arn:
                region.target_groups[arn] = TargetGroup(
                    arn,
                    r.text(tg, "TargetGroupName", tloc),
                    r.texts(tg, "LoadBalancerArns", tloc),
                    r.integer(tg, "Port", tloc),
                    r.text(tg, "Protocol", tloc),
                    tloc,
                    r.problems_since(mark, tloc, _TG_FIELDS),
                )
    return region


def _forward_targets(actions: list[JSON], loc: Loc, r: Reader) -> tuple[str, ...]:
    out: list[str] = []
    for i, a in r.objects(actions, loc):
        aloc = loc.child(i)
        if arn := r.text(a, "TargetGroupArn", aloc):
            out.append(arn)
        fwd = r.obj(a, "ForwardConfig", aloc)
        if fwd is not None:
            floc = aloc.child("ForwardConfig")
            for j, t in r.objects(r.lst(fwd, "TargetGroups", floc), floc.child("TargetGroups")):
                if arn := r.text(t, "TargetGroupArn", floc.child("TargetGroups", j)):
                    out.append(arn)
    return tuple(dict.fromkeys(out))


def _network(raw: Mapping[str, JSON] | None, loc: Loc, r: Reader) -> NetworkConfig | None:
    if not raw:
        return None
    aws = r.obj(raw, "awsvpcConfiguration", loc)
    if aws is None:
        return None
    aloc = loc.child("awsvpcConfiguration")
    assign = r.word(aws, "assignPublicIp", aloc)
    if assign is not None and assign.upper() not in ("ENABLED", "DISABLED"):
        r.problem(aloc.child("assignPublicIp"), "expected ENABLED or DISABLED")
    public = (assign or "DISABLED").upper() == "ENABLED"
    return NetworkConfig(r.texts(aws, "subnets", aloc), r.texts(aws, "securityGroups", aloc), public, aloc)


def _load_balancers(raw: Mapping[str, JSON], loc: Loc, r: Reader) -> tuple[ServiceLoadBalancer, ...]:
    out = []
    for i, lb in r.objects(r.lst(raw, "loadBalancers", loc), loc.child("loadBalancers")):
        lloc = loc.child("loadBalancers", i)
        out.append(
            ServiceLoadBalancer(
                r.text(lb, "targetGroupArn", lloc),
                r.text(lb, "loadBalancerName", lloc),
                r.text(lb, "containerName", lloc),
                r.integer(lb, "containerPort", lloc),
            )
        )
    return tuple(out)


def _service(raw: dict[str, JSON], loc: Loc, r: Reader) -> Service | None:
    mark = r.mark()
    arn = r.text(raw, "serviceArn", loc)
    name = r.text(raw, "serviceName", loc)
    if not arn:
        r.problem(loc, "service has no serviceArn")
        return None
    network = _network(r.obj(raw, "networkConfiguration", loc), loc.child("networkConfiguration"), r)
    lbs = _load_balancers(raw, loc, r)
    td = r.text(raw, "taskDefinition", loc)
    deployments: list[Deployment] = []
    if td:
        deployments.append(Deployment("service", td, network, lbs, loc.child("taskDefinition")))
    for i, d in r.objects(r.lst(raw, "deployments", loc), loc.child("deployments")):
        dloc = loc.child("deployments", i)
        dtd = r.text(d, "taskDefinition", dloc)
        if not dtd:
            continue
        dnet = _network(r.obj(d, "networkConfiguration", dloc), dloc.child("networkConfiguration"), r)
        deployments.append(
            Deployment("deployment", dtd, dnet or network, lbs, dloc, r.text(d, "status", dloc))
        )
    for i, ts in r.objects(r.lst(raw, "taskSets", loc), loc.child("taskSets")):
        tloc = loc.child("taskSets", i)
        ttd = r.text(ts, "taskDefinition", tloc)
        if not ttd:
            continue
        tnet = _network(r.obj(ts, "networkConfiguration", tloc), tloc.child("networkConfiguration"), r)
        deployments.append(
            Deployment("taskSet", ttd, tnet, _load_balancers(ts, tloc, r), tloc, r.text(ts, "status", tloc))
        )
    return Service(
        arn=arn,
        name=name or arn.rsplit("/", 1)[-1],
        cluster_arn=r.text(raw, "clusterArn", loc),
        loc=loc,
        task_definition_arn=td,
        deployments=tuple(deployments),
        launch_type=r.text(raw, "launchType", loc),
        enable_execute_command=r.flag(raw, "enableExecuteCommand", loc),
        tags=parse_tags(raw["tags"]) if raw.get("tags") else (),
        problems=r.problems_since(mark, loc, service_fields),
    )


def _security_group(raw: dict[str, JSON], loc: Loc, r: Reader) -> SecurityGroup | None:
    mark = r.mark()
    gid = r.text(raw, "GroupId", loc)
    if not gid:
        r.problem(loc, "security group has no GroupId")
        return None
    rules = []
    for i, p in r.objects(r.lst(raw, "IpPermissions", loc), loc.child("IpPermissions")):
        ploc = loc.child("IpPermissions", i)
        proto = r.text(p, "IpProtocol", ploc) or "-1"
        lo, hi = r.integer(p, "FromPort", ploc), r.integer(p, "ToPort", ploc)
        for j, rng in r.objects(r.lst(p, "IpRanges", ploc), ploc.child("IpRanges")):
            rules.append(
                IngressRule(proto, lo, hi, r.text(rng, "CidrIp", ploc), None, ploc.child("IpRanges", j))
            )
        for j, rng in r.objects(r.lst(p, "Ipv6Ranges", ploc), ploc.child("Ipv6Ranges")):
            rules.append(
                IngressRule(proto, lo, hi, r.text(rng, "CidrIpv6", ploc), None, ploc.child("Ipv6Ranges", j))
            )
        for j, pair in r.objects(r.lst(p, "UserIdGroupPairs", ploc), ploc.child("UserIdGroupPairs")):
            rules.append(
                IngressRule(
                    proto, lo, hi, None, r.text(pair, "GroupId", ploc), ploc.child("UserIdGroupPairs", j)
                )
            )
    return SecurityGroup(
        gid,
        r.text(raw, "GroupName", loc),
        r.text(raw, "VpcId", loc),
        tuple(rules),
        loc,
        r.problems_since(mark, loc, _SG_FIELDS),
    )


def _route_table(raw: dict[str, JSON], loc: Loc, r: Reader) -> RouteTable:
    mark = r.mark()
    subnets = []
    main = False
    for i, a in r.objects(r.lst(raw, "Associations", loc), loc.child("Associations")):
        aloc = loc.child("Associations", i)
        if r.flag(a, "Main", aloc):
            main = True
        if sid := r.text(a, "SubnetId", aloc):
            subnets.append(sid)
    routes = []
    for i, rt in r.objects(r.lst(raw, "Routes", loc), loc.child("Routes")):
        rloc = loc.child("Routes", i)
        routes.append(
            Route(
                r.text(rt, "DestinationCidrBlock", rloc) or r.text(rt, "DestinationIpv6CidrBlock", rloc),
                r.text(rt, "GatewayId", rloc),
                r.text(rt, "State", rloc),
            )
        )
    return RouteTable(
        r.text(raw, "RouteTableId", loc) or "(no id)",
        r.text(raw, "VpcId", loc),
        tuple(subnets),
        main,
        tuple(routes),
        loc,
        r.problems_since(mark, loc, _ROUTE_TABLE_FIELDS),
    )


# --------------------------------------------------------------------------- IAM


def _document(
    value: JSON, loc: Loc, r: Reader, kind: str = "identity"
) -> tuple[list[Mapping[str, JSON]], object]:
    """A policy document as the API returns it (an object, or URL-encoded JSON text): its statements,
    and the document as read. An invalid document is kept: the IAM evaluator checks it against the
    policy grammar and makes its role's traits unknown, rather than the policy silently vanishing."""
    if value is None:
        r.expected(loc, "a policy document", value)
        return [], ""
    if isinstance(value, str):
        try:
            value = json.loads(urllib.parse.unquote(value))
        except ValueError:
            r.problem(loc, "policy document is not valid JSON")
            return [], "(not JSON)"
    if not isinstance(value, dict):
        r.expected(loc, "a policy document", value)
        return [], value
    stmts = value.get("Statement")
    if isinstance(stmts, dict):
        stmts = [stmts]
    if not isinstance(stmts, list):
        r.expected(loc.child("Statement"), "a list of statements", stmts)
        return [], value
    if problems := document_problems(value, kind):
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        r.problem(loc, f"not a valid IAM policy: {problems[0]}{more}")
    return [s for s in stmts if isinstance(s, dict)], value


def _iam(iam: dict[str, JSON], loc: Loc, account: AccountInventory, r: Reader) -> None:
    if (policies := r.opt_list(iam, "policies", loc)) is not None:
        account.policies = {}
        for i, p in r.objects(policies, loc.child("policies")):
            ploc = loc.child("policies", i)
            arn = r.text(p, "Arn", ploc)
            if not arn:
                continue
            default = r.text(p, "DefaultVersionId", ploc)
            for j, v in r.objects(r.lst(p, "PolicyVersionList", ploc), ploc.child("PolicyVersionList")):
                vloc = ploc.child("PolicyVersionList", j)
                if r.flag(v, "IsDefaultVersion", vloc) or (default and v.get("VersionId") == default):
                    stmts, raw = _document(v.get("Document"), vloc.child("Document"), r)
                    account.policies[arn] = PolicyDocument(
                        r.text(p, "PolicyName", ploc) or arn, tuple(stmts), vloc.child("Document"), arn, raw
                    )
                    break
    if (roles := r.opt_list(iam, "roles", loc)) is not None:
        account.roles = {}
        for i, raw in r.objects(roles, loc.child("roles")):
            rloc = loc.child("roles", i)
            arn = r.text(raw, "Arn", rloc)
            if not arn:
                r.problem(rloc, "role has no Arn")
                continue
            attached = tuple(
                a
                for _, m in r.objects(r.lst(raw, "AttachedManagedPolicies", rloc), rloc)
                if (a := m.get("PolicyArn")) and isinstance(a, str)
            )
            inline = []
            for j, p in r.objects(r.lst(raw, "RolePolicyList", rloc), rloc.child("RolePolicyList")):
                ploc = rloc.child("RolePolicyList", j)
                stmts, doc = _document(p.get("PolicyDocument"), ploc.child("PolicyDocument"), r)
                inline.append(
                    PolicyDocument(
                        r.text(p, "PolicyName", ploc) or "(inline)",
                        tuple(stmts),
                        ploc.child("PolicyDocument"),
                        document=doc,
                    )
                )
            trust = None
            if "AssumeRolePolicyDocument" in raw:
                tloc = rloc.child("AssumeRolePolicyDocument")
                stmts, doc = _document(raw["AssumeRolePolicyDocument"], tloc, r, "trust")
                trust = PolicyDocument("AssumeRolePolicyDocument", tuple(stmts), tloc, document=doc)
            boundary = r.obj(raw, "PermissionsBoundary", rloc)
            account.roles[arn] = Role(
                arn=arn,
                name=r.text(raw, "RoleName", rloc) or arn.rsplit("/", 1)[-1],
                loc=rloc,
                attached_policy_arns=attached,
                inline_policies=tuple(inline),
                permissions_boundary_arn=r.text(boundary, "PermissionsBoundaryArn", rloc)
                if boundary
                else None,
                trust_policy=trust,
            )
