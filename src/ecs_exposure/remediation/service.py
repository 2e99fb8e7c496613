"""Service, security-group and IAM fixes, and how a new revision reaches a service.

How a service takes a new revision or network configuration depends on its deployment controller,
as AWS requires (UpdateService API reference):

- ``ECS``: UpdateService with the new task definition and network configuration;
- ``EXTERNAL``: UpdateService cannot change either; a new task set is created with them, made
  primary (UpdateServicePrimaryTaskSet), and the old primary task set is deleted;
- ``CODE_DEPLOY``: UpdateService cannot change either; the new revision is registered and the
  CodeDeploy deployment (CreateDeployment with an AppSpec) is a manual step.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from ..model import Evidence, TraitHit
from ..traits.base import evidence_fact
from .plan import (
    IAM_FLAG,
    IRREVERSIBLE_FLAG,
    REVIEW,
    SAFE,
    Change,
    FixOptions,
    Manual,
    Ref,
    Step,
    StepIds,
    shown,
)


@dataclass
class GroupUsers:
    """Who uses each security group: services, load balancers, other network interfaces."""

    users: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # group → [(key, description)]
    interfaces_known: set[tuple[str, str]] = field(default_factory=set)  # (account, region) with ENIs read

    def add(self, group: str, key: str, description: str) -> None:
        found = self.users.setdefault(group, [])
        if (key, description) not in found:
            found.append((key, description))

    def others(self, group: str, own: str) -> list[str]:
        return [d for k, d in self.users.get(group, []) if k != own]


def is_ecs_task_interface(eni: dict[str, Any]) -> bool:
    """A task's own network interface (ECS names its attachment in the description)."""
    description = str(eni.get("Description") or "")
    return description.startswith("arn:") and ":ecs:" in description and ":attachment/" in description


def controller_of(raw_service: dict[str, Any] | None) -> str:
    return str(((raw_service or {}).get("deploymentController") or {}).get("type") or "ECS")


def primary_task_set(raw_service: dict[str, Any]) -> dict[str, Any] | None:
    sets = [t for t in raw_service.get("taskSets") or [] if isinstance(t, dict)]
    primary = [t for t in sets if t.get("status") == "PRIMARY"]
    if primary:
        return primary[0]
    return sets[0] if len(sets) == 1 else None


def _disabled(network: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(network)
    out.setdefault("awsvpcConfiguration", {})["assignPublicIp"] = "DISABLED"
    return out


@dataclass
class ServiceContext:
    name: str
    arn: str
    cluster: str | None
    raw: dict[str, Any]
    account: str | None
    region: str | None
    codedeploy: tuple[str, str] | None = None  # (application, deployment group), when looked up


def deploy(
    ctx: ServiceContext,
    hits: dict[str, TraitHit],
    options: FixOptions,
    ids: StepIds,
    register: Step | None,
    network_awsvpc: bool,
    revision_label: str | None,
) -> tuple[list[Step], list[Change], list[Manual], list[str]]:
    """How the service takes the new revision, its network and ECS Exec changes."""
    controller = controller_of(ctx.raw)
    steps: list[Step] = []
    changes: list[Change] = []
    manual: list[Manual] = []
    notes: list[str] = []
    new_td: Any = Ref(register.id, register.produces) if register else None
    public_on = (
        {str(evidence_fact(e, "setOn")) for e in hits["public-ip"].evidence} if "public-ip" in hits else set()
    )
    awsvpc = {
        "awsvpcConfiguration": {
            "subnets": list(options.subnets),
            "securityGroups": list(options.security_groups),
            "assignPublicIp": "DISABLED",
        }
    }
    base = {"cluster": ctx.cluster, "service": ctx.arn}
    what = f"service {ctx.name}"
    if "public-ip" in hits and public_on <= {"deployment"}:
        manual.append(
            Manual(
                "public-ip",
                "wait until the deployment still running with a public IP completes, or roll it back",
                "the service's own configuration no longer assigns a public IP",
            )
        )
    exec_on = "ecs-exec-enabled" in hits and bool(ctx.raw.get("enableExecuteCommand"))

    if controller == "ECS":
        params: dict[str, Any] = dict(base)
        before_net = ctx.raw.get("networkConfiguration")
        irreversible = ""
        if new_td is not None:
            params["taskDefinition"] = new_td
            changes.append(
                Change(
                    "(new revision)",
                    what,
                    "update the service to the new revision (UpdateService)",
                    {"taskDefinition": ctx.raw.get("taskDefinition")},
                    {"taskDefinition": shown(new_td)},
                    SAFE,
                    ("ecs:UpdateService", "iam:PassRole"),
                    (
                        "a rolling deployment starts; rollback updates the service back to the "
                        "previous revision",
                    ),
                )
            )
        if network_awsvpc:
            params["networkConfiguration"] = awsvpc
            if not before_net:
                irreversible = (
                    "UpdateService cannot remove a network configuration, and ECS refuses one for a "
                    "host-mode "
                    "revision: once the service runs awsvpc it cannot be rolled back to its "
                    "host-mode revision"
                )
            changes.append(
                Change(
                    "host-network-mode",
                    what,
                    "give the service a network configuration for awsvpc (--subnet, --security-group)",
                    {"networkConfiguration": before_net},
                    awsvpc,
                    REVIEW,
                    ("ecs:UpdateService",),
                    ("the tasks get their own network interfaces in these subnets and groups",),
                    reversible=not irreversible,
                    why_irreversible=irreversible,
                    requires=IRREVERSIBLE_FLAG if irreversible else None,
                )
            )
        elif "service" in public_on and before_net:
            params["networkConfiguration"] = _disabled(before_net)
            changes.append(
                Change(
                    "public-ip",
                    what,
                    "assignPublicIp ENABLED → DISABLED (same subnets and security groups)",
                    {"assignPublicIp": "ENABLED"},
                    {"assignPublicIp": "DISABLED"},
                    REVIEW,
                    ("ecs:UpdateService",),
                    (
                        "tasks then need a NAT gateway or VPC endpoints for egress (ECR, logs, secrets)",
                        "ingress must come through a load balancer",
                    ),
                )
            )
        if exec_on:
            params["enableExecuteCommand"] = False
            if "taskDefinition" not in params and "networkConfiguration" not in params:
                params["forceNewDeployment"] = True  # running tasks keep ECS Exec until replaced
            changes.append(
                Change(
                    "ecs-exec-enabled",
                    what,
                    "enableExecuteCommand true → false (new tasks replace the running ones)",
                    {"enableExecuteCommand": True},
                    {"enableExecuteCommand": False},
                    REVIEW,
                    ("ecs:UpdateService",),
                    ("nobody can open a shell in the tasks any more (ecs:ExecuteCommand)",),
                    group="revision",
                )
            )
        if len(params) > 2:
            steps.append(
                Step(
                    ids(),
                    "update_service",
                    "ecs",
                    params,
                    f"update service {ctx.name}",
                    reversible=not irreversible,
                    why_irreversible=irreversible,
                    requires=IRREVERSIBLE_FLAG if irreversible else None,
                    expect={
                        "taskDefinition": ctx.raw.get("taskDefinition"),
                        "networkConfiguration": before_net,
                        "enableExecuteCommand": bool(ctx.raw.get("enableExecuteCommand")),
                        "controller": controller,
                    },
                )
            )
        return steps, changes, manual, notes

    if exec_on:
        manual.append(
            Manual(
                "ecs-exec-enabled",
                f"turn ECS Exec off for {ctx.name} with the deployment tool that owns it",
                f"a service under the {controller} deployment controller cannot change enableExecuteCommand "
                "through UpdateService",
            )
        )

    if controller == "EXTERNAL":
        primary = primary_task_set(ctx.raw)
        want_net = network_awsvpc or ("taskSet" in public_on)
        if primary is None:
            if new_td is not None or want_net:
                manual.append(
                    Manual(
                        "(new revision)",
                        f"create a task set for {ctx.name} with the new revision and no public IP, "
                        "make it primary, "
                        "and delete the old one",
                        "the service has no primary task set to copy the settings from",
                    )
                )
            return steps, changes, manual, notes
        if new_td is None and not want_net:
            return steps, changes, manual, notes
        if not primary.get("taskSetArn"):
            manual.append(
                Manual(
                    "(new revision)",
                    f"create a task set for {ctx.name} with the fixed revision and network, make it "
                    "primary, and "
                    "delete the old one",
                    "the inputs do not name the primary task set (no taskSetArn)",
                )
            )
            return steps, changes, manual, notes
        net = primary.get("networkConfiguration")
        if network_awsvpc:
            net = awsvpc
        elif net and "taskSet" in public_on:
            net = _disabled(net)
        params = {**base, "taskDefinition": new_td if new_td is not None else primary.get("taskDefinition")}
        for key in ("externalId", "loadBalancers", "serviceRegistries", "platformVersion", "scale"):
            if primary.get(key):
                params[key] = primary[key]
        if primary.get("capacityProviderStrategy"):
            params["capacityProviderStrategy"] = primary["capacityProviderStrategy"]
        elif primary.get("launchType"):
            params["launchType"] = primary["launchType"]
        if net:
            params["networkConfiguration"] = net
        for key in ("scale",):
            if key in params and isinstance(params[key], dict):
                params[key] = {k: v for k, v in params[key].items() if k in ("unit", "value")}
        create = Step(
            ids(),
            "create_task_set",
            "ecs",
            params,
            f"create a task set for {ctx.name}",
            expect={"primaryTaskSet": primary.get("taskSetArn"), "controller": controller},
            produces=f"ARN of the new task set of {ctx.name}",
        )
        make_primary = Step(
            ids(),
            "update_service_primary_task_set",
            "ecs",
            {**base, "primaryTaskSet": Ref(create.id, create.produces)},
            f"make the new task set of {ctx.name} primary",
            expect={"primaryTaskSet": primary.get("taskSetArn")},
        )
        delete = Step(
            ids(),
            "delete_task_set",
            "ecs",
            {**base, "taskSet": primary.get("taskSetArn"), "force": True},
            f"delete the old task set {str(primary.get('taskSetArn')).rsplit('/', 1)[-1]} of {ctx.name}",
            expect={"taskSet": primary.get("taskSetArn")},
        )
        steps += [create, make_primary, delete]
        changes.append(
            Change(
                "(new revision)" if new_td is not None else "public-ip",
                what,
                "EXTERNAL deployment controller: create a task set with "
                + ("the new revision" if new_td is not None else "the same revision")
                + (" and no public IP" if "taskSet" in public_on or network_awsvpc else "")
                + ", make it primary, delete the old task set (rollback recreates an equivalent one, with a "
                "new id)",
                {
                    "taskSet": primary.get("taskSetArn"),
                    "networkConfiguration": primary.get("networkConfiguration"),
                },
                {"taskDefinition": shown(params["taskDefinition"]), "networkConfiguration": net},
                REVIEW,
                (
                    "ecs:CreateTaskSet",
                    "ecs:UpdateServicePrimaryTaskSet",
                    "ecs:DeleteTaskSet",
                    "ecs:TagResource",
                    "iam:PassRole",
                ),
                ("the old task set's tasks stop once the new ones run",),
            )
        )
        if "taskSet" in public_on and new_td is not None:
            changes.append(
                Change(
                    "public-ip",
                    what,
                    "the new task set has assignPublicIp DISABLED",
                    {"assignPublicIp": "ENABLED"},
                    {"assignPublicIp": "DISABLED"},
                    REVIEW,
                    ("ecs:CreateTaskSet",),
                    ("tasks then need a NAT gateway or VPC endpoints for egress",),
                )
            )
        others = [t for t in ctx.raw.get("taskSets") or [] if t is not primary]
        if others:
            notes.append(
                f"{ctx.name} has {len(others)} other task set(s) besides the primary: left as they are "
                "(delete them once the new task set serves)"
            )
        return steps, changes, manual, notes

    # CODE_DEPLOY
    net = ctx.raw.get("networkConfiguration")
    primary = primary_task_set(ctx.raw)
    if not net and primary:
        net = primary.get("networkConfiguration")
    if network_awsvpc:
        net = awsvpc
    elif net and public_on & {"service", "taskSet"}:
        net = _disabled(net)
    if new_td is None and not public_on & {"service", "taskSet"} and not network_awsvpc:
        return steps, changes, manual, notes
    task_definition = new_td if new_td is not None else ctx.raw.get("taskDefinition")
    properties: dict[str, Any] = {"TaskDefinition": task_definition}
    lbs = ctx.raw.get("loadBalancers") or (primary or {}).get("loadBalancers") or []
    if lbs:
        properties["LoadBalancerInfo"] = {
            "ContainerName": lbs[0].get("containerName"),
            "ContainerPort": lbs[0].get("containerPort"),
        }
    if ctx.raw.get("platformVersion"):
        properties["PlatformVersion"] = ctx.raw["platformVersion"]
    if net:
        aws = net.get("awsvpcConfiguration") or {}
        properties["NetworkConfiguration"] = {
            "AwsvpcConfiguration": {
                "Subnets": aws.get("subnets") or [],
                "SecurityGroups": aws.get("securityGroups") or [],
                "AssignPublicIp": aws.get("assignPublicIp") or "DISABLED",
            }
        }
    appspec = {
        "version": 0.0,
        "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": properties}}],
    }
    app, group = ctx.codedeploy or ("<CodeDeploy application>", "<deployment group>")
    request = {
        "applicationName": app,
        "deploymentGroupName": group,
        "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec}},
        "description": f"ecs-exposure fix of {ctx.name}",
    }
    manual.append(
        Manual(
            "(new revision)",
            f"deploy {'the new revision' if new_td is not None else 'the service'} of {ctx.name} "
            "with CodeDeploy "
            f"(AppSpec below{'' if ctx.codedeploy else '; fill in the application and deployment group'})",
            "the service uses the CODE_DEPLOY deployment controller: UpdateService cannot change its task "
            "definition or network configuration, and ecs-exposure does not run CodeDeploy deployments",
            request=("deploy", "create_deployment", request),
        )
    )
    notes.append(
        f"{ctx.name}: CODE_DEPLOY controller: the revision is registered; the deployment is yours to run"
    )
    return steps, changes, manual, notes


# --------------------------------------------------------------------------- security groups


def security_group_changes(
    hits: dict[str, TraitHit],
    own: str,
    users: GroupUsers,
    interfaces_known: bool,
    options: FixOptions,
    ids: StepIds,
) -> tuple[list[Step], list[Change], list[Manual], list[str]]:
    steps: list[Step] = []
    changes: list[Change] = []
    manual: list[Manual] = []
    notes: list[str] = []
    if "open-security-group" not in hits:
        return steps, changes, manual, notes
    for ev in hits["open-security-group"].evidence:
        group = str(evidence_fact(ev, "securityGroup"))
        rule = {k: evidence_fact(ev, k) for k in ("protocol", "fromPort", "toPort", "cidr")}
        others = users.others(group, own)
        if not options.force_shared_groups and (others or not interfaces_known):
            why = (
                f"{group} is also used by {', '.join(others)}: revoking its rule would cut them off too"
                if others
                else f"whether other network interfaces (load balancers, instances) use {group} is unknown: "
                "the inputs have no network interfaces for it"
            )
            manual.append(
                Manual(
                    "open-security-group",
                    f"give the service its own security group without {rule['cidr']} on "
                    f"{rule['protocol']} {rule['fromPort']}-{rule['toPort']}, or change {group} with --force",
                    why,
                )
            )
            continue
        group_key = f"sg:{group}"
        allow = [*options.allow_cidrs, *options.allow_sgs]
        for source in allow:
            perm = ingress_permission(rule, source)
            steps.append(
                Step(
                    ids(),
                    "authorize_security_group_ingress",
                    "ec2",
                    {"GroupId": group, "IpPermissions": [perm]},
                    f"allow {source} into {group}",
                    group=group_key,
                )
            )
        perm = ingress_permission(rule, str(rule["cidr"]))
        steps.append(
            Step(
                ids(),
                "revoke_security_group_ingress",
                "ec2",
                {"GroupId": group, "IpPermissions": [perm]},
                f"revoke {rule['cidr']} from {group}",
                group=group_key,
            )
        )
        changes.append(
            Change(
                "open-security-group",
                group,
                f"revoke {rule['cidr']} on {rule['protocol']} {rule['fromPort']}-{rule['toPort']}"
                + (f", allow {', '.join(allow)} first" if allow else ""),
                rule,
                {"allow": allow},
                REVIEW,
                ("ec2:RevokeSecurityGroupIngress",)
                + (("ec2:AuthorizeSecurityGroupIngress",) if allow else ()),
                ("clients outside the allowed sources lose access",)
                + (
                    ()
                    if allow
                    else ("no replacement given (--allow-cidr / --allow-sg): nothing reaches the port",)
                ),
                group=group_key,
            )
        )
        if options.force_shared_groups and others:
            notes.append(f"{group} is shared with {', '.join(others)}: changed anyway (--force)")
    return steps, changes, manual, notes


def ingress_permission(rule: dict[str, Any], source: str) -> dict[str, Any]:
    perm: dict[str, Any] = {"IpProtocol": rule["protocol"]}
    if rule.get("fromPort") is not None and rule["protocol"] not in ("-1", "all"):
        perm["FromPort"], perm["ToPort"] = rule["fromPort"], rule["toPort"]
    if source.startswith("sg-"):
        perm["UserIdGroupPairs"] = [{"GroupId": source}]
    elif ":" in source:
        perm["Ipv6Ranges"] = [{"CidrIpv6": source}]
    else:
        perm["IpRanges"] = [{"CidrIp": source}]
    return perm


# --------------------------------------------------------------------------- IAM


def iam_changes(
    hits: dict[str, TraitHit],
    policy_document: Any,
    ids: StepIds,
    account: str | None,
) -> tuple[list[Step], list[Change], list[Manual]]:
    """Detach AdministratorAccess / remove wildcard statements: needs-review, applied only with "
    "--apply-iam."""
    steps: list[Step] = []
    changes: list[Change] = []
    manual: list[Manual] = []
    seen: set[tuple[str, str, str]] = set()
    for trait in ("admin-access-role", "service-admin-role"):
        if trait not in hits:
            continue
        for ev in hits[trait].evidence:
            role = str(evidence_fact(ev, "role"))
            policy = str(evidence_fact(ev, "policy"))
            statement = str(evidence_fact(ev, "statement"))
            role_name = role.rsplit("/", 1)[-1]
            key = (role, policy, statement)
            if key in seen:
                changes.append(dataclasses.replace(changes[-1], trait=trait))
                continue
            seen.add(key)
            if role.split(":")[4:5] and account and role.split(":")[4] != account:
                manual.append(
                    Manual(trait, f"narrow {policy} of {role}", "the role is in another account", ())
                )
                continue
            group = f"iam:{role_name}"
            if policy.startswith("arn:"):
                steps.append(
                    Step(
                        ids(),
                        "detach_role_policy",
                        "iam",
                        {"RoleName": role_name, "PolicyArn": policy},
                        f"detach {policy.rsplit('/', 1)[-1]} from {role_name}",
                        group=group,
                        requires=IAM_FLAG,
                    )
                )
                after: Any = {"detach": policy}
            else:
                document = policy_document(ev)
                kept = _without_statement(document, statement) if document is not None else None
                steps.append(
                    Step(
                        ids(),
                        "narrow_role_policy",
                        "iam",
                        {"RoleName": role_name, "PolicyName": policy, "Statement": statement},
                        f"remove statement {statement} from {policy} of {role_name}",
                        group=group,
                        requires=IAM_FLAG,
                        expect={
                            "kept": None if kept is None else "delete" if "delete_policy" in kept else kept
                        },
                    )
                )
                after = kept if kept is not None else {"remove_statement": statement}
            changes.append(
                Change(
                    trait,
                    f"role {role_name}",
                    f"narrow policy {policy.rsplit('/', 1)[-1]} statement {statement}: remove the "
                    "wildcard grant; "
                    "then add the actions and resources the service uses (unknown to ecs-exposure: "
                    "IAM Access "
                    "Analyzer can generate them from CloudTrail)",
                    {"policy": policy, "statement": statement},
                    after,
                    REVIEW,
                    ("iam:DetachRolePolicy",)
                    if policy.startswith("arn:")
                    else ("iam:PutRolePolicy", "iam:DeleteRolePolicy"),
                    ("anything the service did with these permissions stops working",),
                    requires=IAM_FLAG,
                    group=group,
                )
            )
            manual.append(
                Manual(
                    trait,
                    f"grant {role_name} the actions and resources the service really uses",
                    "they are not in the inputs; ecs-exposure only removes the wildcard",
                )
            )
    return steps, changes, manual


def _without_statement(document: dict[str, Any], statement: str) -> dict[str, Any]:
    statements = document.get("Statement") or []
    statements = statements if isinstance(statements, list) else [statements]
    kept = [s for i, s in enumerate(statements) if str(s.get("Sid") or i) != statement]
    return {**document, "Statement": kept} if kept else {"delete_policy": True}


def evidence_policy(ev: Evidence, docs: Any) -> dict[str, Any] | None:
    from ..model import Loc

    if ev.loc and len(ev.loc.parts) > 2:
        doc = docs.at(Loc(ev.loc.file, ev.loc.parts[:-2]))
        if isinstance(doc, str):
            try:
                doc = json.loads(doc)
            except ValueError:
                return None
        return doc if isinstance(doc, dict) else None
    return None
